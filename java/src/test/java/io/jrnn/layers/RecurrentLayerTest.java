package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Layer-level behaviour that does not depend on the backend: validation, states, ownership. */
class RecurrentLayerTest {
    private static final int N = 3;
    private static final int T = 7;
    private static final int C = 4;
    private static final int H = 5;

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static LSTM lstm(LSTM.Builder b) {
        LSTM l = b.units(H).seed(7).build();
        l.useBackend(ReferenceBackend.instance());
        return l;
    }

    @Test
    void wrongRankNamesLayerExpectedAndActual() {
        try (LSTM l = lstm(LSTM.builder().name("enc")); Tensor x = Tensor.zeros(N, C)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.forward(x));
            assertTrue(e.getMessage().contains("LSTM 'enc'"), e.getMessage());
            assertTrue(e.getMessage().contains("rank 3"), e.getMessage());
            assertTrue(e.getMessage().contains("[3, 4]"), e.getMessage());
        }
    }

    @Test
    void wrongFeatureCountNamesBoth() {
        try (LSTM l = lstm(LSTM.builder()); Tensor x = Tensor.zeros(N, T, C); Tensor bad = Tensor.zeros(N, T, C + 2)) {
            l.forward(x).close();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.forward(bad));
            assertTrue(e.getMessage().contains("expected 4 input features"), e.getMessage());
            assertTrue(e.getMessage().contains("got 6"), e.getMessage());
        }
    }

    @Test
    void emptyBatchAndEmptyTimeAreClearErrors() {
        try (LSTM l = lstm(LSTM.builder()); Tensor noBatch = Tensor.zeros(0, T, C); Tensor noTime = Tensor.zeros(N, 0, C)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(noBatch)).getMessage().contains("empty batch"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(noTime)).getMessage().contains("no time steps"));
        }
    }

    @Test
    void wrongInitialStatesAreClearErrors() {
        try (LSTM l = lstm(LSTM.builder()); Tensor x = Tensor.zeros(N, T, C); Tensor h = Tensor.zeros(N, H);
             Tensor wrong = Tensor.zeros(N, H + 1)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(x, h)).getMessage()
                    .contains("has 2 state(s) but was passed 1"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(x, h, wrong)).getMessage()
                    .contains("must have shape [3, 5], got [3, 6]"));
        }
    }

    @Test
    void nanInInputPropagatesAsInKeras() {
        float[] v = random(N * T * C, 1);
        v[C * T + 2] = Float.NaN; // sample 1, step 0
        try (LSTM l = lstm(LSTM.builder()); Tensor x = Tensor.of(v, N, T, C); Tensor y = l.apply(x)) {
            float[] out = y.toArray();
            for (int j = 0; j < H; j++) {
                assertTrue(Float.isNaN(out[H + j]), "sample 1 is NaN");
                assertTrue(Float.isFinite(out[j]), "sample 0 is untouched");
            }
        }
    }

    @Test
    void useAfterCloseThrowsAndCloseTwiceIsHarmless() {
        LSTM l = lstm(LSTM.builder());
        Tensor x = Tensor.zeros(N, T, C);
        l.forward(x).close();
        l.close();
        assertDoesNotThrow(l::close);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.forward(x));
        assertTrue(e.getMessage().contains("closed"));
        x.close();
        assertDoesNotThrow(x::close);
        assertThrows(IllegalStateException.class, x::toArray);
    }

    @Test
    void closedInputIsRejected() {
        try (LSTM l = lstm(LSTM.builder())) {
            Tensor x = Tensor.zeros(N, T, C);
            x.close();
            assertThrows(IllegalStateException.class, () -> l.forward(x));
        }
    }

    @Test
    void statefulCarriesStateAndRejectsOtherBatch() {
        float[] a = random(N * T * C, 2);
        float[] b = random(N * T * C, 3);
        try (LSTM stateful = lstm(LSTM.builder().stateful(true).returnSequences(true));
             LSTM plain = lstm(LSTM.builder().returnState(true));
             Tensor xa = Tensor.of(a, N, T, C); Tensor xb = Tensor.of(b, N, T, C)) {
            plain.setWeights(stateful.weights() == null ? init(stateful, C) : stateful.weights());
            stateful.apply(xa).close();
            try (Outputs first = plain.forward(xa);
                 Tensor expected = plain.forward(xb, first.get(1), first.get(2)).output();
                 Tensor actual = stateful.apply(xb)) {
                float[] seq = actual.toArray();
                float[] last = new float[N * H];
                for (int n = 0; n < N; n++) {
                    System.arraycopy(seq, (n * T + T - 1) * H, last, n * H, H);
                }
                assertArrayEquals(expected.toArray(), last, 1e-6f);
            }
            try (Tensor other = Tensor.zeros(N + 1, T, C)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> stateful.forward(other));
                assertTrue(e.getMessage().contains("batch size 3"), e.getMessage());
                assertTrue(e.getMessage().contains("batch of 4"), e.getMessage());
            }
            stateful.resetStates();
            try (Tensor again = stateful.apply(xa); LSTM fresh = lstm(LSTM.builder().returnSequences(true))) {
                fresh.setWeights(stateful.weights());
                try (Tensor expected = fresh.apply(xa)) {
                    assertArrayEquals(expected.toArray(), again.toArray(), 1e-6f, "reset_states zeroes the state");
                }
            }
        }
    }

    private static io.jrnn.weights.KerasRnnWeights init(RecurrentLayer l, int c) {
        l.initializeWeights(c);
        return l.weights();
    }

    @Test
    void timeMajorEqualsTransposedBatchMajor() {
        float[] v = random(N * T * C, 4);
        float[] tm = new float[v.length];
        for (int n = 0; n < N; n++) {
            for (int t = 0; t < T; t++) {
                System.arraycopy(v, (n * T + t) * C, tm, (t * N + n) * C, C);
            }
        }
        try (GRU batchMajor = GRU.builder().units(H).returnSequences(true).seed(3).build();
             GRU timeMajor = GRU.builder().units(H).returnSequences(true).timeMajor(true).build();
             Tensor x = Tensor.of(v, N, T, C); Tensor xt = Tensor.of(tm, T, N, C)) {
            batchMajor.useBackend(ReferenceBackend.instance());
            timeMajor.useBackend(ReferenceBackend.instance());
            batchMajor.initializeWeights(C);
            timeMajor.setWeights(batchMajor.weights());
            try (Tensor y = batchMajor.apply(x); Tensor yt = timeMajor.apply(xt)) {
                assertArrayEquals(new int[] {T, N, H}, yt.shape());
                for (int n = 0; n < N; n++) {
                    for (int t = 0; t < T; t++) {
                        for (int j = 0; j < H; j++) {
                            assertEquals(y.get(n, t, j), yt.get(t, n, j), 0f);
                        }
                    }
                }
            }
        }
    }

    @Test
    void defaultInitializersFollowKeras() {
        try (LSTM l = LSTM.builder().units(H).seed(11).build(); LSTM same = LSTM.builder().units(H).seed(11).build()) {
            l.initializeWeights(C);
            same.initializeWeights(C);
            assertArrayEquals(l.weights().kernel(), same.weights().kernel(), "seeded");
            double limit = Math.sqrt(6.0 / (C + 4 * H));
            for (float k : l.weights().kernel()) {
                assertTrue(Math.abs(k) <= limit, "glorot_uniform bound");
            }
            // orthogonal [H, 4H]: rows are orthonormal.
            float[] r = l.weights().recurrentKernel();
            for (int a = 0; a < H; a++) {
                for (int b = 0; b < H; b++) {
                    double dot = 0;
                    for (int j = 0; j < 4 * H; j++) {
                        dot += r[a * 4 * H + j] * r[b * 4 * H + j];
                    }
                    assertEquals(a == b ? 1 : 0, dot, 1e-5);
                }
            }
            float[] bias = l.weights().bias();
            for (int j = 0; j < 4 * H; j++) {
                assertEquals(j >= H && j < 2 * H ? 1f : 0f, bias[j], "unit_forget_bias: forget slice is one");
            }
        }
    }

    @Test
    void trainingOnlyArgumentsAreKept() {
        try (GRU g = GRU.builder().units(H).dropout(0.25).recurrentDropout(0.5).build()) {
            assertEquals(0.25, g.trainingOptions().dropout());
            assertEquals(0.5, g.trainingOptions().recurrentDropout());
            assertEquals("orthogonal", g.trainingOptions().recurrentInitializer());
            assertNotNull(g.trainingOptions());
        }
    }

    @Test
    void weightShapeErrorsNameExpectedAndActual() {
        try (GRU g = GRU.builder().units(H).resetAfter(true).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.setWeights(new float[C * 3 * H], new float[H * 3 * H], new float[3 * H]));
            assertTrue(e.getMessage().contains("bias must have 30 values ([2, 15]), got 15"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> g.setWeights(new float[C * 3 * H], new float[H * H], new float[6 * H]));
            assertTrue(e.getMessage().contains("recurrent_kernel must be [5, 15]"), e.getMessage());
        }
    }
}
