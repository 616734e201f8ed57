package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import org.junit.jupiter.api.Test;

/**
 * ConvLSTM2D's masked-step output rules (spec §3.3): canonical, {@code zero_output_for_mask} and
 * {@link MaskedOutput#PREVIOUS_STATE}, against hand-computed values on both backends. The layer is
 * a 1×1 kernel, one filter, linear activations, i = f = o = 1 (bias) and g = x, so
 * {@code h_t = c_t = c_{t−1} + x_t}: a running sum of the valid inputs on top of the initial c.
 */
class ConvLSTM2DMaskedOutputTest {
    // Sample 0: left gap then valid/masked; sample 1: right padded; sample 2: all masked.
    private static final float[] X = {1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1};
    private static final Mask MASK = Mask.of(new boolean[] {false, true, false, true, true, true, false, false,
            false, false, false, false}, 3, 4);
    private static final float[] H0 = {10, 20, 30};
    private static final float[] C0 = {100, 200, 300};

    private static float[] run(Backend backend, boolean returnSequences, boolean goBackwards, boolean zero,
            MaskedOutput rule, float[] expectedFinalH) {
        try (ConvLSTM2D conv = ConvLSTM2D.builder().filters(1).kernelSize(1).activation(Activation.LINEAR)
                .recurrentActivation(Activation.LINEAR).returnSequences(returnSequences).returnState(true)
                .goBackwards(goBackwards).zeroOutputForMask(zero).maskedOutput(rule).build();
                Tensor x = Tensor.of(X, 3, 4, 1, 1, 1);
                Tensor h0 = Tensor.of(H0, 3, 1, 1, 1);
                Tensor c0 = Tensor.of(C0, 3, 1, 1, 1)) {
            conv.setWeights(new float[] {0, 0, 1, 0}, new float[4], new float[] {1, 1, 0, 1});
            conv.useBackend(backend);
            try (Outputs out = conv.forward(x, MASK, h0, c0)) {
                // States are carried the same under every output rule.
                assertArrayEquals(expectedFinalH, out.get(1).toArray(), 1e-5f, "h " + backend.name());
                float[] expectedFinalC = expectedFinalH.clone();
                expectedFinalC[2] = C0[2]; // the all-masked sample keeps its initial c (h = c only after a valid step)
                assertArrayEquals(expectedFinalC, out.get(2).toArray(), 1e-5f, "c " + backend.name());
                return out.get(0).toArray();
            }
        }
    }

    @Test
    void forwardSequencesUnderEachRule() {
        float[] finalH = {106, 211, 30};
        for (Backend backend : TestBackends.all()) {
            assertArrayEquals(new float[] {0, 102, 102, 106, 205, 211, 211, 211, 0, 0, 0, 0},
                    run(backend, true, false, false, MaskedOutput.CANONICAL, finalH), 1e-5f, backend.name());
            assertArrayEquals(new float[] {10, 102, 102, 106, 205, 211, 211, 211, 30, 30, 30, 30},
                    run(backend, true, false, false, MaskedOutput.PREVIOUS_STATE, finalH), 1e-5f, backend.name());
            float[] zeros = {0, 102, 0, 106, 205, 211, 0, 0, 0, 0, 0, 0};
            assertArrayEquals(zeros, run(backend, true, false, true, MaskedOutput.CANONICAL, finalH), 1e-5f, backend.name());
            assertArrayEquals(zeros, run(backend, true, false, true, MaskedOutput.PREVIOUS_STATE, finalH), 1e-5f,
                    "zero_output_for_mask wins on " + backend.name());
        }
    }

    @Test
    void backwardSequencesUnderEachRule() {
        float[] finalH = {106, 211, 30};
        for (Backend backend : TestBackends.all()) {
            // Processing order t3, t2, t1, t0; outputs stay in processing order (spec §3.1).
            assertArrayEquals(new float[] {104, 104, 106, 106, 0, 0, 206, 211, 0, 0, 0, 0},
                    run(backend, true, true, false, MaskedOutput.CANONICAL, finalH), 1e-5f, backend.name());
            assertArrayEquals(new float[] {104, 104, 106, 106, 20, 20, 206, 211, 30, 30, 30, 30},
                    run(backend, true, true, false, MaskedOutput.PREVIOUS_STATE, finalH), 1e-5f, backend.name());
            assertArrayEquals(new float[] {104, 0, 106, 0, 0, 0, 206, 211, 0, 0, 0, 0},
                    run(backend, true, true, true, MaskedOutput.CANONICAL, finalH), 1e-5f, backend.name());
        }
    }

