package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The cuDNN per-linear-layer view of one layer, one direction (spec §4.1–4.2): one matrix and one
 * bias vector per cuDNN {@code linLayerID}.
 *
 * <table>
 *   <caption>linLayerIDs</caption>
 *   <tr><th>cell</th><th>input matrices {@code [H, C]}</th><th>recurrent matrices {@code [H, H]}</th><th>gate order</th></tr>
 *   <tr><td>LSTM</td><td>0–3</td><td>4–7</td><td>i, f, c, o</td></tr>
 *   <tr><td>GRU</td><td>0–2</td><td>3–5</td><td>r, z, h</td></tr>
 *   <tr><td>vanilla (RNN_TANH / RNN_RELU)</td><td>0</td><td>1</td><td>—</td></tr>
 * </table>
 * Matrices are row-major and multiply column vectors ({@code y = W·x}). Each ID has a bias
 * {@code [H]}: {@code b_W} for input IDs, {@code b_R} for recurrent IDs (cuDNN's
 * {@code CUDNN_RNN_DOUBLE_BIAS}). A Keras layer without a bias converts to zero biases.
 *
 * <p>From Keras: LSTM and SimpleRNN put the bias into {@code b_W} and zeros into {@code b_R} (only
 * the sum matters); GRU must be {@code reset_after=True} ({@code b_W = b_x}, {@code b_R = b_h},
 * reordered to r, z, h): cuDNN has no reset-before GRU.
 *
 * <p>{@link #packInto} writes everything into one flat weight space at given element offsets, so
 * the offsets cuDNN reports ({@code cudnnGetRNNWeightParams}) can replace {@link #canonicalOffsets}.
 * Instances are immutable; accessors return copies.
 */
public final class CudnnRnnWeights {
    /** cuDNN GRU gate {@code k} (r, z, h) is Keras gate {@code KERAS_GATE_OF_CUDNN_GRU_GATE[k]} (z=0, r=1, h=2). */
    private static final int[] KERAS_GATE_OF_CUDNN_GRU_GATE = {1, 0, 2};

    private final CellType type;
    private final int inputSize;
    private final int hiddenSize;
    private final float[][] matrices;
    private final float[][] biases;

    private CudnnRnnWeights(CellType type, int inputSize, int hiddenSize, float[][] matrices, float[][] biases) {
        this.type = type;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.matrices = matrices;
        this.biases = biases;
    }

    /**
     * Validates the shapes and copies the arrays.
     *
     * @param type       {@code SIMPLE_RNN} for {@code CUDNN_RNN_TANH/RELU}, {@code GRU}, {@code LSTM}
     * @param inputSize  {@code C}
     * @param hiddenSize {@code H}
     * @param matrices   indexed by linLayerID: {@code [H, C]} for input IDs, {@code [H, H]} for recurrent IDs
     * @param biases     indexed by linLayerID, each {@code [H]}
     * @throws IllegalArgumentException if a count, size or array length does not fit
     */
    public static CudnnRnnWeights of(CellType type, int inputSize, int hiddenSize, float[][] matrices,
            float[][] biases) {
        Objects.requireNonNull(type, "type");
        String mode = cudnnName(type);
        Layouts.requirePositive(mode + " input size", inputSize);
        Layouts.requirePositive(mode + " hidden size", hiddenSize);
        int idCount = 2 * type.gateCount();
        requireCount(mode + " matrices", matrices, idCount);
        requireCount(mode + " biases", biases, idCount);
        float[][] matrixCopies = new float[idCount][];
        float[][] biasCopies = new float[idCount][];
        for (int id = 0; id < idCount; id++) {
            int columns = isInputId(type, id) ? inputSize : hiddenSize;
            Layouts.requireMatrix(mode + " matrix of linLayerID " + id, matrices[id],
                    isInputId(type, id) ? "[H, C]" : "[H, H]", hiddenSize, columns);
            Layouts.requireVector(mode + " bias of linLayerID " + id, biases[id], "[H]", hiddenSize);
            matrixCopies[id] = matrices[id].clone();
            biasCopies[id] = biases[id].clone();
        }
        return new CudnnRnnWeights(type, inputSize, hiddenSize, matrixCopies, biasCopies);
    }

    /**
     * Converts Keras standard weights.
     *
     * @throws IllegalArgumentException for GRU with {@code reset_after=False}, which cuDNN cannot run
     */
    public static CudnnRnnWeights fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        if (type == CellType.GRU && !keras.resetAfter()) {
            throw new IllegalArgumentException("cuDNN CUDNN_GRU from Keras GRU: expected reset_after=True (cuDNN has"
                    + " reset-after GRU only), got reset_after=False");
        }
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int gateCount = type.gateCount();
        int width = gateCount * hiddenSize;
        int[] kerasGateOfCudnnGate = kerasGateOfCudnnGate(type);
        // W·x form [G·H, in] in cuDNN gate order: row block k is the matrix of gate k.
        float[] inputRows = Layouts.kerasToWx(keras.kernelView(), inputSize, hiddenSize, kerasGateOfCudnnGate);
        float[] recurrentRows = Layouts.kerasToWx(keras.recurrentKernelView(), hiddenSize, hiddenSize,
                kerasGateOfCudnnGate);
        float[] kerasBias = keras.withZeroBiasIfAbsent().biasView();
        // b_W from the (input) bias; b_R from Keras's recurrent bias row for reset-after GRU, else zeros.
        float[] inputBias = Layouts.permuteColumnBlocks(Layouts.slice(kerasBias, 0, width), 1, hiddenSize,
                kerasGateOfCudnnGate);
        float[] recurrentBias = kerasBias.length == 2 * width
                ? Layouts.permuteColumnBlocks(Layouts.slice(kerasBias, width, width), 1, hiddenSize,
                        kerasGateOfCudnnGate)
                : new float[width];
        float[][] matrices = new float[2 * gateCount][];
        float[][] biases = new float[2 * gateCount][];
        for (int gate = 0; gate < gateCount; gate++) {
            matrices[gate] = Layouts.slice(inputRows, gate * hiddenSize * inputSize, hiddenSize * inputSize);
            matrices[gateCount + gate] = Layouts.slice(recurrentRows, gate * hiddenSize * hiddenSize,
                    hiddenSize * hiddenSize);
            biases[gate] = Layouts.slice(inputBias, gate * hiddenSize, hiddenSize);
            biases[gateCount + gate] = Layouts.slice(recurrentBias, gate * hiddenSize, hiddenSize);
        }
        return new CudnnRnnWeights(type, inputSize, hiddenSize, matrices, biases);
    }

    /**
     * Converts to Keras standard weights (always with a bias): LSTM and SimpleRNN with
     * {@code b = b_W + b_R}; GRU as {@code GRU(reset_after=True)} with {@code [2, 3H] = [b_W; b_R]}
     * in Keras order.
     */
    public KerasRnnWeights toKeras() {
        int gateCount = type.gateCount();
        int[] kerasGateOfCudnnGate = kerasGateOfCudnnGate(type);
        int[] cudnnGateOfKerasGate = Layouts.inverse(kerasGateOfCudnnGate);
        float[] kernel = Layouts.wxToKeras(Layouts.concat(Arrays.copyOfRange(matrices, 0, gateCount)), inputSize,
                hiddenSize, kerasGateOfCudnnGate);
        float[] recurrentKernel = Layouts.wxToKeras(
                Layouts.concat(Arrays.copyOfRange(matrices, gateCount, 2 * gateCount)), hiddenSize, hiddenSize,
                kerasGateOfCudnnGate);
        float[] inputBias = Layouts.permuteColumnBlocks(Layouts.concat(Arrays.copyOfRange(biases, 0, gateCount)),
                1, hiddenSize, cudnnGateOfKerasGate);
        float[] recurrentBias = Layouts.permuteColumnBlocks(
                Layouts.concat(Arrays.copyOfRange(biases, gateCount, 2 * gateCount)), 1, hiddenSize,
                cudnnGateOfKerasGate);
        boolean resetAfter = type == CellType.GRU;
        float[] bias = resetAfter ? Layouts.concat(inputBias, recurrentBias) : Layouts.add(inputBias, recurrentBias);
        return KerasRnnWeights.wrap(type, resetAfter, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    /** The linLayerIDs of a cell, in canonical order: {@code 0 … 2G−1} (input IDs first). */
    public static int[] linLayerIds(CellType type) {
        Objects.requireNonNull(type, "type");
        return Layouts.identity(2 * type.gateCount());
    }

    /** The shape {@code [rows, columns]} of the matrix of a linLayerID: {@code [H, C]} or {@code [H, H]}. */
    public static int[] matrixShape(CellType type, int inputSize, int hiddenSize, int linLayerId) {
        requireId(type, linLayerId);
        return new int[] {hiddenSize, isInputId(type, linLayerId) ? inputSize : hiddenSize};
    }

    /**
     * Element offsets of a contiguous canonical packing: all matrices by linLayerID, then all
     * biases by linLayerID.
     *
     * @return {@code {matrixOffsets, biasOffsets}}, each indexed by linLayerID, in floats
     */
    public static long[][] canonicalOffsets(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        int idCount = 2 * type.gateCount();
        long[] matrixOffsets = new long[idCount];
        long[] biasOffsets = new long[idCount];
        long at = 0;
        for (int id = 0; id < idCount; id++) {
            matrixOffsets[id] = at;
            at += (long) hiddenSize * (isInputId(type, id) ? inputSize : hiddenSize);
        }
        for (int id = 0; id < idCount; id++) {
            biasOffsets[id] = at;
            at += hiddenSize;
        }
        return new long[][] {matrixOffsets, biasOffsets};
    }

    /** The number of floats of the canonical packing: {@code G·H·(C + H) + 2·G·H}. */
    public static long canonicalSize(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        long gateCount = type.gateCount();
        return gateCount * hiddenSize * ((long) inputSize + hiddenSize) + 2 * gateCount * hiddenSize;
    }

    /**
     * Writes each matrix and bias into {@code weightSpace} at its element offset. Other elements
     * are left as they are.
     *
     * @param weightSpace   the destination, in floats
     * @param matrixOffsets per linLayerID, the element offset of its matrix
     * @param biasOffsets   per linLayerID, the element offset of its bias
     * @throws IllegalArgumentException if an offsets table has the wrong length or an entry does not fit
     */
    public void packInto(float[] weightSpace, long[] matrixOffsets, long[] biasOffsets) {
        Objects.requireNonNull(weightSpace, "weightSpace");
        String mode = cudnnName(type);
        int idCount = 2 * type.gateCount();
        requireOffsets(mode + " matrixOffsets", matrixOffsets, idCount);
        requireOffsets(mode + " biasOffsets", biasOffsets, idCount);
        for (int id = 0; id < idCount; id++) {
            int matrixAt = requireFits(mode + " matrix of linLayerID " + id, matrixOffsets[id],
                    matrices[id].length, weightSpace.length);
            System.arraycopy(matrices[id], 0, weightSpace, matrixAt, matrices[id].length);
            int biasAt = requireFits(mode + " bias of linLayerID " + id, biasOffsets[id], biases[id].length,
                    weightSpace.length);
            System.arraycopy(biases[id], 0, weightSpace, biasAt, biases[id].length);
        }
    }

    /** A new array of {@link #canonicalSize} floats packed at {@link #canonicalOffsets}. */
    public float[] packCanonical() {
        long size = canonicalSize(type, inputSize, hiddenSize);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(cudnnName(type) + " canonical weight space: expected at most "
                    + (Integer.MAX_VALUE - 8) + " floats for a Java array, got " + size);
        }
        float[] weightSpace = new float[(int) size];
        long[][] offsets = canonicalOffsets(type, inputSize, hiddenSize);
        packInto(weightSpace, offsets[0], offsets[1]);
        return weightSpace;
    }

    /** The inverse of {@link #packInto}: reads each matrix and bias from its element offset. */
    public static CudnnRnnWeights unpackFrom(CellType type, int inputSize, int hiddenSize, float[] weightSpace,
            long[] matrixOffsets, long[] biasOffsets) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(weightSpace, "weightSpace");
        String mode = cudnnName(type);
        Layouts.requirePositive(mode + " input size", inputSize);
        Layouts.requirePositive(mode + " hidden size", hiddenSize);
        int idCount = 2 * type.gateCount();
        requireOffsets(mode + " matrixOffsets", matrixOffsets, idCount);
        requireOffsets(mode + " biasOffsets", biasOffsets, idCount);
        float[][] matrices = new float[idCount][];
        float[][] biases = new float[idCount][];
        for (int id = 0; id < idCount; id++) {
            int matrixLength = hiddenSize * (isInputId(type, id) ? inputSize : hiddenSize);
            int matrixAt = requireFits(mode + " matrix of linLayerID " + id, matrixOffsets[id], matrixLength,
                    weightSpace.length);
            matrices[id] = Layouts.slice(weightSpace, matrixAt, matrixLength);
            int biasAt = requireFits(mode + " bias of linLayerID " + id, biasOffsets[id], hiddenSize,
                    weightSpace.length);
            biases[id] = Layouts.slice(weightSpace, biasAt, hiddenSize);
        }
        return new CudnnRnnWeights(type, inputSize, hiddenSize, matrices, biases);
    }

    private static boolean isInputId(CellType type, int linLayerId) {
        return linLayerId < type.gateCount();
    }

    private static int[] kerasGateOfCudnnGate(CellType type) {
        // LSTM i,f,c,o and vanilla match Keras; GRU r,z,h swaps Keras z,r.
        return type == CellType.GRU ? KERAS_GATE_OF_CUDNN_GRU_GATE : Layouts.identity(type.gateCount());
    }

    private static String cudnnName(CellType type) {
        return switch (type) {
            case SIMPLE_RNN -> "cuDNN CUDNN_RNN_TANH/RELU";
            case GRU -> "cuDNN CUDNN_GRU";
            case LSTM -> "cuDNN CUDNN_LSTM";
        };
    }

    private static void requireCount(String what, float[][] arrays, int expected) {
        if (arrays == null || arrays.length != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected + " arrays (one per linLayerID), got "
                    + (arrays == null ? "null" : arrays.length));
        }
    }

    private static void requireOffsets(String what, long[] offsets, int expected) {
        if (offsets == null || offsets.length != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected + " offsets (one per linLayerID), got "
                    + (offsets == null ? "null" : offsets.length));
        }
    }

    private static void requireId(CellType type, int linLayerId) {
        Objects.requireNonNull(type, "type");
        int idCount = 2 * type.gateCount();
        if (linLayerId < 0 || linLayerId >= idCount) {
            throw new IllegalArgumentException(cudnnName(type) + " linLayerID: expected 0 to " + (idCount - 1)
                    + ", got " + linLayerId);
        }
    }

    /** Checks {@code 0 ≤ offset} and {@code offset + length ≤ capacity}; returns the offset as an int. */
    private static int requireFits(String what, long offset, int length, int capacity) {
        if (offset < 0 || offset > (long) capacity - length) {
            throw new IllegalArgumentException(what + ": expected an element offset from 0 to " + (capacity - length)
                    + " (weight space of " + capacity + " floats, " + length + " to write), got " + offset);
        }
        return (int) offset;
    }

    /** The cell family ({@code SIMPLE_RNN} is {@code CUDNN_RNN_TANH/RELU}). */
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

    /** A copy of the matrix of a linLayerID ({@code [H, C]} or {@code [H, H]}, row-major). */
    public float[] matrix(int linLayerId) {
        requireId(type, linLayerId);
        return matrices[linLayerId].clone();
    }

    /** A copy of the bias {@code [H]} of a linLayerID. */
    public float[] bias(int linLayerId) {
        requireId(type, linLayerId);
        return biases[linLayerId].clone();
    }

    /** Copies of all matrices, indexed by linLayerID. */
    public float[][] matrices() {
        return deepCopy(matrices);
    }

    /** Copies of all biases, indexed by linLayerID. */
    public float[][] biases() {
        return deepCopy(biases);
    }

    private static float[][] deepCopy(float[][] arrays) {
        float[][] copies = new float[arrays.length][];
        for (int k = 0; k < arrays.length; k++) {
            copies[k] = arrays[k].clone();
        }
        return copies;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CudnnRnnWeights other)) {
            return false;
        }
        return type == other.type && inputSize == other.inputSize && hiddenSize == other.hiddenSize
                && Arrays.deepEquals(matrices, other.matrices) && Arrays.deepEquals(biases, other.biases);
    }

    @Override
    public int hashCode() {
        int result = Objects.hash(type, inputSize, hiddenSize);
        result = 31 * result + Arrays.deepHashCode(matrices);
        result = 31 * result + Arrays.deepHashCode(biases);
        return result;
    }

    @Override
    public String toString() {
        return "CudnnRnnWeights[" + cudnnName(type) + ", C=" + inputSize + ", H=" + hiddenSize + "]";
    }
}
