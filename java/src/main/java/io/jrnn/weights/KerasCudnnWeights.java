package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The stored arrays of a Keras 2 {@code CuDNNLSTM} or {@code CuDNNGRU} layer (spec §2.5):
 * {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]} and {@code bias [2·G·H]}, gate blocks
 * in Keras order (LSTM i, f, c, o; GRU z, r, h) but each block in <b>cuDNN memory order</b>.
 *
 * <ul>
 *   <li>Kernel block {@code S_g [C, H]}: its row-major floats are the cuDNN matrix {@code [H, C]}, so
 *       the standard Keras block is {@code K_g[c][h] = S_g.flat[h·C + c]}.</li>
 *   <li>Recurrent block {@code S_g [H, H]}: the standard block is {@code S_gᵀ}.</li>
 *   <li>Bias: LSTM {@code [8H] = b_W ‖ b_R}; GRU {@code [6H] = b_x ‖ b_h}.</li>
 * </ul>
 * These are K2's {@code _convert_rnn_weights} rules. {@code CuDNNLSTM} is {@code LSTM} with sigmoid
 * and tanh and {@code b = b_W + b_R}; {@code CuDNNGRU} is {@code GRU(reset_after=True)} with sigmoid
 * and tanh. From Keras, LSTM gets {@code b_W = b}, {@code b_R = 0} (K2 itself splits {@code b/2}
 * into both; only the sum matters) and a layer without bias gets zeros. Instances are immutable;
 * accessors return copies.
 */
public final class KerasCudnnWeights {
    private final CellType type;
    private final int inputSize;
    private final int hiddenSize;
    private final float[] kernel;
    private final float[] recurrentKernel;
    private final float[] bias;

    private KerasCudnnWeights(CellType type, int inputSize, int hiddenSize, float[] kernel, float[] recurrentKernel,
            float[] bias) {
        this.type = type;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.kernel = kernel;
        this.recurrentKernel = recurrentKernel;
        this.bias = bias;
    }

    /**
     * Validates the shapes and copies the arrays.
     *
     * @param type            {@code LSTM} for {@code CuDNNLSTM} or {@code GRU} for {@code CuDNNGRU}
     * @param inputSize       {@code C}
     * @param hiddenSize      {@code H}
     * @param kernel          {@code [C, G·H]}, blocks in cuDNN memory order
     * @param recurrentKernel {@code [H, G·H]}, blocks in cuDNN memory order
     * @param bias            {@code [2·G·H]}
     * @throws IllegalArgumentException for SimpleRNN, a bad size or a bad array length
     */
    public static KerasCudnnWeights of(CellType type, int inputSize, int hiddenSize, float[] kernel,
            float[] recurrentKernel, float[] bias) {
        Objects.requireNonNull(type, "type");
        requireCudnnLayerType(type);
        String layer = kerasName(type);
        Layouts.requirePositive(layer + " input size", inputSize);
        Layouts.requirePositive(layer + " units", hiddenSize);
        int width = type.gateCount() * hiddenSize;
        Layouts.requireMatrix(layer + " kernel", kernel, "[C, G*H]", inputSize, width);
        Layouts.requireMatrix(layer + " recurrent_kernel", recurrentKernel, "[H, G*H]", hiddenSize, width);
        Layouts.requireVector(layer + " bias", bias, "[2*G*H]", 2 * width);
        return new KerasCudnnWeights(type, inputSize, hiddenSize, kernel.clone(), recurrentKernel.clone(),
                bias.clone());
    }

