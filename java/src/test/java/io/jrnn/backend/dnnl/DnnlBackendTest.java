package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;

import io.jrnn.Device;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.Backends;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
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
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** oneDNN-specific behaviour: the composed path for what fused primitives cannot express, the per-shape cache, execution paths, ownership. */
class DnnlBackendTest {
    private static final int C = 4;
    private static final int H = 5;

    /** A backend that hands out oneDNN executors and keeps them, so tests can look inside. */
    private static final class RecordingBackend implements Backend {
        final List<RecurrentExecutor> compiled = new ArrayList<>();

        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public Device device() {
            return Device.cpu();
        }

        /**
         * The tests below count one primitive per shape and read the paths of whole batches: their
         * executors never split a batch (BatchSplitTest covers the split's plans and paths).
         */
        @Override
        public RecurrentExecutor compile(RecurrentSpec spec) {
            RecurrentExecutor e = DnnlBackend.instance().compile(spec);
            if (e instanceof DnnlRecurrentExecutor fused) {
                fused.batchSplitForTests(null);
            }
            compiled.add(e);
            return e;
        }

        @Override
        public String describe() {
            return "recording " + DnnlBackend.instance().describe();
        }

        DnnlRecurrentExecutor last() {
            return (DnnlRecurrentExecutor) compiled.get(compiled.size() - 1);
        }
    }

    private static <L extends RecurrentLayer> L withWeights(L layer, int gates, boolean twoBiasRows, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int gh = gates * layer.units();
        layer.setWeights(uniform(rng, 0.5f, C * gh), uniform(rng, 0.4f, layer.units() * gh),
                layer.useBias() ? uniform(rng, 0.5f, gh * (twoBiasRows ? 2 : 1)) : null);
        return layer;
    }

    private static void runShape(RecurrentLayer layer, int batch, int steps) {
        try (Tensor x = random(new SplittableRandom(batch * 100L + steps), 1f, batch, steps, C)) {
            layer.forward(x).close();
        }
    }

    static Stream<Arguments> unsupportedConfigurations() {
        return Stream.of(
                Arguments.of("LSTM hard_sigmoid (Keras 2)", (Supplier<RecurrentLayer>) () -> withWeights(LSTM.builder()
                        .units(H).recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnSequences(true)
                        .goBackwards(true).returnState(true).build(), 4, false, 1),
                        "recurrent_activation=hard_sigmoid (Keras 2) is not expressible by lstm_forward (fixed sigmoid gates)"),
                Arguments.of("LSTM relu", (Supplier<RecurrentLayer>) () -> withWeights(LSTM.builder().units(H)
                        .activation(Activation.RELU).returnState(true).build(), 4, false, 2),
                        "activation=relu is not expressible by lstm_forward (a fixed tanh cell activation)"),
                Arguments.of("GRU hard_sigmoid (Keras 3)", (Supplier<RecurrentLayer>) () -> withWeights(GRU.builder()
                        .units(H).resetAfter(false).recurrentActivation(Activation.HARD_SIGMOID_KERAS3)
                        .returnSequences(true).build(), 3, false, 3),
                        "recurrent_activation=hard_sigmoid (Keras 3) is not expressible by gru_forward (fixed sigmoid gates)"),
                Arguments.of("SimpleRNN linear", (Supplier<RecurrentLayer>) () -> withWeights(SimpleRNN.builder()
                        .units(H).activation(Activation.LINEAR).returnSequences(true).goBackwards(true).build(), 1,
                        false, 4),
                        "activation=linear is not expressible by vanilla_rnn_forward (tanh, relu and sigmoid only)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedConfigurations")
    void unsupportedConfigurationsRunOnTheComposedPath(String name, Supplier<RecurrentLayer> make, String reason) {
        try (RecurrentLayer expectedLayer = make.get(); RecurrentLayer actualLayer = make.get();
                Tensor x = random(new SplittableRandom(9), 1f, 3, 6, C)) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(DnnlBackend.instance());
            try (Outputs expected = expectedLayer.forward(x); Outputs actual = actualLayer.forward(x)) {
                assertEquals(expected.size(), actual.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertClose(expected.get(i), actual.get(i), name + " output " + i);
                }
            }
            // With one OpenMP thread (OMP_NUM_THREADS=1) small batches of LSTM/GRU also name the Java step.
            assertEquals("oneDNN composed (matmul input projection + fused gates; " + reason + ")",
                    actualLayer.executionPath().replaceFirst("; recurrent product and gates in Java, "
                            + "\\d+ thread\\(s\\)", ""));
        }
    }

    static Stream<Arguments> outputVariants() {
        List<Arguments> out = new ArrayList<>();
        for (String cell : List.of("LSTM", "GRU reset_after", "GRU reset_before", "SimpleRNN")) {
            for (boolean sequences : new boolean[] {true, false}) {
                for (boolean backwards : new boolean[] {false, true}) {
                    out.add(Arguments.of(cell, sequences, backwards));
                }
            }
        }
        return out.stream();
    }

    /**
     * Outputs are allocated uninitialised ({@link Tensor#uninitialized}): oneDNN must write every
     * element. Memory of the output sizes is poisoned with NaN and freed just before each call, so a
     * reused, partly written buffer would show.
     */
    @ParameterizedTest(name = "{0} return_sequences={1} go_backwards={2}")
    @MethodSource("outputVariants")
    void everyOutputElementIsWrittenIntoReusedMemory(String cell, boolean sequences, boolean backwards) {
        Supplier<RecurrentLayer> make = () -> switch (cell) {
            case "LSTM" -> withWeights(LSTM.builder().units(H).returnSequences(sequences).goBackwards(backwards)
                    .returnState(true).build(), 4, false, 21);
            case "GRU reset_after" -> withWeights(GRU.builder().units(H).resetAfter(true).returnSequences(sequences)
                    .goBackwards(backwards).returnState(true).build(), 3, true, 22);
            case "GRU reset_before" -> withWeights(GRU.builder().units(H).resetAfter(false).returnSequences(sequences)
                    .goBackwards(backwards).returnState(true).build(), 3, false, 23);
            default -> withWeights(SimpleRNN.builder().units(H).returnSequences(sequences).goBackwards(backwards)
                    .returnState(true).build(), 1, false, 24);
        };
        int n = 3;
        int t = 6;
        try (RecurrentLayer expectedLayer = make.get(); RecurrentLayer actualLayer = make.get();
                Tensor x = random(new SplittableRandom(25), 1f, n, t, C)) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(DnnlBackend.instance());
            try (Outputs expected = expectedLayer.forward(x)) {
                for (int call = 0; call < 3; call++) {
                    poison(n, t);
                    try (Outputs actual = actualLayer.forward(x)) {
                        assertEquals(expected.size(), actual.size());
                        for (int i = 0; i < expected.size(); i++) {
                            assertClose(expected.get(i), actual.get(i), cell + " call " + call + " output " + i);
                        }
                    }
                }
            }
            assertTrue(actualLayer.executionPath().startsWith("oneDNN "), actualLayer.executionPath());
        }
    }

