package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Model;
import io.jrnn.Outputs;
import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.GRU;
import io.jrnn.layers.GRUCell;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.LSTMCell;
import io.jrnn.layers.RNN;
import io.jrnn.layers.SimpleRNNCell;
import io.jrnn.layers.StackedRNNCells;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras {@code RNN(cell)} layers from synthetic files: single cells, {@code StackedRNNCells} with the
 * state order of each Keras version (spec §2.8), Keras 3 dict configs and {@code .keras} stores,
 * {@code Bidirectional(RNN(cell))}, return_state and initial_state in functional graphs, and
 * {@code zero_output_for_mask}.
 */
class KerasRnnImportTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    private static double[][][] sequences(int n, int steps, int features, long seed) {
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

    private static final String LSTM_CELL_K2 = "{'class_name': 'LSTMCell', 'config': {'name': 'lstm_cell_1', 'trainable': true,"
            + " 'units': 4, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': true, 'kernel_initializer':"
            + " {'class_name': 'VarianceScaling', 'config': {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform',"
            + " 'seed': null}}, 'unit_forget_bias': true, 'kernel_regularizer': null, 'dropout': 0.0, 'recurrent_dropout': 0.0,"
            + " 'implementation': 1}}";

    private static String sequentialRnn(String cell, String flags) {
        return q("{'class_name': 'Sequential', 'config': [{'class_name': 'RNN', 'config': {'name': 'rnn_1', 'trainable': true,"
                + " 'batch_input_shape': [null, 5, 3], 'return_sequences': true, 'return_state': false, 'go_backwards': false,"
                + " 'stateful': false, 'unroll': false" + flags + ", 'cell': " + cell + "}}]}");
    }

    private static List<Array> lstmArrays(String prefix, int in, int units, long seed) {
        return List.of(random(prefix + "kernel:0", seed, in, 4 * units), random(prefix + "recurrent_kernel:0", seed + 1, units, 4 * units),
                random(prefix + "bias:0", seed + 2, 4 * units));
    }

    @Test
    void keras2RnnWithAnLstmCellMatchesTheLstmEquationsOnEveryBackend() {
        List<Array> w = lstmArrays("rnn_1/", 3, 4, 1);
        Path file = KerasFixtures.writeH5(tmp.resolve("rnn.h5"), sequentialRnn(LSTM_CELL_K2, ""), "2.2.4", Map.of("rnn_1", w));
        double[][][] x = sequences(2, 5, 3, 7);
        double[][][] expected = HandRnn.lstm(x, w.get(0).values(), w.get(1).values(), w.get(2).values(), 4, false, HandRnn.SIGMOID);
        try (Sequential m = KerasModels.load(file); Tensor in = tensor(x)) {
            RNN rnn = assertInstanceOf(RNN.class, m.layers().get(0));
            LSTMCell cell = assertInstanceOf(LSTMCell.class, rnn.cell());
            assertEquals("lstm_cell_1", cell.name());
            assertEquals(Activation.SIGMOID, cell.recurrentActivation());
            assertTrue(rnn.returnSequences());
            assertArrayEquals(w.get(1).values(), cell.weights().recurrentKernel(), 0f);
            assertArrayEquals(new int[] {5, 4}, m.outputShape());
            for (Backend backend : TestBackends.all()) {
                m.useBackend(backend);
                try (Tensor y = m.forward(in)) {
                    float[] got = y.toArray();
                    for (int s = 0; s < 2; s++) {
                        for (int t = 0; t < 5; t++) {
                            for (int j = 0; j < 4; j++) {
                                assertEquals(expected[s][t][j], got[(s * 5 + t) * 4 + j], 1e-5, backend.name());
                            }
                        }
                    }
                }
            }
        }
        ModelInfo info = KerasModels.inspect(file);
        assertTrue(info.loadable(), info.describe());
        assertTrue(info.describe().contains("LSTMCell 'lstm_cell_1'"), info.describe());
        // Keras 2.2.4 without the key: hard_sigmoid (Keras 2 definition), as for the LSTM layer.
        String noGate = LSTM_CELL_K2.replace("'recurrent_activation': 'sigmoid', ", "");
        Path old = KerasFixtures.writeH5(tmp.resolve("old.h5"), sequentialRnn(noGate, ""), "2.2.4", Map.of("rnn_1", w));
        try (Sequential m = KerasModels.load(old)) {
            LSTMCell cell = (LSTMCell) ((RNN) m.layers().get(0)).cell();
            assertEquals(Activation.HARD_SIGMOID_KERAS2, cell.recurrentActivation());
        }
    }

