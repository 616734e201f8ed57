package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.CuDNNGRU;
import io.jrnn.layers.CuDNNLSTM;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Flatten;
import io.jrnn.layers.GlobalPooling1D;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RepeatVector;
import io.jrnn.layers.Reshape;
import io.jrnn.layers.SpatialDropout1D;
import io.jrnn.layers.TimeDistributed;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasCudnnWeights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing Bidirectional, TimeDistributed, CuDNN layers and the small layers, from synthetic files. */
class KerasWrappersImportTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    private static float[] input(int n) {
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextDouble() * 4 - 2);
        }
        return x;
    }

    private static String bidirectionalConfig(String mergeMode) {
        return q("{'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
                + "{'class_name': 'Bidirectional', 'config': {'name': 'bidirectional_1', 'trainable': true,"
                + " 'batch_input_shape': [null, 4, 3], 'merge_mode': " + mergeMode + ", 'layer': {'class_name': 'LSTM',"
                + " 'config': {'name': 'lstm_1', 'units': 2, 'activation': 'tanh', 'recurrent_activation': 'sigmoid',"
                + " 'return_sequences': true, 'go_backwards': false}}}},"
                + "{'class_name': 'TimeDistributed', 'config': {'name': 'time_distributed_1', 'layer': {'class_name': 'Dense',"
                + " 'config': {'name': 'dense_1', 'units': 3, 'activation': 'linear'}}}}]}}");
    }

    private static Map<String, List<Array>> bidirectionalWeights() {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("bidirectional_1", List.of(random("bidirectional_1/forward_lstm_1/kernel:0", 1, 3, 8),
                random("bidirectional_1/forward_lstm_1/recurrent_kernel:0", 2, 2, 8),
                random("bidirectional_1/forward_lstm_1/bias:0", 3, 8),
                random("bidirectional_1/backward_lstm_1/kernel:0", 4, 3, 8),
                random("bidirectional_1/backward_lstm_1/recurrent_kernel:0", 5, 2, 8),
                random("bidirectional_1/backward_lstm_1/bias:0", 6, 8)));
        w.put("time_distributed_1", List.of(random("time_distributed_1/kernel:0", 7, 4, 3),
                random("time_distributed_1/bias:0", 8, 3)));
        return w;
    }

    @Test
    void keras2BidirectionalAndTimeDistributedLoadAndMatchAHandComposition() {
        Map<String, List<Array>> w = bidirectionalWeights();
        Path file = KerasFixtures.writeH5(tmp.resolve("bi.h5"), bidirectionalConfig("'concat'"), "2.2.4", w);
        float[] x = input(2 * 4 * 3);
        try (Sequential m = KerasModels.load(file)) {
            Bidirectional bi = assertInstanceOf(Bidirectional.class, m.layers().get(0));
            assertEquals(Bidirectional.MergeMode.CONCAT, bi.mergeMode());
            assertFalse(bi.zeroOutputForMask(), "standalone Keras 2.2.4 carries masked outputs");
            assertEquals("forward_lstm_1", bi.forwardLayer().name());
            assertEquals("backward_lstm_1", bi.backwardLayer().name());
            assertTrue(bi.backwardLayer().goBackwards());
            assertArrayEquals(w.get("bidirectional_1").get(0).values(), bi.forwardLayer().weights().kernel(), 0f);
            assertArrayEquals(w.get("bidirectional_1").get(3).values(), bi.backwardLayer().weights().kernel(), 0f);
            TimeDistributed td = assertInstanceOf(TimeDistributed.class, m.layers().get(1));
            assertInstanceOf(Dense.class, td.layer());
            assertArrayEquals(new int[] {4, 3}, m.outputShape());

            // By hand: forward LSTM, backward LSTM flipped back, concat, Dense on every step.
            float[] expected;
            List<Array> a = w.get("bidirectional_1");
            try (LSTM f = LSTM.builder().units(2).returnSequences(true).build();
                 LSTM b = LSTM.builder().units(2).returnSequences(true).goBackwards(true).build();
                 Dense d = Dense.builder().units(3).build();
                 Tensor in = Tensor.of(x, 2, 4, 3)) {
                f.useBackend(ReferenceBackend.instance());
                b.useBackend(ReferenceBackend.instance());
                f.setWeights(a.get(0).values(), a.get(1).values(), a.get(2).values());
                b.setWeights(a.get(3).values(), a.get(4).values(), a.get(5).values());
                d.setWeights(w.get("time_distributed_1").get(0).values(), w.get("time_distributed_1").get(1).values());
                float[] yf;
                float[] yb;
                try (Tensor tf = f.apply(in); Tensor tb = b.apply(in)) {
                    yf = tf.toArray();
                    yb = tb.toArray();
                }
                float[] cat = new float[2 * 4 * 4];
                for (int n = 0; n < 2; n++) {
                    for (int t = 0; t < 4; t++) {
                        System.arraycopy(yf, (n * 4 + t) * 2, cat, (n * 4 + t) * 4, 2);
                        System.arraycopy(yb, (n * 4 + 3 - t) * 2, cat, (n * 4 + t) * 4 + 2, 2);
                    }
                }
                try (Tensor c = Tensor.of(cat, 2, 4, 4); Tensor y = d.apply(c)) {
                    expected = y.toArray();
                }
            }
            m.useBackend(ReferenceBackend.instance());
            try (Tensor in = Tensor.of(x, 2, 4, 3); Tensor y = m.forward(in)) {
                assertArrayEquals(new int[] {2, 4, 3}, y.shape());
                assertArrayEquals(expected, y.toArray(), 1e-6f);
            }
        }
        ModelInfo info = KerasModels.inspect(file);
        assertTrue(info.loadable(), info.describe());
        assertTrue(info.describe().contains("merge_mode=concat"), info.describe());
        assertTrue(info.describe().contains("backward=LSTM 'backward_lstm_1'"), info.describe());
        assertTrue(info.describe().contains("go_backwards=true"), info.describe());
    }

    @Test
    void tfKerasAndKeras3FilesZeroMaskedBidirectionalOutputs() {
        Map<String, List<Array>> narrow = bidirectionalWeights();
        // ave keeps the width (2), so the TimeDistributed kernel is [2, 3].
        narrow.put("time_distributed_1", List.of(random("time_distributed_1/kernel:0", 7, 2, 3),
                random("time_distributed_1/bias:0", 8, 3)));
        for (String version : List.of("2.2.4-tf", "2.10.0", "3.1.0")) {
            Path file = KerasFixtures.writeH5(tmp.resolve("v" + version + ".h5"), bidirectionalConfig("'ave'"), version, narrow);
            try (Sequential m = KerasModels.load(file)) {
                Bidirectional bi = (Bidirectional) m.layers().get(0);
                assertTrue(bi.zeroOutputForMask(), version);
                assertEquals(Bidirectional.MergeMode.AVE, bi.mergeMode());
            }
        }
        Path none = KerasFixtures.writeH5(tmp.resolve("none.h5"), bidirectionalConfig("null"), "1.2.2", bidirectionalWeights());
        try (Sequential m = KerasModels.load(none)) {
            Bidirectional bi = (Bidirectional) m.layers().get(0);
            assertEquals(Bidirectional.MergeMode.NONE, bi.mergeMode());
            assertFalse(bi.zeroOutputForMask());
        }
    }

    @Test
    void unknownMergeModeIsRefusedListingTheValidOnes() {
        Path file = KerasFixtures.writeH5(tmp.resolve("max.h5"), bidirectionalConfig("'max'"), "2.2.4", bidirectionalWeights());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "bidirectional_1", "merge_mode", "max", "concat", "sum", "mul", "ave", "null");
    }

    @Test
    void bidirectionalOverANonRecurrentLayerIsRefusedByName() {
        String config = q("{'class_name': 'Sequential', 'config': [{'class_name': 'Bidirectional', 'config': {'name': 'bi',"
                + " 'batch_input_shape': [null, 4, 3], 'layer': {'class_name': 'Dense', 'config': {'name': 'd', 'units': 2}}}}]}");
        Path file = KerasFixtures.writeH5(tmp.resolve("bidense.h5"), config, "2.2.4", Map.of());
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "'bi'", "Bidirectional", "Dense", "LSTM, GRU, SimpleRNN");
        String badInner = q("{'class_name': 'Sequential', 'config': [{'class_name': 'Bidirectional', 'config': {'name': 'bi',"
                + " 'batch_input_shape': [null, 4, 3], 'layer': {'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2,"
                + " 'activation': 'swishy'}}}}]}");
        Path bad = KerasFixtures.writeH5(tmp.resolve("badinner.h5"), badInner, "2.2.4", Map.of());
        assertMentions(assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.load(bad)),
                bad.toString(), "'bi'", "swishy");
    }

    @Test
    void oddWeightCountForBidirectionalIsAShapeError() {
        Map<String, List<Array>> w = bidirectionalWeights();
        w.put("bidirectional_1", w.get("bidirectional_1").subList(0, 5));
        Path file = KerasFixtures.writeH5(tmp.resolve("odd.h5"), bidirectionalConfig("'concat'"), "2.2.4", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "bidirectional_1", "even number", "5");
    }

    @Test
    void keras3ZipBidirectionalTakesForwardLayerArraysFirst() {
        String config = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 4, 3],"
                + " 'name': 'input_layer'}, 'registered_name': null},"
                + "{'module': 'keras.layers', 'class_name': 'Bidirectional', 'config': {'name': 'bidirectional',"
                + " 'merge_mode': 'concat', 'layer': {'module': 'keras.layers', 'class_name': 'GRU', 'config': {'name':"
                + " 'forward_gru', 'units': 2, 'go_backwards': false, 'zero_output_for_mask': false}, 'registered_name': null},"
                + " 'backward_layer': {'module': 'keras.layers', 'class_name': 'GRU', 'config': {'name': 'backward_gru',"
                + " 'units': 2, 'go_backwards': true, 'zero_output_for_mask': false}, 'registered_name': null}},"
                + " 'registered_name': null}]}, 'registered_name': null}");
        Map<String, List<Array>> vars = new LinkedHashMap<>();
        List<Array> fwd = List.of(random("k", 1, 3, 6), random("r", 2, 2, 6), random("b", 3, 2, 6));
        List<Array> bwd = List.of(random("k", 4, 3, 6), random("r", 5, 2, 6), random("b", 6, 2, 6));
        vars.put("bidirectional/forward_layer/cell", fwd);
        vars.put("bidirectional/backward_layer/cell", bwd);
        Path file = KerasFixtures.writeKeras(tmp.resolve("bi.keras"), config, "3.4.1", vars);
        try (Sequential m = KerasModels.load(file)) {
            Bidirectional bi = assertInstanceOf(Bidirectional.class, m.layers().get(0));
            assertEquals("forward_gru", bi.forwardLayer().name());
            assertEquals("backward_gru", bi.backwardLayer().name());
            assertTrue(bi.forwardLayer().resetAfter());
            assertArrayEquals(fwd.get(0).values(), bi.forwardLayer().weights().kernel(), 0f);
            assertArrayEquals(bwd.get(1).values(), bi.backwardLayer().weights().recurrentKernel(), 0f);
            assertTrue(bi.zeroOutputForMask());
            m.useBackend(ReferenceBackend.instance());
            try (Tensor in = Tensor.of(input(4 * 3), 1, 4, 3); Tensor y = m.forward(in)) {
                assertArrayEquals(new int[] {1, 4}, y.shape());
            }
        }
    }

    @Test
    void cudnnLayersLoadWithConvertedWeights() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
                + "{'class_name': 'Bidirectional', 'config': {'name': 'bidirectional', 'batch_input_shape': [null, 5, 3],"
                + " 'merge_mode': 'concat', 'layer': {'class_name': 'CuDNNLSTM', 'config': {'name': 'cu_dnnlstm', 'units': 2,"
                + " 'return_sequences': true, 'return_state': false, 'go_backwards': false, 'stateful': false,"
                + " 'time_major': false, 'unit_forget_bias': true, 'kernel_initializer': {'class_name': 'GlorotUniform',"
                + " 'config': {'seed': null}}, 'kernel_regularizer': null}}}},"
                + "{'class_name': 'CuDNNGRU', 'config': {'name': 'cu_dnngru', 'units': 3}}]}}");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        List<Array> bi = List.of(random("bidirectional/forward_cu_dnnlstm/kernel:0", 1, 3, 8),
                random("bidirectional/forward_cu_dnnlstm/recurrent_kernel:0", 2, 2, 8),
                random("bidirectional/forward_cu_dnnlstm/bias:0", 3, 16),
                random("bidirectional/backward_cu_dnnlstm/kernel:0", 4, 3, 8),
                random("bidirectional/backward_cu_dnnlstm/recurrent_kernel:0", 5, 2, 8),
                random("bidirectional/backward_cu_dnnlstm/bias:0", 6, 16));
        w.put("bidirectional", bi);
        List<Array> gru = List.of(random("cu_dnngru/kernel:0", 7, 4, 9), random("cu_dnngru/recurrent_kernel:0", 8, 3, 9),
                random("cu_dnngru/bias:0", 9, 18));
        w.put("cu_dnngru", gru);
        Path file = KerasFixtures.writeH5(tmp.resolve("cudnn.h5"), config, "2.7.0", w);
        try (Sequential m = KerasModels.load(file)) {
            Bidirectional b = assertInstanceOf(Bidirectional.class, m.layers().get(0));
            CuDNNLSTM fwd = assertInstanceOf(CuDNNLSTM.class, b.forwardLayer());
            assertInstanceOf(CuDNNLSTM.class, b.backwardLayer());
            assertEquals(KerasCudnnWeights.of(CellType.LSTM, 3, 2, bi.get(3).values(), bi.get(4).values(), bi.get(5).values())
                    .toKeras(), b.backwardLayer().weights());
            assertEquals(KerasCudnnWeights.of(CellType.LSTM, 3, 2, bi.get(0).values(), bi.get(1).values(), bi.get(2).values())
                    .toKeras(), fwd.weights());
            CuDNNGRU g = assertInstanceOf(CuDNNGRU.class, m.layers().get(1));
            assertEquals(KerasCudnnWeights.of(CellType.GRU, 4, 3, gru.get(0).values(), gru.get(1).values(), gru.get(2).values())
                    .toKeras(), g.weights());
            m.useBackend(ReferenceBackend.instance());
            try (Tensor in = Tensor.of(input(2 * 5 * 3), 2, 5, 3); Tensor y = m.forward(in)) {
                assertArrayEquals(new int[] {2, 3}, y.shape());
            }
        }
        assertTrue(KerasModels.inspect(file).describe().contains("LSTM(tanh, sigmoid)"));
    }

    @Test
    void cudnnBiasOfTheStandardSizeIsAShapeError() {
        String config = q("{'class_name': 'Sequential', 'config': [{'class_name': 'CuDNNLSTM', 'config': {'name': 'c',"
                + " 'units': 2, 'batch_input_shape': [null, 5, 3]}}]}");
        Map<String, List<Array>> w = Map.of("c", List.of(random("c/kernel:0", 1, 3, 8), random("c/recurrent_kernel:0", 2, 2, 8),
                random("c/bias:0", 3, 8)));
        Path file = KerasFixtures.writeH5(tmp.resolve("cb.h5"), config, "2.2.4", w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(file));
        assertMentions(e, file.toString(), "'c'", "CuDNNLSTM", "bias", "[8]", "[16]");
    }

    @Test
    void smallLayersAroundRnnsLoad() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
                + "{'class_name': 'SpatialDropout1D', 'config': {'name': 'sd', 'rate': 0.2, 'batch_input_shape': [null, 6, 3]}},"
                + "{'class_name': 'LSTM', 'config': {'name': 'enc', 'units': 2, 'recurrent_activation': 'sigmoid'}},"
                + "{'class_name': 'RepeatVector', 'config': {'name': 'rep', 'n': 4}},"
                + "{'class_name': 'LSTM', 'config': {'name': 'dec', 'units': 2, 'return_sequences': true,"
                + " 'recurrent_activation': 'sigmoid'}},"
                + "{'class_name': 'GlobalAveragePooling1D', 'config': {'name': 'gap', 'data_format': 'channels_last'}},"
                + "{'class_name': 'Reshape', 'config': {'name': 'rs', 'target_shape': [2, 1]}},"
                + "{'class_name': 'Flatten', 'config': {'name': 'fl', 'data_format': 'channels_last'}},"
                + "{'class_name': 'GlobalMaxPooling1D', 'config': {'name': 'unused_check', 'data_format': 'channels_last'}}"
                + "]}}");
        // GlobalMaxPooling1D after Flatten would get rank 2: keep it out of the run, check its mapping only.
        String runnable = config.replace(q(",{'class_name': 'GlobalMaxPooling1D', 'config': {'name': 'unused_check',"
                + " 'data_format': 'channels_last'}}"), "");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("enc", List.of(random("enc/kernel:0", 1, 3, 8), random("enc/recurrent_kernel:0", 2, 2, 8), random("enc/bias:0", 3, 8)));
        w.put("dec", List.of(random("dec/kernel:0", 4, 2, 8), random("dec/recurrent_kernel:0", 5, 2, 8), random("dec/bias:0", 6, 8)));
        Path file = KerasFixtures.writeH5(tmp.resolve("small.h5"), runnable, "2.2.4", w);
        try (Sequential m = KerasModels.load(file)) {
            assertInstanceOf(SpatialDropout1D.class, m.layers().get(0));
            assertEquals(4, assertInstanceOf(RepeatVector.class, m.layers().get(2)).repeats());
            assertEquals(GlobalPooling1D.Kind.AVERAGE, assertInstanceOf(GlobalPooling1D.class, m.layers().get(4)).kind());
            assertArrayEquals(new int[] {2, 1}, assertInstanceOf(Reshape.class, m.layers().get(5)).targetShape());
            assertInstanceOf(Flatten.class, m.layers().get(6));
            assertArrayEquals(new int[] {2}, m.outputShape());
            m.useBackend(ReferenceBackend.instance());
            try (Tensor in = Tensor.of(input(2 * 6 * 3), 2, 6, 3); Tensor y = m.forward(in)) {
                assertArrayEquals(new int[] {2, 2}, y.shape());
            }
        }
        Path all = KerasFixtures.writeH5(tmp.resolve("all.h5"), config, "2.2.4", w);
        ModelInfo info = KerasModels.inspect(all);
        assertTrue(info.layers().stream().allMatch(l -> l.problem() == null), info.describe());
        String badFormat = runnable.replace("'channels_last'".replace('\'', '"'), q("'channels_middle'"));
        Path bad = KerasFixtures.writeH5(tmp.resolve("bad.h5"), badFormat, "2.2.4", w);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasModels.load(bad)), bad.toString(), "'gap'",
                "data_format", "channels_middle");
    }
}
