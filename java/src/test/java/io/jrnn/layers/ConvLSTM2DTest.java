package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Device;
import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ConvLSTM2DTest {
    private static final float TOL = 2e-5f;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static ConvLSTM2D build(UnaryOperator<ConvLSTM2D.Builder> config, int channels, Backend backend) {
        ConvLSTM2D layer = config.apply(ConvLSTM2D.builder().seed(7)).build();
        int[] k = layer.kernelSize();
        int g = 4 * layer.filters();
        // Scaled so the gates are not saturated.
        float[] kernel = scale(random(k[0] * k[1] * channels * g, 11), 0.4f);
        float[] rec = scale(random(k[0] * k[1] * layer.filters() * g, 12), 0.4f);
        float[] bias = layer.useBias() ? scale(random(g, 13), 0.3f) : null;
        layer.setWeights(kernel, rec, bias);
        layer.useBackend(backend);
        return layer;
    }

    private static float[] scale(float[] v, float s) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        return v;
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(e[i] - a[i]) > TOL) {
                throw new AssertionError(what + ": element " + i + " expected " + e[i] + " got " + a[i]);
            }
        }
    }

    /** Runs the same configuration on the reference and on oneDNN and compares output and states. */
    private static void compare(UnaryOperator<ConvLSTM2D.Builder> config, int[] inputShape, int channels, Mask mask,
            boolean withInitial) {
        int size = 1;
        for (int d : inputShape) {
            size *= d;
        }
        try (ConvLSTM2D ref = build(b -> config.apply(b).returnState(true), channels, ReferenceBackend.instance());
                ConvLSTM2D cpu = build(b -> config.apply(b).returnState(true), channels, DnnlBackend.instance());
                Tensor x = Tensor.of(random(size, 5), inputShape)) {
            Tensor[] init = new Tensor[0];
            if (withInitial) {
                int[] frame = ref.outputShape(new int[] {inputShape[1], inputShape[2], inputShape[3], inputShape[4]});
                int[] st = ref.returnSequences() ? new int[] {frame[1], frame[2], frame[3]} : frame;
                int[] shape = {inputShape[0], st[0], st[1], st[2]};
                int n = inputShape[0] * st[0] * st[1] * st[2];
                init = new Tensor[] {Tensor.of(random(n, 21), shape), Tensor.of(random(n, 22), shape)};
            }
            try (Outputs r = ref.forward(x, mask, init); Outputs c = cpu.forward(x, mask, init)) {
                assertTrue(cpu.executionPath().startsWith("oneDNN ConvLSTM2D"), cpu.executionPath());
                assertTrue(ref.executionPath().startsWith("reference"), ref.executionPath());
                assertEquals(3, r.size());
                for (int i = 0; i < 3; i++) {
                    assertClose(r.get(i), c.get(i), "output " + i);
                }
            } finally {
                for (Tensor t : init) {
                    t.close();
                }
            }
        }
    }

    @Test
    void oneDnnMatchesReferenceValidSameOddEvenKernels() {
        compare(b -> b.filters(3).kernelSize(3), new int[] {2, 3, 6, 5, 2}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(3).padding("SAME"), new int[] {2, 3, 6, 5, 2}, 2, null, false);
        compare(b -> b.filters(2).kernelSize(2).padding("same"), new int[] {2, 3, 5, 4, 3}, 3, null, false);
        compare(b -> b.filters(2).kernelSize(2, 3).padding("valid"), new int[] {1, 2, 5, 6, 3}, 3, null, false);
        compare(b -> b.filters(4).kernelSize(4, 2).padding("same").returnSequences(true), new int[] {2, 3, 7, 5, 1}, 1,
                null, false);
    }

    @Test
    void oneDnnMatchesReferenceStridesAndDilation() {
        compare(b -> b.filters(3).kernelSize(3).strides(2), new int[] {2, 3, 7, 8, 2}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(3).strides(2, 3).padding("same"), new int[] {2, 3, 7, 8, 2}, 2, null, false);
        compare(b -> b.filters(2).kernelSize(2).strides(2).padding("same"), new int[] {2, 2, 5, 6, 2}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(3).dilationRate(2), new int[] {2, 3, 7, 8, 2}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(2, 3).dilationRate(2, 1).padding("same").returnSequences(true),
                new int[] {2, 3, 6, 6, 2}, 2, null, false);
    }

    @Test
    void oneDnnMatchesReferenceChannelsFirstSequencesBackwardsInitialState() {
        compare(b -> b.filters(3).kernelSize(3).padding("same").dataFormat("channels_first").returnSequences(true),
                new int[] {2, 3, 2, 5, 4}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(3).padding("same").goBackwards(true).returnSequences(true),
                new int[] {2, 4, 5, 4, 2}, 2, null, false);
        compare(b -> b.filters(3).kernelSize(3).padding("same").returnSequences(true), new int[] {2, 3, 5, 4, 2}, 2,
                null, true);
        compare(b -> b.filters(2).kernelSize(3).dataFormat("channels_first"), new int[] {2, 3, 2, 6, 5}, 2, null, true);
        compare(b -> b.filters(2).kernelSize(3).useBias(false).activation("relu").recurrentActivation(
                Activation.HARD_SIGMOID_KERAS2), new int[] {2, 3, 6, 5, 2}, 2, null, false);
        // Activations oneDNN has no eltwise for run in Java on the oneDNN path.
        compare(b -> b.filters(2).kernelSize(3).padding("same").activation("softsign").recurrentActivation("sigmoid")
                .returnSequences(true), new int[] {2, 3, 5, 4, 2}, 2, null, false);
        compare(b -> b.filters(2).kernelSize(3).padding("same").activation("tanh").recurrentActivation("softsign"),
                new int[] {2, 3, 5, 4, 2}, 2, Mask.fromLengths(new int[] {3, 1}, 3), false);
        compare(b -> b.filters(2).kernelSize(3).activation("elu").recurrentActivation(Activation.HARD_SIGMOID_KERAS3),
                new int[] {2, 3, 5, 4, 2}, 2, null, true);
    }

    @Test
    void oneDnnMatchesReferenceUnderMasks() {
        Mask mask = Mask.of(new boolean[] {true, false, true, true, false, false, true, false, true, true, true, false,
                false, false, false, false}, 4, 4);
        compare(b -> b.filters(3).kernelSize(3).padding("same").returnSequences(true), new int[] {4, 4, 5, 4, 2}, 2,
                mask, false);
        compare(b -> b.filters(3).kernelSize(3).padding("same").returnSequences(true).goBackwards(true),
                new int[] {4, 4, 5, 4, 2}, 2, mask, true);
        compare(b -> b.filters(2).kernelSize(2).padding("valid"), new int[] {4, 4, 5, 4, 2}, 2, mask, true);
    }

    /** With a 1×1 kernel every pixel is an independent LSTM: checks the reference against the LSTM reference. */
    @Test
    void oneByOneKernelIsAnLstmPerPixel() {
        int n = 2;
        int t = 3;
        int rows = 2;
        int cols = 3;
        int ch = 4;
        int f = 3;
        float[] kernel = scale(random(ch * 4 * f, 1), 0.5f);
        float[] rec = scale(random(f * 4 * f, 2), 0.5f);
        float[] bias = scale(random(4 * f, 3), 0.5f);
        float[] xs = random(n * t * rows * cols * ch, 4);
        for (Backend backend : io.jrnn.TestBackends.all()) {
            try (ConvLSTM2D conv = ConvLSTM2D.builder().filters(f).kernelSize(1).returnSequences(true).build();
                    Tensor x = Tensor.of(xs, n, t, rows, cols, ch)) {
                conv.setWeights(kernel, rec, bias);
                conv.useBackend(backend);
                // [N, T, R, C, ch] → [N·R·C, T, ch]
                float[] seq = new float[xs.length];
                for (int b = 0; b < n; b++) {
                    for (int s = 0; s < t; s++) {
                        for (int p = 0; p < rows * cols; p++) {
                            System.arraycopy(xs, ((b * t + s) * rows * cols + p) * ch, seq,
                                    ((b * rows * cols + p) * t + s) * ch, ch);
                        }
                    }
                }
                RecurrentSpec spec = new RecurrentSpec("lstm", io.jrnn.weights.CellType.LSTM, Activation.TANH,
                        Activation.SIGMOID, true, false, false, true,
                        io.jrnn.weights.KerasRnnWeights.of(io.jrnn.weights.CellType.LSTM, false, ch, f, kernel, rec, bias));
                try (RecurrentExecutor lstm = ReferenceBackend.instance().compile(spec);
                        Tensor seqT = Tensor.of(seq, n * rows * cols, t, ch);
                        Tensor y = conv.apply(x)) {
                    Tensor[] expected = lstm.run(seqT, null);
                    float[] e = expected[0].toArray();
                    float[] a = y.toArray();
                    for (int b = 0; b < n; b++) {
                        for (int s = 0; s < t; s++) {
                            for (int p = 0; p < rows * cols; p++) {
                                for (int j = 0; j < f; j++) {
                                    assertEquals(e[((b * rows * cols + p) * t + s) * f + j],
                                            a[((b * t + s) * rows * cols + p) * f + j], TOL, backend.name());
                                }
                            }
                        }
                    }
                    for (Tensor r : expected) {
                        r.close();
                    }
                }
            }
        }
    }

    /** A hand-checkable case: one channel, one filter, 2×2 kernel, 'same' pads only bottom/right (spec §2.6). */
    @Test
    void evenKernelSamePadsBottomRight() {
        for (Backend backend : io.jrnn.TestBackends.all()) {
            try (ConvLSTM2D conv = ConvLSTM2D.builder().filters(1).kernelSize(2).padding("same")
                    .recurrentActivation(Activation.LINEAR).activation(Activation.LINEAR).build();
                    Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2, 1)) {
                // Kernel only in the input-gate (i), candidate (c) and output gate (o) blocks, weight 1 at tap (0,0):
                // i = c = o = x[y, x'] (tap (0,0) is the pixel itself when padding is bottom/right), f irrelevant (c0 = 0).
                float[] kernel = new float[2 * 2 * 1 * 4];
                kernel[0] = 1; // tap (0,0), gate i
                kernel[2] = 1; // gate c
                kernel[3] = 1; // gate o
                conv.setWeights(kernel, new float[2 * 2 * 1 * 4], new float[4]);
                conv.useBackend(backend);
                try (Tensor y = conv.apply(x)) {
                    // c = i·g = v², h = o·c = v³
                    assertArrayEquals(new float[] {1, 8, 27, 64}, y.toArray(), 1e-5f, backend.name());
                }
            }
        }
    }

    @Test
    void statefulCarriesStatesAndResets() {
        for (Backend backend : io.jrnn.TestBackends.all()) {
            try (ConvLSTM2D stateful = build(b -> b.filters(2).kernelSize(3).padding("same").stateful(true).batchSize(2),
                    2, backend);
                    ConvLSTM2D whole = build(b -> b.filters(2).kernelSize(3).padding("same"), 2, backend);
                    Tensor all = Tensor.of(random(2 * 4 * 4 * 3 * 2, 9), 2, 4, 4, 3, 2)) {
                float[] v = all.toArray();
                float[] first = new float[v.length / 2];
                float[] second = new float[v.length / 2];
                int per = 4 * 3 * 2;
                for (int b = 0; b < 2; b++) {
                    System.arraycopy(v, (b * 4) * per, first, b * 2 * per, 2 * per);
                    System.arraycopy(v, (b * 4 + 2) * per, second, b * 2 * per, 2 * per);
                }
                try (Tensor x1 = Tensor.of(first, 2, 2, 4, 3, 2);
                        Tensor x2 = Tensor.of(second, 2, 2, 4, 3, 2);
                        Tensor y1 = stateful.apply(x1);
                        Tensor y2 = stateful.apply(x2);
                        Tensor expected = whole.apply(all)) {
                    assertClose(expected, y2, backend.name() + " stateful continuation");
                    assertNotEquals(y1.get(0, 0, 0, 0), y2.get(0, 0, 0, 0));
                    stateful.resetStates();
                    try (Tensor again = stateful.apply(x1)) {
                        assertClose(y1, again, "after reset");
                    }
                    Tensor wrongBatch = Tensor.zeros(1, 2, 4, 3, 2);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> stateful.apply(wrongBatch));
                    assertTrue(e.getMessage().contains("batch size 2") && e.getMessage().contains("batch of 1"),
                            e.getMessage());
                    wrongBatch.close();
                }
            }
        }
    }

    @Test
    void shapesAndOutputShape() {
        try (ConvLSTM2D cf = ConvLSTM2D.builder().filters(5).kernelSize(3).strides(2).padding("same")
                .dataFormat("Channels_First").returnSequences(true).build();
                ConvLSTM2D cl = ConvLSTM2D.builder().filters(5).kernelSize(3).dilationRate(2).build()) {
            assertArrayEquals(new int[] {4, 5, 4, 3}, cf.outputShape(new int[] {4, 2, 7, 6}));
            assertArrayEquals(new int[] {3, 2, 5}, cl.outputShape(new int[] {4, 7, 6, 2}));
            assertEquals("channels_first", cf.dataFormat());
            try (Tensor x = Tensor.zeros(2, 4, 2, 7, 6); Tensor y = cf.apply(x)) {
                assertArrayEquals(new int[] {2, 4, 5, 4, 3}, y.shape());
            }
        }
    }

    @Test
    void rejectsBadConfigurationAndInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvLSTM2D.builder().name("c").filters(2).kernelSize(3).strides(2).dilationRate(2).build());
        assertTrue(e.getMessage().contains("ConvLSTM2D 'c'") && e.getMessage().contains("dilation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvLSTM2D.builder().name("c").filters(2).kernelSize(3).padding("full").build());
        assertTrue(e.getMessage().contains("'full'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvLSTM2D.builder().name("c").filters(2).kernelSize(3).dataFormat("nhwc").build());
        assertTrue(e.getMessage().contains("data_format"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConvLSTM2D.builder().filters(0).kernelSize(3).build());
        try (ConvLSTM2D c = ConvLSTM2D.builder().name("c").filters(2).kernelSize(3).build();
                Tensor bad = Tensor.zeros(2, 3, 4, 4);
                Tensor small = Tensor.zeros(1, 2, 2, 4, 1);
                Tensor ok = Tensor.zeros(1, 2, 4, 4, 1)) {
            e = assertThrows(IllegalArgumentException.class, () -> c.apply(bad));
            assertTrue(e.getMessage().contains("rank 5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.apply(small));
            assertTrue(e.getMessage().contains("smaller than"), e.getMessage());
            c.apply(ok).close();
            try (Tensor wrongC = Tensor.zeros(1, 2, 4, 4, 3)) {
                e = assertThrows(IllegalArgumentException.class, () -> c.apply(wrongC));
                assertTrue(e.getMessage().contains("expected 1 input channels"), e.getMessage());
            }
            try (Tensor h = Tensor.zeros(1, 3, 3, 2)) {
                e = assertThrows(IllegalArgumentException.class, () -> c.forward(ok, h, h));
                assertTrue(e.getMessage().contains("[1, 2, 2, 2]"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> c.forward(ok, h));
                assertTrue(e.getMessage().contains("2 states"), e.getMessage());
            }
            e = assertThrows(IllegalArgumentException.class, () -> c.forward(ok, Mask.fromLengths(new int[] {1, 1}, 2)));
            assertTrue(e.getMessage().contains("mask"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.setWeights(new float[5], new float[5], new float[8]));
            assertTrue(e.getMessage().contains("kernel"), e.getMessage());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() {
        ConvLSTM2D c = ConvLSTM2D.builder().filters(2).kernelSize(3).build();
        c.useBackend(DnnlBackend.instance());
        try (Tensor x = Tensor.zeros(1, 2, 4, 4, 1)) {
            c.apply(x).close();
            c.close();
            c.close();
            assertThrows(IllegalStateException.class, () -> c.apply(x));
        }
        var exec = DnnlBackend.instance().compileConvLstm(spec());
        exec.close();
        exec.close();
        try (Tensor x = Tensor.zeros(1, 2, 4, 4, 1)) {
            assertThrows(IllegalStateException.class, () -> exec.run(x, null, null));
        }
    }

    private static ConvLstmSpec spec() {
        return new ConvLstmSpec("s", 1, 2, 3, 3, 1, 1, 1, 1, false, Activation.TANH, Activation.SIGMOID, false, false,
                new float[9 * 8], new float[9 * 2 * 8], new float[8]);
    }

    @Test
    void trainingOnlyArgumentsAreKept() {
        RecurrentLayer.TrainingOptions t = new RecurrentLayer.TrainingOptions(0.1, 0.2, "he_normal", "orthogonal", "ones",
                null, null, null, null, null, null, null, false, 2);
        try (ConvLSTM2D c = ConvLSTM2D.builder().filters(2).kernelSize(3).trainingOptions(t).unitForgetBias(false).build()) {
            assertEquals(t, c.trainingOptions());
            assertTrue(!c.unitForgetBias());
        }
    }

    /** A backend with no ConvLSTM2D path: CUDA ones run on the CPU and say so; others on the reference. */
    @Test
    void backendsWithoutConvLstmFallBackAndSaySo() {
        Backend fakeCuda = new FakeBackend(Device.cuda(0));
        Backend other = new FakeBackend(Device.cpu());
        assertThrows(UnsupportedConfigurationException.class, () -> fakeCuda.compileConvLstm(spec()));
        try (ConvLSTM2D c = ConvLSTM2D.builder().filters(2).kernelSize(3).build();
                ConvLSTM2D d = ConvLSTM2D.builder().filters(2).kernelSize(3).build();
                Tensor x = Tensor.zeros(1, 2, 4, 4, 1)) {
            c.useBackend(fakeCuda);
            c.apply(x).close();
            assertTrue(c.executionPath().startsWith("ran on the CPU, oneDNN ConvLSTM2D"), c.executionPath());
            assertTrue(c.executionPath().contains("has no ConvLSTM2D path"), c.executionPath());
            d.useBackend(other);
            d.apply(x).close();
            assertTrue(d.executionPath().startsWith("reference"), d.executionPath());
        }
    }

    private record FakeBackend(Device device) implements Backend {
        @Override
        public String name() {
            return device.kind() == Device.Kind.CUDA ? "fake-cuda" : "fake";
        }

        @Override
        public RecurrentExecutor compile(RecurrentSpec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String describe() {
            return name();
        }
    }

    @Test
    void outputMaskPassesOnOnlyWithSequences() {
        Mask m = Mask.fromLengths(new int[] {1}, 2);
        try (ConvLSTM2D seq = ConvLSTM2D.builder().filters(1).kernelSize(1).returnSequences(true).build();
                ConvLSTM2D last = ConvLSTM2D.builder().filters(1).kernelSize(1).build()) {
            assertEquals(m, seq.outputMask(null, m));
            assertEquals(null, last.outputMask(null, m));
        }
    }
}
