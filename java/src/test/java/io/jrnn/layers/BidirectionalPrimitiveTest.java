package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Bidirectional.MergeMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bidirectional on oneDNN's bidirectional primitives (one {@code bidirectional_concat} /
 * {@code bidirectional_sum} primitive for both directions) against the two-executor path (two plain
 * oneDNN layers, the backward one's sequence flipped back, merged by hand) and against the reference
 * backend, for every cell the primitives express, both merges, return_sequences, return_state,
 * initial states and stateful calls. Sizes are distinct (N ≠ T ≠ C ≠ H).
 */
class BidirectionalPrimitiveTest {
    private static final Backend CPU = DnnlBackend.instance();
    private static final Backend REFERENCE = ReferenceBackend.instance();
    private static final float ATOL = 1e-5f;
    private static final int N = 3;
    private static final int T = 7;
    private static final int C = 4;
    private static final int H = 5;

    /** The cells oneDNN's fused primitives express, with the primitive's name. */
    enum Cell {
        LSTM_TANH("lstm_forward"),
        GRU_RESET_BEFORE("gru_forward"),
        GRU_RESET_AFTER("lbr_gru_forward"),
        SIMPLE_TANH("vanilla_rnn_forward"),
        SIMPLE_RELU("vanilla_rnn_forward"),
        SIMPLE_SIGMOID("vanilla_rnn_forward");

        final String primitive;

        Cell(String primitive) {
            this.primitive = primitive;
        }

        RecurrentLayer.Builder<?, ?> builder() {
            return switch (this) {
                case LSTM_TANH -> LSTM.builder();
                case GRU_RESET_BEFORE -> GRU.builder().resetAfter(false);
                case GRU_RESET_AFTER -> GRU.builder().resetAfter(true);
                case SIMPLE_TANH -> SimpleRNN.builder();
                case SIMPLE_RELU -> SimpleRNN.builder().activation(Activation.RELU);
                case SIMPLE_SIGMOID -> SimpleRNN.builder().activation(Activation.SIGMOID);
            };
        }

        int states() {
            return this == LSTM_TANH ? 2 : 1;
        }
    }

    static Stream<Arguments> everyCase() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (MergeMode mode : List.of(MergeMode.CONCAT, MergeMode.SUM)) {
                for (boolean sequences : new boolean[] {false, true}) {
                    for (boolean state : new boolean[] {false, true}) {
                        for (boolean initial : new boolean[] {false, true}) {
                            cases.add(Arguments.of(cell, mode, sequences, state, initial));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    private static Tensor random(long seed, int... shape) {
        return Tensor.of(RecurrentLayerTest.random(Arrays.stream(shape).reduce(1, (a, b) -> a * b), seed), shape);
    }

    private static Tensor[] initialStates(Cell cell, int batch, long seed) {
        Tensor[] s = new Tensor[2 * cell.states()];
        for (int i = 0; i < s.length; i++) {
            s[i] = random(seed + i, batch, H);
        }
        return s;
    }

    private static void closeAll(Tensor[] ts) {
        if (ts != null) {
            for (Tensor t : ts) {
                t.close();
            }
        }
    }

    /** A plain layer with the config and weights of {@code source}, returning its states. */
    private static RecurrentLayer plainCopy(RecurrentLayer source, Backend backend) {
        RecurrentLayer.Builder<?, ?> b = source instanceof GRU ? GRU.builder().resetAfter(source.resetAfter())
                : source instanceof SimpleRNN ? SimpleRNN.builder() : LSTM.builder();
        RecurrentLayer l = b.units(source.units()).activation(source.activation())
                .recurrentActivation(source.recurrentActivation()).returnSequences(source.returnSequences())
                .returnState(true).goBackwards(source.goBackwards()).build();
        l.setWeights(source.weights());
        l.useBackend(backend);
        return l;
    }

    private static float[] flip(float[] y, int n, int t, int h) {
        float[] out = new float[y.length];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < t; s++) {
                System.arraycopy(y, (i * t + t - 1 - s) * h, out, (i * t + s) * h, h);
            }
        }
        return out;
    }

    private static float[] merge(MergeMode mode, float[] f, float[] b, int h) {
        int rows = f.length / h;
        float[] out = new float[mode == MergeMode.CONCAT ? 2 * f.length : f.length];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < h; j++) {
                if (mode == MergeMode.CONCAT) {
                    out[r * 2 * h + j] = f[r * h + j];
                    out[r * 2 * h + h + j] = b[r * h + j];
                } else {
                    out[r * h + j] = f[r * h + j] + b[r * h + j];
                }
            }
        }
        return out;
    }

    /** The two-executor result: plain forward and go_backwards layers on {@code backend}, merged by hand. */
    private static List<float[]> twoLayers(Bidirectional bi, Tensor x, Tensor[] initial, Backend backend) {
        int states = bi.forwardLayer().stateCount();
        Tensor[] fi = initial == null ? new Tensor[0] : Arrays.copyOfRange(initial, 0, states);
        Tensor[] bi0 = initial == null ? new Tensor[0] : Arrays.copyOfRange(initial, states, 2 * states);
        try (RecurrentLayer f = plainCopy(bi.forwardLayer(), backend);
             RecurrentLayer b = plainCopy(bi.backwardLayer(), backend);
             Outputs yf = f.forward(x, fi);
             Outputs yb = b.forward(x, bi0)) {
            int n = x.dim(0);
            int t = x.dim(1);
            float[] bwd = bi.returnSequences() ? flip(yb.output().toArray(), n, t, H) : yb.output().toArray();
            List<float[]> out = new ArrayList<>();
            out.add(merge(bi.mergeMode(), yf.output().toArray(), bwd, H));
            if (bi.returnState()) {
                yf.states().forEach(s -> out.add(s.toArray()));
                yb.states().forEach(s -> out.add(s.toArray()));
            }
            return out;
        }
    }

    private static List<float[]> arrays(Outputs o) {
        List<float[]> out = new ArrayList<>();
        o.all().forEach(t -> out.add(t.toArray()));
        return out;
    }

    private static void assertAllClose(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of outputs");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), ATOL, what + ": output " + i);
        }
    }

    private static void assertPrimitive(Bidirectional bi, Cell cell, MergeMode mode) {
        String path = bi.executionPath();
        assertTrue(path.startsWith("oneDNN " + cell.primitive + " bidirectional_" + mode.kerasName() + " ("), path);
        // A batch of 8+ rows may run split over threads (BatchSplit): the path then goes on ", batch split: …".
        assertTrue(path.endsWith("both directions in one primitive")
                || path.contains("both directions in one primitive, batch split: "), path);
    }

    @ParameterizedTest(name = "{0} {1} seq={2} state={3} initial={4}")
    @MethodSource("everyCase")
    void primitiveMatchesTwoExecutorsAndReference(Cell cell, MergeMode mode, boolean sequences, boolean state,
            boolean initial) {
        String what = cell + " " + mode + " seq=" + sequences + " state=" + state + " initial=" + initial;
        RecurrentLayer layer = cell.builder().units(H).returnSequences(sequences).returnState(state)
                .seed(cell.ordinal() * 31L + 7).build();
        try (Bidirectional bi = Bidirectional.of(layer, mode); Tensor x = random(11, N, T, C)) {
            Tensor[] init = initial ? initialStates(cell, N, 21) : null;
            try {
                bi.useBackend(CPU);
                List<float[]> fused;
                try (Outputs out = bi.forward(x, init == null ? new Tensor[0] : init)) {
                    fused = arrays(out);
                    int width = mode == MergeMode.CONCAT ? 2 * H : H;
                    assertArrayEquals(sequences ? new int[] {N, T, width} : new int[] {N, width}, out.output().shape(),
                            what);
                    assertEquals(1 + (state ? 2 * cell.states() : 0), out.size(), what);
                }
                assertPrimitive(bi, cell, mode);
                assertAllClose(twoLayers(bi, x, init, CPU), fused, what + " vs two oneDNN executors");
                bi.useBackend(REFERENCE);
                try (Outputs ref = bi.forward(x, init == null ? new Tensor[0] : init)) {
                    assertAllClose(arrays(ref), fused, what + " vs reference");
                }
                assertTrue(bi.executionPath().startsWith("forward: "), bi.executionPath());
            } finally {
                closeAll(init);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cells")
    void statefulCarriesOneStatePerDirectionOnThePrimitive(Cell cell) {
        RecurrentLayer layer = cell.builder().units(H).returnSequences(true).returnState(true).stateful(true)
                .batchSize(N).seed(40 + cell.ordinal()).build();
        List<List<float[]>> perBackend = new ArrayList<>();
        // One wrapper (one set of weights), run on each backend in turn from fresh states.
        try (Bidirectional bi = Bidirectional.of(layer, MergeMode.SUM);
             Tensor x1 = random(1, N, T, C);
             Tensor x2 = random(2, N, T, C)) {
            for (Backend backend : List.of(CPU, REFERENCE)) {
                bi.useBackend(backend);
                bi.resetStates();
                List<float[]> results = new ArrayList<>();
                for (Tensor x : List.of(x1, x2, x1)) {
                    try (Outputs out = bi.forward(x)) {
                        results.addAll(arrays(out));
                    }
                    if (x == x2) {
                        bi.resetStates();
                    }
                }
                if (backend == CPU) {
                    assertPrimitive(bi, cell, MergeMode.SUM);
                }
                Tensor[] stored = bi.backwardLayer().storedStates();
                try {
                    // The stored backward state is what the last call returned for the backward direction.
                    assertArrayEquals(results.get(results.size() - cell.states()), stored[0].toArray());
                } finally {
                    closeAll(stored);
                }
                perBackend.add(results);
            }
        }
        assertAllClose(perBackend.get(1), perBackend.get(0), cell + " stateful, oneDNN vs reference");
        List<float[]> cpu = perBackend.get(0);
        int perCall = 1 + 2 * cell.states();
        // Call 3 after reset_states equals call 1; call 2 continued from call 1's states.
        assertAllClose(cpu.subList(0, perCall), cpu.subList(2 * perCall, 3 * perCall), cell + " after reset_states");
    }

    static Stream<Cell> cells() {
        return Stream.of(Cell.values());
    }

    @Test
    void statefulSecondCallStartsFromTheFirstCallsStates() {
        // Stateful on the primitive == non-stateful with call 1's final states passed explicitly.
        try (Bidirectional stateful = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).returnState(true)
                        .stateful(true).seed(3).build(), MergeMode.CONCAT);
             Bidirectional plain = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).returnState(true)
                     .seed(3).build(), MergeMode.CONCAT);
             Tensor x1 = random(5, N, T, C);
             Tensor x2 = random(6, N, T, C)) {
            stateful.useBackend(CPU);
            plain.useBackend(CPU);
            Tensor[] finalStates;
            try (Outputs first = stateful.forward(x1)) {
                finalStates = first.states().stream().map(Tensor::copy).toArray(Tensor[]::new);
            }
            plain.forward(x1).close();
            plain.forwardLayer().setWeights(stateful.forwardLayer().weights());
            plain.backwardLayer().setWeights(stateful.backwardLayer().weights());
            try (Outputs second = stateful.forward(x2); Outputs expected = plain.forward(x2, finalStates)) {
                assertAllClose(arrays(expected), arrays(second), "stateful call 2");
                assertPrimitive(plain, Cell.LSTM_TANH, MergeMode.CONCAT);
            } finally {
                closeAll(finalStates);
            }
        }
    }

    @Test
    void timeMajorInputRunsOnThePrimitive() {
        try (Bidirectional tm = Bidirectional.of(GRU.builder().units(H).returnSequences(true).returnState(true)
                        .timeMajor(true).seed(8).build(), MergeMode.CONCAT);
             Tensor x = random(9, N, T, C);
             Tensor xt = swap(x)) {
            tm.useBackend(CPU);
            try (Outputs got = tm.forward(xt)) {
                assertPrimitive(tm, Cell.GRU_RESET_AFTER, MergeMode.CONCAT);
                assertArrayEquals(new int[] {T, N, 2 * H}, got.output().shape());
                tm.useBackend(REFERENCE);
                try (Outputs ref = tm.forward(xt)) {
                    assertAllClose(arrays(ref), arrays(got), "time-major");
                }
            }
        }
    }

    private static Tensor swap(Tensor x) {
        int a = x.dim(0);
        int b = x.dim(1);
        int c = x.dim(2);
        float[] v = x.toArray();
        float[] out = new float[v.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(v, (i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return Tensor.of(out, b, a, c);
    }

    @Test
    void batchesOfEveryWeightFormatAndSeveralShapesShareOneWrapper() {
        // lbr_gru and vanilla RNN switch to plain ldigo weights from batch 32 (WeightFormat).
        for (Cell cell : List.of(Cell.GRU_RESET_AFTER, Cell.SIMPLE_RELU, Cell.LSTM_TANH)) {
            try (Bidirectional bi = Bidirectional.of(cell.builder().units(H).returnSequences(true).returnState(true)
                    .seed(50).build(), MergeMode.CONCAT)) {
                for (int batch : new int[] {33, 2, 33, 1}) {
                    try (Tensor x = random(batch, batch, T - batch % 3, C)) {
                        bi.useBackend(CPU);
                        List<float[]> fused;
                        try (Outputs out = bi.forward(x)) {
                            fused = arrays(out);
                        }
                        assertPrimitive(bi, cell, MergeMode.CONCAT);
                        assertAllClose(twoLayers(bi, x, null, CPU), fused, cell + " batch " + batch);
                    }
                }
            }
        }
    }

    @Test
    void allValidMaskRunsOnThePrimitiveOtherMasksOnTwoLayers() {
        try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(60).build(),
                MergeMode.SUM); Tensor x = random(61, N, T, C)) {
            bi.useBackend(CPU);
            boolean[] valid = new boolean[N * T];
            Arrays.fill(valid, true);
            float[] unmasked;
            try (Outputs out = bi.forward(x, Mask.of(valid, N, T))) {
                unmasked = out.output().toArray();
            }
            assertPrimitive(bi, Cell.LSTM_TANH, MergeMode.SUM);
            valid[1] = false; // a hole: not expressible by the primitive
            Mask holes = Mask.of(valid, N, T);
            float[] masked;
            try (Outputs out = bi.forward(x, holes)) {
                masked = out.output().toArray();
            }
            assertTrue(bi.executionPath().startsWith("forward: "), bi.executionPath());
            assertNotEquals(Arrays.toString(unmasked), Arrays.toString(masked));
            bi.useBackend(REFERENCE);
            try (Outputs ref = bi.forward(x, holes)) {
                assertArrayEquals(ref.output().toArray(), masked, ATOL);
            }
            try (Outputs ref = bi.forward(x)) {
                assertArrayEquals(ref.output().toArray(), unmasked, ATOL);
            }
        }
    }

    @Test
    void newWeightsRecompileThePrimitive() {
        try (Bidirectional bi = Bidirectional.of(SimpleRNN.builder().units(H).seed(70).build(), MergeMode.CONCAT);
             Tensor x = random(71, N, T, C);
             Tensor k = random(72, C, H);
             Tensor r = random(73, H, H);
             Tensor b = random(74, H)) {
            bi.useBackend(CPU);
            List<float[]> outputs = new ArrayList<>();
            try (Tensor y = bi.apply(x)) {
                outputs.add(y.toArray());
            }
            // Through one inner layer directly, then through the wrapper: both are seen.
            bi.backwardLayer().setWeights(k, r, b);
            try (Tensor y = bi.apply(x)) {
                outputs.add(y.toArray());
            }
            bi.setWeights(k, r, b, k, r, b);
            try (Tensor y = bi.apply(x)) {
                outputs.add(y.toArray());
            }
            assertPrimitive(bi, Cell.SIMPLE_TANH, MergeMode.CONCAT);
            assertNotEquals(Arrays.toString(outputs.get(0)), Arrays.toString(outputs.get(1)));
            assertNotEquals(Arrays.toString(outputs.get(1)), Arrays.toString(outputs.get(2)));
            bi.useBackend(REFERENCE);
            try (Tensor y = bi.apply(x)) {
                assertArrayEquals(y.toArray(), outputs.get(2), ATOL);
            }
        }
    }

    @Test
    void configurationsThePrimitiveCannotExpressRunAsTwoLayers() {
        List<Bidirectional> cases = List.of(
                Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(80).build(), MergeMode.AVE),
                Bidirectional.of(LSTM.builder().units(H).returnSequences(true).seed(81).build(), MergeMode.MUL),
                Bidirectional.of(GRU.builder().units(H).returnSequences(true).seed(82).build(), MergeMode.NONE),
                Bidirectional.of(LSTM.builder().units(H).recurrentActivation(Activation.HARD_SIGMOID_KERAS2)
                        .returnSequences(true).seed(83).build(), MergeMode.CONCAT),
                // A forward layer that goes backwards: its Keras 1/2 copy goes forwards.
                Bidirectional.of(GRU.builder().units(H).goBackwards(true).returnSequences(true).seed(84).build(),
                        MergeMode.CONCAT),
                // Directions of different widths (explicit backward layer).
                Bidirectional.builder().layer(LSTM.builder().units(H).returnSequences(true).seed(85).build())
                        .backwardLayer(LSTM.builder().units(H + 2).goBackwards(true).returnSequences(true).seed(86)
                                .build()).mergeMode(MergeMode.CONCAT).build(),
                // Different cells.
                Bidirectional.builder().layer(SimpleRNN.builder().units(H).returnSequences(true).seed(87).build())
                        .backwardLayer(SimpleRNN.builder().units(H).activation(Activation.RELU).goBackwards(true)
                                .returnSequences(true).seed(88).build()).mergeMode(MergeMode.SUM).build());
        try (Tensor x = random(89, N, T, C)) {
            for (Bidirectional bi : cases) {
                try (bi) {
                    bi.useBackend(CPU);
                    List<float[]> cpu;
                    try (Outputs out = bi.forward(x)) {
                        cpu = arrays(out);
                    }
                    String path = bi.executionPath();
                    assertTrue(path.startsWith("forward: ") && path.contains("; backward: "), path);
                    bi.useBackend(REFERENCE);
                    try (Outputs ref = bi.forward(x)) {
                        assertAllClose(arrays(ref), cpu, bi.forwardLayer().describe() + " " + bi.mergeMode());
                    }
                }
            }
        }
    }

    @Test
    void executionPathBeforeTheFirstCallNamesThePrimitiveOnceWeightsAreSet() {
        try (Bidirectional bi = Bidirectional.of(LSTM.builder().units(H).seed(90).build(), MergeMode.CONCAT)) {
            bi.useBackend(CPU);
            assertTrue(bi.executionPath().startsWith("forward: not compiled yet"), bi.executionPath());
            bi.forwardLayer().initializeWeights(C);
            bi.backwardLayer().initializeWeights(C);
            assertPrimitive(bi, Cell.LSTM_TANH, MergeMode.CONCAT);
        }
    }
}
