package io.jrnn.properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.layers.Activation;
import io.jrnn.layers.GRU;
import io.jrnn.layers.GRUCell;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.LSTMCell;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import io.jrnn.layers.SimpleRNNCell;
import io.jrnn.layers.StandardCell;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators and helpers shared by the property tests: cell configurations, sizes, masks of every
 * kind, weights and inputs drawn from a seed, and the scaled comparison of the contract tests.
 */
final class RecurrentArbitraries {
    /** Relative tolerance: {@code |expected − actual| ≤ RTOL · max(1, |expected|)}, as the contract tests use. */
    static final float RTOL = 1e-5f;
    /**
     * Weights are the contract tests' (kernel ±1/√C, recurrent ±1/√H, bias ±0.5) times this factor, so
     * that activations stay of order one over two stateful calls of up to 12 steps.
     */
    static final float WEIGHT_SCALE = 0.3f;
    /**
     * The factor for cells with an exponential activation: an LSTM computes {@code exp} of its cell
     * state, whose positive feedback overflows float32 within two calls already at {@code 0.1}.
     */
    static final float EXPONENTIAL_WEIGHT_SCALE = 0.03f;
    /**
     * The factor for cells whose gates can exceed 1 (relu, softplus, … as recurrent activation): there
     * the states grow geometrically, float32 reassociation
     * differences grow with them, and at {@link #WEIGHT_SCALE} a comparison would measure chaos, not
     * correctness (as in the contract tests).
     */
    static final float UNBOUNDED_WEIGHT_SCALE = 0.1f;

    static final int MAX_BATCH = 9;
    static final int MAX_STEPS = 12;
    static final int MAX_FEATURES = 10;
    static final int MAX_UNITS = 12;

    private RecurrentArbitraries() {
    }

    /** The built-in cell families (GRU in both variants). */
    enum CellKind {
        LSTM, GRU, GRU_RESET_AFTER, SIMPLE_RNN;

        int gateCount() {
            return switch (this) {
                case LSTM -> 4;
                case GRU, GRU_RESET_AFTER -> 3;
                case SIMPLE_RNN -> 1;
            };
        }

        int stateCount() {
            return this == LSTM ? 2 : 1;
        }

        boolean resetAfter() {
            return this == GRU_RESET_AFTER;
        }

        CellType cellType() {
            return switch (this) {
                case LSTM -> CellType.LSTM;
                case GRU, GRU_RESET_AFTER -> CellType.GRU;
                case SIMPLE_RNN -> CellType.SIMPLE_RNN;
            };
        }
    }

    /** A cell family with its activations and bias switch ({@code recurrent} is unused by SimpleRNN). */
    record CellSpec(CellKind kind, Activation activation, Activation recurrent, boolean useBias) {
        @Override
        public String toString() {
            return kind + "(" + name(activation) + (kind.gateCount() > 1 ? ", " + name(recurrent) : "")
                    + (useBias ? "" : ", no bias") + ")";
        }

        private static String name(Activation a) {
            return a == Activation.HARD_SIGMOID_KERAS2 ? "hard_sigmoid(K2)"
                    : a == Activation.HARD_SIGMOID_KERAS3 ? "hard_sigmoid(K3)" : a.kerasName();
        }

        /** Whether an activation of this cell is exponential (see {@link #assertClose}). */
        boolean exponential() {
            return activation == Activation.EXPONENTIAL || (kind.gateCount() > 1 && recurrent == Activation.EXPONENTIAL);
        }

        /** {@link #EXPONENTIAL_WEIGHT_SCALE}, {@link #UNBOUNDED_WEIGHT_SCALE} for gates beyond [-1, 1], else {@link #WEIGHT_SCALE}. */
        float weightScale() {
            boolean boundedGates = kind.gateCount() == 1 || switch (recurrent) {
                case SIGMOID, HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3, TANH, SOFTSIGN -> true;
                default -> false;
            };
            return exponential() ? EXPONENTIAL_WEIGHT_SCALE : boundedGates ? WEIGHT_SCALE : UNBOUNDED_WEIGHT_SCALE;
        }

        /** Keras-layout weights for {@code features} inputs and {@code units} units, scaled by {@link #weightScale()}. */
        KerasRnnWeights weights(int features, int units, SplittableRandom rng) {
            int gh = kind.gateCount() * units;
            float scale = weightScale();
            float[] kernel = uniform(rng, scale / (float) Math.sqrt(features), features * gh);
            float[] recurrent = uniform(rng, scale / (float) Math.sqrt(units), units * gh);
            float[] bias = useBias ? uniform(rng, scale * 0.5f, gh * (kind.resetAfter() ? 2 : 1)) : null;
            return KerasRnnWeights.of(kind.cellType(), kind.resetAfter(), features, units, kernel, recurrent, bias);
        }

