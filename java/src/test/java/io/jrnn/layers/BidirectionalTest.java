package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Bidirectional.MergeMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Bidirectional (spec §3.7) against a hand composition of two plain layers: the forward layer, and a
 * {@code go_backwards} layer whose sequence is flipped back along time, merged by hand.
 */
class BidirectionalTest {
    private static final int N = 3;
    private static final int T = 5;
    private static final int C = 4;
    private static final int H = 3;

    private static Tensor input(long seed) {
        return Tensor.of(RecurrentLayerTest.random(N * T * C, seed), N, T, C);
    }

    /** A plain layer with the config and the weights of {@code source}. */
    private static RecurrentLayer plainCopy(RecurrentLayer source, Backend backend) {
        RecurrentLayer.Builder<?, ?> b = source instanceof GRU ? GRU.builder().resetAfter(source.resetAfter())
                : source instanceof SimpleRNN ? SimpleRNN.builder() : LSTM.builder();
        b.units(source.units()).activation(source.activation()).recurrentActivation(source.recurrentActivation())
                .returnSequences(source.returnSequences()).returnState(true).goBackwards(source.goBackwards());
        RecurrentLayer l = b.build();
        l.setWeights(source.weights());
        l.useBackend(backend);
        return l;
    }

    private static float[] flip(float[] y, int n, int t, int h) {
        float[] out = new float[y.length];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < t; s++) {
                System.arraycopy(y, (i * t + t - 1 - s) * h, out, (i * t + s) * h, h);
            }
        }
        return out;
    }

    private static float[] merge(MergeMode mode, float[] f, float[] b, int h) {
        int rows = f.length / h;
        float[] out = new float[mode == MergeMode.CONCAT ? 2 * f.length : f.length];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < h; j++) {
                float x = f[r * h + j];
                float y = b[r * h + j];
                switch (mode) {
                    case CONCAT -> {
                        out[r * 2 * h + j] = x;
                        out[r * 2 * h + h + j] = y;
                    }
                    case SUM -> out[r * h + j] = x + y;
                    case MUL -> out[r * h + j] = x * y;
                    case AVE -> out[r * h + j] = (x + y) / 2;
                    default -> throw new IllegalArgumentException(mode.toString());
                }
            }
        }
        return out;
    }

    private static List<Supplier<RecurrentLayer.Builder<?, ?>>> families() {
        return List.of(() -> LSTM.builder().units(H).seed(11), () -> GRU.builder().units(H).seed(12),
                () -> GRU.builder().units(H).resetAfter(false).seed(13), () -> SimpleRNN.builder().units(H).seed(14));
    }

    @Test
    void everyMergeModeMatchesTwoPlainLayersOnEveryBackend() {
        for (Backend backend : TestBackends.all()) {
            for (Supplier<RecurrentLayer.Builder<?, ?>> family : families()) {
                for (boolean sequences : new boolean[] {false, true}) {
                    for (MergeMode mode : MergeMode.values()) {
                        checkAgainstPlainLayers(backend, family.get().returnSequences(sequences).build(), mode);
                    }
                }
            }
        }
    }

    private static void checkAgainstPlainLayers(Backend backend, RecurrentLayer layer, MergeMode mode) {
        String what = layer.typeName() + " seq=" + layer.returnSequences() + " " + mode + " on " + backend.name();
        try (Bidirectional bi = Bidirectional.of(layer, mode); Tensor x = input(3)) {
            bi.useBackend(backend);
            try (Outputs got = bi.forward(x);
                 RecurrentLayer f = plainCopy(bi.forwardLayer(), backend);
                 RecurrentLayer b = plainCopy(bi.backwardLayer(), backend);
                 Outputs yf = f.forward(x);
                 Outputs yb = b.forward(x)) {
                float[] fwd = yf.output().toArray();
                float[] bwd = layer.returnSequences() ? flip(yb.output().toArray(), N, T, H) : yb.output().toArray();
                if (mode == MergeMode.NONE) {
                    assertEquals(2, got.size(), what);
                    assertArrayEquals(fwd, got.get(0).toArray(), 1e-6f, what + " forward");
                    assertArrayEquals(bwd, got.get(1).toArray(), 1e-6f, what + " backward");
                } else {
                    assertEquals(1, got.size(), what);
                    assertArrayEquals(merge(mode, fwd, bwd, H), got.output().toArray(), 1e-6f, what);
                    int width = mode == MergeMode.CONCAT ? 2 * H : H;
                    assertArrayEquals(layer.returnSequences() ? new int[] {N, T, width} : new int[] {N, width},
                            got.output().shape(), what);
                    assertArrayEquals(layer.returnSequences() ? new int[] {T, width} : new int[] {width},
                            bi.outputShape(new int[] {T, C}), what);
                }
            }
        }
    }

    @Test
    void onednnAgreesWithTheReferenceBackend() {
        for (MergeMode mode : List.of(MergeMode.CONCAT, MergeMode.AVE)) {
            // One wrapper (so one set of weights), run on each backend in turn.
            try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(5).build(), mode);
                 Tensor x = input(4)) {
                float[] expected = null;
                for (Backend backend : TestBackends.all()) {
                    bi.useBackend(backend);
                    float[] y;
                    try (Tensor out = bi.apply(x)) {
                        y = out.toArray();
                    }
                    if (expected == null) {
                        expected = y;
                    } else {
                        assertArrayEquals(expected, y, 1e-5f, mode + " on " + backend.name());
                    }
                    if (backend instanceof ReferenceBackend || mode == MergeMode.AVE) {
                        assertTrue(bi.executionPath().startsWith("forward: "), bi.executionPath());
                        assertTrue(bi.executionPath().contains("; backward: "), bi.executionPath());
                    }
                    if (!(backend instanceof ReferenceBackend)) {
                        // concat: one bidirectional primitive; ave (not a oneDNN merge): both directions fused, apart.
                        assertTrue(bi.executionPath().startsWith(mode == MergeMode.CONCAT
                                ? "oneDNN lstm_forward bidirectional_concat (" : "forward: oneDNN lstm_forward ("),
                                bi.executionPath());
                        if (mode == MergeMode.AVE) {
                            assertEquals(2, bi.executionPath().split("oneDNN lstm_forward", -1).length - 1,
                                    bi.executionPath());
                        }
                    }
                }
            }
        }
    }

    @Test
    void backwardHalfIsFlippedAlongTheWholeTimeAxis() {
        try (Bidirectional bi = Bidirectional.of(GRU.builder().units(H).returnSequences(true).returnState(true).seed(2)
                .build(), MergeMode.NONE); Tensor x = input(5); Outputs out = bi.forward(x)) {
            // [y_fwd, y_bwd, h_fwd, h_bwd]
            assertEquals(4, out.size());
            float[] yb = out.get(1).toArray();
            float[] hb = out.get(3).toArray();
            float[] hf = out.get(2).toArray();
            float[] yf = out.get(0).toArray();
            for (int n = 0; n < N; n++) {
                for (int j = 0; j < H; j++) {
                    // Position 0 holds the backward state after consuming x[:, T−1] … x[:, 0]: its final state.
                    assertEquals(hb[n * H + j], yb[(n * T) * H + j], 0f);
                    // The forward final state sits at the last position.
                    assertEquals(hf[n * H + j], yf[(n * T + T - 1) * H + j], 0f);
                }
            }
        }
    }

    @Test
    void returnStateListsMergedOutputThenForwardThenBackwardStates() {
        for (Backend backend : TestBackends.all()) {
            for (MergeMode mode : List.of(MergeMode.CONCAT, MergeMode.NONE)) {
                try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).returnState(true).seed(8).build(), mode);
                     Tensor x = input(6)) {
                    bi.useBackend(backend);
                    try (Outputs got = bi.forward(x);
                         RecurrentLayer f = plainCopy(bi.forwardLayer(), backend);
                         RecurrentLayer b = plainCopy(bi.backwardLayer(), backend);
                         Outputs yf = f.forward(x);
                         Outputs yb = b.forward(x)) {
                        int first = mode == MergeMode.NONE ? 2 : 1;
                        assertEquals(first + 4, got.size(), mode.toString());
                        List<Tensor> expectedStates = new ArrayList<>(yf.states());
                        expectedStates.addAll(yb.states());
                        for (int i = 0; i < 4; i++) {
                            assertArrayEquals(expectedStates.get(i).toArray(), got.get(first + i).toArray(), 1e-6f,
                                    mode + " state " + i + " on " + backend.name());
                        }
                    }
                }
            }
        }
    }

    @Test
    void initialStatesFirstHalfForwardSecondHalfBackward() {
        for (Backend backend : TestBackends.all()) {
            try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(9).build(),
                    MergeMode.CONCAT);
                 Tensor x = input(7);
                 Tensor h0 = Tensor.of(RecurrentLayerTest.random(N * H, 21), N, H);
                 Tensor c0 = Tensor.of(RecurrentLayerTest.random(N * H, 22), N, H);
                 Tensor h1 = Tensor.of(RecurrentLayerTest.random(N * H, 23), N, H);
                 Tensor c1 = Tensor.of(RecurrentLayerTest.random(N * H, 24), N, H)) {
                bi.useBackend(backend);
                assertEquals(4, bi.stateCount());
                try (Outputs got = bi.forward(x, h0, c0, h1, c1);
                     RecurrentLayer f = plainCopy(bi.forwardLayer(), backend);
                     RecurrentLayer b = plainCopy(bi.backwardLayer(), backend);
                     Outputs yf = f.forward(x, h0, c0);
                     Outputs yb = b.forward(x, h1, c1);
                     Outputs zero = bi.forward(x)) {
                    float[] expected = merge(MergeMode.CONCAT, yf.output().toArray(),
                            flip(yb.output().toArray(), N, T, H), H);
                    assertArrayEquals(expected, got.output().toArray(), 1e-6f, backend.name());
                    assertFalse(java.util.Arrays.equals(zero.output().toArray(), got.output().toArray()),
                            "initial states must change the result");
                }
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bi.forward(x, h0, c0));
                assertTrue(e.getMessage().contains("4 states") && e.getMessage().contains("passed 2"), e.getMessage());
                assertTrue(e.getMessage().contains(bi.name()), e.getMessage());
            }
        }
    }

    @Test
    void statefulKeepsOneStatePerDirection() {
        for (Backend backend : TestBackends.all()) {
            try (Bidirectional bi = Bidirectional.of(GRU.builder().units(H).stateful(true).batchSize(N).seed(31).build(),
                    MergeMode.CONCAT);
                 Tensor x1 = input(41);
                 Tensor x2 = input(42)) {
                bi.useBackend(backend);
                assertTrue(bi.stateful());
                assertTrue(bi.backwardLayer().stateful());
                float[] first;
                float[] second;
                try (Tensor y1 = bi.apply(x1); Tensor y2 = bi.apply(x2)) {
                    first = y1.toArray();
                    second = y2.toArray();
                }
                // Each direction continues from its own state: the plain layers, chained by hand.
                try (RecurrentLayer f = plainCopy(bi.forwardLayer(), backend);
                     RecurrentLayer b = plainCopy(bi.backwardLayer(), backend);
                     Outputs f1 = f.forward(x1);
                     Outputs b1 = b.forward(x1);
                     Outputs f2 = f.forward(x2, f1.states().get(0));
                     Outputs b2 = b.forward(x2, b1.states().get(0))) {
                    assertArrayEquals(merge(MergeMode.CONCAT, f1.output().toArray(), b1.output().toArray(), H), first, 1e-6f);
                    assertArrayEquals(merge(MergeMode.CONCAT, f2.output().toArray(), b2.output().toArray(), H), second, 1e-6f);
                    Tensor[] storedF = bi.forwardLayer().storedStates();
                    Tensor[] storedB = bi.backwardLayer().storedStates();
                    assertArrayEquals(f2.states().get(0).toArray(), storedF[0].toArray(), 1e-6f);
                    assertArrayEquals(b2.states().get(0).toArray(), storedB[0].toArray(), 1e-6f);
                    storedF[0].close();
                    storedB[0].close();
                }
                bi.resetStates();
                try (Tensor again = bi.apply(x1)) {
                    assertArrayEquals(first, again.toArray(), 1e-6f, "after resetStates both directions start from zero");
                }
                try (Tensor other = Tensor.of(new float[2 * T * C], 2, T, C)) {
                    assertThrows(IllegalArgumentException.class, () -> bi.apply(other));
                }
            }
        }
    }

    @Test
    void backwardCopyNegatesGoBackwardsAndKeepsTheConfig() {
        LSTM layer = LSTM.builder().name("enc").units(H).activation(Activation.RELU)
                .recurrentActivation(Activation.HARD_SIGMOID_KERAS2).useBias(false).returnSequences(true)
                .goBackwards(true).unitForgetBias(false).build();
        try (Bidirectional bi = Bidirectional.of(layer, MergeMode.SUM)) {
            RecurrentLayer b = bi.backwardLayer();
            assertInstanceOf(LSTM.class, b);
            assertEquals("backward_enc", b.name());
            assertFalse(b.goBackwards(), "Keras 1/2: not layer.go_backwards");
            assertEquals(Activation.RELU, b.activation());
            assertEquals(Activation.HARD_SIGMOID_KERAS2, b.recurrentActivation());
            assertFalse(b.useBias());
            assertTrue(b.returnSequences());
            assertFalse(b.unitForgetBias());
            assertEquals(H, b.units());
            assertTrue(bi.forwardLayer() == layer);
        }
        try (Bidirectional bi = Bidirectional.of(CuDNNGRU.builder().units(2).build(), MergeMode.CONCAT)) {
            assertInstanceOf(CuDNNGRU.class, bi.backwardLayer());
            assertTrue(bi.backwardLayer().goBackwards());
        }
    }

    @Test
    void weightsAreForwardListThenBackwardList() {
        try (Bidirectional bi = Bidirectional.of(SimpleRNN.builder().units(2).build(), MergeMode.CONCAT)) {
            Tensor[] arrays = {
                Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), Tensor.of(new float[4], 2, 2), Tensor.of(new float[] {1, 1}, 2),
                Tensor.of(new float[] {6, 5, 4, 3, 2, 1}, 3, 2), Tensor.of(new float[4], 2, 2), Tensor.of(new float[] {2, 2}, 2)};
            bi.setWeights(arrays);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, bi.forwardLayer().weights().kernel(), 0f);
            assertArrayEquals(new float[] {6, 5, 4, 3, 2, 1}, bi.backwardLayer().weights().kernel(), 0f);
            assertArrayEquals(new float[] {2, 2}, bi.backwardLayer().weights().bias(), 0f);
            assertEquals(2 * (6 + 4 + 2), bi.parameterCount());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> bi.setWeights(java.util.Arrays.copyOf(arrays, 5)));
            assertTrue(e.getMessage().contains("expected 6") && e.getMessage().contains("got 5"), e.getMessage());
            for (Tensor t : arrays) {
                t.close();
            }
        }
    }

    @Test
    void badConfigsAreRefusedByName() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> MergeMode.fromKeras("max"));
        assertTrue(unknown.getMessage().contains("'max'") && unknown.getMessage().contains("concat, sum, mul, ave and None"),
                unknown.getMessage());
        assertEquals(MergeMode.NONE, MergeMode.fromKeras(null));
        assertEquals(MergeMode.NONE, MergeMode.fromKeras("None"));
        assertEquals(MergeMode.AVE, MergeMode.fromKeras("ave"));

        IllegalArgumentException same = assertThrows(IllegalArgumentException.class, () -> Bidirectional.builder().name("bi")
                .layer(LSTM.builder().units(2).build()).backwardLayer(LSTM.builder().units(2).build()).build());
        assertTrue(same.getMessage().contains("'bi'") && same.getMessage().contains("go_backwards"), same.getMessage());

        IllegalArgumentException flags = assertThrows(IllegalArgumentException.class, () -> Bidirectional.builder()
                .layer(LSTM.builder().units(2).returnSequences(true).build())
                .backwardLayer(LSTM.builder().units(2).goBackwards(true).build()).build());
        assertTrue(flags.getMessage().contains("return_sequences=true") && flags.getMessage().contains("return_sequences=false"),
                flags.getMessage());

        IllegalArgumentException widths = assertThrows(IllegalArgumentException.class, () -> Bidirectional.builder()
                .layer(GRU.builder().units(2).build()).backwardLayer(GRU.builder().units(3).goBackwards(true).build())
                .mergeMode(MergeMode.SUM).build());
        assertTrue(widths.getMessage().contains("sum") && widths.getMessage().contains("2") && widths.getMessage().contains("3"),
                widths.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Bidirectional.builder().build());
        assertThrows(IllegalArgumentException.class, () -> Bidirectional.builder().mergeMode("min"));

        // An explicit backward layer with another width is fine for concat (Keras allows it).
        try (Bidirectional ok = Bidirectional.builder().layer(GRU.builder().units(2).build())
                .backwardLayer(GRU.builder().units(3).goBackwards(true).build()).build(); Tensor x = input(1);
             Tensor y = ok.apply(x)) {
            assertArrayEquals(new int[] {N, 5}, y.shape());
        }
    }

    @Test
    void masksReachBothInnerLayers() {
        try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(3).build(),
                MergeMode.CONCAT); Tensor x = input(2)) {
            bi.useBackend(ReferenceBackend.instance());
            Mask all = Mask.fromLengths(new int[] {T, T, T}, T);
            try (Tensor plain = bi.apply(x); Outputs masked = bi.forward(x, all)) {
                assertArrayEquals(plain.toArray(), masked.output().toArray(), 0f, "an all-valid mask changes nothing");
            }
            Mask padded = Mask.fromLengths(new int[] {T, 2, 0}, T);
            assertEquals(padded, bi.outputMask(x, padded));
            assertTrue(bi.zeroOutputForMask());
        }
        try (Bidirectional last = Bidirectional.of(LSTM.builder().units(H).build(), MergeMode.CONCAT); Tensor x = input(2)) {
            assertEquals(null, last.outputMask(x, Mask.fromLengths(new int[] {1, 2, 3}, T)));
        }
        // CuDNN layers refuse any mask, as Keras does, also inside the wrapper.
        try (Bidirectional cudnn = Bidirectional.of(CuDNNLSTM.builder().units(H).returnSequences(true).build(),
                MergeMode.CONCAT); Tensor x = input(2)) {
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> cudnn.forward(x, Mask.fromLengths(new int[] {T, T, T}, T)));
            assertTrue(e.getMessage().contains("Masking is not supported for CuDNN RNNs"), e.getMessage());
        }
    }

    @Test
    void closeClosesBothDirectionsOnce() {
        Bidirectional bi = Bidirectional.of(LSTM.builder().units(2).build(), MergeMode.CONCAT);
        bi.close();
        bi.close();
        assertTrue(bi.forwardLayer().isClosed());
        assertTrue(bi.backwardLayer().isClosed());
        try (Tensor x = input(1)) {
            assertThrows(IllegalStateException.class, () -> bi.apply(x));
        }
        assertNotEquals(bi.forwardLayer(), bi.backwardLayer());
    }
}
