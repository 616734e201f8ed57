package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
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
 * The composed path itself: masks of every pattern against an oracle written from the spec's
 * canonical pseudocode (§3.3), the shape cache, ownership and input checks.
 */
class ComposedRecurrentExecutorTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();

    enum Kind {
        LSTM, GRU, GRU_RESET_AFTER, SIMPLE_RNN;

        CellType type() {
            return switch (this) {
                case LSTM -> CellType.LSTM;
                case GRU, GRU_RESET_AFTER -> CellType.GRU;
                case SIMPLE_RNN -> CellType.SIMPLE_RNN;
            };
        }
    }

    /** N, T, C, H. */
    record Size(int batch, int steps, int features, int units) {
        @Override
        public String toString() {
            return "N" + batch + " T" + steps + " C" + features + " H" + units;
        }
    }

    static RecurrentSpec spec(Kind kind, Activation activation, Activation recurrent, boolean useBias,
            boolean goBackwards, boolean returnSequences, Size size, SplittableRandom rng) {
        int c = size.features();
        int h = size.units();
        int gh = kind.type().gateCount() * h;
        boolean resetAfter = kind == Kind.GRU_RESET_AFTER;
        float[] bias = useBias ? uniform(rng, 0.5f, gh * (resetAfter ? 2 : 1)) : null;
        KerasRnnWeights w = KerasRnnWeights.of(kind.type(), resetAfter, c, h,
                uniform(rng, (float) (1 / Math.sqrt(c)), c * gh), uniform(rng, (float) (1 / Math.sqrt(h)), h * gh), bias)
                .withZeroBiasIfAbsent();
        return new RecurrentSpec("composed_test", kind.type(), activation, recurrent, useBias, resetAfter, goBackwards,
                returnSequences, w);
    }

    /**
     * Rows of every kind: random, all invalid, left-padded, right-padded, all valid, valid only in the
     * middle; further rows random.
     */
    static Mask mixedMask(int batch, int steps, SplittableRandom rng) {
        boolean[] v = new boolean[batch * steps];
        for (int n = 0; n < batch; n++) {
            int pad = 1 + rng.nextInt(steps - 1);
            for (int t = 0; t < steps; t++) {
                v[n * steps + t] = switch (n % 6) {
                    case 1 -> false;
                    case 2 -> t >= pad;
                    case 3 -> t < pad;
                    case 4 -> true;
                    case 5 -> t == steps / 2;
                    default -> rng.nextDouble() < 0.6;
                };
            }
        }
        return Mask.of(v, batch, steps);
    }

    /**
     * The spec's canonical masked loop (§3.3), with the reference backend as the cell: one reference
     * step per processing step, then carry states and output where the mask is false.
     */
    static float[][] maskedOracle(RecurrentSpec spec, Tensor x, Tensor[] initial, Mask mask, boolean zeroOutputForMask) {
        int n = x.dim(0);
        int steps = x.dim(1);
        int c = x.dim(2);
        int h = spec.units();
        RecurrentSpec stepSpec = new RecurrentSpec(spec.layerName(), spec.cellType(), spec.activation(),
                spec.recurrentActivation(), spec.useBias(), spec.resetAfter(), false, false, spec.weights());
        float[] xs = x.toArray();
        float[][] states = new float[spec.stateCount()][];
        for (int s = 0; s < states.length; s++) {
            states[s] = initial == null ? new float[n * h] : initial[s].toArray();
        }
        float[] prev = new float[n * h];
        float[] sequence = new float[n * steps * h];
        try (RecurrentExecutor cell = ReferenceBackend.instance().compile(stepSpec)) {
            for (int k = 0; k < steps; k++) {
                int t = spec.goBackwards() ? steps - 1 - k : k;
                float[] xt = new float[n * c];
                for (int s = 0; s < n; s++) {
                    System.arraycopy(xs, (s * steps + t) * c, xt, s * c, c);
                }
                Tensor[] stateTensors = new Tensor[states.length];
                for (int s = 0; s < states.length; s++) {
                    stateTensors[s] = Tensor.of(states[s], n, h);
                }
                Tensor[] out;
                try (Tensor xStep = Tensor.of(xt, n, 1, c)) {
                    out = cell.run(xStep, stateTensors);
                } finally {
                    Arrays.stream(stateTensors).forEach(Tensor::close);
                }
                float[] y = out[0].toArray();
                float[][] next = new float[states.length][];
                for (int s = 0; s < states.length; s++) {
                    next[s] = out[1 + s].toArray();
                }
                Arrays.stream(out).forEach(Tensor::close);
                for (int sample = 0; sample < n; sample++) {
                    int from = sample * h;
                    if (mask.valid(sample, t)) {
                        System.arraycopy(y, from, prev, from, h);
                        for (int s = 0; s < states.length; s++) {
                            System.arraycopy(next[s], from, states[s], from, h);
                        }
                    } else if (zeroOutputForMask) {
                        Arrays.fill(prev, from, from + h, 0f);
                    }
                    System.arraycopy(prev, from, sequence, (sample * steps + k) * h, h);
                }
            }
        }
        float[][] result = new float[1 + states.length][];
        result[0] = spec.returnSequences() ? sequence : prev;
        System.arraycopy(states, 0, result, 1, states.length);
        return result;
    }

    static Stream<Arguments> maskedCases() {
        List<Arguments> cases = new ArrayList<>();
        List<Size> sizes = List.of(new Size(7, 6, 4, 5), new Size(13, 9, 10, 12));
        int i = 0;
        for (Kind kind : Kind.values()) {
            List<Activation[]> activations = kind == Kind.SIMPLE_RNN
                    ? List.of(new Activation[] {Activation.TANH, Activation.SIGMOID},
                            new Activation[] {Activation.LINEAR, Activation.SIGMOID})
                    : List.of(new Activation[] {Activation.TANH, Activation.SIGMOID},
                            new Activation[] {Activation.SOFTSIGN, Activation.HARD_SIGMOID_KERAS2});
            for (Activation[] a : activations) {
                for (int bits = 0; bits < 16; bits++) {
                    boolean back = (bits & 1) != 0;
                    boolean sequences = (bits & 2) != 0;
                    boolean zeroOutput = (bits & 4) != 0;
                    boolean initial = (bits & 8) != 0;
                    cases.add(Arguments.of(kind, a[0], a[1], back, sequences, zeroOutput, initial, sizes.get(i % 2),
                            i % 5 != 4));
                    i++;
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}/{2} backwards={3} seq={4} zeroOutput={5} init={6} {7} bias={8}")
    @MethodSource("maskedCases")
    void maskedRunsFollowTheCanonicalRule(Kind kind, Activation activation, Activation recurrent, boolean back,
            boolean sequences, boolean zeroOutput, boolean initial, Size size, boolean useBias) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 1000L + activation.ordinal() * 37L
                + (back ? 1 : 0) + (sequences ? 2 : 0) + (zeroOutput ? 4 : 0) + (initial ? 8 : 0) + size.units());
        RecurrentSpec spec = spec(kind, activation, recurrent, useBias, back, sequences, size, rng);
        Mask mask = mixedMask(size.batch(), size.steps(), rng);
        Tensor[] init = null;
        if (initial) {
            init = new Tensor[spec.stateCount()];
            for (int s = 0; s < init.length; s++) {
                init[s] = random(rng, 1f, size.batch(), size.units());
            }
        }
        try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features());
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test",
                        zeroOutput)) {
            float[][] expected = maskedOracle(spec, x, init, mask, zeroOutput);
            Tensor[] actual = executor.run(x, init, mask);
            try {
                assertOutputsClose(expected, actual, sequences, size, "");
            } finally {
                Arrays.stream(actual).forEach(Tensor::close);
            }
        } finally {
            if (init != null) {
                Arrays.stream(init).forEach(Tensor::close);
            }
        }
    }

    /** {@code actual} (output, then states) within the backends' tolerance of the oracle's {@code expected}. */
    static void assertOutputsClose(float[][] expected, Tensor[] actual, boolean sequences, Size size, String label) {
        assertEquals(expected.length, actual.length);
        for (int o = 0; o < expected.length; o++) {
            int[] shape = o == 0 && sequences ? new int[] {size.batch(), size.steps(), size.units()}
                    : new int[] {size.batch(), size.units()};
            try (Tensor e = Tensor.of(expected[o], shape)) {
                assertClose(e, actual[o], label + "output " + o);
            }
        }
    }

    @Test
    void theOracleSeesMaskedSteps() {
        // Guard against a vacuous oracle: with initial states, a left-padded row's output differs from the unmasked run.
        SplittableRandom rng = new SplittableRandom(3);
        Size size = new Size(2, 5, 3, 4);
        RecurrentSpec spec = spec(Kind.LSTM, Activation.TANH, Activation.HARD_SIGMOID_KERAS2, true, false, true, size, rng);
        Mask leftPadded = Mask.of(new boolean[] {false, false, true, true, true, false, true, true, true, true}, 2, 5);
        try (Tensor x = random(rng, 1f, 2, 5, 3); Tensor h0 = random(rng, 1f, 2, 4); Tensor c0 = random(rng, 1f, 2, 4);
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            float[] masked = maskedOracle(spec, x, new Tensor[] {h0, c0}, leftPadded, false)[0];
            // Zeros before the first valid step (spec §3.3), even with a non-zero initial state.
            for (int j = 0; j < 8; j++) {
                assertEquals(0f, masked[j]);
            }
            Tensor[] unmasked = executor.run(x, new Tensor[] {h0, c0});
            try {
                assertFalse(Arrays.equals(masked, unmasked[0].toArray()));
            } finally {
                Arrays.stream(unmasked).forEach(Tensor::close);
            }
        }
    }

    @Test
    void allValidOrNullMaskIsTheUnmaskedRun() {
        SplittableRandom rng = new SplittableRandom(4);
        Size size = new Size(3, 4, 5, 6);
        RecurrentSpec spec = spec(Kind.GRU, Activation.RELU, Activation.HARD_SIGMOID_KERAS3, true, true, true, size, rng);
        boolean[] all = new boolean[12];
        Arrays.fill(all, true);
        try (Tensor x = random(rng, 1f, 3, 4, 5);
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            Tensor[] plain = executor.run(x, null);
            Tensor[] allValid = executor.run(x, null, Mask.of(all, 3, 4));
            Tensor[] noMask = executor.run(x, null, null);
            try {
                for (int o = 0; o < plain.length; o++) {
                    assertTrue(Arrays.equals(plain[o].toArray(), allValid[o].toArray()));
                    assertTrue(Arrays.equals(plain[o].toArray(), noMask[o].toArray()));
                }
            } finally {
                Stream.of(plain, allValid, noMask).flatMap(Arrays::stream).forEach(Tensor::close);
            }
        }
    }

    @Test
    void maskOfAnotherShapeIsRejected() {
        SplittableRandom rng = new SplittableRandom(5);
        RecurrentSpec spec = spec(Kind.SIMPLE_RNN, Activation.LINEAR, Activation.SIGMOID, true, false, false,
                new Size(2, 3, 4, 5), rng);
        try (Tensor x = random(rng, 1f, 2, 3, 4);
                ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test")) {
            Mask wrong = Mask.fromLengths(new int[] {1, 2}, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> executor.run(x, null, wrong));
            assertTrue(e.getMessage().contains("SimpleRNN 'composed_test'") && e.getMessage().contains("[2, 3]")
                    && e.getMessage().contains("[2, 4]"), e.getMessage());
        }
    }

    @Test
    void softmaxIsNotARecurrentActivation() {
        SplittableRandom rng = new SplittableRandom(6);
        RecurrentSpec spec = spec(Kind.LSTM, Activation.TANH, Activation.SOFTMAX, true, false, false,
                new Size(2, 3, 4, 5), rng);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ComposedRecurrentExecutor(CPU.engine(), spec, "test"));
        assertTrue(e.getMessage().contains("LSTM 'composed_test'") && e.getMessage().contains("softmax"), e.getMessage());
    }

    @Test
    void fusedConfigurationsCanRunComposedForMasks() {
        // The masking code routes arbitrary masks of fused-capable layers here.
        SplittableRandom rng = new SplittableRandom(7);
        RecurrentSpec spec = spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, false, true,
                new Size(4, 5, 3, 6), rng);
        try (RecurrentExecutor executor = CPU.composed(spec, "arbitrary mask");
                RecurrentExecutor fused = CPU.compile(spec);
                Tensor x = random(rng, 1f, 4, 5, 3)) {
            assertEquals(ComposedRecurrentExecutor.PATH_PREFIX + "; arbitrary mask)", executor.executionPath());
            assertTrue(fused.executionPath().startsWith("oneDNN lstm_forward"), fused.executionPath());
            Tensor[] a = executor.run(x, null);
            Tensor[] b = fused.run(x, null);
            try {
                for (int o = 0; o < a.length; o++) {
                    assertClose(b[o], a[o], "output " + o);
                }
            } finally {
                Stream.of(a, b).flatMap(Arrays::stream).forEach(Tensor::close);
            }
        }
    }

    @Test
    void shapeCacheIsABoundedLruAndClosingIsIdempotent() {
        SplittableRandom rng = new SplittableRandom(8);
        int capacity = ComposedRecurrentExecutor.SHAPE_CACHE_CAPACITY;
        RecurrentSpec spec = spec(Kind.GRU, Activation.TANH, Activation.HARD_SIGMOID_KERAS2, true, false, false,
                new Size(1, 3, 4, 5), rng);
        ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test");
        for (int batch = 1; batch <= capacity + 2; batch++) {
            run(executor, batch, 3);
        }
        assertEquals(capacity, executor.cachedShapeCount());
        assertEquals(capacity + 2, executor.plansCreated());
        run(executor, capacity + 2, 3);
        assertEquals(capacity + 2, executor.plansCreated());
        run(executor, 1, 3);
        assertEquals(capacity + 3, executor.plansCreated());
        run(executor, 1, 3);
        assertEquals(capacity + 3, executor.plansCreated());
        executor.close();
        assertTrue(executor.isClosed());
        assertDoesNotThrow(executor::close);
        try (Tensor x = Tensor.zeros(1, 3, 4)) {
            assertThrows(IllegalStateException.class, () -> executor.run(x, null));
            assertThrows(IllegalStateException.class, () -> executor.run(x, null, Mask.fromLengths(new int[] {2}, 3)));
        }
    }

    private static void run(RecurrentExecutor executor, int batch, int steps) {
        try (Tensor x = random(new SplittableRandom(batch), 1f, batch, steps, 4)) {
            Arrays.stream(executor.run(x, null)).forEach(Tensor::close);
        }
    }

    @Test
    void badInputsAreRejectedBeforeNativeCode() {
        SplittableRandom rng = new SplittableRandom(9);
        RecurrentSpec spec = spec(Kind.LSTM, Activation.RELU, Activation.SIGMOID, false, false, false,
                new Size(2, 3, 4, 5), rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test");
                Tensor wrongFeatures = Tensor.zeros(2, 3, 5);
                Tensor x = Tensor.zeros(2, 3, 4);
                Tensor h = Tensor.zeros(2, 5);
                Tensor wrongState = Tensor.zeros(3, 5)) {
            assertThrows(IllegalArgumentException.class, () -> executor.run(wrongFeatures, null));
            assertThrows(IllegalArgumentException.class, () -> executor.run(x, new Tensor[] {h}));
            assertThrows(IllegalArgumentException.class, () -> executor.run(x, new Tensor[] {h, wrongState}));
            Tensor closed = Tensor.zeros(2, 3, 4);
            closed.close();
            assertThrows(IllegalStateException.class, () -> executor.run(closed, null));
            assertEquals(0, executor.plansCreated());
        }
    }
}
