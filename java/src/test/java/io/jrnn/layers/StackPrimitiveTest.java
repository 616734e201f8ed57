package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code RNN(StackedRNNCells)} of same-kind standard cells with input size = units on oneDNN's
 * multi-layer primitive ({@link Backend#compileStack}), against the same stack as successive oneDNN
 * layers and against the reference backend, for every fused cell, 2 and 3 layers,
 * return_sequences, return_state, initial states, stateful calls and both state orders; stacks the
 * primitive cannot express keep the successive-layer path. Sizes are distinct (N ≠ T ≠ H).
 */
class StackPrimitiveTest {
    private static final Backend CPU = DnnlBackend.instance();
    private static final Backend REFERENCE = ReferenceBackend.instance();
    private static final float ATOL = 2e-5f;
    private static final int N = 3;
    private static final int T = 7;
    private static final int H = 5;

    enum Kind {
        LSTM_TANH("lstm_forward", 2),
        GRU_RESET_BEFORE("gru_forward", 1),
        GRU_RESET_AFTER("lbr_gru_forward", 1),
        SIMPLE_TANH("vanilla_rnn_forward", 1),
        SIMPLE_RELU("vanilla_rnn_forward", 1);

        final String primitive;
        final int states;

        Kind(String primitive, int states) {
            this.primitive = primitive;
            this.states = states;
        }

        StandardCell cell(int units, int inputSize, long seed) {
            StandardCell c = switch (this) {
                case LSTM_TANH -> LSTMCell.builder().units(units).seed(seed).build();
                case GRU_RESET_BEFORE -> GRUCell.builder().resetAfter(false).units(units).seed(seed).build();
                case GRU_RESET_AFTER -> GRUCell.builder().resetAfter(true).units(units).seed(seed).build();
                case SIMPLE_TANH -> SimpleRNNCell.builder().units(units).seed(seed).build();
                case SIMPLE_RELU -> SimpleRNNCell.builder().units(units).activation(Activation.RELU).seed(seed).build();
            };
            c.initializeWeights(inputSize);
            int gates = c.cellType().gateCount() * units * (c.resetAfter() ? 2 : 1);
            c.setWeights(scaled(c.weights().kernel(), 1f), scaled(c.weights().recurrentKernel(), 1f),
                    scaled(RecurrentLayerTest.random(gates, seed + 100), 0.5f));
            return c;
        }
    }

    private static float[] scaled(float[] v, float s) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= s;
        }
        return out;
    }

    private static List<StandardCell> cells(Kind kind, int layers) {
        List<StandardCell> cells = new ArrayList<>();
        for (int k = 0; k < layers; k++) {
            cells.add(kind.cell(H, H, 40 + k));
        }
        return cells;
    }

    private static Tensor random(long seed, int... shape) {
        return Tensor.of(RecurrentLayerTest.random(Arrays.stream(shape).reduce(1, (a, b) -> a * b), seed), shape);
    }

    private static Tensor[] states(int count, long seed) {
        Tensor[] s = new Tensor[count];
        for (int i = 0; i < count; i++) {
            s[i] = random(seed + i, N, H);
        }
        return s;
    }

    private static void closeAll(Tensor[] ts) {
        for (Tensor t : ts) {
            t.close();
        }
    }

    private static float[][] arrays(Outputs o) {
        float[][] a = new float[o.size()][];
        for (int i = 0; i < a.length; i++) {
            a[i] = o.get(i).toArray();
        }
        return a;
    }

    /** The stack as successive oneDNN layers by hand: [output, h1, (c1,) h2, …] (states in natural order). */
    private static float[][] successiveLayers(Kind kind, int layers, boolean sequences, Tensor x, Tensor[] init) {
        List<StandardCell> cells = cells(kind, layers);
        List<float[]> out = new ArrayList<>();
        Tensor current = x.copy();
        try {
            for (int k = 0; k < layers; k++) {
                try (RecurrentLayer layer = cells.get(k).toLayer("l" + k, false, k < layers - 1 || sequences)) {
                    layer.useBackend(CPU);
                    Tensor[] own = init == null ? new Tensor[0] : Arrays.copyOfRange(init, k * kind.states, (k + 1) * kind.states);
                    Outputs o = layer.forward(current, own);
                    assertFalse(layer.executionPath().contains("layers in one primitive"), layer.executionPath());
                    for (Tensor s : o.states()) {
                        out.add(s.toArray());
                        s.close();
                    }
                    current.close();
                    current = o.output();
                }
            }
            out.add(0, current.toArray());
            return out.toArray(new float[0][]);
        } finally {
            current.close();
            cells.forEach(StandardCell::close);
        }
    }

    static Stream<Arguments> everyCase() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int layers : new int[] {2, 3}) {
                for (boolean sequences : new boolean[] {false, true}) {
                    for (boolean state : new boolean[] {false, true}) {
                        for (boolean initial : new boolean[] {false, true}) {
                            cases.add(Arguments.of(kind, layers, sequences, state, initial));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} L={1} seq={2} state={3} init={4}")
    @MethodSource("everyCase")
    void multiLayerPrimitiveEqualsSuccessiveLayersAndReference(Kind kind, int layers, boolean sequences, boolean state,
            boolean initial) {
        int stateCount = layers * kind.states;
        Tensor[] init = initial ? states(stateCount, 60) : new Tensor[0];
        try (Tensor x = random(50, N, T, H);
             RNN cpu = RNN.builder(cells(kind, layers)).returnSequences(sequences).returnState(state).build();
             RNN ref = RNN.builder(cells(kind, layers)).returnSequences(sequences).returnState(state).build()) {
            cpu.useBackend(CPU);
            ref.useBackend(REFERENCE);
            float[][] hand = successiveLayers(kind, layers, sequences, x, initial ? init : null);
            try (Outputs a = cpu.forward(x, init); Outputs b = ref.forward(x, init)) {
                assertEquals(state ? 1 + stateCount : 1, a.size());
                assertEquals(a.size(), b.size());
                assertArrayEquals(sequences ? new int[] {N, T, H} : new int[] {N, H}, a.output().shape());
                for (int i = 0; i < a.size(); i++) {
                    assertArrayEquals(hand[i], a.get(i).toArray(), ATOL, "vs successive layers, output " + i);
                    assertArrayEquals(b.get(i).toArray(), a.get(i).toArray(), ATOL, "vs reference, output " + i);
                }
            }
            String path = cpu.executionPath();
            assertTrue(path.startsWith("fused oneDNN " + kind.primitive + ", " + layers + " layers in one primitive"), path);
            assertTrue(ref.executionPath().contains("→"), ref.executionPath());
        } finally {
            closeAll(init);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void statefulCallsCarryTheStatesThroughThePrimitive(Kind kind) {
        try (Tensor x1 = random(70, N, T, H); Tensor x2 = random(71, N, T + 2, H);
             RNN cpu = RNN.builder(cells(kind, 3)).stateful(true).returnState(true).build();
             RNN ref = RNN.builder(cells(kind, 3)).stateful(true).returnState(true).build()) {
            cpu.useBackend(CPU);
            ref.useBackend(REFERENCE);
            for (Tensor x : List.of(x1, x2, x1)) {
                try (Outputs a = cpu.forward(x); Outputs b = ref.forward(x)) {
                    for (int i = 0; i < a.size(); i++) {
                        assertArrayEquals(b.get(i).toArray(), a.get(i).toArray(), ATOL, "output " + i);
                    }
                }
            }
            Tensor[] kept = cpu.storedStates();
            Tensor[] keptRef = ref.storedStates();
            for (int i = 0; i < kept.length; i++) {
                assertArrayEquals(keptRef[i].toArray(), kept[i].toArray(), ATOL, "stored state " + i);
            }
            closeAll(kept);
            closeAll(keptRef);
            assertTrue(cpu.executionPath().contains("3 layers in one primitive"), cpu.executionPath());
            cpu.resetStates();
            ref.resetStates();
            try (Outputs a = cpu.forward(x2); Outputs b = ref.forward(x2)) {
                assertArrayEquals(b.output().toArray(), a.output().toArray(), ATOL, "after resetStates");
            }
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(Kind.values());
    }

    @Test
    void reversedStateOrderMapsToTheLayerMajorStates() {
        Kind kind = Kind.LSTM_TANH;
        Tensor[] natural = states(6, 80);
        // Keras 2.1–2.2.2 order: the last cell's states first, each cell's own order kept.
        Tensor[] reversed = {natural[4], natural[5], natural[2], natural[3], natural[0], natural[1]};
        try (Tensor x = random(81, N, T, H);
             RNN cpu = RNN.builder(StackedRNNCells.builder().cells(cells(kind, 3)).reverseStateOrder(true).build())
                     .returnSequences(true).returnState(true).build()) {
            cpu.useBackend(CPU);
            float[][] hand = successiveLayers(kind, 3, true, x, natural);
            try (Outputs a = cpu.forward(x, reversed)) {
                assertArrayEquals(hand[0], a.output().toArray(), ATOL, "sequence");
                int[] naturalIndex = {4, 5, 2, 3, 0, 1};
                for (int i = 0; i < 6; i++) {
                    assertArrayEquals(hand[1 + naturalIndex[i]], a.get(1 + i).toArray(), ATOL, "state " + i);
                }
            }
            assertTrue(cpu.executionPath().contains("3 layers in one primitive"), cpu.executionPath());
        } finally {
            closeAll(natural);
        }
    }

    /** Stacks the multi-layer primitive cannot run, with the expected successive path. */
    static Stream<Arguments> notQualifying() {
        return Stream.of(
                Arguments.of("input size differs from units", (CaseBuilder) () -> List.of(
                        Kind.LSTM_TANH.cell(H, H + 2, 1), Kind.LSTM_TANH.cell(H, H, 2)), H + 2, false),
                Arguments.of("mixed cells", (CaseBuilder) () -> List.of(
                        Kind.LSTM_TANH.cell(H, H, 1), Kind.GRU_RESET_AFTER.cell(H, H, 2)), H, false),
                Arguments.of("mixed GRU variants", (CaseBuilder) () -> List.of(
                        Kind.GRU_RESET_BEFORE.cell(H, H, 1), Kind.GRU_RESET_AFTER.cell(H, H, 2)), H, false),
                Arguments.of("mixed activations", (CaseBuilder) () -> List.of(
                        Kind.SIMPLE_TANH.cell(H, H, 1), Kind.SIMPLE_RELU.cell(H, H, 2)), H, false),
                Arguments.of("mixed units", (CaseBuilder) () -> List.of(
                        Kind.GRU_RESET_AFTER.cell(H, H, 1), Kind.GRU_RESET_AFTER.cell(H + 1, H, 2)), H, false),
                Arguments.of("go_backwards", (CaseBuilder) () -> List.of(
                        Kind.LSTM_TANH.cell(H, H, 1), Kind.LSTM_TANH.cell(H, H, 2)), H, true),
                Arguments.of("one cell", (CaseBuilder) () -> List.of(Kind.LSTM_TANH.cell(H, H, 1)), H, false));
    }

    interface CaseBuilder {
        List<StandardCell> cells();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notQualifying")
    void stacksThePrimitiveCannotRunKeepTheSuccessivePath(String why, CaseBuilder cells, int features,
            boolean backwards) {
        try (Tensor x = random(90, N, T, features);
             RNN cpu = RNN.builder(cells.cells()).goBackwards(backwards).returnSequences(true).returnState(true).build();
             RNN ref = RNN.builder(cells.cells()).goBackwards(backwards).returnSequences(true).returnState(true).build()) {
            cpu.useBackend(CPU);
            ref.useBackend(REFERENCE);
            try (Outputs a = cpu.forward(x); Outputs b = ref.forward(x)) {
                for (int i = 0; i < a.size(); i++) {
                    assertArrayEquals(b.get(i).toArray(), a.get(i).toArray(), ATOL, why + ", output " + i);
                }
            }
            String path = cpu.executionPath();
            assertTrue(path.startsWith("fused oneDNN "), path);
            assertFalse(path.contains("layers in one primitive"), path);
            assertEquals(cells.cells().size() - 1, path.split("→", -1).length - 1, path);
        }
    }

    @Test
    void maskedCallsRunTheStepLoopAndAllValidMasksThePrimitive() {
        try (Tensor x = random(91, N, T, H);
             RNN cpu = RNN.builder(cells(Kind.GRU_RESET_AFTER, 2)).returnSequences(true).build();
             RNN ref = RNN.builder(cells(Kind.GRU_RESET_AFTER, 2)).returnSequences(true).build()) {
            cpu.useBackend(CPU);
            ref.useBackend(REFERENCE);
            Mask padded = Mask.fromLengths(new int[] {T, 3, 5}, T);
            try (Outputs a = cpu.forward(x, padded); Outputs b = ref.forward(x, padded)) {
                assertArrayEquals(b.output().toArray(), a.output().toArray(), ATOL, "masked");
            }
            assertTrue(cpu.executionPath().startsWith("java step loop"), cpu.executionPath());
            Mask allValid = Mask.fromLengths(new int[] {T, T, T}, T);
            try (Outputs a = cpu.forward(x, allValid); Outputs b = ref.forward(x)) {
                assertArrayEquals(b.output().toArray(), a.output().toArray(), ATOL, "all-valid mask");
            }
            assertTrue(cpu.executionPath().contains("2 layers in one primitive"), cpu.executionPath());
        }
    }

    private static List<RecurrentSpec> specs(List<StandardCell> cells) {
        List<RecurrentSpec> specs = new ArrayList<>();
        for (int k = 0; k < cells.size(); k++) {
            try (RecurrentLayer l = cells.get(k).toLayer("l" + k, false, true)) {
                specs.add(l.spec());
            }
        }
        return specs;
    }

    @Test
    void stackExecutorContract() {
        List<StandardCell> cells = cells(Kind.LSTM_TANH, 2);
        try {
            List<RecurrentSpec> specs = specs(cells);
            assertNull(REFERENCE.compileStack(specs), "the reference backend runs stacks as successive layers");
            assertNull(CPU.compileStack(specs.subList(0, 1)));
            RecurrentExecutor executor = CPU.compileStack(specs);
            assertNotNull(executor);
            assertTrue(executor.executionPath().startsWith("oneDNN lstm_forward, 2 layers in one primitive ("),
                    executor.executionPath());
            Tensor[] wrong = {Tensor.zeros(N, H), Tensor.zeros(N, H)};
            try (Tensor x = random(92, N, T, H)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> executor.run(x, wrong));
                assertTrue(e.getMessage().contains("4 state(s)"), e.getMessage());
                Mask mask = Mask.fromLengths(new int[] {T, 2, T}, T);
                assertThrows(UnsupportedConfigurationException.class, () -> executor.run(x, null, mask));
                Tensor[] out = executor.run(x, null);
                assertEquals(5, out.length);
                closeAll(out);
                executor.close();
                executor.close();
                assertThrows(IllegalStateException.class, () -> executor.run(x, null));
            } finally {
                executor.close();
                closeAll(wrong);
            }
        } finally {
            cells.forEach(StandardCell::close);
        }
    }

    /** JavaCPP's outstanding bytes once unreachable pointers have been collected. */
    private static long settledBytes() {
        System.gc();
        Pointer.deallocateReferences();
        return Pointer.totalBytes();
    }

    private static void cycle(int i) {
        Kind kind = Kind.values()[i % Kind.values().length];
        try (RNN rnn = RNN.builder(cells(kind, 2 + i % 2)).returnSequences(i % 3 == 0).returnState(true).build();
             Tensor x = Tensor.zeros(1 + i % 4, 3 + i % 3, H)) {
            rnn.useBackend(CPU);
            rnn.forward(x).close();
            rnn.forward(x).close();
        }
    }

    @Test
    void createRunCloseCyclesKeepNativeMemoryFlat() {
        for (int i = 0; i < 30; i++) {
            cycle(i);
        }
        long before = settledBytes();
        for (int i = 0; i < 300; i++) {
            cycle(i);
        }
        long after = settledBytes();
        // Pointers other tests left to the garbage collector may be freed meanwhile: no growth is the test.
        assertTrue(after <= before, "JavaCPP bytes outstanding after 300 create/run/close cycles: " + before + " → " + after);
    }
}
