package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The weights of one Keras recurrent layer in Keras 2/3 standard layout: the canonical form that
 * every other layout in this package converts to and from (spec §2.2–2.4).
 *
 * <ul>
 *   <li>{@code kernel [C, G·H]}: a step computes {@code x · kernel} for a row vector {@code x}.</li>
 *   <li>{@code recurrentKernel [H, G·H]}.</li>
 *   <li>{@code bias}: {@code [G·H]}; or {@code [2, G·H]} (an input row {@code b_x} then a recurrent
 *       row {@code b_h}) for GRU with {@code reset_after=True}; or absent ({@code use_bias=False}).</li>
 * </ul>
 * Gate blocks are in Keras order: LSTM i, f, c, o; GRU z, r, h; SimpleRNN a single block.
 *
 * <p>Instances are immutable: the factory copies its arrays and the accessors return copies.
 * {@link #equals} compares content bit for bit (as {@link Arrays#equals(float[], float[])}).
 */
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
        this.kernel = kernel;
        this.recurrentKernel = recurrentKernel;
        this.bias = bias;
    }

    /**
     * Validates the shapes and copies the arrays.
     *
     * @param type            the cell family
     * @param resetAfter      Keras {@code reset_after}; must be {@code false} unless {@code type} is GRU
     * @param inputSize       {@code C}
     * @param hiddenSize      {@code H} (Keras {@code units})
     * @param kernel          {@code [C, G·H]}
     * @param recurrentKernel {@code [H, G·H]}
     * @param bias            {@code [G·H]}, {@code [2, G·H]} for GRU {@code reset_after=True}, or {@code null}
     * @throws IllegalArgumentException if a size or an array length does not fit
     */
    public static KerasRnnWeights of(CellType type, boolean resetAfter, int inputSize, int hiddenSize,
            float[] kernel, float[] recurrentKernel, float[] bias) {
        validate(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel, bias);
        return new KerasRnnWeights(type, resetAfter, inputSize, hiddenSize, kernel.clone(),
                recurrentKernel.clone(), Layouts.copyOrNull(bias));
    }

    /** As {@link #of} but without copying: for arrays a converter has just created and drops. */
    static KerasRnnWeights wrap(CellType type, boolean resetAfter, int inputSize, int hiddenSize, float[] kernel,
            float[] recurrentKernel, float[] bias) {
        validate(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel, bias);
        return new KerasRnnWeights(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    private static void validate(CellType type, boolean resetAfter, int inputSize, int hiddenSize,
            float[] kernel, float[] recurrentKernel, float[] bias) {
        Objects.requireNonNull(type, "type");
        String layer = "Keras " + type.kerasName();
        if (resetAfter && type != CellType.GRU) {
            throw new IllegalArgumentException(layer + " resetAfter: expected false (reset_after exists only for GRU),"
                    + " got true");
        }
        Layouts.requirePositive(layer + " inputSize", inputSize);
        Layouts.requirePositive(layer + " hiddenSize", hiddenSize);
        int width = type.gateCount() * hiddenSize;
        Layouts.requireMatrix(layer + " kernel", kernel, "[C, G*H]", inputSize, width);
        Layouts.requireMatrix(layer + " recurrent_kernel", recurrentKernel, "[H, G*H]", hiddenSize, width);
        if (bias != null) {
            if (resetAfter) {
                Layouts.requireMatrix(layer + "(reset_after=True) bias", bias, "[2, G*H]", 2, width);
            } else {
                Layouts.requireVector(layer + " bias", bias, "[G*H]", width);
            }
        }
    }

    /** The cell family. */
    public CellType type() {
        return type;
    }

    /** Keras {@code reset_after}; always {@code false} for LSTM and SimpleRNN. */
    public boolean resetAfter() {
        return resetAfter;
    }

    /** {@code C}. */
    public int inputSize() {
        return inputSize;
    }

    /** {@code H}. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** {@code G}: 1, 3 or 4. */
    public int gateCount() {
        return type.gateCount();
    }

    /** A copy of {@code kernel [C, G·H]}. */
    public float[] kernel() {
        return kernel.clone();
    }

    /** A copy of {@code recurrent_kernel [H, G·H]}. */
    public float[] recurrentKernel() {
        return recurrentKernel.clone();
    }

    /** A copy of the bias ({@code [G·H]} or {@code [2, G·H]}), or {@code null} when the layer has none. */
    public float[] bias() {
        return Layouts.copyOrNull(bias);
    }

    /** Whether the layer stores a bias ({@code use_bias=True}). */
    public boolean hasBias() {
        return bias != null;
    }

    /**
     * The same network with a bias materialised as zeros when it has none, for backends that always
     * need one (oneDNN, cuDNN with double bias). Returns {@code this} when a bias is present.
     */
    public KerasRnnWeights withZeroBiasIfAbsent() {
        if (bias != null) {
            return this;
        }
        int biasLength = (resetAfter ? 2 : 1) * type.gateCount() * hiddenSize;
        return new KerasRnnWeights(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel,
                new float[biasLength]);
    }

    /**
     * The largest absolute elementwise difference between the two weight sets; an absent bias
     * counts as zeros. NaN if any difference is NaN.
     *
     * @throws IllegalArgumentException if the cell type, {@code reset_after} or the sizes differ
     */
    public double maxAbsDifference(KerasRnnWeights other) {
        Objects.requireNonNull(other, "other");
        if (type != other.type || resetAfter != other.resetAfter || inputSize != other.inputSize
                || hiddenSize != other.hiddenSize) {
            throw new IllegalArgumentException("maxAbsDifference: expected weights of the same layer shape ("
                    + describeShape() + "), got " + other.describeShape());
        }
        double kernelDifference = Layouts.maxAbsDifference(kernel, other.kernel);
        double recurrentDifference = Layouts.maxAbsDifference(recurrentKernel, other.recurrentKernel);
        double biasDifference = Layouts.maxAbsDifference(withZeroBiasIfAbsent().bias,
                other.withZeroBiasIfAbsent().bias);
        if (Double.isNaN(kernelDifference) || Double.isNaN(recurrentDifference) || Double.isNaN(biasDifference)) {
            return Double.NaN;
        }
        return Math.max(kernelDifference, Math.max(recurrentDifference, biasDifference));
    }

    // Package-private views without copies, for the converters in this package (never modified).

    float[] kernelView() {
        return kernel;
    }

    float[] recurrentKernelView() {
        return recurrentKernel;
    }

    float[] biasView() {
        return bias;
    }

    /** E.g. {@code GRU(reset_after=True, C=3, H=5, bias)}. */
    String describeShape() {
        return type.kerasName() + (type == CellType.GRU ? "(reset_after=" + (resetAfter ? "True" : "False") + ", " : "(")
                + "C=" + inputSize + ", H=" + hiddenSize + (bias != null ? ", bias)" : ", no bias)");
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KerasRnnWeights other)) {
            return false;
        }
        return type == other.type && resetAfter == other.resetAfter && inputSize == other.inputSize
                && hiddenSize == other.hiddenSize && Arrays.equals(kernel, other.kernel)
                && Arrays.equals(recurrentKernel, other.recurrentKernel) && Arrays.equals(bias, other.bias);
    }

    @Override
    public int hashCode() {
        int result = Objects.hash(type, resetAfter, inputSize, hiddenSize);
        result = 31 * result + Arrays.hashCode(kernel);
        result = 31 * result + Arrays.hashCode(recurrentKernel);
        result = 31 * result + Arrays.hashCode(bias);
        return result;
    }

    @Override
    public String toString() {
        return "KerasRnnWeights[" + describeShape() + "]";
    }
}
