package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CudnnRnnWeightsTest {

    @Test
    void linLayerIdsPerCell() {
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, CudnnRnnWeights.linLayerIds(CellType.LSTM));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, CudnnRnnWeights.linLayerIds(CellType.GRU));
        assertArrayEquals(new int[] {0, 1}, CudnnRnnWeights.linLayerIds(CellType.SIMPLE_RNN));
        assertArrayEquals(new int[] {5, 3}, CudnnRnnWeights.matrixShape(CellType.GRU, 3, 5, 2));
        assertArrayEquals(new int[] {5, 5}, CudnnRnnWeights.matrixShape(CellType.GRU, 3, 5, 3));
    }

    @Test
    void gruIdsAreRzhWithSplitBiases() {
        // Keras z=1, r=2, h=3 (C = H = 1); b_x = 7, 8, 9; b_h = 10, 11, 12.
        KerasRnnWeights keras = KerasRnnWeights.of(CellType.GRU, true, 1, 1, new float[] {1, 2, 3},
                new float[] {4, 5, 6}, new float[] {7, 8, 9, 10, 11, 12});

        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(keras);

        assertArrayEquals(new float[][] {{2}, {1}, {3}, {5}, {4}, {6}}, cudnn.matrices());
        assertArrayEquals(new float[][] {{8}, {7}, {9}, {11}, {10}, {12}}, cudnn.biases());
        assertEquals(keras, cudnn.toKeras());
    }

    @Test
    void lstmMatricesAreTransposedGateBlocks() {
        // C = 2, H = 1: Keras kernel [2, 4] rows (x0: i f c o), (x1: i f c o).
        KerasRnnWeights keras = KerasRnnWeights.of(CellType.LSTM, false, 2, 1, new float[] {1, 2, 3, 4, 5, 6, 7, 8},
                new float[] {9, 10, 11, 12}, new float[] {0.1f, 0.2f, 0.3f, 0.4f});

        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(keras);

        // ID g is W_g = K_gᵀ [H=1, C=2].
        assertArrayEquals(new float[] {1, 5}, cudnn.matrix(0));
        assertArrayEquals(new float[] {2, 6}, cudnn.matrix(1));
        assertArrayEquals(new float[] {3, 7}, cudnn.matrix(2));
        assertArrayEquals(new float[] {4, 8}, cudnn.matrix(3));
        assertArrayEquals(new float[] {12}, cudnn.matrix(7));
        // b_W = b, b_R = 0.
        assertArrayEquals(new float[] {0.3f}, cudnn.bias(2));
        assertArrayEquals(new float[] {0f}, cudnn.bias(6));
    }

    @Test
    void recurrentBiasesAreSummedForLstm() {
        CudnnRnnWeights cudnn = CudnnRnnWeights.of(CellType.LSTM, 1, 1,
                new float[][] {{0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}},
                new float[][] {{1}, {2}, {3}, {4}, {10}, {20}, {30}, {40}});
        assertArrayEquals(new float[] {11, 22, 33, 44}, cudnn.toKeras().bias());
    }

    @Test
    void kerasWithoutBiasGetsZeroBiases() {
        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(Variant.GRU_RESET_AFTER_NO_BIAS.random(new Random(1), 3, 5));
        for (float[] bias : cudnn.biases()) {
            assertArrayEquals(new float[5], bias);
        }
    }

    @Test
    void canonicalOffsetsPutAllMatricesThenAllBiases() {
        long[][] offsets = CudnnRnnWeights.canonicalOffsets(CellType.LSTM, 3, 5);
        // IDs 0–3: [5, 3] = 15 floats; IDs 4–7: [5, 5] = 25 floats; then eight biases of 5.
        assertArrayEquals(new long[] {0, 15, 30, 45, 60, 85, 110, 135}, offsets[0]);
        assertArrayEquals(new long[] {160, 165, 170, 175, 180, 185, 190, 195}, offsets[1]);
        assertEquals(200, CudnnRnnWeights.canonicalSize(CellType.LSTM, 3, 5));
        // GRU C = 2, H = 3: three [3, 2] input matrices, three [3, 3] recurrent matrices, six biases of 3.
        assertEquals(3 * 6 + 3 * 9 + 6 * 3, CudnnRnnWeights.canonicalSize(CellType.GRU, 2, 3));
    }

    @Test
    void packCanonicalWritesEachEntryAtItsOffset() {
        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(Variant.GRU_RESET_AFTER.random(new Random(2), 2, 3));
        float[] packed = cudnn.packCanonical();
        long[][] offsets = CudnnRnnWeights.canonicalOffsets(CellType.GRU, 2, 3);
        assertEquals(CudnnRnnWeights.canonicalSize(CellType.GRU, 2, 3), packed.length);
        for (int id : CudnnRnnWeights.linLayerIds(CellType.GRU)) {
            float[] matrix = cudnn.matrix(id);
            assertArrayEquals(matrix, Arrays.copyOfRange(packed, (int) offsets[0][id],
                    (int) offsets[0][id] + matrix.length));
            assertArrayEquals(cudnn.bias(id), Arrays.copyOfRange(packed, (int) offsets[1][id],
                    (int) offsets[1][id] + 3));
        }
        assertEquals(cudnn, CudnnRnnWeights.unpackFrom(CellType.GRU, 2, 3, packed, offsets[0], offsets[1]));
    }

    @Test
    void packIntoHonoursArbitraryOffsetsAndLeavesGapsAlone() {
        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(Variant.SIMPLE_RNN.random(new Random(3), 2, 2));
        // ID 1 matrix first, then ID 0 bias, a gap, ID 0 matrix, ID 1 bias.
        long[] matrixOffsets = {9, 0};
        long[] biasOffsets = {4, 13};
        float[] weightSpace = new float[16];
        Arrays.fill(weightSpace, -99f);
        cudnn.packInto(weightSpace, matrixOffsets, biasOffsets);
        assertArrayEquals(cudnn.matrix(1), Arrays.copyOfRange(weightSpace, 0, 4));
        assertArrayEquals(cudnn.bias(0), Arrays.copyOfRange(weightSpace, 4, 6));
        assertArrayEquals(new float[] {-99f, -99f, -99f}, Arrays.copyOfRange(weightSpace, 6, 9));
        assertArrayEquals(cudnn.matrix(0), Arrays.copyOfRange(weightSpace, 9, 13));
        assertArrayEquals(cudnn.bias(1), Arrays.copyOfRange(weightSpace, 13, 15));
        assertEquals(-99f, weightSpace[15]);
        assertEquals(cudnn, CudnnRnnWeights.unpackFrom(CellType.SIMPLE_RNN, 2, 2, weightSpace, matrixOffsets,
                biasOffsets));
    }

    @Test
    void badOffsetsAreRejected() {
        CudnnRnnWeights cudnn = CudnnRnnWeights.fromKeras(Variant.LSTM.random(new Random(4), 3, 5));
        long[][] offsets = CudnnRnnWeights.canonicalOffsets(CellType.LSTM, 3, 5);
        assertIllegalArgument(() -> cudnn.packInto(new float[200], new long[7], offsets[1]),
                "matrixOffsets", "expected 8", "got 7");
        assertIllegalArgument(() -> cudnn.packInto(new float[199], offsets[0], offsets[1]),
                "bias of linLayerID 7", "from 0 to 194", "got 195");
        long[] negative = offsets[0].clone();
        negative[2] = -1;
        assertIllegalArgument(() -> cudnn.packInto(new float[200], negative, offsets[1]),
                "matrix of linLayerID 2", "got -1");
    }

    @Test
    void resetBeforeGruAndBadShapesAreRejected() {
        KerasRnnWeights before = Variant.GRU_RESET_BEFORE.random(new Random(5), 3, 5);
        assertIllegalArgument(() -> CudnnRnnWeights.fromKeras(before), "cuDNN", "reset-after GRU only",
                "expected reset_after=True", "got reset_after=False");
        assertIllegalArgument(() -> CudnnRnnWeights.of(CellType.GRU, 3, 5, new float[5][], new float[6][]),
                "cuDNN CUDNN_GRU matrices", "expected 6", "got 5");
        float[][] matrices = new float[2][];
        matrices[0] = new float[15];
        matrices[1] = new float[15];
        assertIllegalArgument(() -> CudnnRnnWeights.of(CellType.SIMPLE_RNN, 3, 5, matrices,
                new float[][] {new float[5], new float[5]}), "matrix of linLayerID 1", "[H, H]", "25", "got 15");
        assertIllegalArgument(() -> cudnnMatrixOfMissingId(), "linLayerID", "0 to 7", "got 8");
    }

    private static void cudnnMatrixOfMissingId() {
        CudnnRnnWeights.fromKeras(Variant.LSTM.random(new Random(6), 1, 1)).matrix(8);
    }
}
