package io.jrnn.layers;

import static io.jrnn.layers.RnnCellLayerTest.foreign;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.TestBackends;
import io.jrnn.backend.Backend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** TF1 basic cells (spec §2.11) and the Keras 0.x cells and layers (§2.10) against their equations. */
class LegacyAndTfCellsTest {
    static final int N = 2;
    static final int T = 4;
    static final int C = 3;
    static final int H = 2;

    static Iterable<Backend> backends() {
        return TestBackends.all();
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    private static double hardSigmoid(double v) {
        return Math.min(1, Math.max(0, 0.2 * v + 0.5));
    }

    // --- TF1 BasicLSTMCell: hand-written TF equations (i, j, f, o; forget_bias at run time; state (c, h)) ---

    /** One TF step for sample n; returns {c, h} as [H] arrays. */
    private static double[][] tfLstmStep(float[] kernel, float[] bias, float forgetBias, float[] x, int n, double[] c,
            double[] h) {
        int width = 4 * H;
        double[] z = new double[width];
        for (int g = 0; g < width; g++) {
            double v = bias[g];
            for (int k = 0; k < C; k++) {
                v += x[n * C + k] * kernel[k * width + g];
            }
            for (int k = 0; k < H; k++) {
                v += h[k] * kernel[(C + k) * width + g];
            }
            z[g] = v;
        }
        double[] c2 = new double[H];
        double[] h2 = new double[H];
        for (int u = 0; u < H; u++) {
            double i = z[u];
            double j = z[H + u];
            double f = z[2 * H + u];
            double o = z[3 * H + u];
            c2[u] = c[u] * sigmoid(f + forgetBias) + sigmoid(i) * Math.tanh(j);
            h2[u] = Math.tanh(c2[u]) * sigmoid(o);
        }
        return new double[][] {c2, h2};
    }

    @ParameterizedTest
    @MethodSource("backends")
    void basicLstmCellFollowsTfEquations(Backend backend) {
        float[] kernel = RecurrentLayerTest.random((C + H) * 4 * H, 40);
        float[] bias = RecurrentLayerTest.random(4 * H, 41);
        float forgetBias = 1.0f;
        float[] xs = RecurrentLayerTest.random(N * T * C, 42);
        float[] c0 = RecurrentLayerTest.random(N * H, 43);
        float[] h0 = RecurrentLayerTest.random(N * H, 44);
        // Expected sequence and final (c, h), by hand.
        float[] expectedSeq = new float[N * T * H];
        float[] expectedC = new float[N * H];
        float[] expectedH = new float[N * H];
        for (int n = 0; n < N; n++) {
            double[] c = {c0[n * H], c0[n * H + 1]};
            double[] h = {h0[n * H], h0[n * H + 1]};
            for (int t = 0; t < T; t++) {
                float[] xt = new float[N * C];
                System.arraycopy(xs, (n * T + t) * C, xt, n * C, C);
                double[][] ch = tfLstmStep(kernel, bias, forgetBias, xt, n, c, h);
                c = ch[0];
                h = ch[1];
                for (int u = 0; u < H; u++) {
                    expectedSeq[(n * T + t) * H + u] = (float) h[u];
                }
            }
            for (int u = 0; u < H; u++) {
                expectedC[n * H + u] = (float) c[u];
                expectedH[n * H + u] = (float) h[u];
            }
        }
        for (boolean tuple : new boolean[] {true, false}) {
            for (boolean viaLoop : new boolean[] {false, true}) {
                BasicLSTMCell cell = BasicLSTMCell.builder().numUnits(H).forgetBias(forgetBias).stateIsTuple(tuple).build();
                cell.setWeights(kernel, bias);
                try (RNN rnn = RNN.builder(viaLoop ? foreign(cell) : cell).returnSequences(true).returnState(true).build();
                     Tensor x = Tensor.of(xs, N, T, C); Tensor c = Tensor.of(c0, N, H); Tensor h = Tensor.of(h0, N, H);
                     Tensor ch = Tensor.of(concat(c0, h0), N, 2 * H)) {
                    rnn.useBackend(backend);
                    try (Outputs out = tuple ? rnn.forward(x, c, h) : rnn.forward(x, ch)) {
                        assertArrayEquals(expectedSeq, out.output().toArray(), 1e-5f);
                        if (tuple) {
                            assertEquals(3, out.size());
                            assertArrayEquals(expectedC, out.get(1).toArray(), 1e-5f, "c first");
                            assertArrayEquals(expectedH, out.get(2).toArray(), 1e-5f);
                        } else {
                            assertEquals(2, out.size());
                            assertArrayEquals(concat(expectedC, expectedH), out.get(1).toArray(), 1e-5f, "[c, h]");
                        }
                    }
                    assertEquals(!viaLoop, rnn.executionPath().startsWith("fused"), rnn.executionPath());
                }
            }
        }
    }

    /** Row-wise [a | b] for [N, H] arrays. */
    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        for (int n = 0; n < N; n++) {
            System.arraycopy(a, n * H, out, n * 2 * H, H);
            System.arraycopy(b, n * H, out, n * 2 * H + H, H);
        }
        return out;
    }

