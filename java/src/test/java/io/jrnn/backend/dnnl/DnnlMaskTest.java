package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Device;
import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Masks on the oneDNN backend vs the reference: right-padded masks stay on the fused primitive
 * (length segments), other masks go to the composed path; every §3.3 option, both directions.
 */
class DnnlMaskTest {
    private static final int N = 6;
    private static final int T = 6;
    private static final int C = 3;
    private static final int H = 4;
    /** Full, empty, repeated and single-step lengths. */
    private static final int[] LENGTHS = {4, 0, 6, 2, 4, 1};

    enum Cell { LSTM, GRU, GRU_RESET_AFTER, SIMPLE_RNN }

    enum Mode { CANONICAL, PREVIOUS_STATE, ZERO_OUTPUT }

    /** Hands out oneDNN executors and keeps them, so tests can look inside. */
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

        @Override
        public RecurrentExecutor compile(RecurrentSpec spec) {
            RecurrentExecutor e = DnnlBackend.instance().compile(spec);
            compiled.add(e);
            return e;
        }

        @Override
        public String describe() {
            return "recording";
        }
    }

    static RecurrentLayer layer(Cell cell, boolean goBackwards, boolean returnSequences, boolean returnState, Mode mode,
            boolean stateful, Backend backend) {
        RecurrentLayer.Builder<?, ?> b = switch (cell) {
            case LSTM -> LSTM.builder();
            case GRU -> GRU.builder().resetAfter(false);
            case GRU_RESET_AFTER -> GRU.builder().resetAfter(true);
            case SIMPLE_RNN -> SimpleRNN.builder();
        };
        b.units(H).goBackwards(goBackwards).returnSequences(returnSequences).returnState(returnState)
                .zeroOutputForMask(mode == Mode.ZERO_OUTPUT)
                .maskedOutput(mode == Mode.PREVIOUS_STATE ? MaskedOutput.PREVIOUS_STATE : MaskedOutput.CANONICAL);
        if (stateful) {
            b.stateful(true).batchSize(N);
        }
        RecurrentLayer l = b.build();
        SplittableRandom rng = new SplittableRandom(cell.ordinal() * 31L + 5);
        int gh = l.cellType().gateCount() * H;
        l.setWeights(uniform(rng, 0.6f, C * gh), uniform(rng, 0.5f, H * gh),
                uniform(rng, 0.5f, gh * (cell == Cell.GRU_RESET_AFTER ? 2 : 1)));
        l.useBackend(backend);
        return l;
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (boolean back : new boolean[] {false, true}) {
                for (boolean seq : new boolean[] {false, true}) {
                    for (Mode mode : Mode.values()) {
                        // return_state only drops tensors in the layer: alternate it rather than double the cases.
                        cases.add(Arguments.of(cell, back, seq, mode, (mode.ordinal() + (seq ? 1 : 0)) % 2 == 0));
                    }
                }
            }
        }
        return cases.stream();
    }

    private static void assertSame(Outputs expected, Outputs actual, String where) {
        assertEquals(expected.size(), actual.size(), where + ": output count");
        for (int i = 0; i < expected.size(); i++) {
            assertClose(expected.get(i), actual.get(i), where + " output " + i);
        }
    }

    @ParameterizedTest(name = "{0} back={1} seq={2} {3} state={4}")
    @MethodSource("cases")
    void rightPaddedMasksOnTheFusedPrimitiveMatchTheReference(Cell cell, boolean back, boolean seq, Mode mode,
            boolean returnState) {
        RecordingBackend recording = new RecordingBackend();
        SplittableRandom rng = new SplittableRandom(11);
        Mask mask = Mask.fromLengths(LENGTHS, T);
        try (RecurrentLayer ref = layer(cell, back, seq, returnState, mode, false, ReferenceBackend.instance());
             RecurrentLayer dnnl = layer(cell, back, seq, returnState, mode, false, recording);
             Tensor x = random(rng, 1f, N, T, C); Tensor h0 = random(rng, 1f, N, H); Tensor c0 = random(rng, 1f, N, H)) {
            Tensor[] init = cell == Cell.LSTM ? new Tensor[] {h0, c0} : new Tensor[] {h0};
            String where = cell + " back=" + back + " seq=" + seq + " " + mode;
            try (Outputs e = ref.forward(x, mask); Outputs a = dnnl.forward(x, mask)) {
                assertSame(e, a, where + " zero state");
            }
            try (Outputs e = ref.forward(x, mask, init); Outputs a = dnnl.forward(x, mask, init)) {
                assertSame(e, a, where + " initial state");
            }
            assertTrue(dnnl.executionPath().startsWith("oneDNN ") && dnnl.executionPath().contains("right-padded mask"),
                    dnnl.executionPath());
        }
    }

    @ParameterizedTest(name = "{0} back={1}")
    @MethodSource("statefulCases")
    void statefulLayersCarryMaskedStatesAcrossCalls(Cell cell, boolean back) {
        SplittableRandom rng = new SplittableRandom(3);
        Mask first = Mask.fromLengths(LENGTHS, T);
        Mask second = Mask.fromLengths(new int[] {6, 3, 0, 5, 1, 2}, T);
        try (RecurrentLayer ref = layer(cell, back, true, true, Mode.CANONICAL, true, ReferenceBackend.instance());
             RecurrentLayer dnnl = layer(cell, back, true, true, Mode.CANONICAL, true, DnnlBackend.instance());
             Tensor x1 = random(rng, 1f, N, T, C); Tensor x2 = random(rng, 1f, N, T, C)) {
            for (Object[] call : new Object[][] {{x1, first}, {x2, second}}) {
                try (Outputs e = ref.forward((Tensor) call[0], (Mask) call[1]);
                     Outputs a = dnnl.forward((Tensor) call[0], (Mask) call[1])) {
                    assertSame(e, a, cell + " back=" + back);
                }
            }
            Tensor[] es = ref.storedStates();
            Tensor[] as = dnnl.storedStates();
            for (int i = 0; i < es.length; i++) {
                assertClose(es[i], as[i], "stored state " + i);
                es[i].close();
                as[i].close();
            }
        }
    }

    static Stream<Arguments> statefulCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            cases.add(Arguments.of(cell, false));
            cases.add(Arguments.of(cell, true));
        }
        return cases.stream();
    }

    /** Random shapes, lengths, cells and options (a seeded property test), on the fused path vs the reference. */
    @Test
    void randomRightPaddedBatchesMatchTheReference() {
        SplittableRandom rng = new SplittableRandom(2026);
        for (int round = 0; round < 24; round++) {
            int n = 1 + rng.nextInt(7);
            int t = 1 + rng.nextInt(8);
            int c = 1 + rng.nextInt(4);
            int h = 1 + rng.nextInt(5);
            Cell cell = Cell.values()[rng.nextInt(Cell.values().length)];
            Mode mode = Mode.values()[rng.nextInt(Mode.values().length)];
            boolean back = rng.nextBoolean();
            boolean seq = rng.nextBoolean();
            boolean withState = rng.nextBoolean();
            int[] lengths = rng.ints(n, 0, t + 1).toArray();
            String where = "round " + round + ": " + cell + " " + mode + " back=" + back + " seq=" + seq + " N=" + n + " T="
                    + t + " C=" + c + " H=" + h + " lengths=" + java.util.Arrays.toString(lengths);
            RecurrentLayer.Builder<?, ?> b = switch (cell) {
                case LSTM -> LSTM.builder();
                case GRU -> GRU.builder().resetAfter(false);
                case GRU_RESET_AFTER -> GRU.builder().resetAfter(true);
                case SIMPLE_RNN -> SimpleRNN.builder();
            };
            b.units(h).goBackwards(back).returnSequences(seq).returnState(true).seed(round)
                    .zeroOutputForMask(mode == Mode.ZERO_OUTPUT)
                    .maskedOutput(mode == Mode.PREVIOUS_STATE ? MaskedOutput.PREVIOUS_STATE : MaskedOutput.CANONICAL);
            try (RecurrentLayer ref = b.build(); RecurrentLayer dnnl = b.build(); Tensor x = random(rng, 1f, n, t, c);
                 Tensor h0 = random(rng, 1f, n, h); Tensor c0 = random(rng, 1f, n, h)) {
                ref.initializeWeights(c);
                dnnl.setWeights(ref.weights());
                ref.useBackend(ReferenceBackend.instance());
                dnnl.useBackend(DnnlBackend.instance());
                Tensor[] init = !withState ? new Tensor[0] : cell == Cell.LSTM ? new Tensor[] {h0, c0} : new Tensor[] {h0};
                try (Outputs e = ref.forward(x, lengths, init); Outputs a = dnnl.forward(x, lengths, init)) {
                    assertSame(e, a, where);
                }
            }
        }
    }

    /** The masked paths (length segments, composed) return every native byte they take. */
    @Test
    void maskedForwardsAndClosesKeepNativeMemoryFlat() {
        Mask rightPadded = Mask.fromLengths(LENGTHS, T);
        Mask scattered = Mask.of(new boolean[] {
            false, true, true, false, true, true, true, true, true, true, true, true,
            true, false, true, false, true, false, true, true, true, true, true, true,
            true, true, true, true, true, true, false, false, false, false, false, true}, N, T);
        Runnable cycle = () -> {
            try (RecurrentLayer l = layer(Cell.LSTM, true, true, true, Mode.CANONICAL, false, DnnlBackend.instance());
                 Tensor x = Tensor.zeros(N, T, C)) {
                l.forward(x, rightPadded).close();
                l.forward(x, scattered).close();
            }
        };
        for (int i = 0; i < 20; i++) {
            cycle.run();
        }
        long before = settledTotalBytes();
        for (int i = 0; i < 200; i++) {
            cycle.run();
        }
        // Earlier tests' garbage may still be freed by the cleaner meanwhile (the count can only drop
        // by that); a leak of the cycle would grow it 200 times.
        long after = org.bytedeco.javacpp.Pointer.totalBytes();
        assertTrue(after <= before, "JavaCPP bytes outstanding after masked cycles: " + (after - before));
    }

    /** JavaCPP's allocated bytes once earlier garbage is released: stable over three collections. */
    private static long settledTotalBytes() {
        long bytes = org.bytedeco.javacpp.Pointer.totalBytes();
        for (int stable = 0, rounds = 0; stable < 3 && rounds < 100; rounds++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = org.bytedeco.javacpp.Pointer.totalBytes();
            stable = now == bytes ? stable + 1 : 0;
            bytes = now;
        }
        return bytes;
    }

    @Test
    void segmentPrimitivesAreCompiledOncePerShape() {
        RecordingBackend recording = new RecordingBackend();
        SplittableRandom rng = new SplittableRandom(5);
        Mask mask = Mask.fromLengths(LENGTHS, T);
        try (RecurrentLayer l = layer(Cell.LSTM, false, true, false, Mode.CANONICAL, false, recording);
             Tensor x = random(rng, 1f, N, T, C)) {
            l.forward(x, mask).close();
            DnnlRecurrentExecutor e = (DnnlRecurrentExecutor) recording.compiled.get(0);
            // Distinct positive lengths 1, 2, 4, 6: four segments of shapes (5,1), (4,1), (3,2), (1,2).
            assertEquals(4, e.cachedSegmentCount());
            int created = e.primitivesCreated();
            l.forward(x, mask).close();
            assertEquals(created, e.primitivesCreated());
            assertTrue(l.executionPath().contains("4 length segment(s)"), l.executionPath());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cellsWithBackwards")
    void nonPrefixMasksRunOnTheComposedPathAndMatch(Cell cell, boolean back) {
        SplittableRandom rng = new SplittableRandom(8);
        boolean[] v = new boolean[N * T];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(3) != 0;
        }
        v[0] = false; // sample 0 is left-padded
        v[1] = true;
        Mask mask = Mask.of(v, N, T);
        for (Mode mode : Mode.values()) {
            try (RecurrentLayer ref = layer(cell, back, true, true, mode, false, ReferenceBackend.instance());
                 RecurrentLayer dnnl = layer(cell, back, true, true, mode, false, DnnlBackend.instance());
                 Tensor x = random(rng, 1f, N, T, C); Tensor h0 = random(rng, 1f, N, H); Tensor c0 = random(rng, 1f, N, H)) {
                Tensor[] init = cell == Cell.LSTM ? new Tensor[] {h0, c0} : new Tensor[] {h0};
                try (Outputs e = ref.forward(x, mask, init); Outputs a = dnnl.forward(x, mask, init)) {
                    assertSame(e, a, cell + " " + mode);
                }
                assertTrue(dnnl.executionPath().contains("composed") && dnnl.executionPath().contains("not right-padded"),
                        dnnl.executionPath());
                // An unmasked call afterwards is back on the primitive.
                dnnl.forward(x).close();
                assertTrue(dnnl.executionPath().startsWith("oneDNN ") && !dnnl.executionPath().contains("composed"),
                        dnnl.executionPath());
            }
        }
    }

    static Stream<Arguments> cellsWithBackwards() {
        return statefulCases();
    }

    @Test
    void everySampleEmptyOutputsZerosAndKeepsInitialStates() {
        SplittableRandom rng = new SplittableRandom(9);
        Mask none = Mask.fromLengths(new int[N], T);
        for (Mode mode : Mode.values()) {
            try (RecurrentLayer ref = layer(Cell.GRU, true, true, true, mode, false, ReferenceBackend.instance());
                 RecurrentLayer dnnl = layer(Cell.GRU, true, true, true, mode, false, DnnlBackend.instance());
                 Tensor x = random(rng, 1f, N, T, C); Tensor h0 = random(rng, 1f, N, H);
                 Outputs e = ref.forward(x, none, h0); Outputs a = dnnl.forward(x, none, h0)) {
                assertSame(e, a, mode.toString());
                assertClose(h0, a.get(1), "state kept");
            }
        }
    }
}