    private static void poison(int n, int t) {
        Tensor[] junk = {Tensor.uninitialized(n, H), Tensor.uninitialized(n, H), Tensor.uninitialized(n, t, H),
            Tensor.uninitialized(n, t, H)};
        for (Tensor j : junk) {
            float[] nan = new float[(int) j.size()];
            Arrays.fill(nan, Float.NaN);
            j.view().put(nan);
        }
        for (int i = junk.length - 1; i >= 0; i--) {
            junk[i].close();
        }
    }

    @Test
    void executionPathNamesPrimitiveImplementationAndWeightFormat() {
        RecordingBackend backend = new RecordingBackend();
        try (LSTM lstm = withWeights(LSTM.builder().units(H).build(), 4, false, 5);
                GRU gru = withWeights(GRU.builder().units(H).resetAfter(true).build(), 3, true, 6);
                GRU gruBefore = withWeights(GRU.builder().units(H).resetAfter(false).build(), 3, false, 7);
                SimpleRNN rnn = withWeights(SimpleRNN.builder().units(H).build(), 1, false, 8)) {
            for (RecurrentLayer layer : List.of(lstm, gru, gruBefore, rnn)) {
                layer.useBackend(backend);
            }
            assertTrue(lstm.compile(C).matches("oneDNN lstm_forward \\(\\S+, weights any\\)"), lstm.executionPath());
            runShape(lstm, 2, 3);
            assertTrue(lstm.executionPath().matches("oneDNN lstm_forward \\(\\S+, weights any\\)"), lstm.executionPath());
            runShape(gru, 2, 3);
            assertTrue(gru.executionPath().startsWith("oneDNN lbr_gru_forward ("), gru.executionPath());
            // gru_forward runs batches <= 4 composed (WeightFormat.composedFaster); batch 5 is fused.
            runShape(gruBefore, 5, 3);
            assertTrue(gruBefore.executionPath().matches("oneDNN gru_forward \\(\\S+, weights ldigo\\)"),
                    gruBefore.executionPath());
            runShape(gruBefore, 2, 3);
            assertTrue(gruBefore.executionPath().startsWith(ComposedRecurrentExecutor.PATH_PREFIX)
                    && gruBefore.executionPath().contains("small batch: measured faster than gru_forward"),
                    gruBefore.executionPath());
            runShape(rnn, 2, 3);
            assertTrue(rnn.executionPath().matches("oneDNN vanilla_rnn_forward \\(\\S+, weights any\\)"), rnn.executionPath());
            runShape(rnn, WeightFormat.PLAIN_FROM_BATCH, 3);
            assertTrue(rnn.executionPath().matches("oneDNN vanilla_rnn_forward \\(\\S+, weights ldigo\\)"),
                    rnn.executionPath());
        }
    }

