package io.jrnn.io;

import static io.jrnn.io.KerasSharedModelsTest.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jrnn.Sequential;
import io.jrnn.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.io.TempDir;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.Embedding;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * r08 (Keras 3.12: Embedding(mask_zero) → 2 × Bidirectional(LSTM, return_sequences) → Dense softmax)
 * on token batches with padding, against a double-precision loop over the raw HDF5 arrays that
 * implements Keras's masking: states carried over masked steps, and — Keras 3 Bidirectional forces
 * {@code zero_output_for_mask} on both halves — zeros at masked positions of both returned halves.
 */
class KerasMaskedRealFileTest {
    @TempDir
    Path tmp;

    static final String R08 = "r08_k312_emb_maskzero_stacked_bilstm.h5";
    static final int STEPS = 50;

    /** Right-padded rows (lengths 50, 23, 1), a row with zeros inside (a non-prefix mask) and an all-padding row. */
    static int[][] tokens() {
        int[] lengths = {50, 23, 1};
        int[][] ids = new int[5][STEPS];
        for (int s = 0; s < lengths.length; s++) {
            for (int t = 0; t < lengths[s]; t++) {
                ids[s][t] = 1 + (s * 31 + t * 7) % 97;
            }
        }
        for (int t = 0; t < 40; t++) {
            ids[3][t] = t % 5 == 2 ? 0 : 1 + (t * 13) % 97;
        }
        return ids;
    }

    private static float[] raw(HdfFile h, String path) {
        return (float[]) h.getDatasetByPath(path).getDataFlat();
    }

    /** The expected [N, T, 7] probabilities, in double precision. */
    static double[] expected(Path file, int[][] ids) {
        int n = ids.length;
        boolean[][] valid = new boolean[n][STEPS];
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < STEPS; t++) {
                valid[s][t] = ids[s][t] != 0;
            }
        }
        double[] out = new double[n * STEPS * 7];
        try (HdfFile h = new HdfFile(file)) {
            float[] emb = raw(h, "model_weights/embedding/sequential/embedding/embeddings");
            double[][][] x = new double[n][STEPS][128];
            for (int s = 0; s < n; s++) {
                for (int t = 0; t < STEPS; t++) {
                    for (int i = 0; i < 128; i++) {
                        x[s][t][i] = emb[ids[s][t] * 128 + i];
                    }
                }
            }
            String[] groups = {"bidirectional", "bidirectional_1"};
            String[] suffix = {"", "_1"};
            int[] units = {64, 32};
            for (int l = 0; l < 2; l++) {
                String p = "model_weights/" + groups[l] + "/sequential/" + groups[l] + "/";
                String f = p + "forward_lstm" + suffix[l] + "/lstm_cell/";
                String b = p + "backward_lstm" + suffix[l] + "/lstm_cell/";
                double[][][] fwd = HandRnn.maskedLstm(x, valid, raw(h, f + "kernel"), raw(h, f + "recurrent_kernel"),
                        raw(h, f + "bias"), units[l], false, true, HandRnn.SIGMOID);
                double[][][] bwd = HandRnn.maskedLstm(x, valid, raw(h, b + "kernel"), raw(h, b + "recurrent_kernel"),
                        raw(h, b + "bias"), units[l], true, true, HandRnn.SIGMOID);
                x = HandRnn.concatBidirectional(fwd, bwd);
            }
            float[] dk = raw(h, "model_weights/dense/sequential/dense/kernel");
            float[] db = raw(h, "model_weights/dense/sequential/dense/bias");
            for (int s = 0; s < n; s++) {
                for (int t = 0; t < STEPS; t++) {
                    double[] p = HandRnn.softmax(HandRnn.dense(x[s][t], dk, db, v -> v));
                    System.arraycopy(p, 0, out, (s * STEPS + t) * 7, 7);
                }
            }
        }
        return out;
    }

    static float[] flat(int[][] ids) {
        float[] v = new float[ids.length * STEPS];
        for (int s = 0; s < ids.length; s++) {
            for (int t = 0; t < STEPS; t++) {
                v[s * STEPS + t] = ids[s][t];
            }
        }
        return v;
    }

    @Test
    void r08PaddedTokenBatchesMatchKerasMaskingOnEveryBackend() {
        Path file = model(R08);
        int[][] ids = tokens();
        double[] expected = expected(file, ids);
        // The all-padding row is 0 in both halves everywhere: every position is softmax(bias).
        try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(flat(ids), ids.length, STEPS)) {
            assertTrue(assertInstanceOf(Embedding.class, m.layers().get(0)).maskZero());
            Bidirectional second = assertInstanceOf(Bidirectional.class, m.layers().get(2));
            assertTrue(second.zeroOutputForMask());
            for (Backend backend : TestBackends.all()) {
                m.useBackend(backend);
                float[] got;
                try (Tensor y = m.forward(in)) {
                    got = y.toArray();
                }
                assertEquals(expected.length, got.length);
                for (int i = 0; i < expected.length; i++) {
                    int s = i / (STEPS * 7);
                    int t = i / 7 % STEPS;
                    assertEquals(expected[i], got[i], 2e-5, backend.name() + ": sample " + s + ", step " + t + ", class " + i % 7);
                }
                // Padded positions of sample 1 (length 23) all hold softmax(bias), like the all-padding row.
                for (int j = 0; j < 7; j++) {
                    assertEquals(got[(4 * STEPS) * 7 + j], got[(1 * STEPS + 30) * 7 + j], 1e-6f);
                }
            }
        }
    }

    @Test
    void predictCliRunsPaddedTokenBatchesThroughR08() {
        Path file = model(R08);
        int[][] ids = tokens();
        double[] expected = expected(file, ids);
        Path x = tmp.resolve("tokens.npy");
        try (Tensor t = Tensor.of(flat(ids), ids.length, STEPS)) {
            t.writeNpy(x);
        }
        for (String backend : java.util.List.of("reference", "cpu")) {
            // --batch-size 2 slices the padded batch; every slice carries its own rows of the mask.
            Path y = tmp.resolve("probs-" + backend + ".npy");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new String[] {"predict", "--model", file.toString(), "--input", x.toString(), "--output",
                y.toString(), "--backend", backend, "--batch-size", "2"}, new PrintWriter(out, true), new PrintWriter(err, true));
            assertEquals(0, code, err.toString());
            assertTrue(out.toString().contains("[5, 50, 7]"), out.toString());
            try (Tensor got = Npy.read(y)) {
                float[] v = got.toArray();
                assertEquals(expected.length, v.length);
                for (int i = 0; i < v.length; i++) {
                    assertEquals(expected[i], v[i], 2e-5, backend + " [" + i + "]");
                }
            }
        }
    }
}
