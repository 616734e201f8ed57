package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Kind;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Size;
import io.jrnn.layers.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The composed step whose activations run as oneDNN matmul post-ops (one matmul per gate block, added
 * in place to the input projection, then activated: LSTM {@code [i f]}, {@code [c̃]}, {@code [o]};
 * GRU reset_after=false {@code [z r]}, then {@code [h̃]} from {@code r ⊙ h}; SimpleRNN {@code [h]};
 * Java updates the states):
 * against the masked oracle (the reference backend step by step), and when it runs.
 */
class ActivatedStepTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();
    private static final String POST_OPS = "gate activations as matmul post-ops";
    private static final int FROM = ComposedRecurrentExecutor.ACTIVATED_STEP_FROM_BATCH;

    static Stream<Arguments> cases() {
        // activation, recurrent_activation: every one oneDNN has as an eltwise post-op, on either side.
        List<Activation[]> pairs = List.of(new Activation[] {Activation.TANH, Activation.SIGMOID},
                new Activation[] {Activation.TANH, Activation.HARD_SIGMOID_KERAS2},
                new Activation[] {Activation.LINEAR, Activation.HARD_SIGMOID_KERAS3},
                new Activation[] {Activation.ELU, Activation.TANH});
        // N, T, C, H all different; H = 32 gives the blocks whole vectors, H = 11 ragged ones.
        List<Size> sizes = List.of(new Size(FROM + 1, 6, 9, 11), new Size(FROM + 4, 5, 7, 32));
        List<Arguments> cases = new ArrayList<>();
        int i = 0;
        for (Kind kind : List.of(Kind.LSTM, Kind.GRU, Kind.SIMPLE_RNN)) {
            for (Activation[] pair : pairs) {
                for (int bits = 0; bits < 16; bits++) {
                    cases.add(Arguments.of(kind, pair[0], pair[1], (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0,
                            (bits & 8) != 0, sizes.get(i++ % 2)));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}/{2} backwards={3} seq={4} mask={5} init={6} {7}")
    @MethodSource("cases")
    void activatedStepMatchesTheOracle(Kind kind, Activation activation, Activation recurrent, boolean back,
            boolean sequences, boolean masked, boolean initial, Size size) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 1009L + activation.ordinal() * 101L
                + recurrent.ordinal() * 7L + (back ? 1 : 0) + (sequences ? 2 : 0) + (masked ? 4 : 0) + (initial ? 8 : 0));
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, activation, recurrent, true, back, sequences,
                size, rng);
        int n = size.batch();
        int t = size.steps();
        Mask mask = masked ? ComposedRecurrentExecutorTest.mixedMask(n, t, rng) : null;
        Tensor[] init = null;
        if (initial) {
            init = new Tensor[spec.stateCount()];
            for (int s = 0; s < init.length; s++) {
                init[s] = random(rng, 1f, n, size.units());
            }
        }
        try (Tensor x = random(rng, 1f, n, t, size.features());
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            assertTrue(executor.activatedStepRuns(n));
            float[][] expected = ComposedRecurrentExecutorTest.maskedOracle(spec, x, init,
                    mask != null ? mask : allValid(n, t), false);
            for (int call = 0; call < 2; call++) {
                // The gate matmuls write into the input projection; the second call recomputes it.
                Tensor[] actual = executor.run(x, init, mask);
                try {
                    assertTrue(executor.executionPath().contains(POST_OPS), executor.executionPath());
                    ComposedRecurrentExecutorTest.assertOutputsClose(expected, actual, sequences, size, "call " + call + " ");
                } finally {
                    Arrays.stream(actual).forEach(Tensor::close);
                }
            }
        } finally {
            if (init != null) {
                Arrays.stream(init).forEach(Tensor::close);
            }
        }
    }

    @Test
    void runsFromItsBatchWithActivationsOneDnnHasForLstmGruResetBeforeAndSimpleRnn() {
        SplittableRandom rng = new SplittableRandom(31);
        Size size = new Size(FROM, 3, 4, 5);
        RecurrentSpec hard = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH,
                Activation.HARD_SIGMOID_KERAS2, true, false, false, size, rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), hard, "test")) {
            assertTrue(executor.activatedStepRuns(FROM));
            assertTrue(executor.activatedStepRuns(64));
            assertFalse(executor.activatedStepRuns(FROM - 1));
            assertFalse(executor.activatedStepRuns(1));
            run(executor, FROM - 1, size);
            assertFalse(executor.executionPath().contains(POST_OPS), executor.executionPath());
            run(executor, FROM, size);
            assertTrue(executor.executionPath().contains(POST_OPS), executor.executionPath());
        }
        // softsign and selu: no oneDNN eltwise; relu: Keras keeps NaN, oneDNN's relu may not.
        for (Activation javaOnly : List.of(Activation.SOFTSIGN, Activation.SELU, Activation.RELU)) {
            for (boolean asRecurrent : new boolean[] {false, true}) {
                RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(asRecurrent ? Kind.GRU : Kind.LSTM,
                        asRecurrent ? Activation.TANH : javaOnly, asRecurrent ? javaOnly : Activation.SIGMOID, true,
                        false, false, size, rng);
                try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
                    assertFalse(executor.activatedStepRuns(64), javaOnly + " recurrent=" + asRecurrent);
                    run(executor, FROM, size);
                    assertFalse(executor.executionPath().contains(POST_OPS), executor.executionPath());
                }
            }
        }
        RecurrentSpec gru = ComposedRecurrentExecutorTest.spec(Kind.GRU, Activation.TANH,
                Activation.HARD_SIGMOID_KERAS2, true, false, false, size, rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), gru, "test")) {
            assertTrue(executor.activatedStepRuns(FROM));
            assertFalse(executor.activatedStepRuns(FROM - 1));
        }
        RecurrentSpec elu = ComposedRecurrentExecutorTest.spec(Kind.SIMPLE_RNN, Activation.ELU, Activation.SOFTMAX, true,
                false, false, size, rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), elu, "test")) {
            // A SimpleRNN has no recurrent activation: whatever the spec carries there does not matter.
            assertTrue(executor.activatedStepRuns(FROM));
        }
        RecurrentSpec softsign = ComposedRecurrentExecutorTest.spec(Kind.SIMPLE_RNN, Activation.SOFTSIGN,
                Activation.SIGMOID, true, false, false, size, rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), softsign, "test")) {
            assertFalse(executor.activatedStepRuns(64));
        }
        RecurrentSpec resetAfter = ComposedRecurrentExecutorTest.spec(Kind.GRU_RESET_AFTER, Activation.TANH,
                Activation.SIGMOID, true, false, false, size, rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), resetAfter, "test")) {
            assertFalse(executor.activatedStepRuns(64));
        }
    }

    @Test
    void javaOnlyActivationsStillMatchTheOracleAtLargeBatches() {
        SplittableRandom rng = new SplittableRandom(37);
        Size size = new Size(FROM + 2, 4, 6, 9);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.SOFTSIGN,
                Activation.HARD_SIGMOID_KERAS2, true, false, true, size, rng);
        try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features());
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            float[] expected = ComposedRecurrentExecutorTest.maskedOracle(spec, x, null,
                    allValid(size.batch(), size.steps()), false)[0];
            Tensor[] actual = executor.run(x, null);
            try (Tensor e = Tensor.of(expected, size.batch(), size.steps(), size.units())) {
                assertClose(e, actual[0], "output");
            } finally {
                Arrays.stream(actual).forEach(Tensor::close);
            }
        }
    }

    static Stream<Arguments> gatedKinds() {
        return Stream.of(Arguments.of(Kind.LSTM, 3), Arguments.of(Kind.GRU, 2), Arguments.of(Kind.SIMPLE_RNN, 1));
    }

    /**
     * oneDNN accepts a matmul whose post-ops it cannot run fast and runs it on its reference
     * implementation, about a thousand times slower (a binary-add post-op on a strided addend did
     * this). The gate matmuls must get an optimised one.
     */
    @ParameterizedTest
    @MethodSource("gatedKinds")
    void gateMatmulsRunAnOptimisedImplementation(Kind kind, int matmuls) {
        SplittableRandom rng = new SplittableRandom(41);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH,
                Activation.HARD_SIGMOID_KERAS2, true, false, true, new Size(64, 25, 48, 64), rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            List<String> implementations = executor.stepImplementations(64, 25);
            assertEquals(matmuls, implementations.size(), implementations.toString());
            for (String implementation : implementations) {
                assertFalse(implementation.startsWith("ref"), implementations.toString());
            }
            // The one-matmul step at a smaller batch, for comparison.
            List<String> plain = executor.stepImplementations(FROM - 1, 25);
            assertEquals(1, plain.size());
            assertFalse(plain.get(0).startsWith("ref"), plain.toString());
        }
    }

    @Test
    void aNaNInputReachesTheOutputs() {
        // Whatever oneDNN's clamping activations make of NaN, the tanh gate and the state carry it, as in Keras.
        SplittableRandom rng = new SplittableRandom(43);
        Size size = new Size(FROM, 3, 4, 5);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH,
                Activation.HARD_SIGMOID_KERAS2, true, false, true, size, rng);
        float[] values;
        try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features())) {
            values = x.toArray();
        }
        values[0] = Float.NaN;
        try (Tensor x = Tensor.of(values, size.batch(), size.steps(), size.features());
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            Tensor[] out = executor.run(x, null);
            try {
                float[] y = out[0].toArray();
                float[] sample0 = Arrays.copyOf(y, size.steps() * size.units());
                for (float v : sample0) {
                    assertTrue(Float.isNaN(v), Arrays.toString(sample0));
                }
                float[] rest = Arrays.copyOfRange(y, size.steps() * size.units(), y.length);
                for (float v : rest) {
                    assertFalse(Float.isNaN(v));
                }
            } finally {
                Arrays.stream(out).forEach(Tensor::close);
            }
        }
    }

    static Stream<Arguments> nonFiniteCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : List.of(Kind.LSTM, Kind.GRU, Kind.SIMPLE_RNN)) {
            for (Activation activation : List.of(Activation.TANH, Activation.SIGMOID, Activation.HARD_SIGMOID_KERAS2,
                    Activation.HARD_SIGMOID_KERAS3, Activation.ELU, Activation.LINEAR)) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    cases.add(Arguments.of(kind, activation, bad));
                }
            }
        }
        return cases.stream();
    }

    /**
     * NaN and ±Inf in the input and in an initial state land where the reference backend puts them
     * (docs/reliability.md): oneDNN's hard_sigmoid turns NaN into 1, so it may gate (the candidate
     * carries the NaN) but not produce the state itself.
     */
    @ParameterizedTest(name = "{0} activation={1} {2}")
    @MethodSource("nonFiniteCases")
    void nonFiniteValuesLandWhereTheReferencePutsThem(Kind kind, Activation activation, float bad) {
        SplittableRandom rng = new SplittableRandom(47);
        Size size = new Size(FROM, 3, 4, 5);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, activation, Activation.HARD_SIGMOID_KERAS2, true,
                false, true, size, rng);
        float[] values;
        float[] state;
        try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features());
                Tensor h0 = random(rng, 1f, size.batch(), size.units())) {
            values = x.toArray();
            state = h0.toArray();
        }
        values[0] = bad;
        state[size.units() + 2] = bad;
        Tensor[] init = new Tensor[spec.stateCount()];
        init[0] = Tensor.of(state, size.batch(), size.units());
        for (int s = 1; s < init.length; s++) {
            init[s] = Tensor.zeros(size.batch(), size.units());
        }
        try (Tensor x = Tensor.of(values, size.batch(), size.steps(), size.features());
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            float[][] expected = ComposedRecurrentExecutorTest.maskedOracle(spec, x, init,
                    allValid(size.batch(), size.steps()), false);
            Tensor[] actual = executor.run(x, init);
            try {
                for (int o = 0; o < expected.length; o++) {
                    float[] a = actual[o].toArray();
                    for (int j = 0; j < a.length; j++) {
                        float e = expected[o][j];
                        String where = "output " + o + " element " + j + ": expected " + e + ", got " + a[j];
                        if (Float.isNaN(e) || Float.isInfinite(e)) {
                            assertEquals(e, a[j], where);
                        } else {
                            assertTrue(Math.abs(e - a[j]) <= 1e-5, where);
                        }
                    }
                }
            } finally {
                Arrays.stream(actual).forEach(Tensor::close);
            }
        } finally {
            Arrays.stream(init).forEach(Tensor::close);
        }
    }

    /** The oracle's mask for an unmasked run. */
    private static Mask allValid(int batch, int steps) {
        boolean[] all = new boolean[batch * steps];
        Arrays.fill(all, true);
        return Mask.of(all, batch, steps);
    }

    private static void run(ComposedRecurrentExecutor executor, int batch, Size size) {
        try (Tensor x = random(new SplittableRandom(batch), 1f, batch, size.steps(), size.features())) {
            Arrays.stream(executor.run(x, null)).forEach(Tensor::close);
        }
    }
}
