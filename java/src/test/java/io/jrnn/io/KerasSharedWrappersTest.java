package io.jrnn.io;

import static io.jrnn.io.KerasSharedModelsTest.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.CuDNNLSTM;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.TimeDistributed;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Real Keras files with wrappers ({@code shared/models}; skipped when absent): each is loaded, run on
 * every backend, and compared with {@link HandRnn} loops over the raw HDF5 arrays.
 */
class KerasSharedWrappersTest {
    private static float[] raw(HdfFile h, String path) {
        return (float[]) h.getDatasetByPath(path).getDataFlat();
    }

    private static double[][][] randomSequences(int n, int steps, int features, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][][] x = new double[n][steps][features];
        for (double[][] s : x) {
            for (double[] row : s) {
                for (int i = 0; i < features; i++) {
                    row[i] = (float) (rng.nextDouble() * 2 - 1);
                }
            }
        }
        return x;
    }

    private static Tensor tensor(double[][][] x) {
        int n = x.length;
        int steps = x[0].length;
        int f = x[0][0].length;
        float[] v = new float[n * steps * f];
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < steps; t++) {
                for (int i = 0; i < f; i++) {
                    v[(s * steps + t) * f + i] = (float) x[s][t][i];
                }
            }
        }
        return Tensor.of(v, n, steps, f);
    }

    private static void assertClose(double[] expected, float[] got, double tolerance, String what) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tolerance, what + " [" + i + "]");
        }
    }

    private static float[] run(Sequential m, Backend backend, Tensor x) {
        m.useBackend(backend);
        try (Tensor y = m.forward(x)) {
            return y.toArray();
        }
    }

    @Test
    void r01Keras204GruWithTimeDistributedDense() {
        Path file = model("r01_k204_gru_timedist.h5");
        double[][][] x = randomSequences(2, 21, 1, 11);
        double[] expected;
        try (HdfFile h = new HdfFile(file)) {
            double[][][] seq = HandRnn.gruResetBefore(x, raw(h, "model_weights/gru_2/gru_2/kernel:0"),
                    raw(h, "model_weights/gru_2/gru_2/recurrent_kernel:0"), raw(h, "model_weights/gru_2/gru_2/bias:0"), 64,
                    false, HandRnn.HARD_SIGMOID_KERAS2);
            float[] dk = raw(h, "model_weights/time_distributed_2/time_distributed_2/kernel:0");
            float[] db = raw(h, "model_weights/time_distributed_2/time_distributed_2/bias:0");
            expected = new double[2 * 21 * 344];
            for (int s = 0; s < 2; s++) {
                for (int t = 0; t < 21; t++) {
                    double[] p = HandRnn.softmax(HandRnn.dense(seq[s][t], dk, db, v -> v));
                    System.arraycopy(p, 0, expected, (s * 21 + t) * 344, 344);
                }
            }
        }
        try (Sequential m = KerasModels.load(file); Tensor in = tensor(x)) {
            GRU gru = assertInstanceOf(GRU.class, m.layers().get(0));
            assertFalse(gru.resetAfter(), "Keras 2.0.4 has no reset_after key: reset-before");
            assertEquals(Activation.HARD_SIGMOID_KERAS2, gru.recurrentActivation());
            TimeDistributed td = assertInstanceOf(TimeDistributed.class, m.layers().get(1));
            Dense dense = assertInstanceOf(Dense.class, td.layer());
            assertEquals(344, dense.units());
            assertEquals(Activation.SOFTMAX, dense.activation());
            assertArrayEquals(new int[] {21, 344}, m.outputShape());
            for (Backend backend : TestBackends.all()) {
                assertClose(expected, run(m, backend, in), 2e-6, "r01 on " + backend.name());
            }
        }
    }

    @Test
    void r04EmbeddingBidirectionalGru() {
        Path file = model("r04_k224_emb_bigru.h5");
        int[][] ids = {{5, 17, 4000, 3, 99, 1}, {4999, 2, 2, 250, 7, 12}};
        String w = "model_weights/bidirectional_4/bidirectional_4/";
        double[] expected = new double[ids.length];
        try (HdfFile h = new HdfFile(file)) {
            float[] emb = raw(h, "model_weights/embedding_9/embedding_9/embeddings:0");
            double[][][] x = new double[ids.length][ids[0].length][16];
            for (int s = 0; s < ids.length; s++) {
                for (int t = 0; t < ids[0].length; t++) {
                    for (int i = 0; i < 16; i++) {
                        x[s][t][i] = emb[ids[s][t] * 16 + i];
                    }
                }
            }
            double[][][] fwd = HandRnn.gruResetBefore(x, raw(h, w + "forward_gru_4/kernel:0"),
                    raw(h, w + "forward_gru_4/recurrent_kernel:0"), raw(h, w + "forward_gru_4/bias:0"), 16, false,
                    HandRnn.HARD_SIGMOID_KERAS2);
            double[][][] bwd = HandRnn.gruResetBefore(x, raw(h, w + "backward_gru_4/kernel:0"),
                    raw(h, w + "backward_gru_4/recurrent_kernel:0"), raw(h, w + "backward_gru_4/bias:0"), 16, true,
                    HandRnn.HARD_SIGMOID_KERAS2);
            double[][] last = HandRnn.concatLast(fwd, bwd);
            for (int s = 0; s < ids.length; s++) {
                expected[s] = HandRnn.dense(last[s], raw(h, "model_weights/dense_8/dense_8/kernel:0"),
                        raw(h, "model_weights/dense_8/dense_8/bias:0"), HandRnn.SIGMOID)[0];
            }
        }
        float[] tokens = new float[ids.length * ids[0].length];
        for (int s = 0; s < ids.length; s++) {
            for (int t = 0; t < ids[0].length; t++) {
                tokens[s * ids[0].length + t] = ids[s][t];
            }
        }
        try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(tokens, ids.length, ids[0].length)) {
            assertInstanceOf(Embedding.class, m.layers().get(0));
            Bidirectional bi = assertInstanceOf(Bidirectional.class, m.layers().get(1));
            assertEquals(Bidirectional.MergeMode.CONCAT, bi.mergeMode());
            assertTrue(bi.zeroOutputForMask(), "2.2.4-tf is tf.keras");
            assertInstanceOf(GRU.class, bi.backwardLayer());
            assertTrue(bi.backwardLayer().goBackwards());
            for (Backend backend : TestBackends.all()) {
                assertClose(expected, run(m, backend, in), 2e-6, "r04 on " + backend.name());
            }
        }
    }

    @Test
    void r06StackedBidirectionalLstm() {
        Path file = model("r06_k210_stacked_bilstm.h5");
        double[][][] x = randomSequences(2, 10, 300, 13);
        String a = "model_weights/bidirectional_4/bidirectional_4/";
        String b = "model_weights/bidirectional_5/bidirectional_5/";
        double[] expected = new double[2 * 5];
        try (HdfFile h = new HdfFile(file)) {
            double[][][] f1 = HandRnn.lstm(x, raw(h, a + "forward_lstm_4/lstm_cell_25/kernel:0"),
                    raw(h, a + "forward_lstm_4/lstm_cell_25/recurrent_kernel:0"), raw(h, a + "forward_lstm_4/lstm_cell_25/bias:0"),
                    64, false, HandRnn.SIGMOID);
            double[][][] b1 = HandRnn.lstm(x, raw(h, a + "backward_lstm_4/lstm_cell_26/kernel:0"),
                    raw(h, a + "backward_lstm_4/lstm_cell_26/recurrent_kernel:0"),
                    raw(h, a + "backward_lstm_4/lstm_cell_26/bias:0"), 64, true, HandRnn.SIGMOID);
            double[][][] y1 = HandRnn.concatBidirectional(f1, b1);
            double[][][] f2 = HandRnn.lstm(y1, raw(h, b + "forward_lstm_5/lstm_cell_28/kernel:0"),
                    raw(h, b + "forward_lstm_5/lstm_cell_28/recurrent_kernel:0"), raw(h, b + "forward_lstm_5/lstm_cell_28/bias:0"),
                    64, false, HandRnn.SIGMOID);
            double[][][] b2 = HandRnn.lstm(y1, raw(h, b + "backward_lstm_5/lstm_cell_29/kernel:0"),
                    raw(h, b + "backward_lstm_5/lstm_cell_29/recurrent_kernel:0"),
                    raw(h, b + "backward_lstm_5/lstm_cell_29/bias:0"), 64, true, HandRnn.SIGMOID);
            double[][] y2 = HandRnn.concatLast(f2, b2);
            for (int s = 0; s < 2; s++) {
                double[] d6 = HandRnn.dense(y2[s], raw(h, "model_weights/dense_6/dense_6/kernel:0"),
                        raw(h, "model_weights/dense_6/dense_6/bias:0"), Math::tanh);
                double[] p = HandRnn.softmax(HandRnn.dense(d6, raw(h, "model_weights/dense_7/dense_7/kernel:0"),
                        raw(h, "model_weights/dense_7/dense_7/bias:0"), v -> v));
                System.arraycopy(p, 0, expected, s * 5, 5);
            }
        }
        try (Sequential m = KerasModels.load(file); Tensor in = tensor(x)) {
            assertEquals(6, m.layers().size());
            Bidirectional first = assertInstanceOf(Bidirectional.class, m.layers().get(0));
            assertTrue(first.returnSequences());
            assertInstanceOf(LSTM.class, first.forwardLayer());
            assertEquals(300, first.forwardLayer().weights().inputSize());
            Bidirectional second = assertInstanceOf(Bidirectional.class, m.layers().get(2));
            assertFalse(second.returnSequences());
            assertEquals(128, second.backwardLayer().weights().inputSize());
            assertArrayEquals(new int[] {5}, m.outputShape());
            for (Backend backend : TestBackends.all()) {
                assertClose(expected, run(m, backend, in), 2e-6, "r06 on " + backend.name());
            }
        }
    }

    @Test
    void r13StackedBidirectionalCudnnLstmRunsOnCpu() {
        Path file = model("r13_k27_bi_cudnnlstm_stack.h5");
        double[][][] x = randomSequences(2, 15, 7, 17);
        double[] expected = new double[2];
        try (HdfFile h = new HdfFile(file)) {
            double[][][] y = x;
            String[] groups = {"bidirectional/bidirectional/%s_cu_dnnlstm/", "bidirectional_1/bidirectional_1/%s_cu_dnnlstm_1/",
                "bidirectional_2/bidirectional_2/%s_cu_dnnlstm_2/"};
            int[] units = {50, 100, 50};
            double[][] last = null;
            for (int l = 0; l < 3; l++) {
                double[][][][] halves = new double[2][][][];
                for (int d = 0; d < 2; d++) {
                    String p = "model_weights/" + String.format(groups[l], d == 0 ? "forward" : "backward");
                    float[][] std = HandRnn.fromCudnnLstm(raw(h, p + "kernel:0"), raw(h, p + "recurrent_kernel:0"),
                            raw(h, p + "bias:0"), y[0][0].length, units[l]);
                    halves[d] = HandRnn.lstm(y, std[0], std[1], std[2], units[l], d == 1, HandRnn.SIGMOID);
                }
                if (l < 2) {
                    y = HandRnn.concatBidirectional(halves[0], halves[1]);
                } else {
                    last = HandRnn.concatLast(halves[0], halves[1]);
                }
            }
            for (int s = 0; s < 2; s++) {
                expected[s] = HandRnn.dense(last[s], raw(h, "model_weights/dense_1/dense_1/kernel:0"),
                        raw(h, "model_weights/dense_1/dense_1/bias:0"), v -> v)[0];
            }
        }
        try (Sequential m = KerasModels.load(file); Tensor in = tensor(x)) {
            Bidirectional first = assertInstanceOf(Bidirectional.class, m.layers().get(0));
            CuDNNLSTM cudnn = assertInstanceOf(CuDNNLSTM.class, first.forwardLayer());
            assertEquals(Activation.SIGMOID, cudnn.recurrentActivation());
            assertEquals(50, cudnn.units());
            // Keras's count: 2 × (7·200 + 50·200 + 400).
            assertEquals(23600, first.parameterCount());
            for (Backend backend : TestBackends.all()) {
                float[] got = run(m, backend, in);
                assertClose(expected, got, 1e-5, "r13 on " + backend.name());
                if (!backend.name().equals("reference")) {
                    assertTrue(first.executionPath().contains("oneDNN lstm_forward"), first.executionPath());
                }
            }
        }
    }

    @Test
    void r08Keras3MaskZeroStackedBidirectionalLoadsWithItsBackwardLayers() {
        Path file = model("r08_k312_emb_maskzero_stacked_bilstm.h5");
        try (Sequential m = KerasModels.load(file)) {
            Embedding e = assertInstanceOf(Embedding.class, m.layers().get(0));
            assertTrue(e.maskZero());
            Bidirectional bi = assertInstanceOf(Bidirectional.class, m.layers().get(1));
            assertEquals("forward_lstm", bi.forwardLayer().name());
            assertEquals("backward_lstm", bi.backwardLayer().name());
            assertTrue(bi.backwardLayer().goBackwards());
            assertTrue(bi.zeroOutputForMask());
            assertArrayEquals(new int[] {50, 7}, m.outputShape());
            // Without padding ids the mask is all-valid: the model runs today; padded batches need masks.
            float[] tokens = new float[2 * 50];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = 1 + (i * 7) % 97;
            }
            try (Tensor in = Tensor.of(tokens, 2, 50)) {
                float[] y = run(m, TestBackends.all().get(0), in);
                assertEquals(2 * 50 * 7, y.length);
                double rowSum = 0;
                for (int j = 0; j < 7; j++) {
                    rowSum += y[j];
                }
                assertEquals(1.0, rowSum, 1e-5, "softmax row");
            }
        }
    }
}
