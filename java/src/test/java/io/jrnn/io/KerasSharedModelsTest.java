package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jhdf.HdfFile;
import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Dropout;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.SimpleRNN;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The importer against real Keras files made by other people ({@code shared/models}, located by the
 * {@code jrnn.sharedModels} system property; skipped when absent). Numbers against TensorFlow.js
 * fixtures live elsewhere; here one GRU and one SimpleRNN model are recomputed from the raw HDF5
 * arrays with hand-written loops.
 */
class KerasSharedModelsTest {
    /** Out-of-scope files and what their refusal must name. */
    private static final Map<String, List<String>> REFUSED = Map.of(
            "r11_k111_emb_gru_pergate_json.json", List.of("JSON"),
            "r14_k224_s2s_encdec_initial_state.h5", List.of("model_4", "Model", "2 inputs"));

    private static final List<String> LOADED = List.of("r01_k204_gru_timedist.h5", "r07_k27_convlstm2d_stack.h5", "r02_k222_lstm_hardsig.h5",
            "r03_k224_emb_gru_resetafter_false.h5", "r04_k224_emb_bigru.h5", "r05_k224_emb_simplernn.h5",
            "r06_k210_stacked_bilstm.h5", "r08_k312_emb_maskzero_stacked_bilstm.h5", "r09_k313_gru_resetafter_true.h5",
            "r10_k341_stacked_lstm.keras", "r11_k111_emb_gru_pergate_json.h5", "r12_k122_bilstm_pergate.h5",
            "r13_k27_bi_cudnnlstm_stack.h5");

    static Path sharedModels() {
        String dir = System.getProperty("jrnn.sharedModels");
        Path p = dir == null ? null : Path.of(dir);
        org.junit.jupiter.api.Assumptions.assumeTrue(p != null && Files.isDirectory(p),
                "shared Keras models not found (system property jrnn.sharedModels = " + dir + "); skipping");
        return p;
    }

