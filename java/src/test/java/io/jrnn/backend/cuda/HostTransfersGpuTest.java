package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.BackendContractTest;
import io.jrnn.backend.BackendContractTest.Cell;
import io.jrnn.backend.BackendContractTest.Flags;
import io.jrnn.backend.BackendContractTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.RecurrentLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every transfer strategy ({@value HostTransfers#PROPERTY}), with pageable and with pinned input
 * tensors, against the reference backend; 4 KiB chunks so {@code chunked}/{@code auto} really
 * cut the transfers. Also pinned tensors themselves: contents, close, leaks.
 */
@Tag("gpu")
class HostTransfersGpuTest {
    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        Size size = new Size(17, 9, 24, 32);
        List<Flags> flags = List.of(new Flags(true, true, false, false, false), new Flags(true, true, true, true, false),
                new Flags(false, true, false, true, false));
        for (String strategy : List.of("staged", "chunked", "direct", "auto")) {
            for (boolean pinned : List.of(false, true)) {
                for (Precision p : List.of(Precision.FP32, Precision.FP16)) {
                    for (Flags f : flags) {
                        cases.add(Arguments.of(strategy, pinned, p, Cell.LSTM, size, f));
                    }
                }
                cases.add(Arguments.of(strategy, pinned, Precision.FP32, Cell.GRU_RESET_AFTER, size, flags.get(1)));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} pinned={1} {2} {3} {5}")
    @MethodSource("cases")
    void everyStrategyMatchesTheReference(String strategy, boolean pinned, Precision precision, Cell cell, Size size,
            Flags flags) {
        GpuChecks.assumeGpu();
        String before = System.getProperty(HostTransfers.PROPERTY);
        String chunkBefore = System.getProperty(HostTransfers.CHUNK_PROPERTY);
        System.setProperty(HostTransfers.PROPERTY, strategy);
        System.setProperty(HostTransfers.CHUNK_PROPERTY, "4096");
        long pinnedBefore = PinnedHost.liveCount();
        try {
            SplittableRandom rng = new SplittableRandom(strategy.hashCode() * 31L + flags.hashCode());
            float[][] w = BackendContractTest.kerasWeights(cell, size, true, rng);
            int stateCount = cell == Cell.LSTM ? 2 : 1;
            double tolerance = precision == Precision.FP32 ? 1e-4 : 2e-2;
            String testCase = "transfer=" + strategy + " pinned=" + pinned + " " + precision + " " + cell + " " + flags;
            double worst = 0;
            try (RecurrentLayer expectedLayer = BackendContractTest.layer(cell, size, flags, true);
                    RecurrentLayer actualLayer = BackendContractTest.layer(cell, size, flags, true)) {
                expectedLayer.useBackend(ReferenceBackend.instance());
                actualLayer.useBackend(CudaBackend.instance(0, precision));
                expectedLayer.setWeights(w[0], w[1], w[2]);
                actualLayer.setWeights(w[0], w[1], w[2]);
                for (int call = 0; call < 3; call++) { // repeated calls reuse staging, events, lengths
                    Tensor[] initial = new Tensor[0];
                    if (flags.initialState()) {
                        initial = new Tensor[stateCount];
                        for (int s = 0; s < stateCount; s++) {
                            initial[s] = copy(BackendContractTest.random(rng, 1f, size.batch(), size.units()), pinned);
                        }
                    }
                    try (Tensor x = copy(BackendContractTest.random(rng, 1f, size.batch(), size.steps(),
                            size.features()), pinned);
                            Outputs expected = expectedLayer.forward(x, initial);
                            Outputs actual = actualLayer.forward(x, initial)) {
                        assertEquals(pinned, CudaBackend.isPinned(x));
                        for (int i = 0; i < expected.size(); i++) {
                            worst = Math.max(worst, GpuChecks.maxAbsErr(expected.get(i), actual.get(i),
                                    testCase + " output " + i));
                        }
                    } finally {
                        for (Tensor t : initial) {
                            t.close();
                        }
                    }
                }
                // A right-padded mask (per-sample lengths) through the same transfers.
                if (!flags.goBackwards()) {
                    int[] lengths = new int[size.batch()];
                    for (int n = 0; n < lengths.length; n++) {
                        lengths[n] = n % (size.steps() + 1);
                    }
                    Mask mask = Mask.fromLengths(lengths, size.steps());
                    try (Tensor x = copy(BackendContractTest.random(rng, 1f, size.batch(), size.steps(),
                            size.features()), pinned);
                            Outputs expected = expectedLayer.forward(x, mask);
                            Outputs actual = actualLayer.forward(x, mask)) {
                        for (int i = 0; i < expected.size(); i++) {
                            worst = Math.max(worst, GpuChecks.maxAbsErr(expected.get(i), actual.get(i),
                                    testCase + " masked output " + i));
                        }
                    }
                }
                assertTrue(actualLayer.executionPath().startsWith("cuDNN "), actualLayer.executionPath());
            }
            GpuChecks.report(testCase, precision, worst, tolerance);
            assertEquals(pinnedBefore, PinnedHost.liveCount(), "pinned tensors leaked");
        } finally {
            restore(HostTransfers.PROPERTY, before);
            restore(HostTransfers.CHUNK_PROPERTY, chunkBefore);
        }
    }

    /** {@code t} itself, or a pinned copy of it (closing {@code t}). */
    private static Tensor copy(Tensor t, boolean pinned) {
        if (!pinned) {
            return t;
        }
        try (t) {
            Tensor p = CudaBackend.pinnedTensor(t.shape());
            p.view().put(t.view());
            return p;
        }
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    @Test
    void pinnedTensorsHoldDataAndAreFreedOnClose() {
        GpuChecks.assumeGpu();
        long count = PinnedHost.liveCount();
        long bytes = PinnedHost.liveBytes();
        Tensor t = CudaBackend.pinnedTensor(3, 5, 7);
        assertArrayEquals(new int[] {3, 5, 7}, t.shape());
        assertTrue(CudaBackend.isPinned(t));
        assertEquals(count + 1, PinnedHost.liveCount());
        assertEquals(bytes + 3 * 5 * 7 * 4, PinnedHost.liveBytes());
        t.set(2.5f, 2, 4, 6);
        assertEquals(2.5f, t.get(2, 4, 6));
        long address = t.pointer().address();
        assertTrue(PinnedHost.covers(address + 4, 8));
        assertFalse(PinnedHost.covers(address, 3 * 5 * 7 * 4 + 4), "a range past the end is not pinned");
        t.close();
        assertTrue(t.isClosed());
        assertFalse(PinnedHost.covers(address, 4));
        assertEquals(count, PinnedHost.liveCount());
        assertEquals(bytes, PinnedHost.liveBytes());
        t.close(); // harmless
        assertThrows(IllegalStateException.class, t::toArray);
        assertFalse(CudaBackend.isPinned(t));
        try (Tensor empty = CudaBackend.pinnedTensor(0, 4)) {
            assertEquals(0, empty.size());
        }
        assertEquals(count, PinnedHost.liveCount());
        assertThrows(IllegalArgumentException.class, () -> CudaBackend.pinnedTensor(-1, 2));
        for (int i = 0; i < 200; i++) { // no growth across many allocate/close cycles
            CudaBackend.pinnedTensor(64, 1024).close();
        }
        assertEquals(count, PinnedHost.liveCount());
    }
}
