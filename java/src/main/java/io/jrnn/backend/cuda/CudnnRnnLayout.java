package io.jrnn.backend.cuda;

import io.jrnn.weights.CellType;
import io.jrnn.weights.CudnnRnnWeights;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Where each matrix and bias lives in a cuDNN RNN weight space ({@code CUDNN_RNN_DOUBLE_BIAS},
 * {@code CUDNN_LINEAR_INPUT}, no projection), in elements from the start of the space.
 *
 * <p>The canonical layout ({@link #canonical}) is cuDNN's documented one: pseudo-layers in order
 * (layer 0 forward, layer 0 backward when bidirectional, layer 1 …), and in each pseudo-layer all
 * matrices by {@code linLayerID}, then all biases by {@code linLayerID}
 * ({@link CudnnRnnWeights#canonicalOffsets}); matrices are {@code [H, in]} row-major, where
 * {@code in} is the input size for layer 0 and {@code H · directions} above it. PyTorch relies on
 * the same layout ({@code aten/src/ATen/native/cudnn/RNN.cpp}, {@code get_parameters}: per layer,
 * the matrices of the input IDs are contiguous, then the recurrent IDs, then the biases). The
 * executor compares it with what {@code cudnnGetRNNWeightParams} reports
 * ({@link #reported}) and packs at cuDNN's addresses when they differ.
 */
public final class CudnnRnnLayout {
    private final CellType type;
    private final int inputSize;
    private final int hiddenSize;
    private final int layers;
    private final int directions;
    private final int elementBytes;
    private final long[][] matrixOffsets;
    private final long[][] biasOffsets;
    private final long sizeElements;

    private CudnnRnnLayout(CellType type, int inputSize, int hiddenSize, int layers, int directions, int elementBytes,
            long[][] matrixOffsets, long[][] biasOffsets, long sizeElements) {
        this.type = type;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.layers = layers;
        this.directions = directions;
        this.elementBytes = elementBytes;
        this.matrixOffsets = matrixOffsets;
        this.biasOffsets = biasOffsets;
        this.sizeElements = sizeElements;
    }

    /**
     * The documented layout.
     *
     * @param type         the cell ({@code SIMPLE_RNN} for {@code CUDNN_RNN_TANH/RELU})
     * @param inputSize    {@code C}, the input size of layer 0
     * @param hiddenSize   {@code H}
     * @param layers       {@code L ≥ 1}
     * @param directions   1 (unidirectional) or 2 (bidirectional)
     * @param elementBytes bytes per element of the data type (4 float, 2 half/bfloat16)
     */
    public static CudnnRnnLayout canonical(CellType type, int inputSize, int hiddenSize, int layers, int directions,
            int elementBytes) {
        check(type, inputSize, hiddenSize, layers, directions, elementBytes);
        int pseudoLayers = layers * directions;
        long[][] matrices = new long[pseudoLayers][];
        long[][] biases = new long[pseudoLayers][];
        long at = 0;
        for (int p = 0; p < pseudoLayers; p++) {
            int in = layerInputSize(inputSize, hiddenSize, directions, p);
            long[][] local = CudnnRnnWeights.canonicalOffsets(type, in, hiddenSize);
            matrices[p] = shifted(local[0], at);
            biases[p] = shifted(local[1], at);
            at += CudnnRnnWeights.canonicalSize(type, in, hiddenSize);
        }
        return new CudnnRnnLayout(type, inputSize, hiddenSize, layers, directions, elementBytes, matrices, biases, at);
    }

    /**
     * A layout as cuDNN reported it: per pseudo-layer and {@code linLayerID}, the element offsets
     * of the matrix and the bias, and the weight-space size in elements.
     */
    public static CudnnRnnLayout reported(CellType type, int inputSize, int hiddenSize, int layers, int directions,
            int elementBytes, long[][] matrixOffsets, long[][] biasOffsets, long sizeElements) {
        check(type, inputSize, hiddenSize, layers, directions, elementBytes);
        int ids = 2 * type.gateCount();
        int pseudoLayers = layers * directions;
        if (matrixOffsets.length != pseudoLayers || biasOffsets.length != pseudoLayers) {
            throw new IllegalArgumentException("cuDNN weight layout: expected offsets for " + pseudoLayers
                    + " pseudo-layers, got " + matrixOffsets.length + " and " + biasOffsets.length);
        }
        long[][] m = new long[pseudoLayers][];
        long[][] b = new long[pseudoLayers][];
        for (int p = 0; p < pseudoLayers; p++) {
            if (matrixOffsets[p].length != ids || biasOffsets[p].length != ids) {
                throw new IllegalArgumentException("cuDNN weight layout: expected " + ids + " linLayerIDs in pseudo-layer "
                        + p + ", got " + matrixOffsets[p].length + " and " + biasOffsets[p].length);
            }
            m[p] = matrixOffsets[p].clone();
            b[p] = biasOffsets[p].clone();
        }
        return new CudnnRnnLayout(type, inputSize, hiddenSize, layers, directions, elementBytes, m, b, sizeElements);
    }

    private static void check(CellType type, int inputSize, int hiddenSize, int layers, int directions,
            int elementBytes) {
        Objects.requireNonNull(type, "type");
        if (inputSize < 1 || hiddenSize < 1 || layers < 1 || (directions != 1 && directions != 2)
                || (elementBytes != 2 && elementBytes != 4)) {
            throw new IllegalArgumentException("cuDNN weight layout: expected input size, hidden size and layers >= 1,"
                    + " 1 or 2 directions and 2- or 4-byte elements, got C=" + inputSize + ", H=" + hiddenSize + ", L="
                    + layers + ", directions=" + directions + ", " + elementBytes + "-byte elements");
        }
    }

    private static long[] shifted(long[] offsets, long by) {
        long[] out = new long[offsets.length];
        for (int i = 0; i < offsets.length; i++) {
            out[i] = offsets[i] + by;
        }
        return out;
    }

    private static int layerInputSize(int inputSize, int hiddenSize, int directions, int pseudoLayer) {
        return pseudoLayer < directions ? inputSize : hiddenSize * directions;
    }

    /** {@code L · directions}. */
    public int pseudoLayers() {
        return layers * directions;
    }

    /** The input size of a pseudo-layer's input matrices: {@code C} in layer 0, {@code H · directions} above. */
    public int inputSizeOf(int pseudoLayer) {
        checkPseudoLayer(pseudoLayer);
        return layerInputSize(inputSize, hiddenSize, directions, pseudoLayer);
    }

    /** {@code [rows, columns]} of a matrix: {@code [H, in]} for input IDs, {@code [H, H]} for recurrent IDs. */
    public int[] matrixShape(int pseudoLayer, int linLayerId) {
        return CudnnRnnWeights.matrixShape(type, inputSizeOf(pseudoLayer), hiddenSize, linLayerId);
    }

    /** Element offset of a matrix. */
    public long matrixOffset(int pseudoLayer, int linLayerId) {
        checkPseudoLayer(pseudoLayer);
        return matrixOffsets[pseudoLayer][checkId(linLayerId)];
    }

    /** Element offset of a bias {@code [H]}. */
    public long biasOffset(int pseudoLayer, int linLayerId) {
        checkPseudoLayer(pseudoLayer);
        return biasOffsets[pseudoLayer][checkId(linLayerId)];
    }

    /** The weight-space size in elements. */
    public long sizeElements() {
        return sizeElements;
    }

    /** The weight-space size in bytes. */
    public long sizeBytes() {
        return sizeElements * elementBytes;
    }

    public int elementBytes() {
        return elementBytes;
    }

    public CellType type() {
        return type;
    }

    /**
     * The whole weight space as floats (zeros where nothing is packed): {@code weights.get(p)} is
     * pseudo-layer {@code p}'s matrices and biases.
     *
     * @throws IllegalArgumentException when the count, a cell or a size does not fit this layout
     */
    public float[] pack(List<CudnnRnnWeights> weights) {
        Objects.requireNonNull(weights, "weights");
        if (weights.size() != pseudoLayers()) {
            throw new IllegalArgumentException("cuDNN weight space: expected weights for " + pseudoLayers()
                    + " pseudo-layers, got " + weights.size());
        }
        if (sizeElements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cuDNN weight space of " + sizeElements
                    + " elements does not fit a Java array");
        }
        float[] space = new float[(int) sizeElements];
        for (int p = 0; p < weights.size(); p++) {
            CudnnRnnWeights w = weights.get(p);
            if (w.type() != type || w.inputSize() != inputSizeOf(p) || w.hiddenSize() != hiddenSize) {
                throw new IllegalArgumentException("cuDNN weight space pseudo-layer " + p + ": expected " + type
                        + " with C=" + inputSizeOf(p) + ", H=" + hiddenSize + ", got " + w);
            }
            w.packInto(space, matrixOffsets[p], biasOffsets[p]);
        }
        return space;
    }

    /**
     * One line per difference from {@code other} (offsets and size), or an empty string when the
     * two place everything at the same elements.
     */
    public String differences(CudnnRnnLayout other) {
        StringBuilder s = new StringBuilder();
        if (sizeElements != other.sizeElements) {
            s.append("weight space ").append(sizeElements).append(" vs ").append(other.sizeElements)
                    .append(" elements; ");
        }
        int pseudoLayers = Math.min(pseudoLayers(), other.pseudoLayers());
        for (int p = 0; p < pseudoLayers; p++) {
            for (int id = 0; id < matrixOffsets[p].length && id < other.matrixOffsets[p].length; id++) {
                if (matrixOffsets[p][id] != other.matrixOffsets[p][id]) {
                    s.append("matrix (").append(p).append(", ").append(id).append(") at ").append(matrixOffsets[p][id])
                            .append(" vs ").append(other.matrixOffsets[p][id]).append("; ");
                }
                if (biasOffsets[p][id] != other.biasOffsets[p][id]) {
                    s.append("bias (").append(p).append(", ").append(id).append(") at ").append(biasOffsets[p][id])
                            .append(" vs ").append(other.biasOffsets[p][id]).append("; ");
                }
            }
        }
        return s.toString();
    }

    private void checkPseudoLayer(int pseudoLayer) {
        if (pseudoLayer < 0 || pseudoLayer >= pseudoLayers()) {
            throw new IllegalArgumentException("cuDNN pseudo-layer: expected 0 to " + (pseudoLayers() - 1) + ", got "
                    + pseudoLayer);
        }
    }

    private int checkId(int linLayerId) {
        int ids = 2 * type.gateCount();
        if (linLayerId < 0 || linLayerId >= ids) {
            throw new IllegalArgumentException("cuDNN linLayerID: expected 0 to " + (ids - 1) + ", got " + linLayerId);
        }
        return linLayerId;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CudnnRnnLayout l && l.type == type && l.inputSize == inputSize
                && l.hiddenSize == hiddenSize && l.layers == layers && l.directions == directions
                && l.elementBytes == elementBytes && l.sizeElements == sizeElements
                && Arrays.deepEquals(l.matrixOffsets, matrixOffsets) && Arrays.deepEquals(l.biasOffsets, biasOffsets);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, inputSize, hiddenSize, layers, directions, elementBytes, sizeElements)
                + 31 * Arrays.deepHashCode(matrixOffsets);
    }

    @Override
    public String toString() {
        return "CudnnRnnLayout[" + type + ", C=" + inputSize + ", H=" + hiddenSize + ", L=" + layers + ", directions="
                + directions + ", " + sizeElements + " elements of " + elementBytes + " bytes]";
    }
}
