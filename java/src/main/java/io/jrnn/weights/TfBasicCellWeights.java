package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The variables of a TensorFlow 1.x {@code BasicLSTMCell} or {@code BasicRNNCell} (spec §2.11):
 * {@code kernel [(C + H), G·H]} (the first {@code C} rows act on {@code x}, the last {@code H} on
 * {@code h}), {@code bias [G·H]}, and the LSTM's constant {@code forget_bias}, which TF adds to the
 * forget pre-activation on every step and does not store.
 *
 * <p>LSTM gate order is <b>i, j, f, o</b> ({@code j} is the candidate, Keras {@code c}). To Keras:
 * {@code K = kernel[:C]}, {@code R = kernel[C:]}, gates reordered to i, f, c, o, and
 * {@code forget_bias} folded into the bias: {@code b_f = bias_f + forget_bias}. From Keras with a
 * chosen {@code forget_bias}, {@code bias_f = b_f − forget_bias}, so the round trip returns the same
 * {@code b_f} up to one float rounding of that subtraction and addition (bit-exact when
 * {@code forget_bias = 0}). The cell's activation is not a weight and is not held here; its gate
 * activations are always sigmoid.
 *
 * <p>TF basic cells always have a bias; a Keras layer without one converts to zeros. The cell class
 * and sizes live outside the variables: {@link #toKeras} takes them and checks every shape.
 * Instances are immutable; the constructor and the accessors copy.
 */
public final class TfBasicCellWeights {
    /** TF LSTM gate {@code j} (i, j, f, o) is Keras gate {@code KERAS_GATE_OF_TF_LSTM_GATE[j]} (i=0, f=1, c=2, o=3). */
    private static final int[] KERAS_GATE_OF_TF_LSTM_GATE = {0, 2, 1, 3};
    /** Index of the forget gate in TF order. */
    private static final int TF_FORGET_GATE = 2;
    /** TF's default {@code forget_bias} for {@code BasicLSTMCell}. */
    public static final float DEFAULT_FORGET_BIAS = 1.0f;

    private final float[] kernel;
    private final float[] bias;
    private final float forgetBias;

    /**
     * Copies the arrays. Their shapes are checked by {@link #toKeras}, which knows the sizes.
     *
     * @param kernel     {@code kernel [(C + H), G·H]}
     * @param bias       {@code bias [G·H]}
     * @param forgetBias {@code forget_bias} of a {@code BasicLSTMCell}; 0 for {@code BasicRNNCell}
     * @throws IllegalArgumentException if an array is missing or {@code forgetBias} is not finite
     */
    public TfBasicCellWeights(float[] kernel, float[] bias, float forgetBias) {
        if (kernel == null || bias == null) {
            throw new IllegalArgumentException("TF basic cell variables: expected kernel and bias, got "
                    + (kernel == null ? "kernel null" : "kernel present") + " and "
                    + (bias == null ? "bias null" : "bias present"));
        }
        if (!Float.isFinite(forgetBias)) {
            throw new IllegalArgumentException("TF basic cell forget_bias: expected a finite value, got " + forgetBias);
        }
        this.kernel = kernel.clone();
        this.bias = bias.clone();
        this.forgetBias = forgetBias;
    }

    /**
     * Converts Keras standard weights into a cell that will run with the given {@code forget_bias}:
     * it is subtracted from the stored forget-gate bias so that the cell computes the same function.
     *
     * @param keras      LSTM or SimpleRNN weights
     * @param forgetBias the {@code forget_bias} the TF cell is built with (LSTM); 0 for SimpleRNN
     * @return the variables of a {@code BasicLSTMCell} or {@code BasicRNNCell}
     * @throws IllegalArgumentException for GRU (not a basic cell here) or a non-zero SimpleRNN forget bias
     */
    public static TfBasicCellWeights fromKeras(KerasRnnWeights keras, float forgetBias) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        requireBasicCell(type, forgetBias);
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int[] kerasGateOfTfGate = kerasGateOfTfGate(type);
        // Stack [K; R] after reordering both to TF gate order.
        float[] kernel = Layouts.concat(
                Layouts.permuteColumnBlocks(keras.kernelView(), inputSize, hiddenSize, kerasGateOfTfGate),
                Layouts.permuteColumnBlocks(keras.recurrentKernelView(), hiddenSize, hiddenSize, kerasGateOfTfGate));
        float[] bias = Layouts.permuteColumnBlocks(keras.withZeroBiasIfAbsent().biasView(), 1, hiddenSize,
                kerasGateOfTfGate);
        if (type == CellType.LSTM) {
            for (int h = 0; h < hiddenSize; h++) {
                bias[TF_FORGET_GATE * hiddenSize + h] -= forgetBias;
            }
        }
        return new TfBasicCellWeights(kernel, bias, forgetBias);
    }

    /**
     * Converts to Keras standard weights, folding {@code forget_bias} into the forget-gate bias.
     *
     * @param type       {@code LSTM} for {@code BasicLSTMCell}, {@code SIMPLE_RNN} for {@code BasicRNNCell}
     * @param inputSize  {@code C}
     * @param hiddenSize {@code H} ({@code num_units})
     * @throws IllegalArgumentException for GRU, a non-zero RNN forget bias, or an array whose shape
     *                                  does not fit these sizes
     */
    public KerasRnnWeights toKeras(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        requireBasicCell(type, forgetBias);
        String cell = tfName(type);
        Layouts.requirePositive(cell + " input size", inputSize);
        Layouts.requirePositive(cell + " num_units", hiddenSize);
        int width = type.gateCount() * hiddenSize;
        Layouts.requireMatrix(cell + " kernel", kernel, "[C+H, G*H]", inputSize + hiddenSize, width);
        Layouts.requireVector(cell + " bias", bias, "[G*H]", width);
        int[] tfGateOfKerasGate = Layouts.inverse(kerasGateOfTfGate(type));
        float[] kernelRows = Layouts.slice(kernel, 0, inputSize * width);
        float[] recurrentRows = Layouts.slice(kernel, inputSize * width, hiddenSize * width);
        float[] kerasKernel = Layouts.permuteColumnBlocks(kernelRows, inputSize, hiddenSize, tfGateOfKerasGate);
        float[] kerasRecurrent = Layouts.permuteColumnBlocks(recurrentRows, hiddenSize, hiddenSize,
                tfGateOfKerasGate);
        float[] tfBias = bias.clone();
        if (type == CellType.LSTM) {
            for (int h = 0; h < hiddenSize; h++) {
                tfBias[TF_FORGET_GATE * hiddenSize + h] += forgetBias;
            }
        }
        float[] kerasBias = Layouts.permuteColumnBlocks(tfBias, 1, hiddenSize, tfGateOfKerasGate);
        return KerasRnnWeights.wrap(type, false, inputSize, hiddenSize, kerasKernel, kerasRecurrent, kerasBias);
    }

    private static void requireBasicCell(CellType type, float forgetBias) {
        if (type == CellType.GRU) {
            throw new IllegalArgumentException("TF basic cell type: expected LSTM (BasicLSTMCell) or SIMPLE_RNN"
                    + " (BasicRNNCell), got GRU (TF GRUCell has a different variable layout)");
        }
        if (type == CellType.SIMPLE_RNN && forgetBias != 0f) {
            throw new IllegalArgumentException("TF BasicRNNCell forget_bias: expected 0 (BasicRNNCell has no forget"
                    + " gate), got " + forgetBias);
        }
    }

    private static int[] kerasGateOfTfGate(CellType type) {
        return type == CellType.LSTM ? KERAS_GATE_OF_TF_LSTM_GATE : Layouts.identity(type.gateCount());
    }

    private static String tfName(CellType type) {
        return switch (type) {
            case SIMPLE_RNN -> "TF BasicRNNCell";
            case LSTM -> "TF BasicLSTMCell";
            case GRU -> "TF GRUCell";
        };
    }

    /** A copy of {@code kernel [(C + H), G·H]}. */
    public float[] kernel() {
        return kernel.clone();
    }

    /** A copy of {@code bias [G·H]}. */
    public float[] bias() {
        return bias.clone();
    }

    /** The cell's {@code forget_bias}; 0 for {@code BasicRNNCell}. */
    public float forgetBias() {
        return forgetBias;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TfBasicCellWeights other)) {
            return false;
        }
        return Float.compare(forgetBias, other.forgetBias) == 0 && Arrays.equals(kernel, other.kernel)
                && Arrays.equals(bias, other.bias);
    }

    @Override
    public int hashCode() {
        int result = Float.hashCode(forgetBias);
        result = 31 * result + Arrays.hashCode(kernel);
        result = 31 * result + Arrays.hashCode(bias);
        return result;
    }

    @Override
    public String toString() {
        return "TfBasicCellWeights[kernel " + kernel.length + " floats, bias " + bias.length + " floats, forget_bias="
                + forgetBias + "]";
    }
}
