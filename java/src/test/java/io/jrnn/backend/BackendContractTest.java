package io.jrnn.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backend contract: every recurrent configuration gives the reference backend's numbers
 * (absolute tolerance {@link #ATOL}), through the public layer API. Subclasses name the backend.
 */
public abstract class BackendContractTest {
    /** Absolute tolerance against the reference, for activations of order 1. */
    protected static final float ATOL = 1e-5f;

    /** The backend under test. */
    protected abstract Backend backend();

    /** Called with the layer's execution path after each run (e.g. to check no fallback happened). */
    protected void checkExecutionPath(Cell cell, String path) {
    }

    /**
     * Called with the layer's execution path after each run of an {@link ActivationCase}: {@code fusedActivations}
     * says whether the activations are the ones oneDNN's fused primitives have (sigmoid gates and tanh, or a
     * tanh/relu/sigmoid SimpleRNN).
     */
    protected void checkActivationExecutionPath(ActivationCase c, boolean fusedActivations, String path) {
    }

    /** The layer kinds, with the activations that select a native primitive. */
    public enum Cell {
        LSTM, GRU, GRU_RESET_AFTER, SIMPLE_RNN_TANH, SIMPLE_RNN_RELU, SIMPLE_RNN_SIGMOID;

        int gateCount() {
            return switch (this) {
                case LSTM -> 4;
                case GRU, GRU_RESET_AFTER -> 3;
                default -> 1;
            };
        }

        int stateCount() {
            return this == LSTM ? 2 : 1;
        }
    }

    /** N, T, C, H. */
    public record Size(int batch, int steps, int features, int units) {
        @Override
        public String toString() {
            return "N" + batch + " T" + steps + " C" + features + " H" + units;
        }
    }

    public record Flags(boolean returnSequences, boolean returnState, boolean goBackwards, boolean initialState,
            boolean stateful) {
        @Override
        public String toString() {
            return (returnSequences ? "seq" : "last") + (returnState ? " +state" : "") + (goBackwards ? " backwards" : "")
                    + (initialState ? " init" : "") + (stateful ? " stateful" : "");
        }
    }

    /** A layer kind with explicit activations ({@code recurrent} is ignored for SimpleRNN). */
    public record ActivationCase(Cell cell, Activation activation, Activation recurrent) {
        @Override
        public String toString() {
            return cell + " activation=" + name(activation) + (cell.gateCount() > 1 ? " recurrent=" + name(recurrent) : "");
        }

        private static String name(Activation a) {
            return a == Activation.HARD_SIGMOID_KERAS2 ? "hard_sigmoid(K2)"
                    : a == Activation.HARD_SIGMOID_KERAS3 ? "hard_sigmoid(K3)" : a.kerasName();
        }

        /**
         * Weight scale keeping the recurrence contractive. A gate activation with values outside [-1, 1]
         * (relu, exponential, …) lets the states grow geometrically (GRU's h = z·h + …, LSTM's c = f·c + …),
         * and so does an exponential activation; at full scale float32 reassociation differences grow with
         * them and the comparison would measure chaos, not correctness. Those cases use weights ×0.1, and
         * ×0.03 with exponential gates: at ×0.1 GRU tanh/exponential (N2 T11 C3 H7, stateful, second call)
         * reached |h| ≈ 1e6, where a 2e-6 relative difference in an earlier step grew past the 1e-5
         * relative bound, and whether it did changed with what else the JVM had run before.
         */
        public float weightScale() {
            boolean boundedGates = cell.gateCount() == 1 || switch (recurrent) {
                case SIGMOID, HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3, TANH, SOFTSIGN -> true;
                default -> false;
            };
            if (cell.gateCount() > 1 && recurrent == Activation.EXPONENTIAL) {
                return 0.03f;
            }
            return boundedGates && activation != Activation.EXPONENTIAL ? 1f : 0.1f;
        }

        /** Whether oneDNN's fused primitive has these activations. */
        public boolean fusedActivations() {
            if (cell.gateCount() == 1) {
                return activation == Activation.TANH || activation == Activation.RELU || activation == Activation.SIGMOID;
            }
            return activation == Activation.TANH && recurrent == Activation.SIGMOID;
        }
    }

    static final Size SMALL = new Size(3, 7, 4, 5);
    static final Size BIGGER = new Size(17, 9, 24, 32);
    /** A batch above the oneDNN weight-format threshold (32). */
    static final Size WIDE_BATCH = new Size(40, 5, 8, 16);

    static List<Flags> allFlags() {
        List<Flags> flags = new ArrayList<>();
        for (int bits = 0; bits < 32; bits++) {
            flags.add(new Flags((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0));
        }
        return flags;
    }

    static Stream<Arguments> everyCombination() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (Size size : List.of(SMALL, BIGGER, WIDE_BATCH)) {
                for (Flags flags : allFlags()) {
                    cases.add(Arguments.of(cell, size, flags));
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> withoutBias() {
        List<Arguments> cases = new ArrayList<>();
        List<Flags> some = List.of(new Flags(true, true, false, false, false), new Flags(false, true, true, true, false),
                new Flags(true, false, true, false, true));
        for (Cell cell : Cell.values()) {
            for (Size size : List.of(SMALL, WIDE_BATCH)) {
                for (Flags flags : some) {
                    cases.add(Arguments.of(cell, size, flags));
                }
            }
        }
        return cases.stream();
    }

    /** Every elementwise activation, as the candidate activation and as the gate activation. */
    static List<ActivationCase> activationCases() {
        List<Activation> all = Arrays.stream(Activation.values()).filter(Activation::isElementwise).toList();
        List<ActivationCase> cases = new ArrayList<>();
        for (Cell cell : List.of(Cell.LSTM, Cell.GRU, Cell.GRU_RESET_AFTER)) {
            for (Activation a : all) {
                cases.add(new ActivationCase(cell, a, Activation.HARD_SIGMOID_KERAS2));
                if (a != Activation.HARD_SIGMOID_KERAS2) {
                    cases.add(new ActivationCase(cell, Activation.TANH, a));
                }
            }
        }
        for (Activation a : all) {
            cases.add(new ActivationCase(Cell.SIMPLE_RNN_TANH, a, Activation.SIGMOID));
        }
        return cases;
    }

    /**
     * Each activation case with 8 of the 32 flag combinations (rotating, so each layer kind meets all
     * 32) and one of four sizes (rotating too); every fourth case without bias.
     */
    static Stream<Arguments> everyActivation() {
        List<Size> sizes = List.of(SMALL, BIGGER, WIDE_BATCH, new Size(2, 11, 3, 7));
        List<Flags> flags = allFlags();
        List<Arguments> args = new ArrayList<>();
        List<ActivationCase> cases = activationCases();
        for (int i = 0; i < cases.size(); i++) {
            for (int f = 0; f < 8; f++) {
                args.add(Arguments.of(cases.get(i), sizes.get((i + f) % sizes.size()), flags.get((i * 8 + f) % 32),
                        i % 4 != 3));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} bias={3}")
    @MethodSource("everyActivation")
    void matchesReferenceForEveryActivation(ActivationCase c, Size size, Flags flags, boolean useBias) {
        long seed = 131L * c.hashCode() + 7L * size.hashCode() + flags.hashCode();
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] weights = kerasWeights(c.cell(), size, useBias, rng);
        for (float[] w : weights) {
            for (int i = 0; w != null && i < w.length; i++) {
                w[i] *= c.weightScale();
            }
        }
        try (RecurrentLayer expectedLayer = layer(c, size, flags, useBias);
                RecurrentLayer actualLayer = layer(c, size, flags, useBias)) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(backend());
            expectedLayer.setWeights(weights[0], weights[1], weights[2]);
            actualLayer.setWeights(weights[0], weights[1], weights[2]);
            int calls = flags.stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = new Tensor[0];
                if (flags.initialState() && call == 0) {
                    initial = new Tensor[c.cell().stateCount()];
                    for (int s = 0; s < initial.length; s++) {
                        initial[s] = random(rng, 1f, size.batch(), size.units());
                    }
                }
                try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features());
                        Outputs expected = expectedLayer.forward(x, initial);
                        Outputs actual = actualLayer.forward(x, initial)) {
                    String where = c + " " + size + " " + flags + (useBias ? "" : " no bias") + " call " + call;
                    assertEquals(expected.size(), actual.size(), where + ": number of outputs");
                    for (int i = 0; i < expected.size(); i++) {
                        assertCloseScaled(expected.get(i), actual.get(i), where + ", output " + i);
                    }
                    checkActivationExecutionPath(c, c.fusedActivations(), actualLayer.executionPath());
                } finally {
                    for (Tensor t : initial) {
                        t.close();
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyCombination")
    void matchesReference(Cell cell, Size size, Flags flags) {
        compare(cell, size, flags, true);
    }

    @ParameterizedTest(name = "use_bias=false {0} {1} {2}")
    @MethodSource("withoutBias")
    void matchesReferenceWithoutBias(Cell cell, Size size, Flags flags) {
        compare(cell, size, flags, false);
    }

    private void compare(Cell cell, Size size, Flags flags, boolean useBias) {
        long seed = 31L * cell.ordinal() + 7L * size.hashCode() + flags.hashCode() + (useBias ? 1 : 0);
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] weights = kerasWeights(cell, size, useBias, rng);
        try (RecurrentLayer expectedLayer = layer(cell, size, flags, useBias);
                RecurrentLayer actualLayer = layer(cell, size, flags, useBias)) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(backend());
            expectedLayer.setWeights(weights[0], weights[1], weights[2]);
            actualLayer.setWeights(weights[0], weights[1], weights[2]);
            int calls = flags.stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = new Tensor[0];
                if (flags.initialState() && call == 0) {
                    initial = new Tensor[cell.stateCount()];
                    for (int s = 0; s < initial.length; s++) {
                        initial[s] = random(rng, 1f, size.batch(), size.units());
                    }
                }
                try (Tensor x = random(rng, 1f, size.batch(), size.steps(), size.features());
                        Outputs expected = expectedLayer.forward(x, initial);
                        Outputs actual = actualLayer.forward(x, initial)) {
                    String where = cell + " " + size + " " + flags + (useBias ? "" : " no bias") + " call " + call;
                    assertEquals(expected.size(), actual.size(), where + ": number of outputs");
                    for (int i = 0; i < expected.size(); i++) {
                        assertClose(expected.get(i), actual.get(i), where + ", output " + i);
                    }
                    checkExecutionPath(cell, actualLayer.executionPath());
                } finally {
                    for (Tensor t : initial) {
                        t.close();
                    }
                }
            }
        }
    }

    /** A fresh layer of the given kind, weights not set. */
    public static RecurrentLayer layer(Cell cell, Size size, Flags flags, boolean useBias) {
        RecurrentLayer.Builder<?, ?> b = switch (cell) {
            case LSTM -> LSTM.builder();
            case GRU -> GRU.builder().resetAfter(false);
            case GRU_RESET_AFTER -> GRU.builder().resetAfter(true);
            case SIMPLE_RNN_TANH -> SimpleRNN.builder().activation(Activation.TANH);
            case SIMPLE_RNN_RELU -> SimpleRNN.builder().activation(Activation.RELU);
            case SIMPLE_RNN_SIGMOID -> SimpleRNN.builder().activation(Activation.SIGMOID);
        };
        b.units(size.units()).useBias(useBias).returnSequences(flags.returnSequences()).returnState(flags.returnState())
                .goBackwards(flags.goBackwards()).stateful(flags.stateful());
        return b.build();
    }

    /** A fresh layer with the case's activations, weights not set. */
    public static RecurrentLayer layer(ActivationCase c, Size size, Flags flags, boolean useBias) {
        RecurrentLayer.Builder<?, ?> b = switch (c.cell()) {
            case LSTM -> LSTM.builder().recurrentActivation(c.recurrent());
            case GRU -> GRU.builder().resetAfter(false).recurrentActivation(c.recurrent());
            case GRU_RESET_AFTER -> GRU.builder().resetAfter(true).recurrentActivation(c.recurrent());
            default -> SimpleRNN.builder();
        };
        b.activation(c.activation()).units(size.units()).useBias(useBias).returnSequences(flags.returnSequences())
                .returnState(flags.returnState()).goBackwards(flags.goBackwards()).stateful(flags.stateful());
        return b.build();
    }

    /**
     * Keras-layout weights: kernel [C, G·H], recurrent [H, G·H], bias [G·H] ([2, 3H] for
     * reset_after) or {@code null}. Scaled so activations stay of order 1 (relu included).
     */
    public static float[][] kerasWeights(Cell cell, Size size, boolean useBias, SplittableRandom rng) {
        int gh = cell.gateCount() * size.units();
        float[] kernel = uniform(rng, (float) (1 / Math.sqrt(size.features())), size.features() * gh);
        float[] recurrent = uniform(rng, (float) (1 / Math.sqrt(size.units())), size.units() * gh);
        float[] bias = useBias ? uniform(rng, 0.5f, gh * (cell == Cell.GRU_RESET_AFTER ? 2 : 1)) : null;
        return new float[][] {kernel, recurrent, bias};
    }

    public static float[] uniform(SplittableRandom rng, float bound, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) rng.nextDouble(-bound, bound);
        }
        return v;
    }

    public static Tensor random(SplittableRandom rng, float bound, int... shape) {
        int count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        return Tensor.of(uniform(rng, bound, count), shape);
    }

    /**
     * {@link #assertClose} with the tolerance scaled by {@code max(1, |expected|)}: activations such as
     * exponential or linear make values far from order 1, where float32 reassociation alone exceeds
     * an absolute 1e-5. Equal values (infinities included) pass.
     */
    public static void assertCloseScaled(Tensor expected, Tensor actual, String where) {
        assertArrayEquals(expected.shape(), actual.shape(), where + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        for (int i = 0; i < e.length; i++) {
            float tolerance = ATOL * Math.max(1f, Math.abs(e[i]));
            if (Float.compare(e[i], a[i]) != 0 && !(Math.abs(e[i] - a[i]) <= tolerance)) {
                fail(where + ": element " + i + " of " + Arrays.toString(expected.shape()) + " expected " + e[i]
                        + " but was " + a[i] + " (|diff| " + Math.abs(e[i] - a[i]) + " > " + tolerance + ")");
            }
        }
    }

    public static void assertClose(Tensor expected, Tensor actual, String where) {
        assertArrayEquals(expected.shape(), actual.shape(), where + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= ATOL)) {
                fail(where + ": element " + i + " of " + Arrays.toString(expected.shape()) + " expected " + e[i]
                        + " but was " + a[i] + " (|diff| " + Math.abs(e[i] - a[i]) + " > " + ATOL + ")");
            }
        }
    }
}