    static Path model(String name) {
        Path p = sharedModels().resolve(name);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(p), name + " is not in shared/models; skipping");
        return p;
    }

    @TestFactory
    Stream<DynamicTest> everySharedFileLoadsOrIsRefusedByName() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(sharedModels())) {
            files = s.filter(f -> !f.getFileName().toString().endsWith(".md")).sorted().toList();
        }
        assertTrue(files.size() >= LOADED.size(), "expected the shared models, found " + files);
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> checkFile(f)));
    }

    private static void checkFile(Path file) {
        String name = file.getFileName().toString();
        List<String> refusal = REFUSED.get(name);
        if (refusal != null) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> KerasModels.load(file).close());
            assertTrue(e instanceof UnsupportedConfigurationException || e instanceof IllegalArgumentException,
                    "refusal must be Unsupported/IllegalArgument, got " + e);
            assertMentions(e, file.toString());
            assertMentions(e, refusal.toArray(String[]::new));
            return;
        }
        // Loadable, or a file added later: either way it must load and run, or fail by name.
        try (Sequential m = KerasModels.load(file)) {
            assertFiniteForward(m, 2);
        } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
            if (LOADED.contains(name)) {
                throw e;
            }
            assertMentions(e, file.toString());
        }
    }

    /** Runs a batch of random inputs (token ids for Embedding models) and checks shape and finiteness. */
    private static float[] assertFiniteForward(Sequential m, int batch) {
        m.useBackend(ReferenceBackend.instance());
        int[] in = m.inputShape();
        assertNotNull(in, m.name() + " has no input shape");
        int[] shape = new int[in.length + 1];
        shape[0] = batch;
        for (int i = 0; i < in.length; i++) {
            shape[i + 1] = in[i] > 0 ? in[i] : 6;
        }
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] x = new float[n];
        SplittableRandom rng = new SplittableRandom(42);
        boolean tokens = m.layers().get(0) instanceof Embedding;
        int vocab = tokens ? ((Embedding) m.layers().get(0)).inputDim() : 0;
        for (int i = 0; i < n; i++) {
            x[i] = tokens ? 1 + rng.nextInt(vocab - 1) : (float) (rng.nextDouble() * 2 - 1);
        }
        int[] expectedOut = m.outputShape();
        try (Tensor input = Tensor.of(x, shape); Tensor y = m.forward(input)) {
            assertEquals(batch, y.dim(0));
            for (int i = 0; i < expectedOut.length; i++) {
                if (expectedOut[i] > 0) {
                    assertEquals(expectedOut[i], y.dim(i + 1), "output axis " + (i + 1) + " of " + m.name());
                }
            }
            float[] out = y.toArray();
            for (float v : out) {
                assertTrue(Float.isFinite(v), m.name() + " produced a non-finite value");
            }
            return out;
        }
    }

    @Test
    void r02Keras222ListConfigLstmWithKeras2HardSigmoid() {
        Path file = model("r02_k222_lstm_hardsig.h5");
        try (Sequential m = KerasModels.load(file)) {
            assertEquals(2, m.layers().size());
            LSTM lstm = assertInstanceOf(LSTM.class, m.layers().get(0));
            assertEquals("lstm_3", lstm.name());
            assertEquals(100, lstm.units());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, lstm.recurrentActivation());
            assertEquals(Activation.TANH, lstm.activation());
            assertFalse(lstm.returnSequences());
            assertEquals(0.2, lstm.trainingOptions().dropout());
            assertEquals(1, lstm.trainingOptions().implementation());
            assertEquals("VarianceScaling", lstm.trainingOptions().kernelInitializer());
            Dense dense = assertInstanceOf(Dense.class, m.layers().get(1));
            assertEquals(3, dense.units());
            assertEquals(Activation.SIGMOID, dense.activation());
            assertArrayEquals(new int[] {1, 200}, m.inputShape());
            float[] keras2 = assertFiniteForward(m, 3);
            assertEquals(9, keras2.length);

            // Forcing the Keras 3 definition changes the layer and the numbers.
            try (Sequential forced = KerasModels.load(file, LoadOptions.defaults().withHardSigmoid(HardSigmoid.KERAS3))) {
                assertEquals(Activation.HARD_SIGMOID_KERAS3, ((LSTM) forced.layers().get(0)).recurrentActivation());
                float[] keras3 = assertFiniteForward(forced, 3);
                assertFalse(java.util.Arrays.equals(keras2, keras3), "the two hard_sigmoid variants should differ");
            }
        }
        ModelInfo info = KerasModels.inspect(file);
        assertEquals("2.2.2", info.kerasVersion());
        assertEquals("tensorflow", info.backend());
        assertEquals("h5", info.format());
        assertEquals(HardSigmoid.KERAS2, info.hardSigmoid());
        assertTrue(info.loadable());
        assertTrue(info.describe().contains("lstm_3 (LSTM)"), info.describe());
    }

    @Test
    void r03EmbeddingGruResetBefore() {
        try (Sequential m = KerasModels.load(model("r03_k224_emb_gru_resetafter_false.h5"))) {
            Embedding e = assertInstanceOf(Embedding.class, m.layers().get(0));
            assertEquals(5000, e.inputDim());
            assertEquals(16, e.outputDim());
            assertFalse(e.maskZero());
            GRU gru = assertInstanceOf(GRU.class, m.layers().get(1));
            assertEquals(16, gru.units());
            assertFalse(gru.resetAfter());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, gru.recurrentActivation());
            assertEquals("sequential_5", m.name());
            assertEquals(2, assertFiniteForward(m, 2).length);
        }
    }

    @Test
    void r05EmbeddingSimpleRnn() {
        try (Sequential m = KerasModels.load(model("r05_k224_emb_simplernn.h5"))) {
            assertInstanceOf(Embedding.class, m.layers().get(0));
            SimpleRNN rnn = assertInstanceOf(SimpleRNN.class, m.layers().get(1));
            assertEquals(16, rnn.units());
            assertEquals(Activation.TANH, rnn.activation());
            assertInstanceOf(Dense.class, m.layers().get(2));
            assertEquals(2, assertFiniteForward(m, 2).length);
        }
    }

    @Test
    void r09Keras3LegacyH5GruResetAfter() {
        Path file = model("r09_k313_gru_resetafter_true.h5");
        try (Sequential m = KerasModels.load(file)) {
            GRU gru = assertInstanceOf(GRU.class, m.layers().get(0));
            assertEquals(64, gru.units());
            assertTrue(gru.resetAfter());
            assertEquals(Activation.SIGMOID, gru.recurrentActivation());
            assertEquals(13, gru.weights().inputSize());
            assertEquals(Activation.RELU, ((Dense) m.layers().get(1)).activation());
            assertArrayEquals(new int[] {60, 13}, m.inputShape());
            assertEquals(2, assertFiniteForward(m, 2).length);
        }
        assertEquals(HardSigmoid.KERAS3, KerasModels.inspect(file).hardSigmoid());
    }

    @Test
    void r10Keras3ZipStackedLstm() {
        Path file = model("r10_k341_stacked_lstm.keras");
        try (Sequential m = KerasModels.load(file)) {
            assertEquals(5, m.layers().size());
            LSTM first = assertInstanceOf(LSTM.class, m.layers().get(0));
            assertTrue(first.returnSequences());
            assertEquals(50, first.units());
            assertEquals(1, first.weights().inputSize());
            assertInstanceOf(Dropout.class, m.layers().get(1));
            LSTM second = assertInstanceOf(LSTM.class, m.layers().get(2));
            assertFalse(second.returnSequences());
            assertEquals(50, second.weights().inputSize());
            assertEquals("L2", ((Map<?, ?>) first.trainingOptions().kernelRegularizer()).get("class_name"));
            assertArrayEquals(new int[] {5, 1}, m.inputShape());
            assertEquals(3, assertFiniteForward(m, 3).length);
        }
        ModelInfo info = KerasModels.inspect(file);
        assertEquals("keras", info.format());
        assertEquals("3.4.1", info.kerasVersion());
        assertEquals(HardSigmoid.KERAS3, info.hardSigmoid());
    }

    /** r07: four ConvLSTM2D (Keras 2.7, hard_sigmoid) with MaxPooling3D, TimeDistributed(Dropout), Flatten, Dense. */
    @Test
    void convLstmStackLoadsAndRunsOnBothBackends() {
        Path file = model("r07_k27_convlstm2d_stack.h5");
        ModelInfo info = KerasModels.inspect(file);
        assertTrue(info.loadable(), info.describe());
        assertEquals("2.7.0", info.kerasVersion());
        ModelInfo.LayerInfo first = info.layers().get(0);
        assertEquals("ConvLSTM2D", first.className());
        assertTrue(info.layers().stream().anyMatch(l -> l.className().equals("MaxPooling3D") && l.problem() == null));
        float[] x = new float[10 * 128 * 128 * 3];
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        float[][] results = new float[2][];
        int k = 0;
        for (io.jrnn.backend.Backend backend : io.jrnn.TestBackends.all()) {
            try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(x, 1, 10, 128, 128, 3)) {
                m.useBackend(backend);
                io.jrnn.layers.ConvLSTM2D conv = (io.jrnn.layers.ConvLSTM2D) m.layers().get(0);
                assertEquals(Activation.HARD_SIGMOID_KERAS2, conv.recurrentActivation());
                assertEquals(4, conv.filters());
                String plan = String.join("\n", m.executionPlan());
                assertTrue(plan.contains("conv_lstm2d_8 (ConvLSTM2D): "
                        + (backend == ReferenceBackend.instance() ? "reference" : "oneDNN ConvLSTM2D")), plan);
                try (Tensor y = m.forward(in)) {
                    assertArrayEquals(new int[] {1, 1}, y.shape());
                    results[k++] = y.toArray();
                }
            }
        }
        assertTrue(results[0][0] > 0 && results[0][0] < 1, "sigmoid output " + results[0][0]);
        assertEquals(results[0][0], results[1][0], 1e-5, "reference vs oneDNN");
    }

    @Test
    void truncatedRealFileIsRefusedByName(@TempDir Path tmp) throws IOException {
        Path cut = KerasFixtures.truncate(model("r03_k224_emb_gru_resetafter_false.h5"), tmp.resolve("cut.h5"), 300_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(cut).close());
        assertMentions(e, cut.toString());
        Path head = KerasFixtures.truncate(model("r10_k341_stacked_lstm.keras"), tmp.resolve("cut.keras"), 200_000);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(head).close()), head.toString());
    }

    // ---------------------------------------------------------------------------------------------
    // Independent numbers: the Keras equations (spec §2.2, §2.3) on the raw arrays, read with jhdf.

    private static float[] raw(HdfFile h, String path) {
        return (float[]) h.getDatasetByPath(path).getDataFlat();
    }

    private static double hardSigmoid2(double x) {
        return Math.max(0, Math.min(1, 0.2 * x + 0.5));
    }

    private static int[][] tokens(int batch, int steps, int vocab) {
        SplittableRandom rng = new SplittableRandom(7);
        int[][] t = new int[batch][steps];
        for (int[] row : t) {
            for (int i = 0; i < steps; i++) {
                row[i] = 1 + rng.nextInt(vocab - 1);
            }
        }
        return t;
    }

    private static float[] forward(Sequential m, int[][] ids) {
        float[] x = new float[ids.length * ids[0].length];
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < ids[0].length; t++) {
                x[b * ids[0].length + t] = ids[b][t];
            }
        }
        m.useBackend(ReferenceBackend.instance());
        try (Tensor in = Tensor.of(x, ids.length, ids[0].length); Tensor y = m.forward(in)) {
            return y.toArray();
        }
    }

    @Test
    void r03GruMatchesAHandWrittenLoopOnTheRawArrays() {
        Path file = model("r03_k224_emb_gru_resetafter_false.h5");
        int[][] ids = tokens(3, 9, 5000);
        double[] expected = new double[ids.length];
        try (HdfFile h = new HdfFile(file)) {
            float[] emb = raw(h, "model_weights/embedding_5/embedding_5/embeddings:0");
            float[] k = raw(h, "model_weights/gru_1/gru_1/kernel:0");
            float[] r = raw(h, "model_weights/gru_1/gru_1/recurrent_kernel:0");
            float[] b = raw(h, "model_weights/gru_1/gru_1/bias:0");
            float[] dk = raw(h, "model_weights/dense_5/dense_5/kernel:0");
            float[] db = raw(h, "model_weights/dense_5/dense_5/bias:0");
            int units = 16;
            int dim = 16;
            int g3 = 3 * units;
            for (int s = 0; s < ids.length; s++) {
                double[] hs = new double[units];
                for (int id : ids[s]) {
                    double[] xz = new double[g3];
                    for (int j = 0; j < g3; j++) {
                        double acc = b[j];
                        for (int c = 0; c < dim; c++) {
                            acc += emb[id * dim + c] * k[c * g3 + j];
                        }
                        xz[j] = acc;
                    }
                    double[] z = new double[units];
                    double[] rr = new double[units];
                    for (int j = 0; j < units; j++) {
                        double az = xz[j];
                        double ar = xz[units + j];
                        for (int i = 0; i < units; i++) {
                            az += hs[i] * r[i * g3 + j];
                            ar += hs[i] * r[i * g3 + units + j];
                        }
                        z[j] = hardSigmoid2(az);
                        rr[j] = hardSigmoid2(ar);
                    }
                    double[] next = new double[units];
                    for (int j = 0; j < units; j++) {
                        double ah = xz[2 * units + j];
                        for (int i = 0; i < units; i++) {
                            ah += rr[i] * hs[i] * r[i * g3 + 2 * units + j];
                        }
                        next[j] = z[j] * hs[j] + (1 - z[j]) * Math.tanh(ah);
                    }
                    hs = next;
                }
                double logit = db[0];
                for (int i = 0; i < units; i++) {
                    logit += hs[i] * dk[i];
                }
                expected[s] = 1 / (1 + Math.exp(-logit));
            }
        }
        try (Sequential m = KerasModels.load(file)) {
            float[] got = forward(m, ids);
            for (int s = 0; s < ids.length; s++) {
                assertEquals(expected[s], got[s], 2e-6, "sample " + s);
            }
        }
    }

    @Test
    void r05SimpleRnnMatchesAHandWrittenLoopOnTheRawArrays() {
        Path file = model("r05_k224_emb_simplernn.h5");
        int[][] ids = tokens(4, 11, 5000);
        double[] expected = new double[ids.length];
        try (HdfFile h = new HdfFile(file)) {
            float[] emb = raw(h, "model_weights/embedding_3/embedding_3/embeddings:0");
            float[] k = raw(h, "model_weights/simple_rnn/simple_rnn/kernel:0");
            float[] r = raw(h, "model_weights/simple_rnn/simple_rnn/recurrent_kernel:0");
            float[] b = raw(h, "model_weights/simple_rnn/simple_rnn/bias:0");
            float[] dk = raw(h, "model_weights/dense_3/dense_3/kernel:0");
            float[] db = raw(h, "model_weights/dense_3/dense_3/bias:0");
            int units = 16;
            int dim = 16;
            for (int s = 0; s < ids.length; s++) {
                double[] hs = new double[units];
                for (int id : ids[s]) {
                    double[] next = new double[units];
                    for (int j = 0; j < units; j++) {
                        double acc = b[j];
                        for (int c = 0; c < dim; c++) {
                            acc += emb[id * dim + c] * k[c * units + j];
                        }
                        for (int i = 0; i < units; i++) {
                            acc += hs[i] * r[i * units + j];
                        }
                        next[j] = Math.tanh(acc);
                    }
                    hs = next;
                }
                double logit = db[0];
                for (int i = 0; i < units; i++) {
                    logit += hs[i] * dk[i];
                }
                expected[s] = 1 / (1 + Math.exp(-logit));
            }
        }
        try (Sequential m = KerasModels.load(file)) {
            float[] got = forward(m, ids);
            for (int s = 0; s < ids.length; s++) {
                assertEquals(expected[s], got[s], 2e-6, "sample " + s);
            }
        } catch (RuntimeException e) {
            fail(e);
        }
    }
}
