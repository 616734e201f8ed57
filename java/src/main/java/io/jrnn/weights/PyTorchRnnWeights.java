package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * One direction of one layer of PyTorch {@code nn.RNN}, {@code nn.LSTM} or {@code nn.GRU}:
 * {@code weight_ih_l0 [G·H, C]}, {@code weight_hh_l0 [G·H, H]}, {@code bias_ih_l0 [G·H]},
 * {@code bias_hh_l0 [G·H]} (spec §4.1–4.2). PyTorch multiplies column vectors ({@code W·x}).
 *
 * <ul>
 *   <li>LSTM: gate order i, f, g, o (Keras i, f, c, o). The two biases are summed into the Keras
 *       bias; from Keras, {@code b_ih = b} and {@code b_hh = 0}.</li>
 *   <li>GRU: gate order r, z, n; PyTorch's GRU is reset-after, so it corresponds to Keras
 *       {@code GRU(reset_after=True)} with {@code b_ih = b_x}, {@code b_hh = b_h} (reordered).
 *       Keras {@code reset_after=False} has no PyTorch form.</li>
 *   <li>RNN: the two biases are summed; from Keras, {@code b_ih = b}, {@code b_hh = 0}.</li>
 * </ul>
 * The biases are both present ({@code bias=True}) or both {@code null} ({@code bias=False}).
 * Like a {@code state_dict}, the arrays do not say which module they belong to: {@link #toKeras}
 * takes the cell type and sizes and checks every shape against them. Instances are immutable;
 * the constructor and the accessors copy.
 *
 * <pre>{@code
 * PyTorchRnnWeights torch = new PyTorchRnnWeights(weightIh, weightHh, biasIh, biasHh);
 * KerasRnnWeights keras = torch.toKeras(CellType.GRU, inputSize, hiddenSize); // GRU(reset_after=True)
 * }</pre>
 */
public final class PyTorchRnnWeights {
    /** Torch GRU gate {@code j} (r, z, n) is Keras gate {@code KERAS_GATE_OF_TORCH_GRU_GATE[j]} (z=0, r=1, h=2). */
    private static final int[] KERAS_GATE_OF_TORCH_GRU_GATE = {1, 0, 2};

    private final float[] weightIh;
    private final float[] weightHh;
    private final float[] biasIh;
    private final float[] biasHh;

    /**
     * Copies the arrays. Their shapes are checked by {@link #toKeras}, which knows the sizes.
     *
     * @param weightIh {@code weight_ih_l0 [G·H, C]}
     * @param weightHh {@code weight_hh_l0 [G·H, H]}
     * @param biasIh   {@code bias_ih_l0 [G·H]}, or {@code null} together with {@code biasHh}
     * @param biasHh   {@code bias_hh_l0 [G·H]}, or {@code null} together with {@code biasIh}
     * @throws IllegalArgumentException if a weight is missing, only one bias is given, or the biases differ in length
     */
    public PyTorchRnnWeights(float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh) {
        if (weightIh == null || weightHh == null) {
            throw new IllegalArgumentException("PyTorch RNN weights: expected weight_ih and weight_hh, got "
                    + (weightIh == null ? "weight_ih null" : "weight_ih present") + " and "
                    + (weightHh == null ? "weight_hh null" : "weight_hh present"));
        }
        if ((biasIh == null) != (biasHh == null)) {
            throw new IllegalArgumentException("PyTorch RNN biases: expected bias_ih and bias_hh both present or both"
                    + " null, got bias_ih " + (biasIh == null ? "null" : "present") + " and bias_hh "
                    + (biasHh == null ? "null" : "present"));
        }
        if (biasIh != null && biasIh.length != biasHh.length) {
            throw new IllegalArgumentException("PyTorch RNN bias_hh: expected the length of bias_ih ("
                    + biasIh.length + " floats), got " + biasHh.length + " floats");
        }
        this.weightIh = weightIh.clone();
        this.weightHh = weightHh.clone();
        this.biasIh = Layouts.copyOrNull(biasIh);
        this.biasHh = Layouts.copyOrNull(biasHh);
    }

    /**
     * Converts Keras standard weights. LSTM and SimpleRNN put the whole bias into {@code b_ih}.
     *
     * @throws IllegalArgumentException for GRU with {@code reset_after=False}, which PyTorch cannot represent
     */
    public static PyTorchRnnWeights fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        if (type == CellType.GRU && !keras.resetAfter()) {
            throw new IllegalArgumentException("PyTorch nn.GRU from Keras GRU: expected reset_after=True (PyTorch has"
                    + " no reset-before GRU), got reset_after=False");
        }
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int width = type.gateCount() * hiddenSize;
        int[] kerasGateOfTorchGate = kerasGateOfTorchGate(type);
        float[] weightIh = Layouts.kerasToWx(keras.kernelView(), inputSize, hiddenSize, kerasGateOfTorchGate);
        float[] weightHh = Layouts.kerasToWx(keras.recurrentKernelView(), hiddenSize, hiddenSize,
                kerasGateOfTorchGate);
        float[] biasIh = null;
        float[] biasHh = null;
        float[] kerasBias = keras.biasView();
        if (kerasBias != null) {
            if (type == CellType.GRU) {
                // Keras [2, 3H]: row 0 is b_x, row 1 is b_h; each reordered z,r,h → r,z,n.
                biasIh = Layouts.permuteColumnBlocks(Layouts.slice(kerasBias, 0, width), 1, hiddenSize,
                        kerasGateOfTorchGate);
                biasHh = Layouts.permuteColumnBlocks(Layouts.slice(kerasBias, width, width), 1, hiddenSize,
                        kerasGateOfTorchGate);
            } else {
                biasIh = kerasBias;
                biasHh = new float[width];
            }
        }
        return new PyTorchRnnWeights(weightIh, weightHh, biasIh, biasHh);
    }

    /**
     * Converts to Keras standard weights: LSTM and SimpleRNN with {@code b = b_ih + b_hh}, GRU as
     * {@code GRU(reset_after=True)} with {@code bias [2, 3H] = [b_ih; b_hh]} in Keras order.
     *
     * @param type       {@code SIMPLE_RNN} for {@code nn.RNN}, {@code GRU}, {@code LSTM}
     * @param inputSize  {@code C} ({@code input_size})
     * @param hiddenSize {@code H} ({@code hidden_size})
     * @throws IllegalArgumentException if an array does not have the shape these sizes give
     */
    public KerasRnnWeights toKeras(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        String module = torchName(type);
        Layouts.requirePositive(module + " input_size", inputSize);
        Layouts.requirePositive(module + " hidden_size", hiddenSize);
        int width = type.gateCount() * hiddenSize;
        Layouts.requireMatrix(module + " weight_ih", weightIh, "[G*H, C]", width, inputSize);
        Layouts.requireMatrix(module + " weight_hh", weightHh, "[G*H, H]", width, hiddenSize);
        if (biasIh != null) {
            Layouts.requireVector(module + " bias_ih", biasIh, "[G*H]", width);
            Layouts.requireVector(module + " bias_hh", biasHh, "[G*H]", width);
        }
        int[] kerasGateOfTorchGate = kerasGateOfTorchGate(type);
        float[] kernel = Layouts.wxToKeras(weightIh, inputSize, hiddenSize, kerasGateOfTorchGate);
        float[] recurrentKernel = Layouts.wxToKeras(weightHh, hiddenSize, hiddenSize, kerasGateOfTorchGate);
        float[] bias = null;
        if (biasIh != null) {
            if (type == CellType.GRU) {
                int[] torchGateOfKerasGate = Layouts.inverse(kerasGateOfTorchGate);
                bias = Layouts.concat(Layouts.permuteColumnBlocks(biasIh, 1, hiddenSize, torchGateOfKerasGate),
                        Layouts.permuteColumnBlocks(biasHh, 1, hiddenSize, torchGateOfKerasGate));
            } else {
                bias = Layouts.add(biasIh, biasHh);
            }
        }
        return KerasRnnWeights.wrap(type, type == CellType.GRU, inputSize, hiddenSize, kernel, recurrentKernel,
                bias);
    }

    private static int[] kerasGateOfTorchGate(CellType type) {
        // LSTM i,f,g,o and RNN match Keras; GRU swaps the first two gates.
        return type == CellType.GRU ? KERAS_GATE_OF_TORCH_GRU_GATE : Layouts.identity(type.gateCount());
    }

    private static String torchName(CellType type) {
        return switch (type) {
            case SIMPLE_RNN -> "PyTorch nn.RNN";
            case GRU -> "PyTorch nn.GRU";
            case LSTM -> "PyTorch nn.LSTM";
        };
    }

    /** A copy of {@code weight_ih [G·H, C]}. */
    public float[] weightIh() {
        return weightIh.clone();
    }

    /** A copy of {@code weight_hh [G·H, H]}. */
    public float[] weightHh() {
        return weightHh.clone();
    }

    /** A copy of {@code bias_ih [G·H]}, or {@code null} without biases. */
    public float[] biasIh() {
        return Layouts.copyOrNull(biasIh);
    }

    /** A copy of {@code bias_hh [G·H]}, or {@code null} without biases. */
    public float[] biasHh() {
        return Layouts.copyOrNull(biasHh);
    }

    /** Whether the module has biases ({@code bias=True}). */
    public boolean hasBias() {
        return biasIh != null;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PyTorchRnnWeights other)) {
            return false;
        }
        return Arrays.equals(weightIh, other.weightIh) && Arrays.equals(weightHh, other.weightHh)
                && Arrays.equals(biasIh, other.biasIh) && Arrays.equals(biasHh, other.biasHh);
    }

    @Override
    public int hashCode() {
        int result = Arrays.hashCode(weightIh);
        result = 31 * result + Arrays.hashCode(weightHh);
        result = 31 * result + Arrays.hashCode(biasIh);
        result = 31 * result + Arrays.hashCode(biasHh);
        return result;
    }

    @Override
    public String toString() {
        return "PyTorchRnnWeights[weight_ih " + weightIh.length + " floats, weight_hh " + weightHh.length + " floats"
                + (hasBias() ? ", biases " + biasIh.length + " floats each]" : ", no bias]");
    }
}
