package io.jrnn.weights;

/** TEMPORARY minimal version; replaced by the converter's full class. */
public final class KerasRnnWeights {
    private final CellType type;
    private final boolean resetAfter;
    private final int inputSize;
    private final int hiddenSize;
    private final float[] kernel;
    private final float[] recurrentKernel;
    private final float[] bias;

    private KerasRnnWeights(CellType type, boolean resetAfter, int inputSize, int hiddenSize, float[] kernel,
            float[] recurrentKernel, float[] bias) {
        this.type = type;
        this.resetAfter = resetAfter;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.kernel = kernel.clone();
        this.recurrentKernel = recurrentKernel.clone();
        this.bias = bias == null ? null : bias.clone();
    }

    public static KerasRnnWeights of(CellType type, boolean resetAfter, int inputSize, int hiddenSize, float[] kernel,
            float[] recurrentKernel, float[] bias) {
        return new KerasRnnWeights(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    public CellType type() { return type; }
    public boolean resetAfter() { return resetAfter; }
    public int inputSize() { return inputSize; }
    public int hiddenSize() { return hiddenSize; }
    public float[] kernel() { return kernel.clone(); }
    public float[] recurrentKernel() { return recurrentKernel.clone(); }
    public float[] bias() { return bias == null ? null : bias.clone(); }
    public boolean hasBias() { return bias != null; }
}
