package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import io.jrnn.Model;
import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasArchive.StoredArray;
import io.jrnn.io.KerasConfig.KerasVersion;
import io.jrnn.io.KerasConfig.ModelSpec;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.weights.KerasRnnWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras 1 files: per-gate weight lists (spec §2.9) against the fused layout, weights-only
 * {@code save_weights()} files with their {@code model.to_json()} architecture, and the real
 * Keras 1 files r11 (GRU stack, per gate, weights-only + json) and r12 (Bidirectional LSTM, per gate).
 */
class Keras1ImportTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    private static final String[] LSTM_STORED = {"i", "c", "f", "o"};
    private static final String[] GRU_STORED = {"z", "r", "h"};

    /** A Keras 1.2 Sequential: LSTM (per gate, consume_less='cpu') → GRU (per gate, 'mem') → Dense. */
    static String keras1Config(boolean withInputShape) {
        return q("{'class_name': 'Sequential', 'keras_version': '1.2.2', 'config': ["
                + "{'class_name': 'LSTM', 'config': {'name': 'lstm_1', 'output_dim': 3, 'init': 'glorot_uniform',"
                + " 'inner_init': 'orthogonal', 'forget_bias_init': 'one', 'activation': 'tanh', 'inner_activation': 'hard_sigmoid',"
                + " 'W_regularizer': null, 'U_regularizer': null, 'b_regularizer': null, 'dropout_W': 0.0, 'dropout_U': 0.0,"
                + " 'consume_less': 'cpu', 'return_sequences': true, 'go_backwards': false, 'stateful': false, 'unroll': false,"
                + " 'trainable': true, 'input_dim': 2, 'input_length': null"
                + (withInputShape ? ", 'batch_input_shape': [null, null, 2], 'input_dtype': 'float32'" : "") + "}},"
                + "{'class_name': 'GRU', 'config': {'name': 'gru_1', 'output_dim': 4, 'activation': 'sigmoid',"
                + " 'inner_activation': 'hard_sigmoid', 'consume_less': 'mem', 'return_sequences': false, 'trainable': true}},"
                + "{'class_name': 'Dense', 'config': {'name': 'dense_1', 'output_dim': 2, 'bias': true, 'activation': 'linear'}}]}");
    }

    /** Per-gate arrays for gate letters in stored order: W [C,H], U [H,H], b [H] each. */
    private static List<Array> perGate(String layer, String[] gates, int c, int h, long seed) {
        List<Array> out = new ArrayList<>();
        for (String g : gates) {
            out.add(random(layer + "_W_" + g + ":0", seed++, c, h));
            out.add(random(layer + "_U_" + g + ":0", seed++, h, h));
            out.add(random(layer + "_b_" + g + ":0", seed++, h));
        }
        return out;
    }

    static Map<String, List<Array>> keras1Weights() {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("lstm_1", perGate("lstm_1", LSTM_STORED, 2, 3, 10));
        w.put("gru_1", perGate("gru_1", GRU_STORED, 3, 4, 30));
        w.put("dense_1", List.of(random("dense_1_W:0", 50, 4, 2), random("dense_1_b:0", 51, 2)));
        return w;
    }

    /** Concatenates per-gate matrices [rows, H] along the last axis in {@code order} (indices into the stored gates). */
    private static float[] fuse(List<Array> perGate, int role, int rows, int h, int... order) {
        int width = order.length * h;
        float[] out = new float[rows * width];
        for (int k = 0; k < order.length; k++) {
            float[] v = perGate.get(3 * order[k] + role).values();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(v, r * h, out, r * width + k * h, h);
            }
        }
        return out;
    }

    @Test
    void perGateLstmAndGruEqualTheFusedKeras2Layout() {
        Map<String, List<Array>> w = keras1Weights();
        Path perGateFile = KerasFixtures.writeH5(tmp.resolve("pergate.h5"), keras1Config(true), "1.2.2", w);
        // The same model with consume_less='gpu'-style fused arrays, concatenated by hand: LSTM i, f, c, o
        // (stored i, c, f, o → 0, 2, 1, 3), GRU z, r, h.
        List<Array> lstm = w.get("lstm_1");
        List<Array> gru = w.get("gru_1");
        Map<String, List<Array>> fused = new LinkedHashMap<>();
        fused.put("lstm_1", List.of(KerasFixtures.array("W", fuse(lstm, 0, 2, 3, 0, 2, 1, 3), 2, 12),
                KerasFixtures.array("U", fuse(lstm, 1, 3, 3, 0, 2, 1, 3), 3, 12),
                KerasFixtures.array("b", fuse(lstm, 2, 1, 3, 0, 2, 1, 3), 12)));
        fused.put("gru_1", List.of(KerasFixtures.array("W", fuse(gru, 0, 3, 4, 0, 1, 2), 3, 12),
                KerasFixtures.array("U", fuse(gru, 1, 4, 4, 0, 1, 2), 4, 12),
                KerasFixtures.array("b", fuse(gru, 2, 1, 4, 0, 1, 2), 12)));
        fused.put("dense_1", w.get("dense_1"));
        Path fusedFile = KerasFixtures.writeH5(tmp.resolve("fused.h5"), keras1Config(true).replace("'cpu'", "'gpu'")
                .replace("\"mem\"", "\"gpu\""), "1.2.2", fused);
        try (Sequential a = KerasModels.load(perGateFile); Sequential b = KerasModels.load(fusedFile);
             Tensor x = FunctionalModelTest.randomTensor(4, 2, 5, 2)) {
            LSTM la = assertInstanceOf(LSTM.class, a.layers().get(0));
            GRU ga = assertInstanceOf(GRU.class, a.layers().get(1));
            assertEquals(Activation.HARD_SIGMOID_KERAS2, la.recurrentActivation(), "Keras 1 inner_activation");
            assertEquals(Activation.SIGMOID, ga.activation());
            assertFalse(ga.resetAfter(), "Keras 1 GRU is reset-before");
            assertEquals(((LSTM) b.layers().get(0)).weights(), la.weights());
            assertEquals(((GRU) b.layers().get(1)).weights(), ga.weights());
            // W_f (stored third) is Keras gate 1: kernel columns [H, 2H).
            float[] wf = lstm.get(6).values();
            float[] kernel = la.weights().kernel();
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(wf[r * 3 + j], kernel[r * 12 + 3 + j], 0f);
                }
            }
            a.useBackend(ReferenceBackend.instance());
            b.useBackend(ReferenceBackend.instance());
            try (Tensor ya = a.forward(x); Tensor yb = b.forward(x)) {
                assertArrayEquals(yb.toArray(), ya.toArray(), 0f);
            }
        }
    }

    @Test
    void wrongPerGateShapeNamesLayerArrayExpectedAndActual() {
        Map<String, List<Array>> w = keras1Weights();
        List<Array> lstm = new ArrayList<>(w.get("lstm_1"));
        lstm.set(4, random("lstm_1_U_c:0", 1, 3, 2));
        w.put("lstm_1", lstm);
        Path file = KerasFixtures.writeH5(tmp.resolve("bad.h5"), keras1Config(true), "1.2.2", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "lstm_1", "LSTM", "U_c", "[3, 2]", "[3, 3]");
    }

    /** A Keras 1 {@code save_weights()} file: layer groups at the root, no model_config, no keras_version. */
    static Path writeWeightsOnly(Path file, Map<String, List<Array>> weights) {
        try (WritableHdfFile h = HdfFile.write(file)) {
            h.putAttribute("layer_names", weights.keySet().toArray(new String[0]));
            for (Map.Entry<String, List<Array>> layer : weights.entrySet()) {
                WritableGroup g = h.putGroup(layer.getKey());
                g.putAttribute("weight_names", layer.getValue().stream().map(Array::name).toArray(String[]::new));
                for (Array a : layer.getValue()) {
                    if (a.shape().length == 1) {
                        g.putDataset(a.name(), a.values().clone());
                    } else {
                        float[][] m = new float[a.shape()[0]][a.shape()[1]];
                        for (int r = 0; r < m.length; r++) {
                            System.arraycopy(a.values(), r * m[r].length, m[r], 0, m[r].length);
                        }
                        g.putDataset(a.name(), m);
                    }
                }
            }
        }
        return file;
    }

    @Test
    void weightsOnlyFileTakesTheJsonBesideItOrAnExplicitConfig() throws IOException {
        Map<String, List<Array>> w = keras1Weights();
        Path file = writeWeightsOnly(tmp.resolve("net.h5"), w);
        // Without an architecture: refused, saying where it looked and how to give one.
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "model_config", "weights-only", tmp.resolve("net.json").toString(), "--config");
        assertFalse(KerasModels.inspect(file).loadable());

        Files.writeString(tmp.resolve("net.json"), keras1Config(true), StandardCharsets.UTF_8);
        float[] viaSibling;
        try (Sequential m = KerasModels.load(file); Tensor x = FunctionalModelTest.randomTensor(5, 3, 4, 2)) {
            assertEquals(3, m.layers().size());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, ((LSTM) m.layers().get(0)).recurrentActivation(),
                    "Keras version 1.2.2 taken from the json");
            m.useBackend(ReferenceBackend.instance());
            try (Tensor y = m.forward(x)) {
                viaSibling = y.toArray();
                assertArrayEquals(new int[] {3, 2}, y.shape());
            }
        }
        ModelInfo info = KerasModels.inspect(file);
        assertTrue(info.loadable(), info.describe());
        assertEquals("1.2.2", info.kerasVersion());

        // An explicit config wins, wherever it lives; loadModel reads it too.
        Path elsewhere = Files.createDirectories(tmp.resolve("arch")).resolve("other-name.json");
        Files.writeString(elsewhere, keras1Config(true), StandardCharsets.UTF_8);
        Path copy = Files.copy(file, tmp.resolve("alone.h5"));
        try (Model m = KerasModels.loadModel(copy, LoadOptions.defaults().withConfig(elsewhere));
             Tensor x = FunctionalModelTest.randomTensor(5, 3, 4, 2)) {
            m.useBackend(ReferenceBackend.instance());
            try (Tensor y = m.forward(x)) {
                assertArrayEquals(viaSibling, y.toArray(), 0f);
            }
        }
        Path missing = tmp.resolve("nope.json");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> KerasModels.load(copy, LoadOptions.defaults().withConfig(missing))), copy.toString(), missing.toString());
    }

    // ---------------------------------------------------------------------------------------------
    // Real Keras 1 files

    private static double hardSigmoid2(double x) {
        return Math.max(0, Math.min(1, 0.2 * x + 0.5));
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static float[] raw(HdfFile h, String path) {
        return (float[]) h.getDatasetByPath(path).getDataFlat();
    }

    /** x [C] · W [C,H] + h [H] · U [H,H] + b, for column j. */
    private static double affine(double[] x, float[] w, double[] h, float[] u, float[] b, int units, int j) {
        double acc = b[j];
        for (int c = 0; c < x.length; c++) {
            acc += x[c] * w[c * units + j];
        }
        for (int i = 0; i < units; i++) {
            acc += h[i] * u[i * units + j];
        }
        return acc;
    }

    @Test
    void r11Keras1GruStackLoadsFromItsJsonAndMatchesTheKeras1Equations() throws IOException {
        Path h5 = KerasSharedModelsTest.model("r11_k111_emb_gru_pergate_json.h5");
        String json = Files.readString(h5.resolveSibling("r11_k111_emb_gru_pergate_json.json"));
        String source = h5.toString();
        ModelSpec spec = KerasConfig.parseModel(json, source);
        KerasConfig config = new KerasConfig(source, KerasVersion.parse("1.1.1"), HardSigmoid.KERAS2);
        int[] ids = {3, 17, 0, 42, 63, 5, 9};
        List<Layer> stack = new ArrayList<>();
        try (KerasArchive archive = KerasArchive.open(h5)) {
            int features = -1;
            for (int i = 0; i < 3; i++) {
                Layer l = config.resolve(spec.layers().get(i)).build(-1);
                stack.add(l);
                features = KerasWeights.assign(source, l, archive.weights(spec.layers(), i), features);
            }
        }
        double[][] expected = new double[ids.length][];
        try (HdfFile h = new HdfFile(h5)) {
            float[] emb = raw(h, "embedding_1/embedding_1_W:0");
            float[][] g = new float[9][];
            String[] names = {"W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h"};
            for (int k = 0; k < 9; k++) {
                g[k] = raw(h, "gru_1/gru_1_" + names[k] + ":0");
            }
            int units = 256;
            double[] hs = new double[units];
            for (int t = 0; t < ids.length; t++) {
                double[] x = new double[64];
                for (int c = 0; c < 64; c++) {
                    x[c] = emb[ids[t] * 64 + c];
                }
                double[] z = new double[units];
                double[] r = new double[units];
                for (int j = 0; j < units; j++) {
                    z[j] = hardSigmoid2(affine(x, g[0], hs, g[1], g[2], units, j));
                    r[j] = hardSigmoid2(affine(x, g[3], hs, g[4], g[5], units, j));
                }
                double[] rh = new double[units];
                for (int i = 0; i < units; i++) {
                    rh[i] = r[i] * hs[i];
                }
                double[] next = new double[units];
                for (int j = 0; j < units; j++) {
                    // Keras 1 GRU with activation='sigmoid': hh = sigmoid(x W_h + (r * h) U_h + b_h).
                    double hh = sigmoid(affine(x, g[6], rh, g[7], g[8], units, j));
                    next[j] = z[j] * hs[j] + (1 - z[j]) * hh;
                }
                hs = next;
                expected[t] = hs;
            }
        }
        float[] idValues = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            idValues[i] = ids[i];
        }
        try (Sequential first = new Sequential("r11", null, stack.subList(0, 2)); Tensor x = Tensor.of(idValues, 1, ids.length)) {
            GRU gru = assertInstanceOf(GRU.class, stack.get(1));
            assertEquals(Activation.SIGMOID, gru.activation());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, gru.recurrentActivation());
            assertFalse(gru.resetAfter());
            assertInstanceOf(Embedding.class, stack.get(0));
            first.useBackend(ReferenceBackend.instance());
            try (Tensor y = first.forward(x)) {
                assertArrayEquals(new int[] {1, ids.length, 256}, y.shape());
                float[] v = y.toArray();
                for (int t = 0; t < ids.length; t++) {
                    for (int j = 0; j < 256; j++) {
                        assertEquals(expected[t][j], v[t * 256 + j], 2e-5, "step " + t + " unit " + j); // float32 sums of 320 terms
                    }
                }
            }
            // The second GRU takes the first's sequence and runs.
            stack.get(2).useBackend(ReferenceBackend.instance());
            try (Tensor y1 = first.forward(x); Tensor y2 = stack.get(2).apply(y1)) {
                assertArrayEquals(new int[] {1, ids.length, 256}, y2.shape());
                for (float f : y2.toArray()) {
                    assertTrue(f >= 0 && f <= 1, "sigmoid-activated GRU states stay in [0, 1]: " + f);
                }
            }
        } finally {
            stack.get(2).close();
        }
    }

    @Test
    void r11WholeModelLoadsOrIsRefusedOnlyForTimeDistributed() {
        Path h5 = KerasSharedModelsTest.model("r11_k111_emb_gru_pergate_json.h5");
        Model m;
        try {
            m = KerasModels.loadModel(h5);
        } catch (UnsupportedConfigurationException e) {
            // Until TimeDistributed is imported, nothing else may stop the load.
            assertMentions(e, h5.toString(), "'timedistributed_1'", "TimeDistributed");
            assertTrue(KerasModels.inspect(h5).layers().stream().filter(l -> l.problem() != null)
                    .allMatch(l -> l.name().equals("timedistributed_1")), KerasModels.inspect(h5).describe());
            return;
        }
        try (m; Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            m.useBackend(ReferenceBackend.instance());
            try (Tensor y = m.forward(x)) {
                assertArrayEquals(new int[] {2, 3, 64}, y.shape());
                float[] v = y.toArray();
                double sum = 0;
                for (int j = 0; j < 64; j++) {
                    sum += v[j];
                }
                assertEquals(1.0, sum, 1e-5, "softmax over the 64 symbols");
            }
        }
    }

    @Test
    void r12BidirectionalHalvesConvertPerGateToTheFusedLstmLayout() {
        Path h5 = KerasSharedModelsTest.model("r12_k122_bilstm_pergate.h5");
        List<StoredArray> arrays;
        try (KerasArchive archive = KerasArchive.open(h5)) {
            ModelSpec spec = KerasConfig.parseModel(archive.modelConfig(), archive.source());
            arrays = archive.weights(spec.layers(), 0);
            assertEquals(24, arrays.size());
            int h = 10;
            try (HdfFile file = new HdfFile(h5)) {
                for (int half = 0; half < 2; half++) {
                    String prefix = "model_weights/bidirectional_1/" + (half == 0 ? "forward" : "backward") + "_lstm_1_";
                    List<StoredArray> part = arrays.subList(12 * half, 12 * half + 12);
                    LSTM lstm = LSTM.builder().name("lstm_1").units(h).returnSequences(true)
                            .recurrentActivation(Activation.HARD_SIGMOID_KERAS2).build();
                    KerasRnnWeights w = KerasWeights.recurrentWeights(h5 + ": bidirectional_1 half " + half, lstm, part, 10);
                    // Keras gate order i, f, c, o: block g of kernel/recurrent_kernel/bias is the stored array of that gate.
                    String[] kerasGates = {"i", "f", "c", "o"};
                    for (int g = 0; g < 4; g++) {
                        float[] wg = raw(file, prefix + "W_" + kerasGates[g] + ":0");
                        float[] ug = raw(file, prefix + "U_" + kerasGates[g] + ":0");
                        float[] bg = raw(file, prefix + "b_" + kerasGates[g] + ":0");
                        for (int r = 0; r < h; r++) {
                            for (int j = 0; j < h; j++) {
                                assertEquals(wg[r * h + j], w.kernel()[r * 4 * h + g * h + j], 0f);
                                assertEquals(ug[r * h + j], w.recurrentKernel()[r * 4 * h + g * h + j], 0f);
                            }
                        }
                        for (int j = 0; j < h; j++) {
                            assertEquals(bg[j], w.bias()[g * h + j], 0f);
                        }
                    }
                    if (half == 0) {
                        forwardHalfMatchesTheKeras1LstmEquations(file, prefix, lstm, w);
                    }
                    lstm.close();
                }
            }
        }
    }

    /** The converted forward half, run as an LSTM, against the Keras 1 equations on the stored per-gate arrays. */
    private static void forwardHalfMatchesTheKeras1LstmEquations(HdfFile file, String prefix, LSTM lstm, KerasRnnWeights w) {
        int h = 10;
        float[][] p = new float[12][];
        String[] names = {"W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f", "W_o", "U_o", "b_o"};
        for (int k = 0; k < 12; k++) {
            p[k] = raw(file, prefix + names[k] + ":0");
        }
        try (Tensor x = FunctionalModelTest.randomTensor(9, 1, 4, 10)) {
            float[] xv = x.toArray();
            double[] hs = new double[h];
            double[] cs = new double[h];
            double[] expected = new double[4 * h];
            for (int t = 0; t < 4; t++) {
                double[] xt = new double[10];
                for (int c = 0; c < 10; c++) {
                    xt[c] = xv[t * 10 + c];
                }
                double[] nh = new double[h];
                double[] nc = new double[h];
                for (int j = 0; j < h; j++) {
                    double i = hardSigmoid2(affine(xt, p[0], hs, p[1], p[2], h, j));
                    double f = hardSigmoid2(affine(xt, p[6], hs, p[7], p[8], h, j));
                    double o = hardSigmoid2(affine(xt, p[9], hs, p[10], p[11], h, j));
                    nc[j] = f * cs[j] + i * Math.tanh(affine(xt, p[3], hs, p[4], p[5], h, j));
                    nh[j] = o * Math.tanh(nc[j]);
                }
                hs = nh;
                cs = nc;
                for (int j = 0; j < h; j++) {
                    expected[t * h + j] = hs[j];
                }
            }
            lstm.setWeights(w);
            lstm.useBackend(ReferenceBackend.instance());
            try (Tensor y = lstm.apply(x)) {
                float[] v = y.toArray();
                for (int k = 0; k < expected.length; k++) {
                    assertEquals(expected[k], v[k], 1e-6, "output " + k);
                }
            }
        }
    }
}
