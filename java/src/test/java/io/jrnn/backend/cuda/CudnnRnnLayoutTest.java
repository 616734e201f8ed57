package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.weights.CellType;
import io.jrnn.weights.CudnnRnnWeights;
import io.jrnn.weights.KerasRnnWeights;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The weight-space layout against cuDNN's documentation and PyTorch's use of it.
 *
 * <p>cuDNN API reference, {@code cudnnGetRNNWeightParams} (cudnn_adv library): {@code linLayerID}
 * 0–3 of {@code CUDNN_LSTM} are the input matrices of gates i, f, c̃ (g), o and 4–7 their recurrent
 * matrices; {@code CUDNN_GRU} 0–2 input r, z, h̃ and 3–5 recurrent; {@code CUDNN_RNN_TANH/RELU} 0
 * input, 1 recurrent; matrices {@code [hiddenSize, inputSize]} (or {@code [hiddenSize, hiddenSize]})
 * row-major, one bias {@code [hiddenSize]} per ID with {@code CUDNN_RNN_DOUBLE_BIAS}. PyTorch
 * {@code aten/src/ATen/native/cudnn/RNN.cpp} ({@code get_parameters}) walks, per pseudo-layer, the
 * matrices of all IDs and then the biases of all IDs, asserting that the input IDs, the recurrent
 * IDs and the biases are each contiguous, and documents the order "(reset, forget, cell, output)
 * for LSTM, (reset, input, new) for GRU". The executor re-checks every offset against
 * {@code cudnnGetRNNWeightParams} on the GPU.
 */
class CudnnRnnLayoutTest {

    @Test
    void lstmLayoutIsAllMatricesThenAllBiasesPerPseudoLayer() {
        int c = 5;
        int h = 3;
        CudnnRnnLayout layout = CudnnRnnLayout.canonical(CellType.LSTM, c, h, 1, 1, 4);
        for (int id = 0; id < 4; id++) {
            assertEquals((long) id * h * c, layout.matrixOffset(0, id), "input matrix " + id);
            assertEquals(4L * h * c + (long) id * h * h, layout.matrixOffset(0, 4 + id), "recurrent matrix " + id);
            assertArrayEquals(new int[] {h, c}, layout.matrixShape(0, id));
            assertArrayEquals(new int[] {h, h}, layout.matrixShape(0, 4 + id));
        }
        long biasesAt = 4L * h * (c + h);
        for (int id = 0; id < 8; id++) {
            assertEquals(biasesAt + (long) id * h, layout.biasOffset(0, id), "bias " + id);
        }
        assertEquals(biasesAt + 8L * h, layout.sizeElements());
        assertEquals(4 * layout.sizeElements(), layout.sizeBytes());
        assertEquals(2 * layout.sizeElements(),
                CudnnRnnLayout.canonical(CellType.LSTM, c, h, 1, 1, 2).sizeBytes(), "fp16: same elements, 2 bytes");
    }

    @Test
    void gruAndVanillaSizes() {
        int c = 7;
        int h = 4;
        CudnnRnnLayout gru = CudnnRnnLayout.canonical(CellType.GRU, c, h, 1, 1, 4);
        assertEquals(3L * h * c, gru.matrixOffset(0, 3));
        assertEquals(3L * h * (c + h), gru.biasOffset(0, 0));
        assertEquals(3L * h * (c + h) + 6L * h, gru.sizeElements());
        CudnnRnnLayout rnn = CudnnRnnLayout.canonical(CellType.SIMPLE_RNN, c, h, 1, 1, 4);
        assertEquals(0, rnn.matrixOffset(0, 0));
        assertEquals((long) h * c, rnn.matrixOffset(0, 1));
        assertEquals((long) h * (c + h), rnn.biasOffset(0, 0));
        assertEquals((long) h * (c + h) + h, rnn.biasOffset(0, 1));
        assertEquals((long) h * (c + h) + 2L * h, rnn.sizeElements());
    }

