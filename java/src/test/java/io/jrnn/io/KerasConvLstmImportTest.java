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

    /** Keras 1.2 ConvLSTM2D config (Keras 1 key names). */
    private static String keras1Config(String dimOrdering, int[] inputShape) {
        return q("{'class_name': 'Sequential', 'config': [{'class_name': 'ConvLSTM2D', 'config': {'name': 'convolutionallstm_1',"
                + " 'batch_input_shape': [null, " + inputShape[0] + ", " + inputShape[1] + ", " + inputShape[2] + ", "
                + inputShape[3] + "], 'nb_filter': 2, 'nb_row': 3, 'nb_col': 2, 'border_mode': 'same', 'subsample': [1, 1],"
                + " 'dim_ordering': '" + dimOrdering + "', 'activation': 'tanh', 'inner_activation': 'hard_sigmoid',"
                + " 'init': 'glorot_uniform', 'inner_init': 'orthogonal', 'forget_bias_init': 'one',"
                + " 'W_regularizer': null, 'U_regularizer': null, 'b_regularizer': null, 'dropout_W': 0.0, 'dropout_U': 0.0,"
                + " 'return_sequences': true, 'go_backwards': false, 'stateful': false}}]}");
    }

    /**
     * Keras 1 per-gate arrays (i, c, f, o; W, U, b) for 'th' and 'tf', with and without a Theano backend, against the
     * same layer built by hand with the converted weights (HWIO, blocks i, f, c, o; Theano kernels flipped).
     */
    @Test
    void keras1PerGateConvLstmConvertsForBothOrderingsAndTheano() {
        int f = 2;
        int ch = 3;
        int kr = 3;
        int kc = 2;
        String[] gates = {"i", "c", "f", "o"};
        for (String ordering : new String[] {"th", "tf"}) {
            for (String backendAttr : new String[] {"tensorflow", "theano"}) {
                boolean th = ordering.equals("th");
                List<Array> arrays = new java.util.ArrayList<>();
                float[] kernel = new float[kr * kc * ch * 4 * f];
                float[] recurrent = new float[kr * kc * f * 4 * f];
                float[] bias = new float[4 * f];
                int[] block = {0, 2, 1, 3};
                for (int s = 0; s < 4; s++) {
                    String p = "convolutionallstm_1_";
                    Array w = th ? random(p + "W_" + gates[s], 30 + s, f, ch, kr, kc) : random(p + "W_" + gates[s], 30 + s, kr, kc, ch, f);
                    Array u = th ? random(p + "U_" + gates[s], 40 + s, f, f, kr, kc) : random(p + "U_" + gates[s], 40 + s, kr, kc, f, f);
                    Array b = random(p + "b_" + gates[s], 50 + s, f);
                    arrays.add(w);
                    arrays.add(u);
                    arrays.add(b);
                    // Expected HWIO, written out independently of the importer: flipped taps for Theano.
                    boolean flip = backendAttr.equals("theano");
                    for (int a = 0; a < kr; a++) {
                        for (int bb = 0; bb < kc; bb++) {
                            int ta = flip ? kr - 1 - a : a;
                            int tb = flip ? kc - 1 - bb : bb;
                            for (int j = 0; j < f; j++) {
                                for (int q = 0; q < ch; q++) {
                                    float v = th ? w.values()[((j * ch + q) * kr + a) * kc + bb]
                                            : w.values()[((a * kc + bb) * ch + q) * f + j];
                                    kernel[((ta * kc + tb) * ch + q) * 4 * f + block[s] * f + j] = v;
                                }
                                for (int q = 0; q < f; q++) {
                                    float v = th ? u.values()[((j * f + q) * kr + a) * kc + bb]
                                            : u.values()[((a * kc + bb) * f + q) * f + j];
                                    recurrent[((ta * kc + tb) * f + q) * 4 * f + block[s] * f + j] = v;
                                }
                            }
                        }
                    }
                    System.arraycopy(b.values(), 0, bias, block[s] * f, f);
                }
                int[] inShape = th ? new int[] {2, ch, 4, 3} : new int[] {2, 4, 3, ch};
                Map<String, List<Array>> w = new LinkedHashMap<>();
                w.put("convolutionallstm_1", arrays);
                Path file = KerasFixtures.writeH5(tmp.resolve("k1_" + ordering + "_" + backendAttr + ".h5"),
                        keras1Config(ordering, inShape), "1.2.2", backendAttr, w);
                float[] x = input(2 * 2 * 4 * 3 * ch);
                for (Backend backend : TestBackends.all()) {
                    String what = ordering + "/" + backendAttr + " on " + backend.name();
                    try (Sequential m = KerasModels.load(file);
                            ConvLSTM2D hand = ConvLSTM2D.builder().filters(f).kernelSize(kr, kc).padding("same")
                                    .dataFormat(th ? "channels_first" : "channels_last")
                                    .recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnSequences(true).build();
                            Tensor in = Tensor.of(x, 2, inShape[0], inShape[1], inShape[2], inShape[3])) {
                        ConvLSTM2D c = assertInstanceOf(ConvLSTM2D.class, m.layers().get(0));
                        assertEquals(th ? "channels_first" : "channels_last", c.dataFormat(), what);
                        assertEquals(Activation.HARD_SIGMOID_KERAS2, c.recurrentActivation(), what);
                        assertArrayEquals(kernel, c.weights()[0], 0f, what);
                        assertArrayEquals(recurrent, c.weights()[1], 0f, what);
                        assertArrayEquals(bias, c.weights()[2], 0f, what);
                        hand.setWeights(kernel, recurrent, bias);
                        m.useBackend(backend);
                        hand.useBackend(backend);
                        try (Tensor y = m.forward(in); Tensor expected = hand.apply(in)) {
                            assertArrayEquals(expected.shape(), y.shape(), what);
                            assertArrayEquals(expected.toArray(), y.toArray(), 1e-6f, what);
                        }
                    }
                }
            }
        }
    }
}
