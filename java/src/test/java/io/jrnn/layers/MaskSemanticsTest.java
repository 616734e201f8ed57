package io.jrnn.layers;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rows of spec §3.3 that jrnn implements, against values computed by hand. The cell is a
 * relu SimpleRNN with one unit, {@code h_t = relu(x_t + 0.5·h_{t−1})}, which stays linear on these
 * positive numbers, so every number is exact in float32 (and oneDNN runs it fused). Input {@code x = [1, 2, 3, 4]}, mask {@code [F, T, T, F]} (a padded step before and after
 * the valid ones), initial {@code h0 = 10}.
 */
class MaskSemanticsTest {
    private static final float[] X = {1, 2, 3, 4};
    private static final Mask MASK = Mask.of(new boolean[] {false, true, true, false}, 1, 4);

    static java.util.List<Backend> backends() {
        return TestBackends.all();
    }

    private static SimpleRNN halving(Backend backend, SimpleRNN.Builder b) {
        SimpleRNN l = b.units(1).activation(Activation.RELU).returnSequences(true).returnState(true).build();
        l.setWeights(new float[] {1f}, new float[] {0.5f}, new float[] {0f});
        l.useBackend(backend);
        return l;
    }

    /** Runs the halving RNN on {@code X} under {@code MASK}: [Y (4 values), h]. */
    private static float[][] run(Backend backend, SimpleRNN.Builder b, boolean withInitialState) {
        try (SimpleRNN l = halving(backend, b); Tensor x = Tensor.of(X, 1, 4, 1); Tensor h0 = Tensor.of(new float[] {10f}, 1, 1)) {
            try (Outputs out = withInitialState ? l.forward(x, MASK, h0) : l.forward(x, MASK)) {
                return new float[][] {out.output().toArray(), out.get(1).toArray()};
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void canonicalCarriesThePreviousOutputAndZerosBeforeTheFirstStep(Backend backend) {
        // t0 masked: y = 0 (nothing processed yet), h stays 10; t1: 2 + 5 = 7; t2: 3 + 3.5 = 6.5; t3 masked: y = 6.5.
        float[][] r = run(backend, SimpleRNN.builder(), true);
        assertArrayEquals(new float[] {0f, 7f, 6.5f, 6.5f}, r[0]);
        assertArrayEquals(new float[] {6.5f}, r[1]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void previousStateOutputsTheInitialHBeforeTheFirstValidStep(Backend backend) {
        float[][] r = run(backend, SimpleRNN.builder().maskedOutput(MaskedOutput.PREVIOUS_STATE), true);
        assertArrayEquals(new float[] {10f, 7f, 6.5f, 6.5f}, r[0]);
        assertArrayEquals(new float[] {6.5f}, r[1]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void zeroOutputForMaskZerosEveryMaskedStepButCarriesTheState(Backend backend) {
        for (MaskedOutput mode : MaskedOutput.values()) {
            float[][] r = run(backend, SimpleRNN.builder().zeroOutputForMask(true).maskedOutput(mode), true);
            assertArrayEquals(new float[] {0f, 7f, 6.5f, 0f}, r[0], mode.name());
            assertArrayEquals(new float[] {6.5f}, r[1], mode.name());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void goBackwardsReversesTheMaskWithTheInput(Backend backend) {
        // Order t = 3, 2, 1, 0. t3 masked: y = 0, h = 10; t2: 3 + 5 = 8; t1: 2 + 4 = 6; t0 masked: y = 6.
        assertArrayEquals(new float[] {0f, 8f, 6f, 6f}, run(backend, SimpleRNN.builder().goBackwards(true), true)[0]);
        assertArrayEquals(new float[] {10f, 8f, 6f, 6f}, run(backend, SimpleRNN.builder().goBackwards(true)
                .maskedOutput(MaskedOutput.PREVIOUS_STATE), true)[0]);
        float[][] zeros = run(backend, SimpleRNN.builder().goBackwards(true).zeroOutputForMask(true), true);
        assertArrayEquals(new float[] {0f, 8f, 6f, 0f}, zeros[0]);
        assertArrayEquals(new float[] {6f}, zeros[1]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void withZeroInitialStateTheTwoRowsAgree(Backend backend) {
        // Without an initial state: t1: 2; t2: 3 + 1 = 4.
        assertArrayEquals(new float[] {0f, 2f, 4f, 4f}, run(backend, SimpleRNN.builder(), false)[0]);
        assertArrayEquals(new float[] {0f, 2f, 4f, 4f}, run(backend, SimpleRNN.builder()
                .maskedOutput(MaskedOutput.PREVIOUS_STATE), false)[0]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void lastOutputIsTheLastProcessedStepsOutput(Backend backend) {
        // return_sequences=false: y_last = Y[T-1].
        float[][] expected = {{6.5f}, {0f}, {6f}, {0f}};
        SimpleRNN.Builder[] builders = {
            SimpleRNN.builder(), SimpleRNN.builder().zeroOutputForMask(true),
            SimpleRNN.builder().goBackwards(true), SimpleRNN.builder().goBackwards(true).zeroOutputForMask(true)};
        for (int i = 0; i < builders.length; i++) {
            try (SimpleRNN l = halving(backend, builders[i]); Tensor x = Tensor.of(X, 1, 4, 1);
                 Tensor h0 = Tensor.of(new float[] {10f}, 1, 1)) {
                // Rebuild without return_sequences: same weights.
                SimpleRNN last = builders[i].returnSequences(false).name("last_" + i).build();
                last.setWeights(new float[] {1f}, new float[] {0.5f}, new float[] {0f});
                last.useBackend(backend);
                try (last; Outputs out = last.forward(x, MASK, h0)) {
                    assertArrayEquals(expected[i], out.output().toArray(), "case " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void sampleWithoutValidStepOutputsZerosAndKeepsItsInitialState(Backend backend) {
        try (SimpleRNN l = halving(backend, SimpleRNN.builder()); Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3, 1);
             Tensor h0 = Tensor.of(new float[] {10f, 20f}, 2, 1);
             Outputs out = l.forward(x, new int[] {0, 2}, h0)) {
            // Sample 0: nothing valid. Sample 1: 4 + 10 = 14, 5 + 7 = 12, then carried.
            assertArrayEquals(new float[] {0f, 0f, 0f, 14f, 12f, 12f}, out.output().toArray());
            assertArrayEquals(new float[] {10f, 12f}, out.get(1).toArray());
        }
    }

    @Test
    void statefulLayerStoresTheMaskCarriedState() {
        try (SimpleRNN l = halving(ReferenceBackend.instance(), SimpleRNN.builder().stateful(true).batchSize(1));
             Tensor x = Tensor.of(X, 1, 4, 1)) {
            l.forward(x, MASK).close();
            Tensor[] stored = l.storedStates();
            // t1: 2; t2: 3 + 1 = 4; t3 masked: carried 4.
            assertArrayEquals(new float[] {4f}, stored[0].toArray());
            stored[0].close();
            try (Outputs out = l.forward(x, MASK)) {
                // h starts at 4: t0 masked (y 0); t1: 2 + 2 = 4; t2: 3 + 2 = 5.
                assertArrayEquals(new float[] {0f, 4f, 5f, 5f}, out.output().toArray());
            }
        }
    }

    @Test
    void maskOfTheWrongShapeNamesLayerExpectedAndActual() {
        try (SimpleRNN l = halving(ReferenceBackend.instance(), SimpleRNN.builder().name("rnn_m"));
             Tensor x = Tensor.of(X, 1, 4, 1)) {
            Mask wrong = Mask.fromLengths(new int[] {1, 2}, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.forward(x, wrong));
            assertTrue(e.getMessage().contains("SimpleRNN 'rnn_m'"), e.getMessage());
            assertTrue(e.getMessage().contains("[1, 4]") && e.getMessage().contains("[2, 4]"), e.getMessage());
            Mask shortMask = Mask.fromLengths(new int[] {1}, 3);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(x, shortMask)).getMessage()
                    .contains("got [1, 3]"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(x, new int[] {5})).getMessage()
                    .contains("must be in [0, 4], got 5"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> l.forward(x, new int[] {1, 1})).getMessage()
                    .contains("expected 1 sequence lengths"));
        }
    }

    @Test
    void timeMajorLayersTakeTheMaskAsBatchByTime() {
        // Two samples, time-major input [T=3, N=2, 1]; mask [N=2, T=3].
        float[] batchMajor = {1, 2, 3, 4, 5, 6};
        float[] timeMajor = {1, 4, 2, 5, 3, 6};
        Mask mask = Mask.fromLengths(new int[] {1, 3}, 3);
        try (SimpleRNN a = halving(ReferenceBackend.instance(), SimpleRNN.builder());
             SimpleRNN b = halving(ReferenceBackend.instance(), SimpleRNN.builder().timeMajor(true));
             Tensor xb = Tensor.of(batchMajor, 2, 3, 1); Tensor xt = Tensor.of(timeMajor, 3, 2, 1);
             Outputs ob = a.forward(xb, mask); Outputs ot = b.forward(xt, mask)) {
            float[] y = ob.output().toArray();
            float[] yt = ot.output().toArray();
            for (int n = 0; n < 2; n++) {
                for (int t = 0; t < 3; t++) {
                    assertEquals(y[n * 3 + t], yt[t * 2 + n]);
                }
            }
            assertArrayEquals(ob.get(1).toArray(), ot.get(1).toArray());
            Mask transposed = Mask.fromLengths(new int[] {1, 2, 2}, 2);
            assertThrows(IllegalArgumentException.class, () -> b.forward(xt, transposed));
        }
    }

    @Test
    void outputMaskFollowsReturnSequences() {
        Mask m = Mask.fromLengths(new int[] {2}, 4);
        try (SimpleRNN seq = SimpleRNN.builder().units(2).returnSequences(true).build();
             SimpleRNN last = SimpleRNN.builder().units(2).build(); Tensor x = Tensor.zeros(1, 4, 1)) {
            assertSame(m, seq.outputMask(x, m));
            assertNull(last.outputMask(x, m));
        }
    }
}