    @Test
    void stackedAndBidirectionalPseudoLayers() {
        int c = 6;
        int h = 5;
        CudnnRnnLayout bi = CudnnRnnLayout.canonical(CellType.LSTM, c, h, 2, 2, 4);
        assertEquals(4, bi.pseudoLayers());
        assertEquals(c, bi.inputSizeOf(0));
        assertEquals(c, bi.inputSizeOf(1)); // layer 0 backward
        assertEquals(2 * h, bi.inputSizeOf(2)); // layer 1 sees both directions
        long layer0 = 4L * h * (c + h) + 8L * h;
        long layer1 = 4L * h * (2 * h + h) + 8L * h;
        assertEquals(layer0, bi.matrixOffset(1, 0));
        assertEquals(2 * layer0, bi.matrixOffset(2, 0));
        assertEquals(2 * layer0 + layer1, bi.matrixOffset(3, 0));
        assertEquals(2 * layer0 + 2 * layer1, bi.sizeElements());
        assertArrayEquals(new int[] {h, 2 * h}, bi.matrixShape(3, 2));
        CudnnRnnLayout stack = CudnnRnnLayout.canonical(CellType.GRU, c, h, 3, 1, 4);
        assertEquals(h, stack.inputSizeOf(1));
        assertEquals(3L * h * (c + h) + 6L * h, stack.matrixOffset(1, 0));
    }