    @Test
    void lastOutputUnderEachRule() {
        float[] finalH = {106, 211, 30};
        for (Backend backend : TestBackends.all()) {
            assertArrayEquals(new float[] {106, 211, 0}, run(backend, false, false, false, MaskedOutput.CANONICAL, finalH),
                    1e-5f, backend.name());
            assertArrayEquals(new float[] {106, 211, 30},
                    run(backend, false, false, false, MaskedOutput.PREVIOUS_STATE, finalH), 1e-5f, backend.name());
            assertArrayEquals(new float[] {106, 0, 0}, run(backend, false, false, true, MaskedOutput.CANONICAL, finalH),
                    1e-5f, backend.name());
            // Backwards: the last processed step is t0 (masked for samples 0 and 2).
            assertArrayEquals(new float[] {106, 211, 0}, run(backend, false, true, false, MaskedOutput.CANONICAL, finalH),
                    1e-5f, backend.name());
            assertArrayEquals(new float[] {106, 211, 30},
                    run(backend, false, true, false, MaskedOutput.PREVIOUS_STATE, finalH), 1e-5f, backend.name());
            assertArrayEquals(new float[] {0, 211, 0}, run(backend, false, true, true, MaskedOutput.CANONICAL, finalH),
                    1e-5f, backend.name());
        }
    }

    @Test
    void channelsFirstAndNoMaskAreUnaffected() {
        // Two filters, 1×2 frame, channels_first: PREVIOUS_STATE must copy the whole initial frame in the layer's format.
        for (Backend backend : TestBackends.all()) {
            try (ConvLSTM2D conv = ConvLSTM2D.builder().filters(2).kernelSize(1).dataFormat("channels_first")
                    .activation(Activation.LINEAR).recurrentActivation(Activation.LINEAR).returnSequences(true)
                    .maskedOutput(MaskedOutput.PREVIOUS_STATE).build();
                    Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 1, 1, 2);
                    Tensor h0 = Tensor.of(new float[] {7, 8, 9, 10}, 1, 2, 1, 2);
                    Tensor c0 = Tensor.of(new float[] {0, 0, 0, 0}, 1, 2, 1, 2)) {
                // kernel [1, 1, C=1, 8]: g block (filters 0, 1) = x; bias i, f, o = 1.
                conv.setWeights(new float[] {0, 0, 0, 0, 1, 1, 0, 0}, new float[2 * 8], new float[] {1, 1, 1, 1, 0, 0, 1, 1});
                conv.useBackend(backend);
                assertFalse(conv.zeroOutputForMask());
                assertEquals(MaskedOutput.PREVIOUS_STATE, conv.maskedOutput());
                try (Outputs out = conv.forward(x, Mask.of(new boolean[] {false, true}, 1, 2), h0, c0)) {
                    // [N, T, F, R, Cc]: step 0 masked → h0; step 1: c = 0 + x1 = (3, 4) for both filters.
                    assertArrayEquals(new float[] {7, 8, 9, 10, 3, 4, 3, 4}, out.get(0).toArray(), 1e-5f, backend.name());
                }
                try (Outputs out = conv.forward(x, (Mask) null, h0, c0)) {
                    assertArrayEquals(new float[] {1, 2, 1, 2, 4, 6, 4, 6}, out.get(0).toArray(), 1e-5f, backend.name());
                }
            }
        }
    }

    @Test
    void nullMaskedOutputIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvLSTM2D.builder().name("cv").filters(1).kernelSize(1).maskedOutput(null).build());
        assertTrue(e.getMessage().contains("'cv'") || e.getMessage().contains("cv"), e.getMessage());
        assertTrue(e.getMessage().contains("maskedOutput"), e.getMessage());
    }
}