    /** Input x, three state inputs s0..s2, RNN(StackedRNNCells[LSTMCell(3), GRUCell(2)]) with return_state, all outputs. */
    private static String stackedGraph(int[] stateWidths) {
        StringBuilder layers = new StringBuilder();
        layers.append("{'name': 'x', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 5, 3], 'name': 'x'},"
                + " 'inbound_nodes': []}");
        for (int i = 0; i < 3; i++) {
            layers.append(", {'name': 's").append(i).append("', 'class_name': 'InputLayer', 'config': {'batch_input_shape':"
                    + " [null, ").append(stateWidths[i]).append("], 'name': 's").append(i).append("'}, 'inbound_nodes': []}");
        }
        layers.append(", {'name': 'rnn', 'class_name': 'RNN', 'config': {'name': 'rnn', 'return_sequences': false,"
                + " 'return_state': true, 'go_backwards': false, 'stateful': false, 'unroll': false, 'cell': {'class_name':"
                + " 'StackedRNNCells', 'config': {'cells': [{'class_name': 'LSTMCell', 'config': {'name': 'lstm_cell_1',"
                + " 'units': 3, 'recurrent_activation': 'sigmoid'}}, {'class_name': 'GRUCell', 'config': {'name': 'gru_cell_1',"
                + " 'units': 2, 'recurrent_activation': 'sigmoid', 'reset_after': false}}]}}}, 'inbound_nodes':"
                + " [[['x', 0, 0, {}], ['s0', 0, 0, {}], ['s1', 0, 0, {}], ['s2', 0, 0, {}]]]}");
        return q("{'class_name': 'Model', 'config': {'name': 'stack', 'layers': [" + layers + "], 'input_layers': [['x', 0, 0],"
                + " ['s0', 0, 0], ['s1', 0, 0], ['s2', 0, 0]], 'output_layers': [['rnn', 0, 0], ['rnn', 0, 1], ['rnn', 0, 2],"
                + " ['rnn', 0, 3]]}}");
    }