        /** A layer builder with this spec and {@code units}. */
        RecurrentLayer.Builder<?, ?> layerBuilder(int units) {
            RecurrentLayer.Builder<?, ?> b = switch (kind) {
                case LSTM -> LSTM.builder();
                case GRU -> GRU.builder().resetAfter(false);
                case GRU_RESET_AFTER -> GRU.builder().resetAfter(true);
                case SIMPLE_RNN -> SimpleRNN.builder();
            };
            return b.units(units).activation(activation).recurrentActivation(recurrent).useBias(useBias);
        }

        /** A standalone cell with this spec and {@code units}. */
        StandardCell cell(int units) {
            StandardCell.Builder<?, ?> b = switch (kind) {
                case LSTM -> LSTMCell.builder();
                case GRU -> GRUCell.builder().resetAfter(false);
                case GRU_RESET_AFTER -> GRUCell.builder().resetAfter(true);
                case SIMPLE_RNN -> SimpleRNNCell.builder();
            };
            return b.units(units).activation(activation).recurrentActivation(recurrent).useBias(useBias).build();
        }
    }

    /** N, T, C, H. */
    record Sizes(int batch, int steps, int features, int units) {
        @Override
        public String toString() {
            return "N" + batch + " T" + steps + " C" + features + " H" + units;
        }
    }

    /** The layer options of spec §3 that the properties vary. */
    record Flags(boolean returnSequences, boolean returnState, boolean goBackwards, boolean stateful,
            boolean initialStates, boolean zeroOutputForMask, MaskedOutput maskedOutput) {
        @Override
        public String toString() {
            return (returnSequences ? "seq" : "last") + (returnState ? " +state" : "") + (goBackwards ? " backwards" : "")
                    + (stateful ? " stateful" : "") + (initialStates ? " init" : "") + (zeroOutputForMask ? " zero_output" : "")
                    + (maskedOutput == MaskedOutput.CANONICAL ? "" : " " + maskedOutput);
        }

        RecurrentLayer.Builder<?, ?> apply(RecurrentLayer.Builder<?, ?> b) {
            return b.returnSequences(returnSequences).returnState(returnState).goBackwards(goBackwards).stateful(stateful)
                    .zeroOutputForMask(zeroOutputForMask).maskedOutput(maskedOutput);
        }
    }

    /** The mask families of spec §3.3. */
    enum MaskKind {
        NONE, RIGHT_PADDED, LEFT_PADDED, HOLES, ALL_FALSE
    }

    /**
     * A size-independent mask recipe: per-sample raw lengths (reduced modulo {@code T + 1}, so a row can
     * have length 0) and a hole pattern for the largest batch and time, cut to the actual sizes.
     * Shrinking moves lengths towards 0 and holes towards "valid".
     */
    record MaskPattern(MaskKind kind, int[] rawLengths, boolean[] valid) {
        /** The mask for {@code batch × steps}, or {@code null} for {@link MaskKind#NONE}. */
        Mask toMask(int batch, int steps) {
            boolean[] v = new boolean[batch * steps];
            for (int n = 0; n < batch; n++) {
                int length = rawLengths[n] % (steps + 1);
                for (int t = 0; t < steps; t++) {
                    v[n * steps + t] = switch (kind) {
                        case NONE -> true;
                        case RIGHT_PADDED -> t < length;
                        case LEFT_PADDED -> t >= steps - length;
                        case HOLES -> valid[n * MAX_STEPS + t];
                        case ALL_FALSE -> false;
                    };
                }
            }
            return kind == MaskKind.NONE ? null : Mask.of(v, batch, steps);
        }
    }

    /** {@code "none"}, or the rows of the mask as 1/0 strings, e.g. {@code "[110, 000]"}. */
    static String describe(Mask mask) {
        if (mask == null) {
            return "no mask";
        }
        StringBuilder sb = new StringBuilder("mask [");
        for (int n = 0; n < mask.batch(); n++) {
            sb.append(n == 0 ? "" : " ");
            for (int t = 0; t < mask.steps(); t++) {
                sb.append(mask.valid(n, t) ? '1' : '0');
            }
        }
        return sb.append(']').toString();
    }

    static Arbitrary<Activation> activations() {
        return Arbitraries.of(Arrays.stream(Activation.values()).filter(Activation::isElementwise).toList());
    }