    @Test
    void reportedLayoutsCompareAndExplainDifferences() {
        CudnnRnnLayout documented = CudnnRnnLayout.canonical(CellType.SIMPLE_RNN, 3, 2, 1, 1, 4);
        long[][] m = {{0, 6}};
        long[][] b = {{10, 12}};
        CudnnRnnLayout same = CudnnRnnLayout.reported(CellType.SIMPLE_RNN, 3, 2, 1, 1, 4, m, b, 14);
        assertEquals(documented, same);
        assertEquals("", documented.differences(same));
        CudnnRnnLayout padded = CudnnRnnLayout.reported(CellType.SIMPLE_RNN, 3, 2, 1, 1, 4, new long[][] {{0, 8}},
                new long[][] {{16, 20}}, 24);
        assertNotEquals(documented, padded);
        String diff = documented.differences(padded);
        assertTrue(diff.contains("weight space 14 vs 24 elements") && diff.contains("matrix (0, 1) at 6 vs 8")
                && diff.contains("bias (0, 0) at 10 vs 16"), diff);
        assertThrows(IllegalArgumentException.class, () -> CudnnRnnLayout.reported(CellType.SIMPLE_RNN, 3, 2, 1, 1, 4,
                new long[][] {{0}}, new long[][] {{10, 12}}, 14));
        assertThrows(IllegalArgumentException.class, () -> CudnnRnnLayout.canonical(CellType.LSTM, 3, 2, 1, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> documented.matrixOffset(0, 2));
        assertThrows(IllegalArgumentException.class, () -> documented.biasOffset(1, 0));
    }

    /** Keras kernel {@code [rows, G·H]} element (row, gate block g, unit j). */
    private static float keras(float[] kernel, int gateCount, int h, int row, int gate, int unit) {
        return kernel[row * gateCount * h + gate * h + unit];
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    /**
     * The expected flat space of one pseudo-layer, written from the documentation: matrix of cuDNN
     * gate g is {@code W[j][k] = kernel[k][kerasGate(g)·H + j]}, then the biases.
     */
    private static float[] expected(CellType type, int c, int h, float[] kernel, float[] recurrent, float[] inputBias,
            float[] recurrentBias, int[] kerasGateOfCudnnGate) {
        int g = type.gateCount();
        float[] out = new float[g * h * (c + h) + 2 * g * h];
        int at = 0;
        for (int gate = 0; gate < g; gate++) {
            for (int j = 0; j < h; j++) {
                for (int k = 0; k < c; k++) {
                    out[at++] = keras(kernel, g, h, k, kerasGateOfCudnnGate[gate], j);
                }
            }
        }
        for (int gate = 0; gate < g; gate++) {
            for (int j = 0; j < h; j++) {
                for (int k = 0; k < h; k++) {
                    out[at++] = keras(recurrent, g, h, k, kerasGateOfCudnnGate[gate], j);
                }
            }
        }
        for (float[] bias : new float[][] {inputBias, recurrentBias}) {
            for (int gate = 0; gate < g; gate++) {
                for (int j = 0; j < h; j++) {
                    out[at++] = bias == null ? 0f : bias[kerasGateOfCudnnGate[gate] * h + j];
                }
            }
        }
        return out;
    }

    @Test
    void packsLstmGruAndSimpleRnnFromKeras() {
        SplittableRandom rng = new SplittableRandom(5);
        int c = 3;
        int h = 2;
        // LSTM: Keras i, f, c, o is cuDNN's order; the single bias is the input bias, the recurrent bias is zero.
        float[] lk = random(rng, c * 8);
        float[] lr = random(rng, h * 8);
        float[] lb = random(rng, 8);
        float[] lstm = CudnnRnnLayout.canonical(CellType.LSTM, c, h, 1, 1, 4).pack(List.of(
                CudnnRnnWeights.fromKeras(KerasRnnWeights.of(CellType.LSTM, false, c, h, lk, lr, lb))));
        assertArrayEquals(expected(CellType.LSTM, c, h, lk, lr, lb, null, new int[] {0, 1, 2, 3}), lstm);
        // GRU reset_after=True: Keras z, r, h becomes cuDNN r, z, h; bias row 0 → input biases, row 1 → recurrent.
        float[] gk = random(rng, c * 6);
        float[] gr = random(rng, h * 6);
        float[] gb = random(rng, 12);
        float[] gru = CudnnRnnLayout.canonical(CellType.GRU, c, h, 1, 1, 4).pack(List.of(
                CudnnRnnWeights.fromKeras(KerasRnnWeights.of(CellType.GRU, true, c, h, gk, gr, gb))));
        float[] inputBias = java.util.Arrays.copyOfRange(gb, 0, 6);
        float[] recurrentBias = java.util.Arrays.copyOfRange(gb, 6, 12);
        assertArrayEquals(expected(CellType.GRU, c, h, gk, gr, inputBias, recurrentBias, new int[] {1, 0, 2}), gru);
        // SimpleRNN without bias: zero biases.
        float[] sk = random(rng, c * 2);
        float[] sr = random(rng, h * 2);
        float[] simple = CudnnRnnLayout.canonical(CellType.SIMPLE_RNN, c, h, 1, 1, 4).pack(List.of(
                CudnnRnnWeights.fromKeras(KerasRnnWeights.of(CellType.SIMPLE_RNN, false, c, h, sk, sr, null))));
        assertArrayEquals(expected(CellType.SIMPLE_RNN, c, h, sk, sr, null, null, new int[] {0}), simple);
        // A spot check written out by hand: LSTM input matrix of gate f (id 1), row j=1, column k=2.
        assertEquals(lk[2 * 8 + 1 * h + 1], lstm[1 * h * c + 1 * c + 2]);
    }

    @Test
    void packsAtReportedOffsetsAndRefusesMismatches() {
        CudnnRnnWeights w = CudnnRnnWeights.fromKeras(KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 1, 1,
                new float[] {2f}, new float[] {3f}, new float[] {4f}));
        // A reported layout with gaps: matrices at 1 and 3, biases at 6 and 7, space of 8.
        float[] space = CudnnRnnLayout.reported(CellType.SIMPLE_RNN, 1, 1, 1, 1, 4, new long[][] {{1, 3}},
                new long[][] {{6, 7}}, 8).pack(List.of(w));
        assertArrayEquals(new float[] {0, 2, 0, 3, 0, 0, 4, 0}, space);
        CudnnRnnLayout layout = CudnnRnnLayout.canonical(CellType.SIMPLE_RNN, 2, 1, 1, 1, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.pack(List.of(w)));
        assertTrue(e.getMessage().contains("expected SIMPLE_RNN with C=2, H=1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layout.pack(List.of()));
    }
}