    @Test
    void stackedCellsTakeAndReturnStatesInTheOrderOfTheirKerasVersion() {
        List<Array> w = new ArrayList<>(lstmArrays("rnn/", 3, 3, 11));
        w.add(random("rnn/kernel_1:0", 21, 3, 6));
        w.add(random("rnn/recurrent_kernel_1:0", 22, 2, 6));
        w.add(random("rnn/bias_1:0", 23, 6));
        // Natural order [h1, c1, h2] (2.2.3+, tf.keras); reversed [h2, h1, c1] (2.1.0–2.2.2).
        Map<String, Boolean> versions = Map.of("2.2.4", false, "2.10.0", false, "2.2.2", true, "2.1.6", true);
        for (Map.Entry<String, Boolean> v : versions.entrySet()) {
            boolean reversed = v.getValue();
            int[] widths = reversed ? new int[] {2, 3, 3} : new int[] {3, 3, 2};
            Path file = KerasFixtures.writeH5(tmp.resolve("stack" + v.getKey() + ".h5"), stackedGraph(widths), v.getKey(),
                    Map.of("rnn", w));
            try (Model m = KerasModels.loadModel(file); Tensor x = FunctionalModelTest.randomTensor(1, 2, 5, 3);
                 Tensor h1 = FunctionalModelTest.randomTensor(2, 2, 3); Tensor c1 = FunctionalModelTest.randomTensor(3, 2, 3);
                 Tensor h2 = FunctionalModelTest.randomTensor(4, 2, 2)) {
                m.useBackend(ReferenceBackend.instance());
                StackedRNNCells stack = assertInstanceOf(StackedRNNCells.class, ((RNN) m.layer("rnn")).cell());
                assertEquals(reversed, stack.reverseStateOrder(), v.getKey());
                List<Tensor> out = m.forward(reversed ? List.of(x, h2, h1, c1) : List.of(x, h1, c1, h2));
                float[][] expected = new float[4][];
                try (LSTM l = LSTM.builder().units(3).returnSequences(true).returnState(true).build();
                     GRU g = GRU.builder().units(2).resetAfter(false).returnState(true).build()) {
                    l.useBackend(ReferenceBackend.instance());
                    g.useBackend(ReferenceBackend.instance());
                    l.setWeights(w.get(0).values(), w.get(1).values(), w.get(2).values());
                    g.setWeights(w.get(3).values(), w.get(4).values(), w.get(5).values());
                    try (Outputs lo = l.forward(x, h1, c1); Outputs go = g.forward(lo.output(), h2)) {
                        expected[0] = go.output().toArray();
                        float[] eh1 = lo.states().get(0).toArray();
                        float[] ec1 = lo.states().get(1).toArray();
                        float[] eh2 = go.states().get(0).toArray();
                        float[][] states = reversed ? new float[][] {eh2, eh1, ec1} : new float[][] {eh1, ec1, eh2};
                        System.arraycopy(states, 0, expected, 1, 3);
                    }
                }
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals(expected[i], out.get(i).toArray(), 1e-6f, v.getKey() + " output " + i);
                    out.get(i).close();
                }
            }
        }
    }

    private static String k3Cell(String cls, String name, int units, String extra) {
        return "{'module': 'keras.layers', 'class_name': '" + cls + "', 'config': {'name': '" + name + "', 'trainable': true,"
                + " 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'},"
                + " 'registered_name': null}, 'units': " + units + ", 'activation': 'tanh', 'recurrent_activation': 'sigmoid',"
                + " 'use_bias': true, 'kernel_initializer': {'module': 'keras.initializers', 'class_name': 'GlorotUniform',"
                + " 'config': {'seed': null}, 'registered_name': null}, 'dropout': 0.0, 'recurrent_dropout': 0.0, 'seed': null"
                + extra + "}, 'registered_name': null}";
    }

    @Test
    void keras3ZipStackTakesItsCellsArraysInCellOrderNotStoreOrder() {
        // Cells LSTMCell(3), GRUCell(2), LSTMCell(2): stored as cells/lstm_cell, cells/gru_cell, cells/lstm_cell_1.
        String config = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3],"
                + " 'name': 'input_layer'}, 'registered_name': null},"
                + "{'module': 'keras.layers', 'class_name': 'RNN', 'config': {'name': 'rnn', 'trainable': true,"
                + " 'return_sequences': true, 'return_state': false, 'go_backwards': false, 'stateful': false,"
                + " 'unroll': false, 'zero_output_for_mask': false, 'cell': {'module': 'keras.layers', 'class_name':"
                + " 'StackedRNNCells', 'config': {'name': 'stacked_rnn_cells', 'trainable': true, 'cells': ["
                + k3Cell("LSTMCell", "lstm_cell", 3, ", 'unit_forget_bias': true") + ", "
                + k3Cell("GRUCell", "gru_cell", 2, ", 'reset_after': true") + ", "
                + k3Cell("LSTMCell", "lstm_cell_1", 2, ", 'unit_forget_bias': true")
                + "]}, 'registered_name': null}}, 'registered_name': null}]}, 'registered_name': null}");
        List<Array> a = List.of(random("k", 1, 3, 12), random("r", 2, 3, 12), random("b", 3, 12));
        List<Array> b = List.of(random("k", 4, 3, 6), random("r", 5, 2, 6), random("b", 6, 2, 6));
        List<Array> c = List.of(random("k", 7, 2, 8), random("r", 8, 2, 8), random("b", 9, 8));
        Map<String, List<Array>> vars = new LinkedHashMap<>();
        vars.put("rnn/cell/cells/lstm_cell", a);
        vars.put("rnn/cell/cells/gru_cell", b);
        vars.put("rnn/cell/cells/lstm_cell_1", c);
        Path file = KerasFixtures.writeKeras(tmp.resolve("stack.keras"), config, "3.4.1", vars);
        try (Sequential m = KerasModels.load(file); Tensor x = FunctionalModelTest.randomTensor(5, 2, 5, 3)) {
            StackedRNNCells stack = assertInstanceOf(StackedRNNCells.class, ((RNN) m.layers().get(0)).cell());
            assertFalse(stack.reverseStateOrder());
            assertTrue(assertInstanceOf(GRUCell.class, stack.cells().get(1)).resetAfter());
            assertArrayEquals(new int[] {5, 2}, m.outputShape());
            float[] expected;
            try (LSTM l1 = LSTM.builder().units(3).returnSequences(true).build();
                 GRU g = GRU.builder().units(2).resetAfter(true).returnSequences(true).build();
                 LSTM l2 = LSTM.builder().units(2).returnSequences(true).build()) {
                l1.setWeights(a.get(0).values(), a.get(1).values(), a.get(2).values());
                g.setWeights(b.get(0).values(), b.get(1).values(), b.get(2).values());
                l2.setWeights(c.get(0).values(), c.get(1).values(), c.get(2).values());
                for (var l : List.of(l1, g, l2)) {
                    l.useBackend(ReferenceBackend.instance());
                }
                try (Tensor y1 = l1.apply(x); Tensor y2 = g.apply(y1); Tensor y3 = l2.apply(y2)) {
                    expected = y3.toArray();
                }
            }
            for (Backend backend : TestBackends.all()) {
                m.useBackend(backend);
                try (Tensor y = m.forward(x)) {
                    assertArrayEquals(expected, y.toArray(), 2e-6f, backend.name());
                }
            }
        }
    }

    private static String bidirectional(String inner, String backward) {
        return q("{'class_name': 'Sequential', 'config': [{'class_name': 'Bidirectional', 'config': {'name': 'bi',"
                + " 'batch_input_shape': [null, 4, 3], 'merge_mode': 'concat', 'layer': " + inner
                + (backward == null ? "" : ", 'backward_layer': " + backward) + "}}]}");
    }

    private static String gruLayer(String name, boolean backwards) {
        return "{'class_name': 'GRU', 'config': {'name': '" + name + "', 'units': 2, 'recurrent_activation': 'sigmoid',"
                + " 'reset_after': false, 'return_sequences': true, 'go_backwards': " + backwards + "}}";
    }

    private static String gruRnn(String name, boolean backwards) {
        return "{'class_name': 'RNN', 'config': {'name': '" + name + "', 'return_sequences': true, 'go_backwards': " + backwards
                + ", 'cell': {'class_name': 'GRUCell', 'config': {'name': 'gru_cell', 'units': 2, 'recurrent_activation':"
                + " 'sigmoid', 'reset_after': false}}}}";
    }

    @Test
    void bidirectionalOverRnnWithACellRunsLikeBidirectionalOverTheLayer() {
        Map<String, List<Array>> w = Map.of("bi", List.of(random("bi/forward_rnn/kernel:0", 1, 3, 6),
                random("bi/forward_rnn/recurrent_kernel:0", 2, 2, 6), random("bi/forward_rnn/bias:0", 3, 6),
                random("bi/backward_rnn/kernel:0", 4, 3, 6), random("bi/backward_rnn/recurrent_kernel:0", 5, 2, 6),
                random("bi/backward_rnn/bias:0", 6, 6)));
        Path cellFile = KerasFixtures.writeH5(tmp.resolve("bicell.h5"), bidirectional(gruRnn("rnn", false), null), "2.2.4", w);
        Path layerFile = KerasFixtures.writeH5(tmp.resolve("bigru.h5"), bidirectional(gruLayer("rnn", false), null), "2.2.4", w);
        // tf.keras / Keras 3 style with an explicit backward RNN.
        Path explicit = KerasFixtures.writeH5(tmp.resolve("biexplicit.h5"),
                bidirectional(gruRnn("forward_rnn", false), gruRnn("backward_rnn", true)), "2.10.0", w);
        try (Sequential cells = KerasModels.load(cellFile); Sequential layers = KerasModels.load(layerFile);
             Sequential tf = KerasModels.load(explicit); Tensor x = FunctionalModelTest.randomTensor(3, 2, 4, 3)) {
            Bidirectional bi = assertInstanceOf(Bidirectional.class, cells.layers().get(0));
            assertInstanceOf(GRU.class, bi.forwardLayer());
            assertTrue(bi.backwardLayer().goBackwards());
            assertEquals("backward_rnn", assertInstanceOf(Bidirectional.class, tf.layers().get(0)).backwardLayer().name());
            for (Backend backend : TestBackends.all()) {
                cells.useBackend(backend);
                layers.useBackend(backend);
                tf.useBackend(backend);
                try (Tensor a = cells.forward(x); Tensor b = layers.forward(x); Tensor c = tf.forward(x)) {
                    assertArrayEquals(new int[] {2, 4, 4}, a.shape());
                    assertArrayEquals(b.toArray(), a.toArray(), 0f, backend.name());
                    assertArrayEquals(b.toArray(), c.toArray(), 0f, backend.name());
                }
            }
        }
        assertTrue(KerasModels.inspect(cellFile).describe().contains("RNN(GRUCell)"), KerasModels.inspect(cellFile).describe());
    }

    @Test
    void zeroOutputForMaskDecidesWhatMaskedStepsReturn() {
        String cell = "{'class_name': 'SimpleRNNCell', 'config': {'name': 'simple_rnn_cell', 'units': 2, 'activation': 'tanh'}}";
        float[] x = new float[2 * 5 * 3];
        SplittableRandom rng = new SplittableRandom(4);
        for (int n = 0; n < 2; n++) {
            for (int t = 0; t < (n == 0 ? 5 : 3); t++) {
                for (int i = 0; i < 3; i++) {
                    x[(n * 5 + t) * 3 + i] = (float) (rng.nextDouble() + 0.1);
                }
            }
        }
        for (boolean zero : List.of(true, false)) {
            String config = q("{'class_name': 'Sequential', 'config': [{'class_name': 'Masking', 'config': {'name': 'mask',"
                    + " 'mask_value': 0.0, 'batch_input_shape': [null, 5, 3]}}, {'class_name': 'RNN', 'config': {'name': 'rnn',"
                    + " 'return_sequences': true, 'zero_output_for_mask': " + zero + ", 'cell': " + cell + "}}]}");
            Path file = KerasFixtures.writeH5(tmp.resolve("z" + zero + ".h5"), config, "2.10.0", Map.of("rnn",
                    List.of(random("rnn/kernel:0", 1, 3, 2), random("rnn/recurrent_kernel:0", 2, 2, 2), random("rnn/bias:0", 3, 2))));
            try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(x, 2, 5, 3)) {
                assertInstanceOf(SimpleRNNCell.class, ((RNN) m.layers().get(0 + 1)).cell());
                assertEquals(zero, ((RNN) m.layers().get(1)).zeroOutputForMask());
                for (Backend backend : TestBackends.all()) {
                    m.useBackend(backend);
                    try (Tensor y = m.forward(in)) {
                        float[] v = y.toArray();
                        for (int t = 3; t < 5; t++) {
                            for (int j = 0; j < 2; j++) {
                                float masked = v[(5 + t) * 2 + j];
                                float lastValid = v[(5 + 2) * 2 + j];
                                assertEquals(zero ? 0f : lastValid, masked, 0f, backend.name() + " t=" + t);
                            }
                        }
                        assertTrue(v[(5 + 2) * 2] != 0f);
                    }
                }
            }
        }
    }

    @Test
    void unsupportedAndMalformedRnnConfigsAreRefusedByName() {
        Map<String, List<Array>> w = Map.of("rnn_1", lstmArrays("rnn_1/", 3, 4, 1));
        Path peephole = KerasFixtures.writeH5(tmp.resolve("peep.h5"), sequentialRnn(LSTM_CELL_K2.replace("'LSTMCell'",
                "'PeepholeLSTMCell'"), ""), "2.10.0", w);
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(peephole)),
                peephole.toString(), "'rnn_1'", "RNN", "PeepholeLSTMCell", "LSTMCell, GRUCell, SimpleRNNCell");
        Path timeMajor = KerasFixtures.writeH5(tmp.resolve("tm.h5"), sequentialRnn(LSTM_CELL_K2, ", 'time_major': true"),
                "2.10.0", w);
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(timeMajor)),
                "'rnn_1'", "time_major");
        Path badAct = KerasFixtures.writeH5(tmp.resolve("act.h5"), sequentialRnn(LSTM_CELL_K2.replace("'tanh'", "'swishy'"), ""),
                "2.10.0", w);
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(badAct)),
                "'rnn_1'", "lstm_cell_1", "swishy");
        Path noCell = KerasFixtures.writeH5(tmp.resolve("nocell.h5"), q("{'class_name': 'Sequential', 'config': [{'class_name':"
                + " 'RNN', 'config': {'name': 'rnn_1', 'batch_input_shape': [null, 5, 3]}}]}"), "2.10.0", w);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(noCell)), "'rnn_1'", "'cell'");
        // Wrong kernel rows for the second cell of a stack: named by cell.
        String stack = "{'class_name': 'StackedRNNCells', 'config': {'cells': [" + LSTM_CELL_K2 + ", " + LSTM_CELL_K2
                .replace("lstm_cell_1", "lstm_cell_2") + "]}}";
        List<Array> two = new ArrayList<>(lstmArrays("rnn_1/", 3, 4, 1));
        two.addAll(lstmArrays("rnn_1/x_", 5, 4, 9));
        Path badShape = KerasFixtures.writeH5(tmp.resolve("shape.h5"), sequentialRnn(stack, ""), "2.10.0", Map.of("rnn_1", two));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(badShape)), "'rnn_1'",
                "cell 1", "lstm_cell_2", "kernel", "[5, 16]", "[4, 16]");
        Path missing = KerasFixtures.writeH5(tmp.resolve("missing.h5"), sequentialRnn(stack, ""), "2.10.0", w);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(missing)), "'rnn_1'",
                "expected 6 weight arrays", "lstm_cell_2");
        // A stack inside a Bidirectional has no equivalent layer.
        Path biStack = KerasFixtures.writeH5(tmp.resolve("bistack.h5"), bidirectional("{'class_name': 'RNN', 'config': {'name':"
                + " 'rnn', 'return_sequences': true, 'cell': " + stack + "}}", null), "2.10.0", Map.of());
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(biStack)),
                "'bi'", "Bidirectional", "RNN 'rnn'", "StackedRNNCells");
    }
}
