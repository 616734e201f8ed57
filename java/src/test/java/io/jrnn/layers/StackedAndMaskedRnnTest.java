package io.jrnn.layers;

import static io.jrnn.layers.RnnCellLayerTest.foreign;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.TestBackends;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** StackedRNNCells (spec §2.8), its state orders, masks in RNN(cell) (§3.3), and RNN's errors. */
class StackedAndMaskedRnnTest {
    static final int N = 2;
    static final int T = 6;
    static final int C = 3;
    static final int H1 = 4;
    static final int H2 = 2;
    static final float TOL = 2e-5f;

    static Iterable<Backend> backends() {
        return TestBackends.all();
    }

    private static LSTMCell lstmCell() {
        LSTMCell c = LSTMCell.builder().units(H1).seed(21).build();
        c.initializeWeights(C);
        c.setWeights(c.weights().kernel(), c.weights().recurrentKernel(), RecurrentLayerTest.random(4 * H1, 22));
        return c;
    }

    private static GRUCell gruCell() {
        GRUCell c = GRUCell.builder().units(H2).seed(23).build();
        c.initializeWeights(H1);
        c.setWeights(c.weights().kernel(), c.weights().recurrentKernel(), RecurrentLayerTest.random(6 * H2, 24));
        return c;
    }

    /** LSTM(return_sequences) → GRU, as separate layers, returning [y, h1, c1, h2]. */
    private static float[][] separateLayers(Tensor x, Backend backend, boolean firstBackwards, boolean secondBackwards,
            boolean returnSequences, Tensor... init) {
        try (LSTMCell a = lstmCell(); GRUCell b = gruCell();
             LSTM l1 = LSTM.builder().units(H1).returnSequences(true).returnState(true).goBackwards(firstBackwards).build();
             GRU l2 = GRU.builder().units(H2).returnSequences(returnSequences).returnState(true).goBackwards(secondBackwards)
                     .build()) {
            l1.setWeights(a.weights());
            l2.setWeights(b.weights());
            l1.useBackend(backend);
            l2.useBackend(backend);
            Tensor[] init1 = init.length == 0 ? new Tensor[0] : new Tensor[] {init[0], init[1]};
            Tensor[] init2 = init.length == 0 ? new Tensor[0] : new Tensor[] {init[2]};
            try (Outputs o1 = l1.forward(x, init1); Outputs o2 = l2.forward(o1.output(), init2)) {
                return new float[][] {o2.output().toArray(), o1.get(1).toArray(), o1.get(2).toArray(), o2.get(1).toArray()};
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void stackEqualsStackedLayersFusedAndStepLoop(Backend backend) {
        try (Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 30), N, T, C);
             Tensor h1 = Tensor.of(RecurrentLayerTest.random(N * H1, 31), N, H1);
             Tensor c1 = Tensor.of(RecurrentLayerTest.random(N * H1, 32), N, H1);
             Tensor h2 = Tensor.of(RecurrentLayerTest.random(N * H2, 33), N, H2)) {
            for (boolean seq : new boolean[] {false, true}) {
                float[][] expected = separateLayers(x, backend, false, false, seq, h1, c1, h2);
                try (RNN fused = RNN.builder(List.of(lstmCell(), gruCell())).returnSequences(seq).returnState(true).build();
                     RNN loop = RNN.builder(foreign(StackedRNNCells.of(lstmCell(), gruCell()))).returnSequences(seq)
                             .returnState(true).build()) {
                    fused.useBackend(backend);
                    try (Outputs a = fused.forward(x, h1, c1, h2); Outputs b = loop.forward(x, h1, c1, h2)) {
                        assertEquals(4, a.size());
                        for (int i = 0; i < 4; i++) {
                            assertArrayEquals(expected[i], a.get(i).toArray(), TOL, "fused " + i);
                            assertArrayEquals(expected[i], b.get(i).toArray(), TOL, "loop " + i);
                        }
                    }
                    assertTrue(fused.executionPath().startsWith("fused ") && fused.executionPath().contains("→"),
                            fused.executionPath());
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void goBackwardsStackIsFirstLayerBackwardsThenForwards(Backend backend) {
        try (Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 34), N, T, C)) {
            float[][] expected = separateLayers(x, backend, true, false, true);
            float[][] bothBackwards = separateLayers(x, backend, true, true, true);
            try (RNN fused = RNN.builder(List.of(lstmCell(), gruCell())).returnSequences(true).returnState(true)
                     .goBackwards(true).build();
                 RNN loop = RNN.builder(foreign(StackedRNNCells.of(lstmCell(), gruCell()))).returnSequences(true)
                         .returnState(true).goBackwards(true).build()) {
                fused.useBackend(backend);
                try (Outputs a = fused.forward(x); Outputs b = loop.forward(x)) {
                    for (int i = 0; i < 4; i++) {
                        assertArrayEquals(expected[i], a.get(i).toArray(), TOL, "fused " + i);
                        assertArrayEquals(expected[i], b.get(i).toArray(), TOL, "loop " + i);
                    }
                    // The caveat: it is not two layers that both go backwards.
                    assertTrue(maxDiff(bothBackwards[0], a.output().toArray()) > 1e-3);
                }
            }
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void stateOrdersNaturalAndReversed() {
        try (StackedRNNCells natural = StackedRNNCells.of(lstmCell(), gruCell());
             StackedRNNCells reversed = StackedRNNCells.builder().add(lstmCell()).add(gruCell()).reverseStateOrder(true).build()) {
            assertArrayEquals(new int[] {H1, H1, H2}, natural.stateSizes());
            assertArrayEquals(new int[] {H2, H1, H1}, reversed.stateSizes());
            assertEquals(1, natural.stateIndex(0, 1));
            assertEquals(2, natural.stateIndex(1, 0));
            assertEquals(0, reversed.stateIndex(1, 0));
            assertEquals(2, reversed.stateIndex(0, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> natural.stateIndex(1, 1));
            assertEquals(H2, natural.outputSize());
        }
        try (Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 35), N, T, C);
             Tensor h1 = Tensor.of(RecurrentLayerTest.random(N * H1, 36), N, H1);
             Tensor c1 = Tensor.of(RecurrentLayerTest.random(N * H1, 37), N, H1);
             Tensor h2 = Tensor.of(RecurrentLayerTest.random(N * H2, 38), N, H2)) {
            float[][] expected = separateLayers(x, ReferenceBackend.instance(), false, false, false, h1, c1, h2);
            for (boolean viaLoop : new boolean[] {false, true}) {
                StackedRNNCells reversed = StackedRNNCells.builder().add(lstmCell()).add(gruCell()).reverseStateOrder(true).build();
                try (RNN rnn = RNN.builder(viaLoop ? foreign(reversed) : reversed).returnState(true).build()) {
                    rnn.useBackend(ReferenceBackend.instance());
                    Outputs out = rnn.forward(x, h2, h1, c1);
                    // [y, h2, h1, c1]: Keras 2.1.0–2.2.2.
                    assertArrayEquals(expected[0], out.get(0).toArray(), TOL);
                    assertArrayEquals(expected[3], out.get(1).toArray(), TOL);
                    assertArrayEquals(expected[1], out.get(2).toArray(), TOL);
                    assertArrayEquals(expected[2], out.get(3).toArray(), TOL);
                    out.close();
                }
            }
        }
    }

    // --- masks (§3.3), hand-computed for SimpleRNNCell(units=1): h = tanh(0.5·x + 0.1 + 0.8·h) ---

    private static final float[] X = {1, 2, 3, 4, -1, 0.5f, 2, 2};
    private static final boolean[] MASK = {false, true, false, true, true, true, false, false};

    private static RNN maskedRnn(boolean returnSequences, boolean goBackwards, boolean zeroOutput, boolean viaLoop) {
        SimpleRNNCell c = SimpleRNNCell.builder().units(1).build();
        c.setWeights(new float[] {0.5f}, new float[] {0.8f}, new float[] {0.1f});
        RNN rnn = RNN.builder(viaLoop ? foreign(c) : c).returnSequences(returnSequences).returnState(true)
                .goBackwards(goBackwards).zeroOutputForMask(zeroOutput).build();
        rnn.useBackend(ReferenceBackend.instance());
        return rnn;
    }

    private static double step(double x, double h) {
        return Math.tanh(0.5 * x + 0.1 + 0.8 * h);
    }

    @Test
    void maskCarriesStatesAndPreviousOutput() {
        double s0a = step(2, 0.3);
        double s0b = step(4, s0a);
        double s1a = step(-1, 0.3);
        double s1b = step(0.5, s1a);
        float[] expectedSeq = {0, (float) s0a, (float) s0a, (float) s0b, (float) s1a, (float) s1b, (float) s1b, (float) s1b};
        float[] expectedZero = {0, (float) s0a, 0, (float) s0b, (float) s1a, (float) s1b, 0, 0};
        for (boolean viaLoop : new boolean[] {false, true}) {
            try (Tensor x = Tensor.of(X, 2, 4, 1); Tensor h0 = Tensor.of(new float[] {0.3f, 0.3f}, 2, 1);
                 RNN seq = maskedRnn(true, false, false, viaLoop); RNN zero = maskedRnn(true, false, true, viaLoop);
                 RNN last = maskedRnn(false, false, true, viaLoop);
                 Outputs a = seq.forward(x, Mask.of(MASK, 2, 4), h0); Outputs b = zero.forward(x, Mask.of(MASK, 2, 4), h0);
                 Outputs c = last.forward(x, Mask.of(MASK, 2, 4), h0)) {
                assertArrayEquals(expectedSeq, a.output().toArray(), 1e-6f);
                assertArrayEquals(new float[] {(float) s0b, (float) s1b}, a.get(1).toArray(), 1e-6f);
                assertArrayEquals(expectedZero, b.output().toArray(), 1e-6f);
                assertArrayEquals(new float[] {(float) s0b, (float) s1b}, b.get(1).toArray(), 1e-6f);
                // zero_output_for_mask and a masked last step: y_last = 0, the state is still carried.
                assertArrayEquals(new float[] {(float) s0b, 0}, c.output().toArray(), 1e-6f);
                assertArrayEquals(new float[] {(float) s0b, (float) s1b}, c.get(1).toArray(), 1e-6f);
                assertTrue(seq.executionPath().contains("masked"), seq.executionPath());
            }
        }
    }

    @Test
    void maskWithGoBackwardsZerosBeforeFirstValidStep() {
        // Sample 1 backwards: steps 3, 2 masked (zeros, state 0.3 carried), then 1, 0.
        double a = step(0.5, 0.3);
        double b = step(-1, a);
        try (Tensor x = Tensor.of(X, 2, 4, 1); Tensor h0 = Tensor.of(new float[] {0.3f, 0.3f}, 2, 1);
             RNN rnn = maskedRnn(true, true, false, false); Outputs out = rnn.forward(x, Mask.of(MASK, 2, 4), h0)) {
            float[] y = out.output().toArray();
            assertArrayEquals(new float[] {0, 0, (float) a, (float) b}, java.util.Arrays.copyOfRange(y, 4, 8), 1e-6f);
            assertEquals((float) b, out.get(1).get(1, 0), 1e-6f);
            assertSame(null, rnn.outputMask(x, null));
            Mask m = Mask.of(MASK, 2, 4);
            assertSame(m, rnn.outputMask(x, m));
        }
    }

    @Test
    void allValidMaskTakesTheFusedPath() {
        try (Tensor x = Tensor.of(X, 2, 4, 1); RNN rnn = maskedRnn(true, false, false, false);
             Outputs out = rnn.forward(x, Mask.fromLengths(new int[] {4, 4}, 4))) {
            assertTrue(rnn.executionPath().startsWith("fused"), rnn.executionPath());
            assertEquals((float) step(1, 0), out.output().get(0, 0, 0), 1e-6f);
        }
    }

    @Test
    void errorsNameTheLayerExpectedAndActual() {
        try (RNN rnn = RNN.builder(List.of(lstmCell(), gruCell())).name("stack").build();
             Tensor x = Tensor.zeros(N, T, C); Tensor h1 = Tensor.zeros(N, H1); Tensor wrong = Tensor.zeros(N, H1 + 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rnn.forward(x, h1));
            assertTrue(e.getMessage().contains("RNN 'stack' has 3 state(s) but was passed 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> rnn.forward(x, h1, wrong, h1));
            assertTrue(e.getMessage().contains("initial state 1 must have shape [2, 4], got [2, 5]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> rnn.forward(x, Mask.fromLengths(new int[] {1, 2, 3}, T)));
            assertTrue(e.getMessage().contains("mask must be [2, 6], got [3, 6]"), e.getMessage());
            try (Tensor bad = Tensor.zeros(N, T)) {
                e = assertThrows(IllegalArgumentException.class, () -> rnn.forward(bad));
                assertTrue(e.getMessage().contains("rank 3"), e.getMessage());
            }
            try (Tensor badFeatures = Tensor.zeros(N, T, C + 1)) {
                rnn.forward(x).close();
                e = assertThrows(IllegalArgumentException.class, () -> rnn.forward(badFeatures));
                assertTrue(e.getMessage().contains("expected 3 input features, got 4"), e.getMessage());
            }
        }
        LSTMCell cell = lstmCell();
        try (Tensor x = Tensor.zeros(N, C); Tensor h = Tensor.zeros(N, H1); Tensor bad = Tensor.zeros(N + 1, H1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cell.step(x, List.of(h)));
            assertTrue(e.getMessage().contains("LSTMCell") && e.getMessage().contains("has 2 state(s) but was passed 1"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cell.step(x, List.of(h, bad)));
            assertTrue(e.getMessage().contains("state 1 must have shape [2, 4], got [3, 4]"), e.getMessage());
            RNN owner = RNN.builder(cell).build();
            owner.close();
            owner.close();
            assertTrue(cell.isClosed());
            assertThrows(IllegalStateException.class, () -> cell.step(x, List.of(h, h)));
            assertThrows(IllegalStateException.class, () -> owner.forward(Tensor.zeros(N, T, C)));
        }
        assertThrows(IllegalArgumentException.class, () -> StackedRNNCells.builder().build());
        assertThrows(IllegalArgumentException.class, () -> LSTMCell.builder().units(0).build());
        GRUCell gru = GRUCell.builder().units(2).resetAfter(false).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gru.setWeights(new float[6], new float[12], new float[12]));
        assertTrue(e.getMessage().contains("bias must have 6 values, got 12"), e.getMessage());
        assertNull(gru.weights());
    }
}
