package io.jrnn.io;

import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Activation;
import io.jrnn.layers.ConvLSTM2D;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ConvLSTM2D in synthetic Keras files (spec §2.6): a Keras 3 {@code .keras} store (the layer's
 * arrays under {@code layers/<name>/cell/vars/0..2}, as Keras 3's ConvLSTM2D keeps them on its
 * ConvLSTMCell) compared with the same layers built by hand, on both backends.
 */
class KerasConvLstmImportTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    private static float[] input(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(0.37 * i) * 0.8f;
        }
        return v;
    }

    private static final String DTYPE = "{'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'},"
            + " 'registered_name': null}";

    @Test
    void keras3ZipConvLstmStackMatchesHandBuiltLayersOnBothBackends() {
        String config = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'sequential', 'trainable': true,"
                + " 'dtype': " + DTYPE + ", 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 3, 5, 6, 2],"
                + " 'dtype': 'float32', 'sparse': false, 'name': 'input_layer'}, 'registered_name': null},"
                + "{'module': 'keras.layers', 'class_name': 'ConvLSTM2D', 'config': {'name': 'conv_lstm2d', 'trainable': true,"
                + " 'dtype': " + DTYPE + ", 'return_sequences': true, 'return_state': false, 'go_backwards': false,"
                + " 'stateful': false, 'unroll': false, 'zero_output_for_mask': false, 'filters': 3, 'kernel_size': [3, 3],"
                + " 'strides': [1, 1], 'padding': 'same', 'data_format': 'channels_last', 'dilation_rate': [1, 1],"
                + " 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': true,"
                + " 'kernel_initializer': {'module': 'keras.initializers', 'class_name': 'GlorotUniform', 'config': {'seed': null},"
                + " 'registered_name': null}, 'recurrent_initializer': {'module': 'keras.initializers', 'class_name': 'Orthogonal',"
                + " 'config': {'gain': 1.0, 'seed': null}, 'registered_name': null}, 'bias_initializer': {'module':"
                + " 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': null},"
                + " 'unit_forget_bias': true, 'kernel_regularizer': null, 'recurrent_regularizer': null, 'bias_regularizer': null,"
                + " 'activity_regularizer': null, 'kernel_constraint': null, 'recurrent_constraint': null, 'bias_constraint': null,"
                + " 'dropout': 0.0, 'recurrent_dropout': 0.0, 'seed': null}, 'registered_name': null, 'build_config':"
                + " {'input_shape': [null, 3, 5, 6, 2]}},"
                + "{'module': 'keras.layers', 'class_name': 'ConvLSTM2D', 'config': {'name': 'conv_lstm2d_1', 'trainable': true,"
                + " 'dtype': " + DTYPE + ", 'return_sequences': false, 'return_state': false, 'go_backwards': true,"
                + " 'stateful': false, 'unroll': false, 'zero_output_for_mask': false, 'filters': 2, 'kernel_size': [2, 3],"
                + " 'strides': [2, 1], 'padding': 'valid', 'data_format': 'channels_last', 'dilation_rate': [1, 1],"
                + " 'activation': 'tanh', 'recurrent_activation': 'hard_sigmoid', 'use_bias': false,"
                + " 'unit_forget_bias': true, 'dropout': 0.0, 'recurrent_dropout': 0.0, 'seed': null}, 'registered_name': null}"
                + "], 'build_input_shape': [null, 3, 5, 6, 2]}, 'registered_name': null}");
        List<Array> first = List.of(random("kernel", 11, 3, 3, 2, 12), random("recurrent_kernel", 12, 3, 3, 3, 12),
                random("bias", 13, 12));
        List<Array> second = List.of(random("kernel", 14, 2, 3, 3, 8), random("recurrent_kernel", 15, 2, 3, 2, 8));
        Map<String, List<Array>> vars = new LinkedHashMap<>();
        vars.put("conv_lstm2d/cell", first);
        vars.put("conv_lstm2d_1/cell", second);
        Path file = KerasFixtures.writeKeras(tmp.resolve("convlstm.keras"), config, "3.4.1", vars);
        float[] x = input(2 * 3 * 5 * 6 * 2);
        for (Backend backend : TestBackends.all()) {
            try (Sequential m = KerasModels.load(file);
                    ConvLSTM2D a = ConvLSTM2D.builder().name("a").filters(3).kernelSize(3).padding("same")
                            .returnSequences(true).build();
                    ConvLSTM2D b = ConvLSTM2D.builder().name("b").filters(2).kernelSize(2, 3).strides(2, 1)
                            .recurrentActivation(Activation.HARD_SIGMOID_KERAS3).useBias(false).goBackwards(true).build();
                    Tensor in = Tensor.of(x, 2, 3, 5, 6, 2)) {
                ConvLSTM2D c0 = assertInstanceOf(ConvLSTM2D.class, m.layers().get(0));
                ConvLSTM2D c1 = assertInstanceOf(ConvLSTM2D.class, m.layers().get(1));
                assertEquals(Activation.SIGMOID, c0.recurrentActivation());
                assertEquals(Activation.HARD_SIGMOID_KERAS3, c1.recurrentActivation());
                assertArrayEquals(first.get(0).values(), c0.weights()[0], 0f);
                assertArrayEquals(first.get(1).values(), c0.weights()[1], 0f);
                assertArrayEquals(first.get(2).values(), c0.weights()[2], 0f);
                assertArrayEquals(second.get(0).values(), c1.weights()[0], 0f);
                assertArrayEquals(second.get(1).values(), c1.weights()[1], 0f);
                a.setWeights(first.get(0).values(), first.get(1).values(), first.get(2).values());
                b.setWeights(second.get(0).values(), second.get(1).values(), null);
                m.useBackend(backend);
                a.useBackend(backend);
                b.useBackend(backend);
                try (Tensor y = m.forward(in); Tensor h = a.apply(in); Tensor expected = b.apply(h)) {
                    assertArrayEquals(new int[] {2, 2, 4, 2}, y.shape());
                    assertArrayEquals(expected.toArray(), y.toArray(), 1e-6f, backend.name());
                }
            }
        }
    }

    /** zero_output_for_mask=true (tf.keras and Keras 3 set it under Bidirectional) imports and zeroes masked steps. */
    @Test
    void zeroOutputForMaskImportsAndZeroesMaskedSteps() {
        String config = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': ["
                + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 3, 1, 1, 1],"
                + " 'name': 'input_layer'}, 'registered_name': null},"
                + "{'module': 'keras.layers', 'class_name': 'ConvLSTM2D', 'config': {'name': 'conv_lstm2d',"
                + " 'return_sequences': true, 'zero_output_for_mask': true, 'filters': 1, 'kernel_size': [1, 1],"
                + " 'padding': 'valid', 'activation': 'linear', 'recurrent_activation': 'linear', 'use_bias': true},"
                + " 'registered_name': null}]}, 'registered_name': null}");
        Map<String, List<Array>> vars = new LinkedHashMap<>();
        vars.put("conv_lstm2d/cell", List.of(KerasFixtures.array("kernel", new float[] {0, 0, 1, 0}, 1, 1, 1, 4),
                KerasFixtures.array("recurrent_kernel", new float[4], 1, 1, 1, 4),
                KerasFixtures.array("bias", new float[] {1, 1, 0, 1}, 4)));
        Path file = KerasFixtures.writeKeras(tmp.resolve("zero.keras"), config, "3.4.1", vars);
        ModelInfo info = KerasModels.inspect(file);
        assertTrue(info.describe().contains("zero_output_for_mask=true"), info.describe());
        for (Backend backend : TestBackends.all()) {
            try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(new float[] {1, 2, 4}, 1, 3, 1, 1, 1)) {
                ConvLSTM2D c = assertInstanceOf(ConvLSTM2D.class, m.layers().get(0));
                assertTrue(c.zeroOutputForMask());
                c.useBackend(backend);
                // h_t = c_t = running sum of valid inputs; step 1 masked → 0 (canonical would repeat 1).
                try (io.jrnn.Outputs y = c.forward(in, io.jrnn.Mask.of(new boolean[] {true, false, true}, 1, 3))) {
                    assertArrayEquals(new float[] {1, 0, 5}, y.get(0).toArray(), 1e-6f, backend.name());
                }
            }
        }
    }
}