    /**
     * Half the cells have the activations oneDNN's fused primitives have (tanh and sigmoid gates; a
     * tanh, relu or sigmoid SimpleRNN), so the native path and its mask handling are drawn as often as
     * the composed path; the other half have any two elementwise activations.
     */
    static Arbitrary<CellSpec> cellSpecs() {
        Arbitrary<CellKind> kinds = Arbitraries.of(CellKind.class);
        Arbitrary<Boolean> bias = Arbitraries.of(true, false);
        Arbitrary<CellSpec> fused = Combinators.combine(kinds, Arbitraries.of(Activation.TANH, Activation.RELU,
                Activation.SIGMOID), bias).as((kind, simpleActivation, useBias) -> kind == CellKind.SIMPLE_RNN
                        ? new CellSpec(kind, simpleActivation, Activation.SIGMOID, useBias)
                        : new CellSpec(kind, Activation.TANH, Activation.SIGMOID, useBias));
        Arbitrary<CellSpec> any = Combinators.combine(kinds, activations(), activations(), bias).as(CellSpec::new);
        return Arbitraries.oneOf(fused, any);
    }

    static Arbitrary<Sizes> sizes() {
        return Combinators.combine(Arbitraries.integers().between(1, MAX_BATCH), Arbitraries.integers().between(1, MAX_STEPS),
                Arbitraries.integers().between(1, MAX_FEATURES), units()).as(Sizes::new);
    }

    static Arbitrary<Integer> units() {
        return Arbitraries.integers().between(1, MAX_UNITS);
    }

    static Arbitrary<Flags> flags() {
        Arbitrary<Boolean> bool = Arbitraries.of(false, true);
        return Combinators.combine(bool, bool, bool, bool, bool, bool, Arbitraries.of(MaskedOutput.class)).as(Flags::new);
    }

    static Arbitrary<MaskPattern> maskPatterns() {
        Arbitrary<int[]> lengths = Arbitraries.integers().between(0, MAX_STEPS).array(int[].class).ofSize(MAX_BATCH);
        Arbitrary<boolean[]> holes = Arbitraries.of(true, false).array(boolean[].class).ofSize(MAX_BATCH * MAX_STEPS);
        return Combinators.combine(Arbitraries.of(MaskKind.class), lengths, holes).as(MaskPattern::new);
    }

    /** A seed for the weights, inputs and initial states. */
    static Arbitrary<Long> dataSeeds() {
        return Arbitraries.longs();
    }

    static float[] uniform(SplittableRandom rng, float bound, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) rng.nextDouble(-bound, bound);
        }
        return v;
    }

    static Tensor random(SplittableRandom rng, int... shape) {
        int count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        return Tensor.of(uniform(rng, 1f, count), shape);
    }

    /** Random initial states of the given widths for {@code batch} samples. */
    static Tensor[] randomStates(SplittableRandom rng, int batch, int... widths) {
        Tensor[] states = new Tensor[widths.length];
        for (int i = 0; i < widths.length; i++) {
            states[i] = random(rng, batch, widths[i]);
        }
        return states;
    }

    static void closeAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            t.close();
        }
    }

    static void closeAll(List<Tensor> tensors) {
        tensors.forEach(Tensor::close);
    }

    /**
     * Whether every value is finite. Where an exponential activation overflows anyway, which values
     * become infinite or NaN depends on the order of float operations ({@code 0·∞} or {@code ∞}), so such
     * a try says nothing about the backends and is discarded.
     */
    static boolean allFinite(Outputs outputs) {
        for (Tensor t : outputs.all()) {
            for (float v : t.toArray()) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Every output of {@code actual} equals {@code expected}'s within the tolerance of {@link #assertClose}. */
    static void assertOutputsClose(Outputs expected, Outputs actual, boolean exponential, String where) {
        assertEquals(expected.size(), actual.size(), where + ": number of outputs");
        for (int i = 0; i < expected.size(); i++) {
            assertClose(expected.get(i), actual.get(i), exponential, where + ", output " + i);
        }
    }

    /**
     * Element-wise closeness with tolerance {@code RTOL · max(1, |expected|)}; equal values (infinities
     * included) pass. With {@code exponential} (an exponential activation somewhere) the tolerance is
     * multiplied by {@code max(1, ln|expected|)}: {@code v = exp(c)} carries {@code c}'s absolute error,
     * {@code |c|·ε = ln|v|·ε} relative, so large values legitimately differ by more than {@code RTOL}.
     */
    static void assertClose(Tensor expected, Tensor actual, boolean exponential, String where) {
        assertArrayEquals(expected.shape(), actual.shape(), where + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        for (int i = 0; i < e.length; i++) {
            float magnitude = Math.max(1f, Math.abs(e[i]));
            float tolerance = RTOL * magnitude * (exponential ? Math.max(1f, (float) Math.log(magnitude)) : 1f);
            if (Float.compare(e[i], a[i]) != 0 && !(Math.abs(e[i] - a[i]) <= tolerance)) {
                fail(where + ": element " + i + " of " + Arrays.toString(expected.shape()) + " expected " + e[i]
                        + " but was " + a[i] + " (|diff| " + Math.abs(e[i] - a[i]) + " > " + tolerance + ")");
            }
        }
    }
}
