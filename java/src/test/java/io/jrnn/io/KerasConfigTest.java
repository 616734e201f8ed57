package io.jrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasConfig.KerasVersion;
import io.jrnn.io.KerasConfig.LayerSpec;
import io.jrnn.io.KerasConfig.ModelSpec;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Dense;
import io.jrnn.layers.GRU;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure-JSON half of the importer: dialects, key renames, defaults, and refusals. */
class KerasConfigTest {
    private static final String SRC = "test.h5";

    private static KerasConfig config(String version) {
        return new KerasConfig(SRC, KerasVersion.parse(version), HardSigmoid.forKerasVersion(version));
    }

    private static Layer build(String version, String layerJson) {
        ModelSpec m = KerasConfig.parseModel("{\"class_name\": \"Sequential\", \"config\": [" + layerJson + "]}", SRC);
        return config(version).resolve(m.layers().get(0)).build(-1);
    }

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    @Test
    void versionsParseIncludingTfSuffix() {
        KerasVersion v = KerasVersion.parse("2.2.4-tf");
        assertEquals(2, v.major());
        assertEquals(2, v.minor());
        assertEquals(4, v.patch());
        assertTrue(v.before(2, 3, 0));
        assertFalse(KerasVersion.parse("3.13.2").before(2, 3, 0));
        assertFalse(KerasVersion.parse(null).known());
        assertFalse(KerasVersion.parse("unknown").known());
    }

    @Test
    void bareListSequentialTakesInputShapeFromFirstLayer() {
        ModelSpec m = KerasConfig.parseModel(q("{'class_name': 'Sequential', 'config': [{'class_name': 'LSTM', 'config':"
                + " {'name': 'lstm_3', 'batch_input_shape': [null, 1, 200], 'units': 100}}]}"), SRC);
        assertNull(m.name());
        assertArrayEquals(new int[] {1, 200}, m.inputShape());
        assertNull(m.batchSize());
        assertEquals("lstm_3", m.layers().get(0).name());
    }