    @Test
    void basicLstmCellStepAndForgetBias() {
        float[] kernel = new float[(1 + 1) * 4];
        float[] bias = {0.1f, 0.2f, -0.3f, 0.4f}; // i, j, f, o
        kernel[0] = 0.5f; // x → i
        kernel[2] = 0.7f; // x → f
        BasicLSTMCell cell = BasicLSTMCell.builder().numUnits(1).forgetBias(2.5f).build();
        cell.setWeights(kernel, bias);
        try (Tensor x = Tensor.of(new float[] {1f}, 1, 1); Tensor c = Tensor.of(new float[] {0.6f}, 1, 1);
             Tensor h = Tensor.of(new float[] {0f}, 1, 1)) {
            Tensor[] out = cell.step(x, List.of(c, h));
            double cNew = 0.6 * sigmoid(0.7 - 0.3 + 2.5) + sigmoid(0.5 + 0.1) * Math.tanh(0.2);
            double hNew = Math.tanh(cNew) * sigmoid(0.4);
            assertEquals(hNew, out[0].get(0, 0), 1e-6);
            assertEquals(cNew, out[1].get(0, 0), 1e-6);
            assertEquals(hNew, out[2].get(0, 0), 1e-6);
            for (Tensor t : out) {
                t.close();
            }
        }
        assertEquals(2.5f, cell.tfWeights().forgetBias());
        assertThrows(IllegalArgumentException.class, () -> cell.setWeights(new float[7], bias));
    }

    @Test
    void basicRnnCellStep() {
        BasicRNNCell cell = BasicRNNCell.builder().numUnits(1).activation(Activation.RELU).build();
        cell.setWeights(new float[] {0.5f, -2f}, new float[] {0.25f});
        try (Tensor x = Tensor.of(new float[] {1f, 3f}, 2, 1); Tensor h = Tensor.of(new float[] {0.1f, 1f}, 2, 1)) {
            Tensor[] out = cell.step(x, List.of(h));
            assertArrayEquals(new float[] {Math.max(0, 0.5f - 0.2f + 0.25f), Math.max(0, 1.5f - 2f + 0.25f)},
                    out[1].toArray(), 1e-6f);
            for (Tensor t : out) {
                t.close();
            }
        }
    }

    // --- Keras 0.x ---

    private static SimpleDeepRNNCell deep(int depth, float... u) {
        SimpleDeepRNNCell cell = SimpleDeepRNNCell.builder().units(1).depth(depth).build();
        float[][] w = new float[depth + 2][];
        w[0] = new float[] {0.5f};
        for (int k = 0; k < depth; k++) {
            w[k + 1] = new float[] {u[k]};
        }
        w[depth + 1] = new float[] {0.1f};
        cell.setWeights(w);
        return cell;
    }

    private static float[] run(Layer layer, float[] xs, Mask mask) {
        try (Tensor x = Tensor.of(xs, 1, xs.length, 1); Outputs out = layer.forward(x, mask)) {
            return out.output().toArray();
        }
    }

