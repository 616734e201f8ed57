package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.TestBackends;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** TF {@code dynamic_rnn} semantics (spec §2.11): zeros past each length, state at each length. */
class DynamicRnnTest {
    static List<Backend> backends() {
        return TestBackends.all();
    }

    /** {@code h_t = relu(x_t + 0.5·h_{t−1})}: exact on positive numbers. */
    private static SimpleRNN halving(Backend backend, SimpleRNN.Builder b) {
        SimpleRNN l = b.units(1).activation(Activation.RELU).build();
        l.setWeights(new float[] {1f}, new float[] {0.5f}, new float[] {0f});
        l.useBackend(backend);
        return l;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void zerosPastEachLengthAndTheStateAtEachLength(Backend backend) {
        // Three samples of four steps; lengths 3, 1, 0; h0 = 10, 20, 30.
        float[] x = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4};
        try (SimpleRNN l = halving(backend, SimpleRNN.builder()); Tensor in = Tensor.of(x, 3, 4, 1);
             Tensor h0 = Tensor.of(new float[] {10, 20, 30}, 3, 1);
             DynamicRnn.Result r = DynamicRnn.run(l, in, new int[] {3, 1, 0}, false, h0)) {
            // Sample 0: 1 + 5 = 6, 2 + 3 = 5, 3 + 2.5 = 5.5, then 0.  Sample 1: 1 + 10 = 11, then 0.  Sample 2: zeros.
            assertArrayEquals(new float[] {6, 5, 5.5f, 0, 11, 0, 0, 0, 0, 0, 0, 0}, r.outputs().toArray());
            assertArrayEquals(new float[] {5.5f, 11, 30}, r.states().get(0).toArray());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void timeMajorInputsAndOutputs(Backend backend) {
        // The same batch as above, [T=4, N=3, 1].
        float[] x = {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4};
        try (SimpleRNN l = halving(backend, SimpleRNN.builder()); Tensor in = Tensor.of(x, 4, 3, 1);
             DynamicRnn.Result r = DynamicRnn.run(l, in, new int[] {3, 1, 0}, true)) {
            assertArrayEquals(new int[] {4, 3, 1}, r.outputs().shape());
            // Zero initial state: sample 0: 1, 2.5, 4.25; sample 1: 1.
            assertArrayEquals(new float[] {1, 1, 0, 2.5f, 0, 0, 4.25f, 0, 0, 0, 0, 0}, r.outputs().toArray());
            assertArrayEquals(new float[] {4.25f, 1, 0}, r.states().get(0).toArray());
        }
    }

    /**
     * An LSTM under dynamic_rnn equals, per sample, the unmasked layer run on that sample's first
     * {@code L} steps, followed by zeros; the final (h, c) are that run's.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void lstmMatchesPerSampleRunsOnTheValidPrefix(Backend backend) {
        int n = 4;
        int t = 5;
        int c = 3;
        int h = 2;
        int[] lengths = {5, 2, 0, 3};
        SplittableRandom rng = new SplittableRandom(21);
        float[] x = RecurrentLayerTest.random(n * t * c, 4);
        float[] h0 = RecurrentLayerTest.random(n * h, 5);
        float[] c0 = RecurrentLayerTest.random(n * h, 6);
        try (LSTM cell = LSTM.builder().units(h).seed(rng.nextLong()).build();
             LSTM plain = LSTM.builder().units(h).returnSequences(true).returnState(true).build()) {
            cell.initializeWeights(c);
            plain.setWeights(cell.weights());
            cell.useBackend(backend);
            plain.useBackend(ReferenceBackend.instance());
            float[] expected = new float[n * t * h];
            float[] expectedH = new float[n * h];
            float[] expectedC = new float[n * h];
            for (int s = 0; s < n; s++) {
                int len = lengths[s];
                System.arraycopy(h0, s * h, expectedH, s * h, h);
                System.arraycopy(c0, s * h, expectedC, s * h, h);
                if (len == 0) {
                    continue;
                }
                try (Tensor xs = Tensor.of(Arrays.copyOfRange(x, s * t * c, (s * t + len) * c), 1, len, c);
                     Tensor hs = Tensor.of(Arrays.copyOfRange(h0, s * h, (s + 1) * h), 1, h);
                     Tensor cs = Tensor.of(Arrays.copyOfRange(c0, s * h, (s + 1) * h), 1, h);
                     Outputs o = plain.forward(xs, hs, cs)) {
                    System.arraycopy(o.output().toArray(), 0, expected, s * t * h, len * h);
                    System.arraycopy(o.get(1).toArray(), 0, expectedH, s * h, h);
                    System.arraycopy(o.get(2).toArray(), 0, expectedC, s * h, h);
                }
            }
            try (Tensor in = Tensor.of(x, n, t, c); Tensor hi = Tensor.of(h0, n, h); Tensor ci = Tensor.of(c0, n, h);
                 DynamicRnn.Result r = DynamicRnn.run(cell, in, lengths, false, hi, ci)) {
                assertArrayEquals(expected, r.outputs().toArray(), 1e-5f);
                assertArrayEquals(expectedH, r.states().get(0).toArray(), 1e-5f);
                assertArrayEquals(expectedC, r.states().get(1).toArray(), 1e-5f);
            }
        }
    }

    @Test
    void withoutLengthsEveryStepRuns() {
        try (SimpleRNN l = halving(ReferenceBackend.instance(), SimpleRNN.builder());
             Tensor in = Tensor.of(new float[] {1, 2}, 1, 2, 1);
             DynamicRnn.Result r = DynamicRnn.run(l, in, null, false)) {
            assertArrayEquals(new float[] {1, 2.5f}, r.outputs().toArray());
            assertArrayEquals(new float[] {2.5f}, r.states().get(0).toArray());
        }
    }

    @Test
    void badLengthsAndUnsupportedLayersAreRefused() {
        try (SimpleRNN l = halving(ReferenceBackend.instance(), SimpleRNN.builder().name("dyn"));
             SimpleRNN back = halving(ReferenceBackend.instance(), SimpleRNN.builder().goBackwards(true));
             SimpleRNN stateful = halving(ReferenceBackend.instance(), SimpleRNN.builder().stateful(true));
             Tensor in = Tensor.zeros(2, 3, 1)) {
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> DynamicRnn.run(l, in, new int[] {4, 1}, false));
            assertTrue(tooLong.getMessage().contains("SimpleRNN 'dyn'") && tooLong.getMessage().contains("[0, 3], got 4"),
                    tooLong.getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> DynamicRnn.run(l, in, new int[] {-1, 1}, false))
                    .getMessage().contains("got -1"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> DynamicRnn.run(l, in, new int[] {1}, false))
                    .getMessage().contains("expected 2 sequence lengths"));
            // Time-major [T=2, N=3]: three lengths in [0, 2].
            try (DynamicRnn.Result r = DynamicRnn.run(l, in, new int[] {0, 1, 2}, true)) {
                assertEquals(3, r.outputs().dim(1));
            }
            assertThrows(UnsupportedConfigurationException.class, () -> DynamicRnn.run(back, in, new int[] {1, 1}, false));
            assertThrows(UnsupportedConfigurationException.class, () -> DynamicRnn.run(stateful, in, new int[] {1, 1}, false));
        }
    }
}