    /**
     * Converts Keras standard weights to the stored form of the matching CuDNN layer.
     *
     * @throws IllegalArgumentException for SimpleRNN or GRU with {@code reset_after=False}
     */
    public static KerasCudnnWeights fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        requireCudnnLayerType(type);
        if (type == CellType.GRU && !keras.resetAfter()) {
            throw new IllegalArgumentException("Keras CuDNNGRU from Keras GRU: expected reset_after=True (CuDNNGRU is"
                    + " reset-after), got reset_after=False");
        }
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int gateCount = type.gateCount();
        int width = gateCount * hiddenSize;
        float[] standardKernel = keras.kernelView();
        float[] standardRecurrent = keras.recurrentKernelView();
        float[] kernel = new float[standardKernel.length];
        float[] recurrentKernel = new float[standardRecurrent.length];
        for (int gate = 0; gate < gateCount; gate++) {
            // K_g [C, H] → cuDNN W_g = K_gᵀ [H, C]; its row-major floats fill the [C, H] block as they are.
            float[] kernelBlock = Layouts.columnBlock(standardKernel, inputSize, gateCount, hiddenSize, gate);
            Layouts.putColumnBlock(kernel, inputSize, gateCount, hiddenSize, gate,
                    Layouts.transpose(kernelBlock, inputSize, hiddenSize));
            float[] recurrentBlock = Layouts.columnBlock(standardRecurrent, hiddenSize, gateCount, hiddenSize, gate);
            Layouts.putColumnBlock(recurrentKernel, hiddenSize, gateCount, hiddenSize, gate,
                    Layouts.transpose(recurrentBlock, hiddenSize, hiddenSize));
        }
        float[] kerasBias = keras.withZeroBiasIfAbsent().biasView();
        // LSTM: b_W = b, b_R = 0. GRU: [2, 3H] and [6H] are the same floats.
        float[] bias = type == CellType.LSTM ? Layouts.concat(kerasBias, new float[width]) : kerasBias.clone();
        return new KerasCudnnWeights(type, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    /**
     * Converts to Keras standard weights: {@code LSTM} with {@code b = b_W + b_R}, or
     * {@code GRU(reset_after=True)} with {@code bias [2, 3H]}.
     */
    public KerasRnnWeights toKeras() {
        int gateCount = type.gateCount();
        int width = gateCount * hiddenSize;
        float[] standardKernel = new float[kernel.length];
        float[] standardRecurrent = new float[recurrentKernel.length];
        for (int gate = 0; gate < gateCount; gate++) {
            // The [C, H] block's floats are cuDNN W_g [H, C]; K_g = W_gᵀ.
            float[] cudnnMatrix = Layouts.columnBlock(kernel, inputSize, gateCount, hiddenSize, gate);
            Layouts.putColumnBlock(standardKernel, inputSize, gateCount, hiddenSize, gate,
                    Layouts.transpose(cudnnMatrix, hiddenSize, inputSize));
            float[] recurrentBlock = Layouts.columnBlock(recurrentKernel, hiddenSize, gateCount, hiddenSize, gate);
            Layouts.putColumnBlock(standardRecurrent, hiddenSize, gateCount, hiddenSize, gate,
                    Layouts.transpose(recurrentBlock, hiddenSize, hiddenSize));
        }
        boolean resetAfter = type == CellType.GRU;
        float[] standardBias = resetAfter ? bias.clone()
                : Layouts.add(Layouts.slice(bias, 0, width), Layouts.slice(bias, width, width));
        return KerasRnnWeights.wrap(type, resetAfter, inputSize, hiddenSize, standardKernel, standardRecurrent,
                standardBias);
    }

    private static void requireCudnnLayerType(CellType type) {
        if (type == CellType.SIMPLE_RNN) {
            throw new IllegalArgumentException("Keras CuDNN layer type: expected LSTM (CuDNNLSTM) or GRU (CuDNNGRU),"
                    + " got SIMPLE_RNN (Keras has no CuDNN SimpleRNN)");
        }
    }

    private static String kerasName(CellType type) {
        return type == CellType.LSTM ? "Keras CuDNNLSTM" : "Keras CuDNNGRU";
    }

    /** {@code LSTM} ({@code CuDNNLSTM}) or {@code GRU} ({@code CuDNNGRU}). */
    public CellType type() {
        return type;
    }

    /** {@code C}. */
    public int inputSize() {
        return inputSize;
    }

    /** {@code H}. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** A copy of the stored {@code kernel [C, G·H]}. */
    public float[] kernel() {
        return kernel.clone();
    }

    /** A copy of the stored {@code recurrent_kernel [H, G·H]}. */
    public float[] recurrentKernel() {
        return recurrentKernel.clone();
    }

    /** A copy of the stored {@code bias [2·G·H]}. */
    public float[] bias() {
        return bias.clone();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KerasCudnnWeights other)) {
            return false;
        }
        return type == other.type && inputSize == other.inputSize && hiddenSize == other.hiddenSize
                && Arrays.equals(kernel, other.kernel) && Arrays.equals(recurrentKernel, other.recurrentKernel)
                && Arrays.equals(bias, other.bias);
    }

    @Override
    public int hashCode() {
        int result = Objects.hash(type, inputSize, hiddenSize);
        result = 31 * result + Arrays.hashCode(kernel);
        result = 31 * result + Arrays.hashCode(recurrentKernel);
        result = 31 * result + Arrays.hashCode(bias);
        return result;
    }

    @Override
    public String toString() {
        return "KerasCudnnWeights[" + kerasName(type) + ", C=" + inputSize + ", H=" + hiddenSize + "]";
    }
}