    @Test
    void simpleDeepRnnDepthOneIsNotSimpleRnn() {
        float[] xs = {1, 2, -1};
        try (KerasZeroRecurrent layer = KerasZeroRecurrent.builder(deep(1, 1.5f)).returnSequences(true).build();
             SimpleRNN simple = SimpleRNN.builder().units(1).activation(Activation.SIGMOID).returnSequences(true).build()) {
            simple.setWeights(new float[] {0.5f}, new float[] {1.5f}, new float[] {0.1f});
            float[] y = run(layer, xs, null);
            // Python: sigmoid/hard_sigmoid from the spec equation.
            assertArrayEquals(new float[] {0.6456563f, 0.8573799f, 0.5883658f}, y, 1e-6f);
            assertArrayEquals(new float[] {0.6456563f, 0.8878021f, 0.7174207f}, run(simple, xs, null), 1e-6f);
            assertEquals("SimpleDeepRNN", layer.typeName());
        }
    }

    @Test
    void simpleDeepRnnDepthThreeAndItsMask() {
        float[] u = {1.5f, -0.7f, 0.4f};
        float[] xs = {1, 2, -1, 0.5f, 3};
        boolean[] mask = {true, false, true, true, true};
        for (boolean masked : new boolean[] {false, true}) {
            double[] h = new double[xs.length];
            for (int t = 0; t < xs.length; t++) {
                double pre = 0.5 * xs[t] + 0.1;
                for (int k = 1; k <= 3; k++) {
                    if (t - k >= 0 && (!masked || mask[t - k])) {
                        pre += hardSigmoid(h[t - k] * u[k - 1]);
                    }
                }
                h[t] = sigmoid(pre);
            }
            float[] expected = new float[xs.length];
            for (int t = 0; t < xs.length; t++) {
                expected[t] = (float) h[t];
            }
            try (KerasZeroRecurrent layer = KerasZeroRecurrent.builder(deep(3, u)).returnSequences(true).build();
                 KerasZeroRecurrent last = KerasZeroRecurrent.builder(deep(3, u)).build()) {
                Mask m = masked ? Mask.of(mask, 1, xs.length) : null;
                assertArrayEquals(expected, run(layer, xs, m), 1e-6f, "masked=" + masked);
                assertArrayEquals(new float[] {expected[xs.length - 1]}, run(last, xs, m), 1e-6f);
            }
        }
    }

    /** JZS weights for units=1, C=1, by name. */
    private static float[][] jzsWeights(int variant) {
        java.util.Map<String, Float> v = java.util.Map.of("W_z", 0.4f, "U_z", -0.6f, "b_z", 0.1f, "W_r", 0.9f, "U_r", 0.3f,
                "b_r", -0.2f, "W_h", 1.1f, "U_h", 0.8f, "b_h", 0.05f, "P", 0.7f);
        List<String> names = JZSCell.builder(variant).units(1).build().weightNames();
        float[][] w = new float[names.size()][];
        for (int i = 0; i < w.length; i++) {
            w[i] = new float[] {v.get(names.get(i))};
        }
        return w;
    }

    private static double jzsStep(int variant, double x, double h) {
        double z;
        double r;
        double candidate;
        switch (variant) {
            case 1 -> {
                z = sigmoid(x * 0.4 + 0.1);
                r = sigmoid(x * 0.9 - 0.2 + h * 0.3);
                candidate = Math.tanh(Math.tanh(x * 0.7) + 0.05 + r * h * 0.8);
            }
            case 2 -> {
                z = sigmoid(x * 0.4 + 0.1 + h * -0.6);
                r = sigmoid(x * 0.7 - 0.2 + h * 0.3);
                candidate = Math.tanh(x * 1.1 + 0.05 + r * h * 0.8);
            }
            default -> {
                z = sigmoid(x * 0.4 + 0.1 + Math.tanh(h) * -0.6);
                r = sigmoid(x * 0.9 - 0.2 + h * 0.3);
                candidate = Math.tanh(x * 1.1 + 0.05 + r * h * 0.8);
            }
        }
        return candidate * z + h * (1 - z);
    }

