package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jrnn.Model;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Dense;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Merge;
import io.jrnn.layers.SimpleRNN;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Functional models ({@link KerasModels#loadModel}): several inputs and outputs, merges,
 * initial-state wiring and return_state outputs, in the Keras 2 list dialect and the Keras 3 dict
 * dialect, each compared with the same computation done by hand with the layers; and the real
 * seq2seq file r14.
 */
class FunctionalModelTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    static Tensor randomTensor(long seed, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }

    private static String input(String name, String batchShape) {
        return "{'name': '" + name + "', 'class_name': 'InputLayer', 'config': {'batch_input_shape': " + batchShape
                + ", 'dtype': 'float32', 'sparse': false, 'name': '" + name + "'}, 'inbound_nodes': []}";
    }

    private static String layer(String cls, String name, String config, String inbound) {
        return "{'name': '" + name + "', 'class_name': '" + cls + "', 'config': {'name': '" + name + "'" + config
                + "}, 'inbound_nodes': " + inbound + "}";
    }

    /** Two inputs, an LSTM and a GRU, their outputs concatenated and added, a Dense on each merge (Keras 2.2.4 dialect). */
    static final String TWO_INPUTS = q("{'class_name': 'Model', 'config': {'name': 'two', 'layers': ["
            + input("a", "[null, 4, 3]") + ", " + input("b", "[null, 4, 2]") + ", "
            + layer("LSTM", "la", ", 'units': 3, 'recurrent_activation': 'sigmoid'", "[[['a', 0, 0, {}]]]") + ", "
            + layer("GRU", "gb", ", 'units': 3, 'recurrent_activation': 'hard_sigmoid'", "[[['b', 0, 0, {}]]]") + ", "
            + layer("Concatenate", "cat", ", 'axis': -1", "[[['la', 0, 0, {}], ['gb', 0, 0, {}]]]") + ", "
            + layer("Add", "add", "", "[[['la', 0, 0, {}], ['gb', 0, 0, {}]]]") + ", "
            + layer("Dense", "d1", ", 'units': 2, 'activation': 'tanh'", "[[['cat', 0, 0, {}]]]") + ", "
            + layer("Dense", "d2", ", 'units': 2", "[[['add', 0, 0, {}]]]")
            + "], 'input_layers': [['a', 0, 0], ['b', 0, 0]], 'output_layers': [['d1', 0, 0], ['d2', 0, 0]]}}");

    static Map<String, List<Array>> twoInputWeights() {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("la", List.of(random("la/kernel:0", 1, 3, 12), random("la/recurrent_kernel:0", 2, 3, 12), random("la/bias:0", 3, 12)));
        w.put("gb", List.of(random("gb/kernel:0", 4, 2, 9), random("gb/recurrent_kernel:0", 5, 3, 9), random("gb/bias:0", 6, 9)));
        w.put("d1", List.of(random("d1/kernel:0", 7, 6, 2), random("d1/bias:0", 8, 2)));
        w.put("d2", List.of(random("d2/kernel:0", 9, 3, 2), random("d2/bias:0", 10, 2)));
        return w;
    }

    /** Writes the two-input model; also used by the CLI tests. */
    static Path writeTwoInputModel(Path file) {
        return KerasFixtures.writeH5(file, TWO_INPUTS, "2.2.4", twoInputWeights());
    }

    @Test
    void twoInputsWithConcatenateAndAddMatchTheLayersRunByHand() {
        Map<String, List<Array>> w = twoInputWeights();
        Path file = writeTwoInputModel(tmp.resolve("two.h5"));
        try (Model m = KerasModels.loadModel(file); Tensor a = randomTensor(1, 2, 4, 3); Tensor b = randomTensor(2, 2, 4, 2)) {
            m.useBackend(ReferenceBackend.instance());
            assertEquals(List.of("a", "b"), m.inputNames());
            assertEquals(List.of("d1", "d2"), m.outputNames());
            assertArrayEquals(new int[] {4, 3}, m.inputs().get(0).shape());
            assertEquals(Merge.Mode.CONCATENATE, assertInstanceOf(Merge.class, m.layer("cat")).mode());
            assertArrayEquals(new int[] {2}, m.outputShapes().get(0));
            assertArrayEquals(new int[] {2}, m.outputShapes().get(1));
            Map<String, Tensor> out = m.forward(Map.of("b", b, "a", a));
            assertEquals(List.of("d1", "d2"), List.copyOf(out.keySet()), "outputs in output_layers order");

            // By hand, from the same arrays.
            LSTM la = LSTM.builder().units(3).recurrentActivation(Activation.SIGMOID).build();
            la.setWeights(w.get("la").get(0).values(), w.get("la").get(1).values(), w.get("la").get(2).values());
            GRU gb = GRU.builder().units(3).resetAfter(false).recurrentActivation(Activation.HARD_SIGMOID_KERAS2).build();
            gb.setWeights(w.get("gb").get(0).values(), w.get("gb").get(1).values(), w.get("gb").get(2).values());
            Dense d1 = Dense.builder().units(2).activation(Activation.TANH).build();
            d1.setWeights(w.get("d1").get(0).values(), w.get("d1").get(1).values());
            Dense d2 = Dense.builder().units(2).build();
            d2.setWeights(w.get("d2").get(0).values(), w.get("d2").get(1).values());
            for (Layer l : List.of(la, gb)) {
                l.useBackend(ReferenceBackend.instance());
            }
            try (la; gb; d1; d2; Tensor ya = la.apply(a); Tensor yb = gb.apply(b)) {
                float[] va = ya.toArray();
                float[] vb = yb.toArray();
                float[] cat = new float[12];
                float[] sum = new float[6];
                for (int n = 0; n < 2; n++) {
                    for (int j = 0; j < 3; j++) {
                        cat[n * 6 + j] = va[n * 3 + j];
                        cat[n * 6 + 3 + j] = vb[n * 3 + j];
                        sum[n * 3 + j] = va[n * 3 + j] + vb[n * 3 + j];
                    }
                }
                try (Tensor tc = Tensor.of(cat, 2, 6); Tensor ts = Tensor.of(sum, 2, 3);
                     Tensor e1 = d1.apply(tc); Tensor e2 = d2.apply(ts);
                     Tensor g1 = out.get("d1"); Tensor g2 = out.get("d2")) {
                    assertArrayEquals(e1.toArray(), g1.toArray(), 0f);
                    assertArrayEquals(e2.toArray(), g2.toArray(), 0f);
                }
            }
            // Ordered-list form gives the same numbers.
            List<Tensor> listed = m.forward(List.of(a, b));
            try (Tensor x = listed.get(0); Tensor y = listed.get(1); Tensor again = m.forward(Map.of("a", a, "b", b)).get("d1")) {
                assertArrayEquals(again.toArray(), x.toArray(), 0f);
                assertEquals(2, y.dim(1));
            }
            // Sliced batches join to the same result.
            Map<String, Tensor> sliced = m.forward(Map.of("a", a, "b", b), 1);
            Map<String, Tensor> whole = m.forward(Map.of("a", a, "b", b));
            for (String k : List.of("d1", "d2")) {
                try (Tensor s = sliced.get(k); Tensor t = whole.get(k)) {
                    assertArrayEquals(t.shape(), s.shape());
                    assertArrayEquals(t.toArray(), s.toArray(), 1e-6f);
                }
            }
        }
    }

    @Test
    void missingOrUnknownInputNamesListTheExpectedOnes() {
        Path file = writeTwoInputModel(tmp.resolve("two.h5"));
        try (Model m = KerasModels.loadModel(file); Tensor a = randomTensor(1, 2, 4, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(Map.of("a", a)));
            assertMentions(e, "[a, b]", "missing [b]");
            e = assertThrows(IllegalArgumentException.class, () -> m.forward(Map.of("a", a, "b", a, "c", a)));
            assertMentions(e, "[a, b]", "unknown [c]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(a)), "2 input(s)", "forward(Map)");
            try (Tensor wrong = randomTensor(3, 2, 4, 5)) {
                // b has 2 features; the GRU names itself, expected and actual.
                assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(Map.of("a", a, "b", wrong))),
                        "GRU 'gb'", "expected 2 input features", "got 5");
            }
        }
    }

    /** lstm_seq2seq style with the encoder's states and the decoder's last cell state also returned as model outputs. */
    static final String ENCODER_DECODER = q("{'class_name': 'Model', 'config': {'name': 's2s', 'layers': ["
            + input("enc_in", "[null, null, 3]") + ", " + input("dec_in", "[null, null, 2]") + ", "
            + layer("LSTM", "enc", ", 'units': 4, 'return_state': true, 'recurrent_activation': 'sigmoid'",
                    "[[['enc_in', 0, 0, {}]]]") + ", "
            + layer("LSTM", "dec", ", 'units': 4, 'return_sequences': true, 'return_state': true, 'recurrent_activation': 'sigmoid'",
                    "[[['dec_in', 0, 0, {}], ['enc', 0, 1, {}], ['enc', 0, 2, {}]]]") + ", "
            + layer("Dense", "out", ", 'units': 2, 'activation': 'softmax'", "[[['dec', 0, 0, {}]]]")
            + "], 'input_layers': [['enc_in', 0, 0], ['dec_in', 0, 0]],"
            + " 'output_layers': [['out', 0, 0], ['enc', 0, 1], ['dec', 0, 2], ['enc', 0, 2]]}}");

    @Test
    void initialStateWiringAndReturnStateOutputsMatchEncoderThenDecoderByHand() {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("enc", List.of(random("enc/kernel:0", 1, 3, 16), random("enc/recurrent_kernel:0", 2, 4, 16), random("enc/bias:0", 3, 16)));
        w.put("dec", List.of(random("dec/kernel:0", 4, 2, 16), random("dec/recurrent_kernel:0", 5, 4, 16), random("dec/bias:0", 6, 16)));
        w.put("out", List.of(random("out/kernel:0", 7, 4, 2), random("out/bias:0", 8, 2)));
        Path file = KerasFixtures.writeH5(tmp.resolve("s2s.h5"), ENCODER_DECODER, "2.2.4", w);
        try (Model m = KerasModels.loadModel(file); Tensor xe = randomTensor(1, 3, 5, 3); Tensor xd = randomTensor(2, 3, 6, 2)) {
            m.useBackend(ReferenceBackend.instance());
            assertEquals(List.of("out", "enc", "dec", "enc:2"), m.outputNames(), "a second output of one layer is name:index");
            Model.Node decNode = m.nodes().stream().filter(n -> n.name().equals("dec")).findFirst().orElseThrow();
            assertEquals(List.of(new Model.Ref("enc", 1), new Model.Ref("enc", 2)), decNode.initialStates());
            assertTrue(m.summary().contains("enc[1]"), m.summary());
            assertTrue(m.executionPlan().get(1).contains("initial_state=[enc[1], enc[2]]"), m.executionPlan().toString());
            List<Tensor> got = m.forward(List.of(xe, xd));
            LSTM enc = (LSTM) m.layer("enc");
            LSTM dec = (LSTM) m.layer("dec");
            try (Outputs e = enc.forward(xe); Outputs d = dec.forward(xd, e.get(1), e.get(2));
                 Tensor y = m.layer("out").apply(d.output())) {
                assertArrayEquals(y.toArray(), got.get(0).toArray(), 0f);
                assertArrayEquals(e.get(1).toArray(), got.get(1).toArray(), 0f);
                assertArrayEquals(d.get(2).toArray(), got.get(2).toArray(), 0f);
                assertArrayEquals(e.get(2).toArray(), got.get(3).toArray(), 0f);
                // Not the zero-state decoder: the wiring matters.
                try (Outputs zero = dec.forward(xd)) {
                    assertTrue(maxAbsDiff(zero.output().toArray(), d.output().toArray()) > 1e-3);
                }
            } finally {
                got.forEach(Tensor::close);
            }
        }
    }

    @Test
    void readingAStateOfALayerWithoutReturnStateIsRefusedByName() {
        String config = ENCODER_DECODER.replace("\"units\": 4, \"return_state\": true, \"recurrent", "\"units\": 4, \"recurrent");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("enc", List.of(random("k", 1, 3, 16), random("r", 2, 4, 16), random("b", 3, 16)));
        w.put("dec", List.of(random("k", 4, 2, 16), random("r", 5, 4, 16), random("b", 6, 16)));
        w.put("out", List.of(random("k", 7, 4, 2), random("b", 8, 2)));
        Path file = KerasFixtures.writeH5(tmp.resolve("nostate.h5"), config, "2.2.4", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.loadModel(file));
        assertMentions(e, file.toString(), "'dec'", "['enc', 0, 1]", "return_state");
    }

    private static String kt(String layer, int index) {
        return "{'class_name': '__keras_tensor__', 'config': {'shape': [null, 2], 'dtype': 'float32', 'keras_history': ['"
                + layer + "', 0, " + index + "]}}";
    }

    /** Keras 3 dict dialect: initial_state as a keyword argument, a merge with its tensors in a nested list, a shared Dense. */
    static final String KERAS3_GRAPH = q("{'module': 'keras', 'class_name': 'Functional', 'config': {'name': 'k3', 'layers': ["
            + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3], 'name': 'x'},"
            + " 'registered_name': null, 'name': 'x', 'inbound_nodes': []},"
            + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3], 'name': 'y'},"
            + " 'registered_name': null, 'name': 'y', 'inbound_nodes': []},"
            + "{'module': 'keras.layers', 'class_name': 'GRU', 'config': {'name': 'g', 'units': 2, 'return_state': true},"
            + " 'registered_name': null, 'name': 'g', 'inbound_nodes': [{'args': [" + kt("x", 0) + "], 'kwargs': {'training': false}}]},"
            + "{'module': 'keras.layers', 'class_name': 'SimpleRNN', 'config': {'name': 's', 'units': 2},"
            + " 'registered_name': null, 'name': 's', 'inbound_nodes': [{'args': [" + kt("y", 0) + "],"
            + " 'kwargs': {'initial_state': [" + kt("g", 1) + "], 'training': false, 'mask': null}}]},"
            + "{'module': 'keras.layers', 'class_name': 'Multiply', 'config': {'name': 'mul'}, 'registered_name': null,"
            + " 'name': 'mul', 'inbound_nodes': [{'args': [[" + kt("g", 0) + ", " + kt("s", 0) + "]], 'kwargs': {}}]},"
            + "{'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'shared', 'units': 2}, 'registered_name': null,"
            + " 'name': 'shared', 'inbound_nodes': [{'args': [" + kt("mul", 0) + "], 'kwargs': {}},"
            + " {'args': [" + kt("s", 0) + "], 'kwargs': {}}]},"
            + "{'module': 'keras.layers', 'class_name': 'Average', 'config': {'name': 'avg'}, 'registered_name': null,"
            + " 'name': 'avg', 'inbound_nodes': [{'args': [[" + kt("shared", 0) + ", {'class_name': '__keras_tensor__', 'config':"
            + " {'shape': [null, 2], 'keras_history': ['shared', 1, 0]}}]], 'kwargs': {}}]}"
            + "], 'input_layers': [['x', 0, 0], ['y', 0, 0]], 'output_layers': ['avg', 0, 0]}}");

    @Test
    void keras3DictNodesWithInitialStateKeywordMergesAndASharedLayer() {
        Map<String, List<Array>> vars = new LinkedHashMap<>();
        vars.put("gru/cell", List.of(random("k", 1, 3, 6), random("r", 2, 2, 6), random("b", 3, 2, 6)));
        vars.put("simple_rnn/cell", List.of(random("k", 4, 3, 2), random("r", 5, 2, 2), random("b", 6, 2)));
        vars.put("dense", List.of(random("k", 7, 2, 2), random("b", 8, 2)));
        Path file = KerasFixtures.writeKeras(tmp.resolve("k3.keras"), KERAS3_GRAPH, "3.4.1", vars);
        try (Model m = KerasModels.loadModel(file); Tensor x = randomTensor(1, 2, 5, 3); Tensor y = randomTensor(2, 2, 5, 3)) {
            m.useBackend(ReferenceBackend.instance());
            assertEquals(List.of("avg"), m.outputNames());
            assertEquals(List.of("g", "s", "mul", "shared", "shared#1", "avg"), m.nodes().stream().map(Model.Node::name).toList());
            assertSame(m.nodes().get(3).layer(), m.nodes().get(4).layer(), "a shared layer is one layer");
            assertEquals(5, m.layers().size());
            GRU g = (GRU) m.layer("g");
            SimpleRNN s = (SimpleRNN) m.layer("s");
            Dense shared = (Dense) m.layer("shared");
            assertTrue(g.resetAfter(), "Keras 3 GRU default");
            try (Tensor got = m.forward(Map.of("x", x, "y", y)).get("avg");
                 Outputs go = g.forward(x); Outputs so = s.forward(y, go.get(1));
                 Tensor prod = Merge.of("p", Merge.Mode.MULTIPLY).merge(List.of(go.output(), so.output()));
                 Tensor d1 = shared.apply(prod); Tensor d2 = shared.apply(so.output());
                 Tensor avg = Merge.of("a", Merge.Mode.AVERAGE).merge(List.of(d1, d2))) {
                assertArrayEquals(avg.toArray(), got.toArray(), 0f);
            }
            assertTrue(m.summary().contains("shared#1 (Dense)"), m.summary());
        }
        ModelInfo info = KerasModels.inspect(file);
        assertNull(info.problem(), info.describe());
        assertTrue(info.loadable());
    }

    @Test
    void unsupportedTensorKeywordArgumentsAreRefusedByName() {
        String config = KERAS3_GRAPH.replace("\"initial_state\"", "\"constants\"");
        Path file = KerasFixtures.writeKeras(tmp.resolve("const.keras"), config, "3.4.1", Map.of());
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.loadModel(file)),
                file.toString(), "'s'", "SimpleRNN", "'constants'");
    }

    @Test
    void graphDialectsAndMalformedGraphs() {
        String src = "g.h5";
        // tf.keras 2.4+: initial_state recorded as [layer, node, tensor] triples in the call kwargs.
        String tk2 = ENCODER_DECODER.replace("[['dec_in', 0, 0, {}], ['enc', 0, 1, {}], ['enc', 0, 2, {}]]".replace('\'', '"'),
                "[['dec_in', 0, 0, {'initial_state': [['enc', 0, 1], ['enc', 0, 2]]}]]".replace('\'', '"'));
        assertTrue(!tk2.equals(ENCODER_DECODER));
        KerasConfig.GraphSpec g = KerasConfig.parseGraph(tk2, src);
        KerasConfig.NodeSpec dec = g.nodes().stream().filter(n -> n.layer().name().equals("dec")).findFirst().orElseThrow();
        assertEquals(List.of(new KerasConfig.TensorRef("dec_in", 0, 0)), dec.args());
        assertEquals(List.of(new KerasConfig.TensorRef("enc", 0, 1), new KerasConfig.TensorRef("enc", 0, 2)), dec.initialStates());
        assertEquals(List.of("enc", "dec", "out"), g.nodes().stream().map(n -> n.layer().name()).toList(), "execution order");

        // Keras 1 functional: three-element references, Keras 1 key names.
        String k1 = q("{'class_name': 'Model', 'keras_version': '1.2.2', 'config': {'name': 'm1', 'layers': ["
                + input("input_1", "[null, 4, 3]") + ", "
                + layer("LSTM", "lstm_1", ", 'output_dim': 2, 'inner_activation': 'hard_sigmoid'", "[[['input_1', 0, 0]]]")
                + "], 'input_layers': [['input_1', 0, 0]], 'output_layers': [['lstm_1', 0, 0]]}}");
        KerasConfig.GraphSpec g1 = KerasConfig.parseGraph(k1, src);
        assertEquals(2, g1.nodes().get(0).layer().config().get("units").asInt());
        assertArrayEquals(new int[] {4, 3}, g1.inputs().get(0).shape());

        String unknown = TWO_INPUTS.replace("[['cat', 0, 0, {}]]".replace('\'', '"'), "[['nowhere', 0, 0, {}]]".replace('\'', '"'));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasConfig.parseGraph(unknown, src)), src, "'nowhere'");
        String cycle = TWO_INPUTS.replace("[[['a', 0, 0, {}]]]".replace('\'', '"'), "[[['d1', 0, 0, {}]]]".replace('\'', '"'));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasConfig.parseGraph(cycle, src)), src, "cycle");
        String badCall = TWO_INPUTS.replace("[['la', 0, 0, {}], ['gb', 0, 0, {}]]]".replace('\'', '"'),
                "[['la', 3, 0, {}], ['gb', 0, 0, {}]]]".replace('\'', '"'));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasConfig.parseGraph(badCall, src)), src, "call 3", "'la'");
        String mask = TWO_INPUTS.replace("[[['b', 0, 0, {}]]]".replace('\'', '"'), "[[['b', 0, 0, {'mask': [['a', 0, 0]]}]]]".replace('\'', '"'));
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasConfig.parseGraph(mask, src)), src, "'gb'", "'mask'");
    }

    @Test
    void sequentialFilesLoadAsOneInputChains() {
        String config = q("{'class_name': 'Sequential', 'config': [{'class_name': 'LSTM', 'config': {'name': 'l',"
                + " 'batch_input_shape': [null, 4, 3], 'units': 2}}, {'class_name': 'Dense', 'config': {'name': 'd', 'units': 1}}]}");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("l", List.of(random("k", 1, 3, 8), random("r", 2, 2, 8), random("b", 3, 8)));
        w.put("d", List.of(random("k", 4, 2, 1), random("b", 5, 1)));
        Path file = KerasFixtures.writeH5(tmp.resolve("seq.h5"), config, "2.2.4", w);
        try (Model m = KerasModels.loadModel(file); io.jrnn.Sequential s = KerasModels.load(file); Tensor x = randomTensor(1, 2, 4, 3)) {
            m.useBackend(ReferenceBackend.instance());
            s.useBackend(ReferenceBackend.instance());
            assertEquals(List.of("l_input"), m.inputNames(), "Keras 2 names a Sequential input <first layer>_input");
            assertEquals(List.of("d"), m.outputNames());
            try (Tensor a = m.forward(x); Tensor b = s.forward(x)) {
                assertArrayEquals(b.toArray(), a.toArray(), 0f);
            }
        }
    }

    @Test
    void builtByHandAndClosedLikeSequential() {
        LSTM enc = LSTM.builder().name("e").units(2).returnState(true).build();
        LSTM dec = LSTM.builder().name("d").units(2).build();
        Model.Builder b = Model.builder("hand");
        Model.Ref x = b.input("x", 3, 2);
        Model.Ref e = b.call(enc, x);
        Model.Ref y = b.call(dec, List.of(x), List.of(e.output(1), e.output(2)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> b.call(dec, new Model.Ref("nowhere", 0))), "nowhere");
        Model m = b.build(y, b.call(Merge.concatenate("c", -1), List.of(y, e), List.of()));
        try (Tensor in = randomTensor(1, 2, 3, 2)) {
            List<Tensor> out = m.forward(List.of(in));
            assertArrayEquals(new int[] {2, 4}, out.get(1).shape());
            out.forEach(Tensor::close);
        }
        m.close();
        m.close();
        assertTrue(enc.isClosed() && dec.isClosed());
        try (io.jrnn.Sequential seq = io.jrnn.Sequential.of(Dense.builder().units(1).build()); Model chain = Model.of(seq)) {
            assertEquals(List.of("input"), chain.inputNames());
            assertEquals(1, chain.nodes().size());
        }
        assertThrows(IllegalStateException.class, () -> m.forward(List.of()));
    }

    @Test
    void r14EncoderStatesReachTheDecoderAsInKeras() {
        Path file = KerasSharedModelsTest.model("r14_k224_s2s_encdec_initial_state.h5");
        try (Model m = KerasModels.loadModel(file); Tensor xe = randomTensor(1, 2, 7, 150); Tensor xd = randomTensor(2, 2, 5, 50)) {
            m.useBackend(ReferenceBackend.instance());
            assertEquals("model_4", m.name());
            assertEquals(List.of("encoder_input", "decoder_input"), m.inputNames());
            assertEquals(List.of("decoder_dense"), m.outputNames());
            LSTM enc = assertInstanceOf(LSTM.class, m.layer("encoder_lstm"));
            LSTM dec = assertInstanceOf(LSTM.class, m.layer("decoder_lstm"));
            assertEquals(Activation.HARD_SIGMOID_KERAS2, enc.recurrentActivation());
            assertEquals(40, dec.units());
            Map<String, Tensor> got = m.forward(Map.of("encoder_input", xe, "decoder_input", xd));
            float[] expected;
            try (Outputs e = enc.forward(xe); Outputs d = dec.forward(xd, e.get(1), e.get(2));
                 Tensor y = m.layer("decoder_dense").apply(d.output())) {
                expected = y.toArray();
            }
            try (Tensor y = got.get("decoder_dense")) {
                assertArrayEquals(new int[] {2, 5, 50}, y.shape());
                assertArrayEquals(expected, y.toArray(), 0f);
                float[] v = y.toArray();
                for (int r = 0; r < 10; r++) {
                    double sum = 0;
                    for (int j = 0; j < 50; j++) {
                        sum += v[r * 50 + j];
                    }
                    assertEquals(1.0, sum, 1e-5, "softmax row " + r);
                }
            }
            // The encoder kernel is the file's array, unconverted.
            try (HdfFile h = new HdfFile(file)) {
                float[] k = raw(h, "model_weights/encoder_lstm/encoder_lstm_3/kernel:0");
                assertArrayEquals(k, enc.weights().kernel(), 0f);
            }
        }
        // As a Sequential it is refused with a pointer to loadModel; inspect calls it loadable.
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file)),
                "model_4", "2 inputs", "loadModel");
        assertTrue(KerasModels.inspect(file).loadable(), KerasModels.inspect(file).describe());
    }

    static float[] raw(HdfFile h, String path) {
        return (float[]) h.getDatasetByPath(path).getDataFlat();
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