    @Test
    void keras3InputLayerBatchShapeAndDtypePolicy() {
        ModelSpec m = KerasConfig.parseModel(q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 's',"
                + " 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}},"
                + " 'layers': [{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [8, 50],"
                + " 'dtype': 'int32', 'name': 'input_layer'}, 'registered_name': null},"
                + " {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'dense', 'units': 3,"
                + " 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}},"
                + " 'activation': 'relu'}, 'registered_name': null}]}}"), SRC);
        assertEquals("s", m.name());
        assertArrayEquals(new int[] {50}, m.inputShape());
        assertEquals(8, m.batchSize());
        assertEquals(1, m.layers().size());
        Dense d = (Dense) config("3.4.1").resolve(m.layers().get(0)).build(8);
        assertEquals(Activation.RELU, d.activation());
    }

    @Test
    void keras3BuildConfigGivesTheInputShapeWithoutInputLayer() {
        ModelSpec m = KerasConfig.parseModel(q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
                + "{'class_name': 'GRU', 'config': {'name': 'gru', 'units': 4}, 'build_config': {'input_shape': [null, 7, 3]}}]}}"),
                SRC);
        assertArrayEquals(new int[] {7, 3}, m.inputShape());
    }

    @Test
    void keras1KeysAreRenamed() {
        RecurrentLayer gru = (RecurrentLayer) build("1.1.1", q("{'class_name': 'GRU', 'config': {'name': 'gru_1',"
                + " 'output_dim': 256, 'inner_activation': 'hard_sigmoid', 'activation': 'sigmoid', 'init': 'glorot_uniform',"
                + " 'inner_init': 'orthogonal', 'dropout_W': 0.25, 'dropout_U': 0.5, 'consume_less': 'gpu',"
                + " 'W_regularizer': null, 'U_regularizer': null, 'b_regularizer': null, 'input_dim': 64,"
                + " 'input_length': null, 'return_sequences': true, 'go_backwards': false, 'stateful': false, 'unroll': false,"
                + " 'trainable': true}}"));
        assertEquals(256, gru.units());
        assertEquals(Activation.SIGMOID, gru.activation());
        assertEquals(Activation.HARD_SIGMOID_KERAS2, gru.recurrentActivation());
        assertFalse(gru.resetAfter(), "Keras 1 GRU is reset-before");
        assertTrue(gru.returnSequences());
        assertEquals(0.25, gru.trainingOptions().dropout());
        assertEquals(0.5, gru.trainingOptions().recurrentDropout());
        assertEquals("glorot_uniform", gru.trainingOptions().kernelInitializer());
        assertEquals(2, gru.trainingOptions().implementation(), "consume_less='gpu' → implementation 2");

        LSTM lstm = (LSTM) build("1.2.2", q("{'class_name': 'LSTM', 'config': {'name': 'l', 'output_dim': 3,"
                + " 'forget_bias_init': 'zero'}}"));
        assertFalse(lstm.unitForgetBias());
        assertEquals(Activation.HARD_SIGMOID_KERAS2, lstm.recurrentActivation(), "Keras 1 default inner_activation");

        Dense dense = (Dense) build("1.2.2", q("{'class_name': 'Dense', 'config': {'name': 'd', 'output_dim': 5, 'bias': false,"
                + " 'activation': 'softmax', 'W_constraint': null}}"));
        assertEquals(5, dense.units());
        assertFalse(dense.useBias());
    }

    @Test
    void defaultsOfAbsentKeysFollowTheFileVersion() {
        String gru = q("{'class_name': 'GRU', 'config': {'name': 'g', 'units': 2}}");
        GRU k204 = (GRU) build("2.0.4", gru);
        assertFalse(k204.resetAfter());
        assertEquals(Activation.HARD_SIGMOID_KERAS2, k204.recurrentActivation());
        assertEquals(0, k204.trainingOptions().implementation());
        GRU k231 = (GRU) build("2.3.1", gru);
        assertFalse(k231.resetAfter(), "a 2.x file without the key predates reset_after");
        assertEquals(Activation.SIGMOID, k231.recurrentActivation());
        GRU k3 = (GRU) build("3.13.2", gru);
        assertTrue(k3.resetAfter());
        assertEquals(Activation.SIGMOID, k3.recurrentActivation());
    }

    @Test
    void hardSigmoidVariantFollowsTheGivenChoice() {
        String lstm = q("{'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2, 'recurrent_activation': 'hard_sigmoid'}}");
        assertEquals(Activation.HARD_SIGMOID_KERAS2, ((LSTM) build("2.2.2", lstm)).recurrentActivation());
        assertEquals(Activation.HARD_SIGMOID_KERAS3, ((LSTM) build("3.0.0", lstm)).recurrentActivation());
        ModelSpec m = KerasConfig.parseModel("{\"class_name\": \"Sequential\", \"config\": [" + lstm + "]}", SRC);
        KerasConfig forced = new KerasConfig(SRC, KerasVersion.parse("2.2.2"), HardSigmoid.KERAS3);
        assertEquals(Activation.HARD_SIGMOID_KERAS3, ((LSTM) forced.resolve(m.layers().get(0)).build(-1)).recurrentActivation());
    }

    @Test
    void serializedActivationDictsAreRead() {
        SimpleRNN rnn = (SimpleRNN) build("3.1.0", q("{'class_name': 'SimpleRNN', 'config': {'name': 'r', 'units': 2,"
                + " 'activation': {'module': 'keras.activations', 'class_name': 'function', 'config': 'relu',"
                + " 'registered_name': 'function'}}}"));
        assertEquals(Activation.RELU, rnn.activation());
    }

    @Test
    void trainingOnlyArgumentsAreKept() {
        LSTM l = (LSTM) build("3.4.1", q("{'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2, 'dropout': 0.1,"
                + " 'recurrent_dropout': 0.2, 'unroll': true, 'kernel_initializer': {'module': 'keras.initializers',"
                + " 'class_name': 'GlorotUniform', 'config': {'seed': null}}, 'recurrent_initializer': {'class_name':"
                + " 'OrthogonalInitializer', 'config': {'gain': 1.0}}, 'kernel_regularizer': {'module': 'keras.regularizers',"
                + " 'class_name': 'L2', 'config': {'l2': 0.01}}, 'seed': 7}}"));
        RecurrentLayer.TrainingOptions t = l.trainingOptions();
        assertEquals(0.1, t.dropout());
        assertEquals(0.2, t.recurrentDropout());
        assertTrue(t.unroll());
        assertEquals("GlorotUniform", t.kernelInitializer());
        assertEquals("OrthogonalInitializer", t.recurrentInitializer());
        assertEquals("zeros", t.biasInitializer());
        assertInstanceOf(java.util.Map.class, t.kernelRegularizer());
        assertEquals(2, t.implementation());
    }

    @Test
    void statefulLayersGetTheBatchSize() {
        ModelSpec m = KerasConfig.parseModel(q("{'class_name': 'Sequential', 'config': [{'class_name': 'LSTM', 'config':"
                + " {'name': 'l', 'batch_input_shape': [4, 3, 2], 'units': 5, 'stateful': true}}, {'class_name': 'GRU',"
                + " 'config': {'name': 'g', 'units': 5, 'stateful': false}}]}"), SRC);
        assertEquals(4, m.batchSize());
        KerasConfig c = config("2.2.4");
        RecurrentLayer stateful = (RecurrentLayer) c.resolve(m.layers().get(0)).build(m.batchSize());
        RecurrentLayer stateless = (RecurrentLayer) c.resolve(m.layers().get(1)).build(m.batchSize());
        assertTrue(stateful.stateful());
        assertEquals(4, stateful.batchSize());
        assertNull(stateless.batchSize());
    }

    @Test
    void refusalsNameFileLayerClassAndKey() {
        UnsupportedConfigurationException timeMajor = assertThrows(UnsupportedConfigurationException.class,
                () -> build("2.4.0", q("{'class_name': 'LSTM', 'config': {'name': 'tm', 'units': 2, 'time_major': true}}")));
        assertMentions(timeMajor, SRC, "'tm'", "LSTM", "time_major");

        UnsupportedConfigurationException unknownAct = assertThrows(UnsupportedConfigurationException.class,
                () -> build("3.4.1", q("{'class_name': 'GRU', 'config': {'name': 'g', 'units': 2, 'activation': 'gelu'}}")));
        assertMentions(unknownAct, SRC, "'g'", "GRU", "activation", "gelu");

        UnsupportedConfigurationException softmaxGate = assertThrows(UnsupportedConfigurationException.class,
                () -> build("3.4.1", q("{'class_name': 'GRU', 'config': {'name': 'g', 'units': 2, 'recurrent_activation': 'softmax'}}")));
        assertMentions(softmaxGate, "recurrent_activation", "softmax");

        UnsupportedConfigurationException layerAct = assertThrows(UnsupportedConfigurationException.class,
                () -> build("3.4.1", q("{'class_name': 'Dense', 'config': {'name': 'd', 'units': 2, 'activation':"
                        + " {'module': 'keras.layers', 'class_name': 'LeakyReLU', 'config': {'negative_slope': 0.3}}}}")));
        assertMentions(layerAct, "'d'", "Dense", "activation", "LeakyReLU");

        UnsupportedConfigurationException unknownKey = assertThrows(UnsupportedConfigurationException.class,
                () -> build("3.4.1", q("{'class_name': 'LSTM', 'config': {'name': 'l', 'units': 2, 'cell_clip': 3.0}}")));
        assertMentions(unknownKey, "'l'", "LSTM", "cell_clip", "3.0");

        UnsupportedConfigurationException bidi = assertThrows(UnsupportedConfigurationException.class,
                () -> build("2.2.4", q("{'class_name': 'Bidirectional', 'config': {'name': 'b', 'layer': {'class_name': 'Conv3D',"
                        + " 'config': {'name': 'cu', 'filters': 3}}, 'merge_mode': 'concat'}}")));
        assertMentions(bidi, "'b'", "Bidirectional", "Conv3D");

        UnsupportedConfigurationException custom = assertThrows(UnsupportedConfigurationException.class,
                () -> build("3.4.1", q("{'module': 'my', 'class_name': 'LSTM', 'registered_name': 'Custom>LSTM',"
                        + " 'config': {'name': 'l', 'units': 2}}")));
        assertMentions(custom, "Custom>LSTM");

        IllegalArgumentException noUnits = assertThrows(IllegalArgumentException.class,
                () -> build("2.2.4", q("{'class_name': 'SimpleRNN', 'config': {'name': 's'}}")));
        assertMentions(noUnits, SRC, "'s'", "SimpleRNN", "units");

        // Harmless unknown keys with empty values are tolerated.
        assertNotNull(build("3.13.0", q("{'class_name': 'Dense', 'config': {'name': 'd', 'units': 2, 'quantization_config': null,"
                + " 'some_future_flag': false}}")));
    }

    @Test
    void functionalChainsInKeras2AndKeras3Dialects() {
        String k2 = q("{'class_name': 'Model', 'config': {'name': 'm', 'layers': ["
                + "{'name': 'in', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 5, 3], 'name': 'in'},"
                + " 'inbound_nodes': []},"
                + "{'name': 'd', 'class_name': 'Dense', 'config': {'name': 'd', 'units': 2}, 'inbound_nodes': [[['g', 0, 0, {}]]]},"
                + "{'name': 'g', 'class_name': 'GRU', 'config': {'name': 'g', 'units': 4}, 'inbound_nodes': [[['in', 0, 0, {}]]]}],"
                + " 'input_layers': [['in', 0, 0]], 'output_layers': [['d', 0, 0]]}}");
        ModelSpec m2 = KerasConfig.parseModel(k2, SRC);
        assertNull(m2.problem());
        assertEquals(List.of("g", "d"), m2.layers().stream().map(LayerSpec::name).toList(), "ordered by data flow");
        assertArrayEquals(new int[] {5, 3}, m2.inputShape());

        String k3 = q("{'module': 'keras', 'class_name': 'Functional', 'config': {'name': 'f', 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3], 'name': 'x'},"
                + " 'registered_name': null, 'name': 'x', 'inbound_nodes': []},"
                + "{'module': 'keras.layers', 'class_name': 'LSTM', 'config': {'name': 'l', 'units': 4}, 'registered_name': null,"
                + " 'name': 'l', 'inbound_nodes': [{'args': [{'class_name': '__keras_tensor__', 'config': {'shape': [null, 5, 3],"
                + " 'dtype': 'float32', 'keras_history': ['x', 0, 0]}}], 'kwargs': {'training': false, 'mask': null}}]}],"
                + " 'input_layers': [['x', 0, 0]], 'output_layers': ['l', 0, 0]}}");
        ModelSpec m3 = KerasConfig.parseModel(k3, SRC);
        assertNull(m3.problem());
        assertEquals("l", m3.layers().get(0).name());

        String branching = q("{'class_name': 'Functional', 'config': {'name': 'br', 'layers': ["
                + "{'name': 'in', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 5, 3]}, 'inbound_nodes': []},"
                + "{'name': 'a', 'class_name': 'LSTM', 'config': {'name': 'a', 'units': 4, 'return_state': true},"
                + " 'inbound_nodes': [[['in', 0, 0, {}]]]},"
                + "{'name': 'b', 'class_name': 'LSTM', 'config': {'name': 'b', 'units': 4},"
                + " 'inbound_nodes': [[['in', 0, 0, {}], ['a', 0, 1, {}], ['a', 0, 2, {}]]]}],"
                + " 'input_layers': [['in', 0, 0]], 'output_layers': [['b', 0, 0]]}}");
        ModelSpec mb = KerasConfig.parseModel(branching, SRC);
        assertNotNull(mb.problem());
        assertTrue(mb.problem().contains("'b'") && mb.problem().contains("3 inbound tensors"), mb.problem());
    }

    @Test
    void keras3StorePathsUseSnakeCaseClassNames() {
        assertEquals("simple_rnn", KerasConfig.toSnakeCase("SimpleRNN"));
        assertEquals("lstm", KerasConfig.toSnakeCase("LSTM"));
        assertEquals("gru", KerasConfig.toSnakeCase("GRU"));
        assertEquals("input_layer", KerasConfig.toSnakeCase("InputLayer"));
        assertEquals("conv_lstm2d", KerasConfig.toSnakeCase("ConvLSTM2D"));
        List<LayerSpec> layers = List.of(spec("LSTM", "encoder"), spec("Dropout", "drop"), spec("LSTM", "decoder"),
                spec("Dense", "out"), spec("LSTM", "x"));
        assertEquals(List.of("lstm", "dropout", "lstm_1", "dense", "lstm_2"), KerasConfig.kerasStorePaths(layers));
    }

    @Test
    void malformedConfigsNameTheFile() {
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasConfig.parseModel("{not json", SRC)), SRC, "JSON");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> KerasConfig.parseModel("[1, 2]", SRC)), SRC, "class_name");
        assertMentions(assertThrows(UnsupportedConfigurationException.class,
                () -> KerasConfig.parseModel(q("{'class_name': 'MyModel', 'config': {}}"), SRC)), SRC, "MyModel");
    }

    private static LayerSpec spec(String cls, String name) {
        return new LayerSpec(cls, name, KerasConfig.JSON.createObjectNode().put("name", name), KerasConfig.JSON.createObjectNode());
    }

    static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void convLstm2dAndMaxPooling3dConfigs() {
        try (io.jrnn.layers.ConvLSTM2D k2 = (io.jrnn.layers.ConvLSTM2D) build("2.2.4", q("{'class_name': 'ConvLSTM2D', 'config':"
                + " {'name': 'c', 'filters': 3, 'kernel_size': 2, 'strides': [1, 2], 'padding': 'SAME',"
                + " 'data_format': 'channels_first', 'recurrent_dropout': 0.2, 'return_sequences': true}}"));
                io.jrnn.layers.ConvLSTM2D k3 = (io.jrnn.layers.ConvLSTM2D) build("3.4.1", q("{'class_name': 'ConvLSTM2D',"
                        + " 'config': {'name': 'c3', 'filters': 2, 'kernel_size': [3, 1], 'dilation_rate': 2}}"))) {
            assertArrayEquals(new int[] {2, 2}, k2.kernelSize());
            assertArrayEquals(new int[] {1, 2}, k2.strides());
            assertEquals("same", k2.padding());
            assertEquals("channels_first", k2.dataFormat());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, k2.recurrentActivation());
            assertEquals(0.2, k2.trainingOptions().recurrentDropout());
            assertTrue(k2.returnSequences());
            assertEquals(Activation.SIGMOID, k3.recurrentActivation());
            assertArrayEquals(new int[] {2, 2}, k3.dilationRate());
        }
        UnsupportedConfigurationException both = assertThrows(UnsupportedConfigurationException.class,
                () -> build("2.2.4", q("{'class_name': 'ConvLSTM2D', 'config': {'name': 'cd', 'filters': 3,"
                        + " 'kernel_size': 3, 'strides': 2, 'dilation_rate': 2}}")));
        assertMentions(both, "'cd'", "ConvLSTM2D", "dilation");
        try (io.jrnn.layers.MaxPooling3D p = (io.jrnn.layers.MaxPooling3D) build("2.7.0", q("{'class_name': 'MaxPooling3D',"
                + " 'config': {'name': 'p', 'pool_size': [1, 2, 2], 'padding': 'same', 'strides': [1, 2, 2]}}"))) {
            assertArrayEquals(new int[] {1, 2, 2}, p.poolSize());
            assertEquals("same", p.padding());
        }
    }
}