    @Test
    void jzsCellsFollowTheirEquationsWithKerasZeroMasks() {
        float[] xs = {1, -2, 0.5f, 2};
        boolean[] mask = {true, false, true, true};
        for (int variant = 1; variant <= 3; variant++) {
            for (boolean masked : new boolean[] {false, true}) {
                float[] expected = new float[xs.length];
                double h = 0;
                for (int t = 0; t < xs.length; t++) {
                    double y = jzsStep(variant, xs[t], h);
                    expected[t] = (float) y;
                    // K0.1–0.2: the next step sees m_t · h_t.
                    h = masked && !mask[t] ? 0 : y;
                }
                JZSCell cell = JZSCell.builder(variant).units(1).build();
                cell.setWeights(jzsWeights(variant));
                try (KerasZeroRecurrent layer = KerasZeroRecurrent.builder(cell).returnSequences(true).build()) {
                    assertEquals("JZS" + variant, layer.typeName());
                    assertArrayEquals(expected, run(layer, xs, masked ? Mask.of(mask, 1, xs.length) : null), 1e-6f,
                            "JZS" + variant + " masked=" + masked);
                }
            }
        }
    }

    @Test
    void kerasZeroCellsRunInRnnWithoutMaskAsTheirLayers() {
        float[] xs = RecurrentLayerTest.random(N * T * C, 50);
        List<KerasZeroCell> cells = List.of(SimpleDeepRNNCell.builder().units(H).depth(2).seed(1).build(),
                JZSCell.builder(1).units(H).seed(2).build(), JZSCell.builder(2).units(H).seed(3).build(),
                JZSCell.builder(3).units(H).seed(4).build());
        for (KerasZeroCell cell : cells) {
            cell.initializeWeights(C);
            KerasZeroCell twin = cell instanceof JZSCell j ? JZSCell.builder(j.variant()).units(H).build()
                    : SimpleDeepRNNCell.builder().units(H).depth(2).build();
            twin.setWeights(cell.weights());
            try (KerasZeroRecurrent layer = KerasZeroRecurrent.builder(cell).returnSequences(true).build();
                 RNN rnn = RNN.builder(twin).returnSequences(true).build();
                 Tensor x = Tensor.of(xs, N, T, C); Tensor a = layer.apply(x); Tensor b = rnn.apply(x)) {
                assertArrayEquals(a.toArray(), b.toArray(), 0f, cell.typeName());
                assertTrue(rnn.executionPath().startsWith("java step loop"), rnn.executionPath());
            }
        }
    }

    @Test
    void kerasZeroWeightListsAreChecked() {
        JZSCell jzs1 = JZSCell.builder(1).units(2).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> jzs1.setWeights(new float[6], new float[2], new float[6], new float[4], new float[2], new float[4],
                        new float[2]));
        assertTrue(e.getMessage().contains("expected 8 weight arrays") && e.getMessage().contains("no projection P"),
                e.getMessage());
        JZSCell jzs2 = JZSCell.builder(2).units(2).build();
        float[][] eight = new float[8][];
        e = assertThrows(IllegalArgumentException.class, () -> jzs2.setWeights(eight));
        assertTrue(e.getMessage().contains("no projection P"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> jzs1.setWeights(new float[6], new float[2], new float[6], new float[4], new float[2], new float[4],
                        new float[2], new float[4]));
        assertTrue(e.getMessage().contains("P must be [3, 2] (6 values), got 4 values"), e.getMessage());
        JZSCell jzs3 = JZSCell.builder(3).units(2).build();
        e = assertThrows(IllegalArgumentException.class, () -> jzs3.setWeights(new float[8][]));
        assertTrue(e.getMessage().contains("expected 9") && !e.getMessage().contains("projection"), e.getMessage());
        SimpleDeepRNNCell deep = SimpleDeepRNNCell.builder().units(2).depth(2).build();
        assertEquals(List.of("W", "U_1", "U_2", "b"), deep.weightNames());
        assertArrayEquals(new int[] {2, 2, 2}, deep.stateSizes());
        assertThrows(IllegalArgumentException.class, () -> SimpleDeepRNNCell.builder().units(2).depth(0).build());
        assertThrows(IllegalArgumentException.class, () -> JZSCell.builder(4));
        try (KerasZeroRecurrent layer = KerasZeroRecurrent.builder(deep).build(); Tensor x = Tensor.zeros(1, 2, 3);
             Tensor h = Tensor.zeros(1, 2)) {
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(x, h));
            assertTrue(e.getMessage().contains("take no initial states"), e.getMessage());
        }
        // P is the identity when C = H.
        JZSCell square = JZSCell.builder(1).units(3).seed(5).build();
        square.initializeWeights(3);
        assertArrayEquals(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, square.weights()[7]);
    }
}
