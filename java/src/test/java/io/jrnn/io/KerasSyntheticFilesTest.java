package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.array;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Dense;
import io.jrnn.layers.GRU;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tiny {@code .h5}/{@code .keras} files written with jhdf: dialects, and every way a file can be wrong. */
class KerasSyntheticFilesTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    /** Keras 2.2 style: bare-list Sequential, fixed-length strings, LSTM with hard_sigmoid and a Dense head. */
    private static final String LIST_CONFIG = q("{'class_name': 'Sequential', 'config': ["
            + "{'class_name': 'LSTM', 'config': {'name': 'lstm_1', 'trainable': true, 'batch_input_shape': [null, 4, 3],"
            + " 'units': 5, 'activation': 'tanh', 'recurrent_activation': 'hard_sigmoid', 'use_bias': true,"
            + " 'return_sequences': false, 'unit_forget_bias': true, 'implementation': 1}},"
            + "{'class_name': 'Dense', 'config': {'name': 'dense_1', 'units': 2, 'activation': 'linear', 'use_bias': true}}]}");

    private static Map<String, List<Array>> lstmDenseWeights(int inputSize) {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("lstm_1", List.of(random("lstm_1/kernel:0", 1, inputSize, 20), random("lstm_1/recurrent_kernel:0", 2, 5, 20),
                random("lstm_1/bias:0", 3, 20)));
        w.put("dense_1", List.of(random("dense_1/kernel:0", 4, 5, 2), random("dense_1/bias:0", 5, 2)));
        return w;
    }

    private static float[] run(Sequential m, float[] x, int... shape) {
        m.useBackend(ReferenceBackend.instance());
        try (Tensor in = Tensor.of(x, shape); Tensor y = m.forward(in)) {
            return y.toArray();
        }
    }

    private static float[] randomInput(int n) {
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextDouble() * 4 - 2);
        }
        return x;
    }

    @Test
    void bareListConfigWithFixedLengthStringsLoadsAndMatchesDirectLayers() {
        Map<String, List<Array>> w = lstmDenseWeights(3);
        Path file = KerasFixtures.writeH5(tmp.resolve("list.h5"), LIST_CONFIG, "2.2.2", w);
        float[] x = randomInput(2 * 4 * 3);
        float[] got;
        try (Sequential m = KerasModels.load(file)) {
            assertEquals("list", m.name(), "a list config has no name: the file's stem");
            LSTM lstm = assertInstanceOf(LSTM.class, m.layers().get(0));
            assertEquals(Activation.HARD_SIGMOID_KERAS2, lstm.recurrentActivation());
            assertArrayEquals(new int[] {4, 3}, m.inputShape());
            got = run(m, x, 2, 4, 3);
        }
        // The same layers built by hand from the same arrays.
        LSTM lstm = LSTM.builder().units(5).recurrentActivation(Activation.HARD_SIGMOID_KERAS2).build();
        lstm.setWeights(w.get("lstm_1").get(0).values(), w.get("lstm_1").get(1).values(), w.get("lstm_1").get(2).values());
        Dense dense = Dense.builder().units(2).build();
        dense.setWeights(w.get("dense_1").get(0).values(), w.get("dense_1").get(1).values());
        try (Sequential manual = Sequential.of(lstm, dense)) {
            assertArrayEquals(run(manual, x, 2, 4, 3), got, 0f);
        }
    }

    @Test
    void keras1KeyNamesWithFusedGpuWeightsLoad() {
        String config = q("{'class_name': 'Sequential', 'config': ["
                + "{'class_name': 'GRU', 'config': {'name': 'gru_1', 'output_dim': 4, 'inner_activation': 'hard_sigmoid',"
                + " 'activation': 'tanh', 'init': 'glorot_uniform', 'inner_init': 'orthogonal', 'dropout_W': 0.1,"
                + " 'dropout_U': 0.0, 'consume_less': 'gpu', 'W_regularizer': null, 'U_regularizer': null,"
                + " 'b_regularizer': null, 'input_dim': 3, 'input_length': 6, 'batch_input_shape': [null, 6, 3],"
                + " 'return_sequences': true, 'go_backwards': true, 'stateful': false, 'unroll': false, 'trainable': true,"
                + " 'input_dtype': 'float32'}},"
                + "{'class_name': 'Dropout', 'config': {'name': 'dropout_1', 'p': 0.5, 'trainable': true}},"
                + "{'class_name': 'Dense', 'config': {'name': 'dense_1', 'output_dim': 2, 'bias': true, 'init': 'uniform',"
                + " 'activation': 'softmax', 'W_regularizer': null, 'b_regularizer': null, 'activity_regularizer': null,"
                + " 'W_constraint': null, 'b_constraint': null, 'input_dim': null}}]}");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("gru_1", List.of(random("gru_1_W", 1, 3, 12), random("gru_1_U", 2, 4, 12), random("gru_1_b", 3, 12)));
        w.put("dropout_1", List.of());
        w.put("dense_1", List.of(random("dense_1_W", 4, 4, 2), random("dense_1_b", 5, 2)));
        Path file = KerasFixtures.writeH5(tmp.resolve("k1.h5"), config, "1.2.2", w);
        try (Sequential m = KerasModels.load(file)) {
            GRU gru = assertInstanceOf(GRU.class, m.layers().get(0));
            assertEquals(4, gru.units());
            assertFalse(gru.resetAfter());
            assertTrue(gru.goBackwards());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, gru.recurrentActivation());
            assertEquals(0.1, gru.trainingOptions().dropout());
            assertEquals(0.5, ((io.jrnn.layers.Dropout) m.layers().get(1)).rate());
            Dense d = (Dense) m.layers().get(2);
            assertEquals(Activation.SOFTMAX, d.activation());
            float[] y = run(m, randomInput(6 * 3), 1, 6, 3);
            assertEquals(6 * 2, y.length);
            assertEquals(1.0, y[0] + y[1], 1e-6, "softmax rows sum to one");
        }
    }

    @Test
    void wrongWeightShapeNamesLayerExpectedAndActual() {
        Map<String, List<Array>> w = lstmDenseWeights(3);
        w.put("lstm_1", List.of(random("lstm_1/kernel:0", 1, 3, 20), random("lstm_1/recurrent_kernel:0", 2, 5, 16),
                random("lstm_1/bias:0", 3, 20)));
        Path file = KerasFixtures.writeH5(tmp.resolve("badshape.h5"), LIST_CONFIG, "2.2.2", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "lstm_1", "LSTM", "recurrent_kernel", "[5, 16]", "[5, 20]");
    }

    @Test
    void kernelRowsMustMatchTheInputShape() {
        // Config says 3 input features; the kernel was trained on 7.
        Path file = KerasFixtures.writeH5(tmp.resolve("rows.h5"), LIST_CONFIG, "2.2.2", lstmDenseWeights(7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, "lstm_1", "kernel", "[7, 20]", "[3, 20]");
    }

    @Test
    void gruResetAfterMismatchIsAShapeError() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': [{'class_name': 'GRU', 'config':"
                + " {'name': 'gru', 'units': 2, 'reset_after': false, 'batch_input_shape': [null, 3, 2]}}]}}");
        Map<String, List<Array>> w = Map.of("gru", List.of(random("gru/kernel:0", 1, 2, 6), random("gru/recurrent_kernel:0", 2, 2, 6),
                random("gru/bias:0", 3, 2, 6)));
        Path file = KerasFixtures.writeH5(tmp.resolve("ra.h5"), config, "2.3.1", w);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file)), "gru", "bias", "[2, 6]", "[6]");
    }

    @Test
    void missingWeightsAreNamed() {
        Map<String, List<Array>> w = lstmDenseWeights(3);
        w.remove("dense_1");
        Path file = KerasFixtures.writeH5(tmp.resolve("missing.h5"), LIST_CONFIG, "2.2.2", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "dense_1", "Dense");

        Map<String, List<Array>> short1 = lstmDenseWeights(3);
        short1.put("dense_1", List.of(random("dense_1/kernel:0", 4, 5, 2)));
        Path file2 = KerasFixtures.writeH5(tmp.resolve("short.h5"), LIST_CONFIG, "2.2.2", short1);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file2)),
                "dense_1", "expected 2 weight arrays", "has 1");
    }

    @Test
    void unknownLayerIsRefusedBeforeWeightsAreRead() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
                + "{'class_name': 'GaussianNoise', 'config': {'name': 'noise_1', 'stddev': 0.1, 'batch_input_shape': [null, 3, 2]}},"
                + "{'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2}}]}}");
        Path file = KerasFixtures.writeH5(tmp.resolve("noise.h5"), config, "2.2.4", Map.of());
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "noise_1", "GaussianNoise");
        ModelInfo info = KerasModels.inspect(file);
        assertFalse(info.loadable());
        assertEquals("GaussianNoise", info.layers().get(0).className());
    }

    @Test
    void truncatedGarbageAndEmptyFilesNameTheFile() throws IOException {
        Path good = KerasFixtures.writeH5(tmp.resolve("good.h5"), LIST_CONFIG, "2.2.2", lstmDenseWeights(3));
        long size = Files.size(good);
        for (int cut : new int[] {(int) size / 2, (int) size / 4, 600, 100, 8}) {
            Path t = KerasFixtures.truncate(good, tmp.resolve("cut" + cut + ".h5"), cut);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(t).close(),
                    "cut at " + cut);
            assertMentions(e, t.toString());
        }
        Path garbage = tmp.resolve("garbage.h5");
        byte[] bytes = new byte[4096];
        new SplittableRandom(1).nextBytes(bytes);
        Files.write(garbage, bytes);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(garbage)), garbage.toString(), "neither");
        Path empty = Files.createFile(tmp.resolve("empty.keras"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(empty)), empty.toString());
        Path missing = tmp.resolve("nope.h5");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(missing)), missing.toString());
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(tmp)), tmp.toString());
    }

    @Test
    void weightsOnlyFileIsRefused() {
        Path file = KerasFixtures.writeH5(tmp.resolve("weights.h5"), null, "2.2.4", lstmDenseWeights(3));
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file)),
                file.toString(), "model_config");
        ModelInfo info = KerasModels.inspect(file);
        assertNull(info.modelClass());
        assertEquals(List.of("lstm_1", "dense_1"), info.layers().stream().map(ModelInfo.LayerInfo::name).toList());
    }

    @Test
    void formatIsDetectedByContentNotExtension() throws IOException {
        Path h5 = KerasFixtures.writeH5(tmp.resolve("model.h5"), LIST_CONFIG, "2.2.2", lstmDenseWeights(3));
        Path renamed = Files.copy(h5, tmp.resolve("model.bin"));
        try (Sequential m = KerasModels.load(renamed)) {
            assertEquals(2, m.layers().size());
        }
        assertEquals("h5", KerasModels.inspect(renamed).format());
    }

    /** Keras 3 zip: layers named freely, weights addressed by snake-case class name + counter. */
    private static final String KERAS3_CONFIG = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'seq',"
            + " 'trainable': true, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'},"
            + " 'registered_name': null}, 'layers': ["
            + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [2, 5, 3], 'dtype': 'float32',"
            + " 'sparse': false, 'name': 'input_layer'}, 'registered_name': null},"
            + "{'module': 'keras.layers', 'class_name': 'SimpleRNN', 'config': {'name': 'encoder', 'units': 4,"
            + " 'activation': 'tanh', 'return_sequences': true, 'stateful': true, 'seed': null}, 'registered_name': null,"
            + " 'build_config': {'input_shape': [2, 5, 3]}},"
            + "{'module': 'keras.layers', 'class_name': 'GRU', 'config': {'name': 'middle', 'units': 3,"
            + " 'recurrent_activation': 'hard_sigmoid', 'return_sequences': true}, 'registered_name': null},"
            + "{'module': 'keras.layers', 'class_name': 'SimpleRNN', 'config': {'name': 'decoder', 'units': 2,"
            + " 'activation': 'relu', 'use_bias': false}, 'registered_name': null},"
            + "{'module': 'keras.layers', 'class_name': 'Activation', 'config': {'name': 'act', 'activation': 'sigmoid'},"
            + " 'registered_name': null}], 'build_input_shape': [2, 5, 3]}, 'registered_name': null}");

    private static Map<String, List<Array>> keras3Vars() {
        Map<String, List<Array>> v = new LinkedHashMap<>();
        v.put("simple_rnn/cell", List.of(random("k", 1, 3, 4), random("r", 2, 4, 4), random("b", 3, 4)));
        v.put("simple_rnn", List.of());
        v.put("gru/cell", List.of(random("k", 4, 4, 9), random("r", 5, 3, 9), random("b", 6, 2, 9)));
        v.put("simple_rnn_1/cell", List.of(random("k", 7, 3, 2), random("r", 8, 2, 2)));
        v.put("activation", List.of());
        return v;
    }

    @Test
    void keras3ZipAddressesWeightsByClassNotLayerName() {
        Map<String, List<Array>> vars = keras3Vars();
        Path file = KerasFixtures.writeKeras(tmp.resolve("m.keras"), KERAS3_CONFIG, "3.4.1", vars);
        try (Sequential m = KerasModels.load(file)) {
            SimpleRNN enc = assertInstanceOf(SimpleRNN.class, m.layers().get(0));
            assertEquals("encoder", enc.name());
            assertTrue(enc.stateful());
            assertEquals(2, enc.batchSize(), "batch_shape[0] reaches the stateful layer");
            assertArrayEquals(vars.get("simple_rnn/cell").get(0).values(), enc.weights().kernel());
            GRU mid = assertInstanceOf(GRU.class, m.layers().get(1));
            assertTrue(mid.resetAfter(), "Keras 3 default");
            assertEquals(Activation.HARD_SIGMOID_KERAS3, mid.recurrentActivation());
            SimpleRNN dec = assertInstanceOf(SimpleRNN.class, m.layers().get(2));
            assertFalse(dec.useBias());
            assertArrayEquals(vars.get("simple_rnn_1/cell").get(1).values(), dec.weights().recurrentKernel());
            float[] y = run(m, randomInput(2 * 5 * 3), 2, 5, 3);
            assertEquals(2 * 2, y.length);
            for (float v : y) {
                assertTrue(v >= 0 && v <= 1);
            }
        }
        ModelInfo info = KerasModels.inspect(file);
        assertEquals("keras", info.format());
        assertEquals(2, info.batchSize());
        assertTrue(info.describe().contains("layers/gru/cell/vars/2[2, 9]"), info.describe());
    }

    @Test
    void keras3FunctionalChainLoadsAsSequential() {
        String config = q("{'module': 'keras', 'class_name': 'Functional', 'config': {'name': 'fn', 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3], 'name': 'x'},"
                + " 'registered_name': null, 'name': 'x', 'inbound_nodes': []},"
                + "{'module': 'keras.layers', 'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2}, 'registered_name': null,"
                + " 'name': 'l', 'inbound_nodes': [{'args': [{'class_name': '__keras_tensor__', 'config': {'shape': [null, 5, 3],"
                + " 'dtype': 'float32', 'keras_history': ['x', 0, 0]}}], 'kwargs': {'training': false}}]}],"
                + " 'input_layers': [['x', 0, 0]], 'output_layers': [['l', 0, 0]]}}");
        Map<String, List<Array>> vars = Map.of("lstm/cell", List.of(random("k", 1, 3, 8), random("r", 2, 2, 8), random("b", 3, 8)));
        Path file = KerasFixtures.writeKeras(tmp.resolve("fn.keras"), config, "3.13.0", vars);
        try (Sequential m = KerasModels.load(file)) {
            assertEquals("fn", m.name());
            LSTM l = assertInstanceOf(LSTM.class, m.layers().get(0));
            assertEquals(Activation.SIGMOID, l.recurrentActivation());
            assertEquals(2, run(m, randomInput(5 * 3), 1, 5, 3).length);
        }
    }

    @Test
    void kerasZipProblemsNameTheFile() throws IOException {
        Path file = KerasFixtures.writeKeras(tmp.resolve("ok.keras"), KERAS3_CONFIG, "3.4.1", keras3Vars());
        Path cut = KerasFixtures.truncate(file, tmp.resolve("cut.keras"), (int) Files.size(file) - 30);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(cut)), cut.toString());

        Path noWeights = tmp.resolve("noweights.keras");
        KerasFixtures.writeZip(noWeights, Map.of("config.json", KERAS3_CONFIG.getBytes(StandardCharsets.UTF_8)));
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(noWeights)),
                noWeights.toString(), "model.weights.h5");

        Path notKeras = tmp.resolve("other.keras");
        KerasFixtures.writeZip(notKeras, Map.of("readme.txt", new byte[] {1, 2, 3}));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(notKeras)), notKeras.toString(),
                "config.json");

        Map<String, List<Array>> bad = keras3Vars();
        bad.put("gru/cell", List.of(random("k", 4, 4, 9), random("r", 5, 3, 9), random("b", 6, 9)));
        Path badBias = KerasFixtures.writeKeras(tmp.resolve("badbias.keras"), KERAS3_CONFIG, "3.4.1", bad);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(badBias)),
                badBias.toString(), "'middle'", "GRU", "bias", "[2, 9]", "[9]");
    }

    @Test
    void loadOptionsForceTheHardSigmoidVariant() {
        Path file = KerasFixtures.writeKeras(tmp.resolve("hs.keras"), KERAS3_CONFIG, "3.4.1", keras3Vars());
        try (Sequential m = KerasModels.load(file, LoadOptions.defaults().withHardSigmoid(HardSigmoid.KERAS2))) {
            assertEquals(Activation.HARD_SIGMOID_KERAS2, ((RecurrentLayer) m.layers().get(1)).recurrentActivation());
        }
        ModelInfo info = KerasModels.inspect(file, new LoadOptions(HardSigmoid.KERAS2));
        assertEquals(HardSigmoid.KERAS2, info.hardSigmoid());
        assertTrue(info.hardSigmoidSource().contains("forced"));
    }

    @Test
    void multiInputFunctionalModelIsRefused() {
        String config = q("{'class_name': 'Model', 'config': {'name': 'two', 'layers': ["
                + "{'name': 'a', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 3, 2], 'name': 'a'}, 'inbound_nodes': []},"
                + "{'name': 'b', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 3, 2], 'name': 'b'}, 'inbound_nodes': []},"
                + "{'name': 'c', 'class_name': 'Concatenate', 'config': {'name': 'c', 'axis': -1},"
                + " 'inbound_nodes': [[['a', 0, 0, {}], ['b', 0, 0, {}]]]}],"
                + " 'input_layers': [['a', 0, 0], ['b', 0, 0]], 'output_layers': [['c', 0, 0]]}}");
        Path file = KerasFixtures.writeH5(tmp.resolve("two.h5"), config, "2.2.4", Map.of());
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file)),
                file.toString(), "'two'", "2 inputs");
    }
}
