package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * One direction of an ONNX {@code RNN}, {@code GRU} or {@code LSTM} node: {@code W [G·H, C]},
 * {@code R [G·H, H]}, {@code B [2·G·H] = Wb ‖ Rb} (the ONNX tensors {@code [1, …]} without the
 * direction axis), and the GRU attribute {@code linear_before_reset} (spec §4.1–4.2).
 *
 * <ul>
 *   <li>LSTM: gate order <b>i, o, f, c</b>. Peepholes ({@code P}) are not supported: the node must
 *       have none. To Keras, {@code b = Wb + Rb}; from Keras, {@code B = [b ‖ 0]}.</li>
 *   <li>GRU: gate order z, r, h (as Keras); {@code linear_before_reset = reset_after}. Reset-before:
 *       {@code b = Wb + Rb}, from Keras {@code B = [b ‖ 0]}. Reset-after: {@code bias [2, 3H] = [Wb; Rb]}
 *       both ways.</li>
 *   <li>RNN: {@code b = Wb + Rb}; from Keras {@code B = [b ‖ 0]}.</li>
 * </ul>
 * {@code B} may be {@code null} (the optional input is absent: zero bias). As in an ONNX graph,
 * the operator type and sizes live outside the tensors: {@link #toKeras} takes them and checks
 * every shape. Instances are immutable; the constructor and the accessors copy.
 */
public final class OnnxRnnWeights {
    /** ONNX LSTM gate {@code j} (i, o, f, c) is Keras gate {@code KERAS_GATE_OF_ONNX_LSTM_GATE[j]} (i=0, f=1, c=2, o=3). */
    private static final int[] KERAS_GATE_OF_ONNX_LSTM_GATE = {0, 3, 1, 2};

    private final float[] w;
    private final float[] r;
    private final float[] b;
    private final boolean linearBeforeReset;

    /**
     * Copies the arrays. Their shapes are checked by {@link #toKeras}, which knows the sizes.
     *
     * @param w                 {@code W [G·H, C]}
     * @param r                 {@code R [G·H, H]}
     * @param b                 {@code B [2·G·H]}, or {@code null} when the node has no {@code B}
     * @param linearBeforeReset the GRU attribute {@code linear_before_reset}; {@code false} for RNN and LSTM
     * @throws IllegalArgumentException if {@code W} or {@code R} is missing
     */
    public OnnxRnnWeights(float[] w, float[] r, float[] b, boolean linearBeforeReset) {
        if (w == null || r == null) {
            throw new IllegalArgumentException("ONNX RNN weights: expected W and R, got " + (w == null ? "W null"
                    : "W present") + " and " + (r == null ? "R null" : "R present"));
        }
        this.w = w.clone();
        this.r = r.clone();
        this.b = Layouts.copyOrNull(b);
        this.linearBeforeReset = linearBeforeReset;
    }

    /** Converts Keras standard weights; every Keras variant has an ONNX form. */
    public static OnnxRnnWeights fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int width = type.gateCount() * hiddenSize;
        int[] kerasGateOfOnnxGate = kerasGateOfOnnxGate(type);
        float[] w = Layouts.kerasToWx(keras.kernelView(), inputSize, hiddenSize, kerasGateOfOnnxGate);
        float[] r = Layouts.kerasToWx(keras.recurrentKernelView(), hiddenSize, hiddenSize, kerasGateOfOnnxGate);
        float[] b = null;
        float[] kerasBias = keras.biasView();
        if (kerasBias != null) {
            // [b ‖ 0] for a single Keras bias; [b_x ‖ b_h] is already the Keras [2, 3H] memory.
            float[] full = kerasBias.length == width ? Layouts.concat(kerasBias, new float[width]) : kerasBias;
            b = Layouts.concat(Layouts.permuteColumnBlocks(Layouts.slice(full, 0, width), 1, hiddenSize,
                            kerasGateOfOnnxGate),
                    Layouts.permuteColumnBlocks(Layouts.slice(full, width, width), 1, hiddenSize,
                            kerasGateOfOnnxGate));
        }
        return new OnnxRnnWeights(w, r, b, keras.resetAfter());
    }

    /**
     * Converts to Keras standard weights: GRU gets {@code reset_after = linear_before_reset}; biases
     * are summed except for reset-after GRU, which keeps {@code [Wb; Rb]} as {@code [2, 3H]}.
     *
     * @param type       the operator: {@code SIMPLE_RNN} for {@code RNN}, {@code GRU}, {@code LSTM}
     * @param inputSize  {@code C}
     * @param hiddenSize {@code H} ({@code hidden_size})
     * @throws IllegalArgumentException if an array does not have the shape these sizes give, or
     *                                  {@code linear_before_reset} is set on RNN or LSTM
     */
    public KerasRnnWeights toKeras(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        String operator = onnxName(type);
        if (linearBeforeReset && type != CellType.GRU) {
            throw new IllegalArgumentException(operator + " linear_before_reset: expected false (the attribute"
                    + " exists only for GRU), got true");
        }
        Layouts.requirePositive(operator + " input size", inputSize);
        Layouts.requirePositive(operator + " hidden_size", hiddenSize);
        int width = type.gateCount() * hiddenSize;
        Layouts.requireMatrix(operator + " W", w, "[G*H, C]", width, inputSize);
        Layouts.requireMatrix(operator + " R", r, "[G*H, H]", width, hiddenSize);
        if (b != null) {
            Layouts.requireVector(operator + " B", b, "[2*G*H]", 2 * width);
        }
        int[] kerasGateOfOnnxGate = kerasGateOfOnnxGate(type);
        int[] onnxGateOfKerasGate = Layouts.inverse(kerasGateOfOnnxGate);
        float[] kernel = Layouts.wxToKeras(w, inputSize, hiddenSize, kerasGateOfOnnxGate);
        float[] recurrentKernel = Layouts.wxToKeras(r, hiddenSize, hiddenSize, kerasGateOfOnnxGate);
        float[] bias = null;
        if (b != null) {
            float[] inputBias = Layouts.permuteColumnBlocks(Layouts.slice(b, 0, width), 1, hiddenSize,
                    onnxGateOfKerasGate);
            float[] recurrentBias = Layouts.permuteColumnBlocks(Layouts.slice(b, width, width), 1, hiddenSize,
                    onnxGateOfKerasGate);
            bias = linearBeforeReset ? Layouts.concat(inputBias, recurrentBias) : Layouts.add(inputBias,
                    recurrentBias);
        }
        return KerasRnnWeights.wrap(type, linearBeforeReset, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    private static int[] kerasGateOfOnnxGate(CellType type) {
        // Only LSTM differs from Keras order.
        return type == CellType.LSTM ? KERAS_GATE_OF_ONNX_LSTM_GATE : Layouts.identity(type.gateCount());
    }

    private static String onnxName(CellType type) {
        return switch (type) {
            case SIMPLE_RNN -> "ONNX RNN";
            case GRU -> "ONNX GRU";
            case LSTM -> "ONNX LSTM";
        };
    }

    /** A copy of {@code W [G·H, C]}. */
    public float[] w() {
        return w.clone();
    }

    /** A copy of {@code R [G·H, H]}. */
    public float[] r() {
        return r.clone();
    }

    /** A copy of {@code B [2·G·H]}, or {@code null} when absent. */
    public float[] b() {
        return Layouts.copyOrNull(b);
    }

    /** Whether the node has a {@code B} input. */
    public boolean hasBias() {
        return b != null;
    }

    /** The GRU attribute {@code linear_before_reset}; {@code false} for RNN and LSTM. */
    public boolean linearBeforeReset() {
        return linearBeforeReset;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof OnnxRnnWeights other)) {
            return false;
        }
        return linearBeforeReset == other.linearBeforeReset && Arrays.equals(w, other.w)
                && Arrays.equals(r, other.r) && Arrays.equals(b, other.b);
    }

    @Override
    public int hashCode() {
        int result = Boolean.hashCode(linearBeforeReset);
        result = 31 * result + Arrays.hashCode(w);
        result = 31 * result + Arrays.hashCode(r);
        result = 31 * result + Arrays.hashCode(b);
        return result;
    }

    @Override
    public String toString() {
        return "OnnxRnnWeights[W " + w.length + " floats, R " + r.length + " floats"
                + (hasBias() ? ", B " + b.length + " floats" : ", no B")
                + (linearBeforeReset ? ", linear_before_reset=1]" : "]");
    }
}
