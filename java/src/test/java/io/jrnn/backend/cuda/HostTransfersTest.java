package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.cuda.HostTransfers.Route;
import io.jrnn.backend.cuda.HostTransfers.Strategy;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class HostTransfersTest {
    @Test
    void parsesEveryStrategyAndDefaultsToAuto() {
        assertEquals(Strategy.STAGED, Strategy.parse("staged"));
        assertEquals(Strategy.CHUNKED, Strategy.parse(" Chunked "));
        assertEquals(Strategy.DIRECT, Strategy.parse("DIRECT"));
        assertEquals(Strategy.AUTO, Strategy.parse("auto"));
        assertEquals(Strategy.AUTO, Strategy.parse(null));
        assertEquals(Strategy.AUTO, Strategy.parse(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Strategy.parse("fast"));
        assertTrue(e.getMessage().contains(HostTransfers.PROPERTY) && e.getMessage().contains("staged, chunked"),
                e.getMessage());
    }

    @Test
    void currentFollowsThePropertyAtEveryCall() {
        String before = System.getProperty(HostTransfers.PROPERTY);
        try {
            System.setProperty(HostTransfers.PROPERTY, "direct");
            assertEquals(Strategy.DIRECT, HostTransfers.current());
            System.setProperty(HostTransfers.PROPERTY, "staged");
            assertEquals(Strategy.STAGED, HostTransfers.current());
            System.clearProperty(HostTransfers.PROPERTY);
            assertEquals(Strategy.AUTO, HostTransfers.current());
            System.setProperty(HostTransfers.PROPERTY, "nonsense");
            assertThrows(IllegalArgumentException.class, HostTransfers::current);
        } finally {
            if (before == null) {
                System.clearProperty(HostTransfers.PROPERTY);
            } else {
                System.setProperty(HostTransfers.PROPERTY, before);
            }
        }
    }

    @Test
    void chunkSizeProperty() {
        String before = System.getProperty(HostTransfers.CHUNK_PROPERTY);
        try {
            System.clearProperty(HostTransfers.CHUNK_PROPERTY);
            assertEquals(1L << 20, HostTransfers.chunkBytes());
            System.setProperty(HostTransfers.CHUNK_PROPERTY, "65536");
            assertEquals(65536, HostTransfers.chunkBytes());
            System.setProperty(HostTransfers.CHUNK_PROPERTY, "100");
            assertThrows(IllegalArgumentException.class, HostTransfers::chunkBytes);
            System.setProperty(HostTransfers.CHUNK_PROPERTY, "1M");
            assertThrows(IllegalArgumentException.class, HostTransfers::chunkBytes);
        } finally {
            if (before == null) {
                System.clearProperty(HostTransfers.CHUNK_PROPERTY);
            } else {
                System.setProperty(HostTransfers.CHUNK_PROPERTY, before);
            }
        }
    }

    @Test
    void routes() {
        long mib = 1L << 20;
        // staged: always through staging, pinned or not (the old behaviour, the baseline).
        assertEquals(Route.STAGED, HostTransfers.route(Strategy.STAGED, true, 10 * mib, mib));
        assertEquals(Route.STAGED, HostTransfers.route(Strategy.STAGED, false, 10 * mib, mib));
        // every other strategy DMAs pinned memory directly.
        for (Strategy s : new Strategy[] {Strategy.CHUNKED, Strategy.DIRECT, Strategy.AUTO}) {
            assertEquals(Route.PINNED_DMA, HostTransfers.route(s, true, 10 * mib, mib), s.label);
            assertEquals(Route.PINNED_DMA, HostTransfers.route(s, true, 16, mib), s.label);
        }
        assertEquals(Route.PAGEABLE, HostTransfers.route(Strategy.DIRECT, false, 10 * mib, mib));
        assertEquals(Route.PAGEABLE, HostTransfers.route(Strategy.DIRECT, false, 16, mib));
        assertEquals(Route.CHUNKED, HostTransfers.route(Strategy.CHUNKED, false, mib + 1, mib));
        assertEquals(Route.STAGED, HostTransfers.route(Strategy.CHUNKED, false, mib, mib));
        assertEquals(Route.CHUNKED, HostTransfers.route(Strategy.AUTO, false, 3 * mib, mib));
        assertEquals(Route.STAGED, HostTransfers.route(Strategy.AUTO, false, 4096, mib));
    }

    @Test
    void chunkCounts() {
        long mib = 1L << 20;
        // lstm-h512-n64-t25 fp32: x and y are 3,276,800 bytes each: 4 chunks of 1 MiB (the last 50 KiB... 131 KiB).
        assertEquals(4, HostTransfers.chunkCount(Route.CHUNKED, 64L * 25 * 512 * 4, mib));
        assertEquals(1, HostTransfers.chunkCount(Route.CHUNKED, mib, mib));
        assertEquals(2, HostTransfers.chunkCount(Route.CHUNKED, mib + 1, mib));
        assertEquals(1, HostTransfers.chunkCount(Route.STAGED, 10 * mib, mib));
        assertEquals(1, HostTransfers.chunkCount(Route.PAGEABLE, 10 * mib, mib));
    }

    @Test
    void registryKnowsNothingOfOrdinaryTensors() {
        try (Tensor t = Tensor.zeros(4, 4)) {
            assertFalse(PinnedHost.isPinned(t));
            assertFalse(PinnedHost.covers(t.pointer().address(), 64));
        }
        assertFalse(PinnedHost.covers(0, 4));
    }

    @Test
    void pinnedTensorsNeedCuda() {
        Assumptions.assumeFalse(Cuda.usable(), "CUDA is usable here; the refusal applies only without it");
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                () -> CudaBackend.pinnedTensor(2, 3));
        assertTrue(e.getMessage().contains("Pinned host tensors need CUDA"), e.getMessage());
    }
}
