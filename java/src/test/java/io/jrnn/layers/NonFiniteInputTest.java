package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.TestBackends;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NaN and ±Inf inputs propagate as in Keras (the reference backend implements Keras's formulas;
 * every backend must match it bit-pattern for bit-pattern on NaN and infinity positions), and stay
 * in their sample: the other samples of the batch give the same numbers as without them. A NaN at a
 * masked step does not propagate at all (Keras selects the previous output/state there, it does
 * not blend).
 */
class NonFiniteInputTest {
    static final int N = 4;
    static final int T = 5;
    static final int C = 3;
    static final int H = 4;

    record Case(String name, Supplier<Layer> layer) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> layerCases() {
        return List.of(
                new Case("LSTM", () -> init(LSTM.builder().units(H).returnSequences(true).seed(1).build())),
                new Case("LSTM backwards", () -> init(LSTM.builder().units(H).returnSequences(true).goBackwards(true).seed(2).build())),
                new Case("GRU reset_after", () -> init(GRU.builder().units(H).returnSequences(true).resetAfter(true).seed(3).build())),
                new Case("GRU reset_before", () -> init(GRU.builder().units(H).returnSequences(true).resetAfter(false).seed(4).build())),
                new Case("SimpleRNN", () -> init(SimpleRNN.builder().units(H).returnSequences(true).seed(5).build())),
                new Case("SimpleRNN relu", () -> init(SimpleRNN.builder().units(H).activation(Activation.RELU).returnSequences(true)
                        .seed(6).build())),
                // One oneDNN bidirectional primitive and one multi-layer primitive zero NaN in relu;
                // calls holding NaN/Inf leave them for the guarded per-layer executors.
                new Case("Bidirectional SimpleRNN relu", () -> Bidirectional.builder()
                        .layer(init(SimpleRNN.builder().units(H).activation(Activation.RELU).returnSequences(true).seed(9).build()))
                        .backwardLayer(init(SimpleRNN.builder().units(H).activation(Activation.RELU).returnSequences(true)
                                .goBackwards(true).seed(10).build()))
                        .build()),
                new Case("Bidirectional LSTM", () -> Bidirectional.builder()
                        .layer(init(LSTM.builder().units(H).returnSequences(true).seed(7).build()))
                        .backwardLayer(init(LSTM.builder().units(H).returnSequences(true).goBackwards(true).seed(8).build()))
                        .build()));
    }