    @Test
    void sameShapeReusesThePrimitiveAndAnotherShapeCompilesOne() {
        RecordingBackend backend = new RecordingBackend();
        try (LSTM lstm = withWeights(LSTM.builder().units(H).returnSequences(true).build(), 4, false, 10)) {
            lstm.useBackend(backend);
            runShape(lstm, 2, 5);
            DnnlRecurrentExecutor executor = backend.last();
            assertEquals(1, executor.primitivesCreated());
            runShape(lstm, 2, 5);
            assertEquals(1, executor.primitivesCreated());
            runShape(lstm, 3, 5);
            assertEquals(2, executor.primitivesCreated());
            runShape(lstm, 2, 6);
            assertEquals(3, executor.primitivesCreated());
            runShape(lstm, 2, 5);
            assertEquals(3, executor.primitivesCreated());
            assertEquals(3, executor.cachedShapeCount());
            assertEquals(1, backend.compiled.size());
        }
    }

    @Test
    void shapeCacheIsABoundedLru() {
        RecordingBackend backend = new RecordingBackend();
        int capacity = DnnlRecurrentExecutor.SHAPE_CACHE_CAPACITY;
        try (GRU gru = withWeights(GRU.builder().units(H).resetAfter(true).build(), 3, true, 11)) {
            gru.useBackend(backend);
            for (int batch = 1; batch <= capacity + 2; batch++) {
                runShape(gru, batch, 3);
            }
            DnnlRecurrentExecutor executor = backend.last();
            assertEquals(capacity, executor.cachedShapeCount());
            assertEquals(capacity + 2, executor.primitivesCreated());
            // The most recent shape is still compiled; the oldest was evicted and compiles again.
            runShape(gru, capacity + 2, 3);
            assertEquals(capacity + 2, executor.primitivesCreated());
            runShape(gru, 1, 3);
            assertEquals(capacity + 3, executor.primitivesCreated());
            assertEquals(capacity, executor.cachedShapeCount());
            // Touching a shape makes it recent: batch 4 survives the next insertion, batch 5 does not.
            runShape(gru, 4, 3);
            runShape(gru, 1, 4);
            runShape(gru, 4, 3);
            assertEquals(capacity + 4, executor.primitivesCreated());
        }
    }

    @Test
    void closingTwiceIsHarmlessAndRunAfterCloseThrows() {
        RecordingBackend backend = new RecordingBackend();
        try (LSTM lstm = withWeights(LSTM.builder().units(H).build(), 4, false, 12)) {
            lstm.useBackend(backend);
            runShape(lstm, 2, 3);
            DnnlRecurrentExecutor executor = backend.last();
            executor.close();
            assertDoesNotThrow(executor::close);
            try (Tensor x = Tensor.zeros(2, 3, C)) {
                assertThrows(IllegalStateException.class, () -> executor.run(x, null));
            }
        }
    }

    @Test
    void closingOrRebindingTheLayerReleasesItsExecutor() {
        RecordingBackend backend = new RecordingBackend();
        LSTM lstm = withWeights(LSTM.builder().units(H).build(), 4, false, 13);
        lstm.useBackend(backend);
        runShape(lstm, 2, 3);
        DnnlRecurrentExecutor first = backend.last();
        lstm.useBackend(backend);
        assertTrue(first.isClosed());
        runShape(lstm, 2, 3);
        DnnlRecurrentExecutor second = backend.last();
        assertFalse(second.isClosed());
        lstm.close();
        assertTrue(second.isClosed());
    }

    @Test
    void badInputsAreRejectedBeforeNativeCode() {
        RecordingBackend backend = new RecordingBackend();
        try (LSTM lstm = withWeights(LSTM.builder().units(H).build(), 4, false, 14)) {
            lstm.useBackend(backend);
            runShape(lstm, 2, 3);
            DnnlRecurrentExecutor executor = backend.last();
            try (Tensor wrongFeatures = Tensor.zeros(2, 3, C + 1);
                    Tensor x = Tensor.zeros(2, 3, C);
                    Tensor h = Tensor.zeros(2, H);
                    Tensor wrongState = Tensor.zeros(3, H)) {
                assertThrows(IllegalArgumentException.class, () -> executor.run(wrongFeatures, null));
                assertThrows(IllegalArgumentException.class, () -> executor.run(x, new Tensor[] {h}));
                assertThrows(IllegalArgumentException.class, () -> executor.run(x, new Tensor[] {h, wrongState}));
                Tensor closed = Tensor.zeros(2, 3, C);
                closed.close();
                assertThrows(IllegalStateException.class, () -> executor.run(closed, null));
            }
        }
    }

    @Test
    void backendIdentityAndDescription() {
        DnnlBackend cpu = DnnlBackend.instance();
        assertSame(cpu, DnnlBackend.instance());
        assertSame(cpu, Backends.named("cpu"));
        assertEquals("cpu", cpu.name());
        String d = cpu.describe();
        assertTrue(d.startsWith("oneDNN 3."), d);
        assertTrue(d.contains("ISA ") && d.contains("threads ") && d.contains("weight formats")
                && d.contains("batch-1 Java step product on the Vector API"), d);
        assertTrue(d.contains(BatchSplit.describe()), d);
    }
}