    static List<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        for (Backend b : TestBackends.all()) {
            for (Case c : layerCases()) {
                out.add(new Object[] {b, c});
            }
        }
        return out;
    }

    static <L extends RecurrentLayer> L init(L l) {
        l.initializeWeights(C);
        return l;
    }

    static float[] clean(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[N * T * C];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return x;
    }

    static int at(int n, int t, int c) {
        return (n * T + t) * C + c;
    }

    /** Sample 0 clean; sample 1 NaN at t=2; sample 2 +Inf at t=0; sample 3 -Inf at t=3 and a huge value at t=1. */
    static float[] poisoned() {
        float[] x = clean(9);
        x[at(1, 2, 1)] = Float.NaN;
        x[at(2, 0, 0)] = Float.POSITIVE_INFINITY;
        x[at(3, 3, 2)] = Float.NEGATIVE_INFINITY;
        x[at(3, 1, 0)] = 3e38f;
        return x;
    }

    static float[] run(Backend backend, Case c, float[] x, Mask mask) {
        try (Layer l = c.layer().get(); Tensor in = Tensor.of(x, N, T, C)) {
            l.useBackend(backend);
            try (Outputs out = mask == null ? l.forward(in) : l.forward(in, mask)) {
                return out.output().toArray();
            }
        }
    }

    static void assertSameNonFinitePattern(float[] expected, float[] actual, String what) {
        assertSameNonFinitePattern(expected, actual, what, false);
    }

    /**
     * @param nanMayBeZero the one known deviation: oneDNN's fused relu RNN computes max(x, 0), which
     *                     maps NaN to 0 where Keras (and the reference) keep NaN (docs/reliability.md)
     */
    static void assertSameNonFinitePattern(float[] expected, float[] actual, String what, boolean nanMayBeZero) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (nanMayBeZero && Float.isNaN(e) && !Float.isNaN(a)) {
                continue;
            }
            if (Float.isNaN(e) || Float.isInfinite(e)) {
                assertEquals(Float.toString(e), Float.toString(a), what + " at " + i);
            } else {
                assertFalse(Float.isNaN(a) || Float.isInfinite(a), what + " at " + i + ": expected " + e + ", got " + a);
                assertEquals(e, a, 2e-5f, what + " at " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void nonFiniteValuesPropagateAsTheReferenceAndStayInTheirSample(Backend backend, Case c) {
        float[] reference = run(ReferenceBackend.instance(), c, poisoned(), null);
        float[] actual = run(backend, c, poisoned(), null);
        // oneDNN's fused relu zeroes NaN; jrnn runs such calls on the composed path (NonFiniteGuardExecutor).
        boolean knownReluDeviation = false;
        assertSameNonFinitePattern(reference, actual, backend.name() + " " + c, knownReluDeviation);

        int width = reference.length / (N * T);
        float[] cleanRun = run(backend, c, clean(9), null);
        int row = T * width;
        // Bit-identical, except where a relu layer ran this call on the composed path (NaN/Inf in the batch) and the
        // clean call on the fused primitive: then the paths' rounding differs (1 ulp measured on cuDNN vs cuBLAS).
        float exact = c.name().contains("relu") ? 1e-6f : 0f;
        for (int i = 0; i < row; i++) {
            assertEquals(cleanRun[i], actual[i], exact, "sample 0 is untouched by the others at " + i);
        }
        // Non-finite values only in the poisoned samples (an Inf can become NaN: Inf·u + (−Inf)·u' in the recurrence).
        boolean anyNaN = false;
        for (int i = 0; i < actual.length; i++) {
            if (Float.isNaN(actual[i]) || Float.isInfinite(actual[i])) {
                assertTrue(i / row >= 1, "non-finite output in the clean sample 0 at " + i);
                anyNaN |= i / row == 1;
            }
        }
        assertTrue(anyNaN || knownReluDeviation, "the NaN input reaches the output");
        if (c.name().equals("LSTM") || c.name().startsWith("GRU") || c.name().equals("SimpleRNN")) {
            for (int t = 0; t < T; t++) {
                for (int u = 0; u < width; u++) {
                    float v = actual[row + t * width + u];
                    assertEquals(t >= 2, Float.isNaN(v), "sample 1, t=" + t + ", unit " + u + ": " + v);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aNaNAtAMaskedStepDoesNotPropagate(Backend backend, Case c) {
        boolean[] valid = new boolean[N * T];
        java.util.Arrays.fill(valid, true);
        valid[1 * T + 2] = false; // sample 1's NaN step
        valid[2 * T] = false; // sample 2's +Inf step
        valid[3 * T + 3] = false; // sample 3's -Inf step
        float[] x = poisoned();
        x[at(3, 1, 0)] = 0.5f;
        Mask mask = Mask.of(valid, N, T);
        float[] reference = run(ReferenceBackend.instance(), c, x, mask);
        float[] actual = run(backend, c, x, mask);
        for (float v : reference) {
            assertFalse(Float.isNaN(v) || Float.isInfinite(v), c + ": the reference keeps masked non-finite inputs out");
        }
        assertSameNonFinitePattern(reference, actual, backend.name() + " " + c + " masked");
    }

    /** The same checks on the cuDNN backend (tag gpu: run by the GPU check bundle; skipped without a device). */
    @org.junit.jupiter.api.Tag("gpu")
    @ParameterizedTest(name = "cuda {0}")
    @MethodSource("layerCases")
    void onTheGpuNonFiniteValuesPropagateAsTheReference(Case c) {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.jrnn.backend.cuda.Cuda.usable(),
                () -> "no usable CUDA: " + io.jrnn.backend.cuda.Cuda.status().reason());
        Backend gpu = io.jrnn.backend.cuda.CudaBackend.instance();
        nonFiniteValuesPropagateAsTheReferenceAndStayInTheirSample(gpu, c);
        aNaNAtAMaskedStepDoesNotPropagate(gpu, c);
        System.out.println("GPU-CHECK nonfinite_" + c.toString().replace(' ', '_') + " ok");
    }
}
