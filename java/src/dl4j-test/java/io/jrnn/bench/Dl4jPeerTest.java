package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proof that {@link Dl4jPeer}'s weight conversion is right: Deeplearning4j's LSTM, given the
 * converted weights, gives jrnn's reference output on small, distinct sizes (H, N, T, C all
 * different, so a transposed tensor or a mis-ordered gate block cannot pass). Only with {@code -Pdl4j}.
 */
class Dl4jPeerTest {

    @ParameterizedTest
    @CsvSource({"false,5,3,4,7", "true,5,3,4,7", "false,8,2,6,3", "false,3,1,9,11"})
    void dl4jOutputEqualsJrnnReference(boolean hardSigmoid, int h, int n, int t, int c) throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.LSTM, hardSigmoid, h, n, t, c);
        BenchWeights w = BenchWeights.of(cell);
        float[] expected;
        try (JrnnInstance jrnn = new JrnnInstance(cell, w, ReferenceBackend.instance())) {
            expected = jrnn.outputNth();
        }
        Dl4jPeer dl4j = new Dl4jPeer();
        assertNull(dl4j.unavailableReason());
        assertNull(dl4j.unsupportedReason(cell));
        try (Peer.Instance instance = dl4j.open(cell, w, 1, "")) {
            instance.run();
            float[] actual = instance.outputNth();
            assertEquals(cell.n() * cell.t() * cell.h(), actual.length);
            assertArrayEquals(expected, actual, 2e-5f, cell.toString());
            assertTrue(maxAbs(actual) > 0.05f, "non-trivial output");
            assertTrue(instance.detail().contains("NCW"), instance.detail());
        }
    }

    @Test
    void foundThroughServiceLoaderByBenchChild() {
        Peer p = BenchChild.peer("dl4j");
        assertTrue(p instanceof Dl4jPeer, String.valueOf(p));
        assertEquals("Deeplearning4j 1.0.0-M2.1", p.label());
    }

    @Test
    void gruAndSimpleRnnAreNotRun() {
        Dl4jPeer dl4j = new Dl4jPeer();
        BenchCell gru = new BenchCell(BenchCell.Kind.GRU, false, 4, 2, 3, 5);
        BenchCell rnn = new BenchCell(BenchCell.Kind.RNN, false, 4, 2, 3, 5);
        assertEquals("dl4j peer runs LSTM only", dl4j.unsupportedReason(gru));
        assertEquals("dl4j peer runs LSTM only", dl4j.unsupportedReason(rnn));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dl4j.open(gru, BenchWeights.of(gru), 1, ""));
        assertTrue(e.getMessage().contains("GRU"), e.getMessage());
    }

    @Test
    void gateBlocksMoveFromKerasIfcoToDl4jCfoi() {
        // one row, H = 1: Keras (i, f, c, o) = (1, 2, 3, 4) → DL4J (c, f, o, i) = (3, 2, 4, 1)
        assertArrayEquals(new float[] {3, 2, 4, 1, 30, 20, 40, 10},
                Dl4jPeer.toDl4jGateOrder(new float[] {1, 2, 3, 4, 10, 20, 30, 40}, 2, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dl4jPeer.toDl4jGateOrder(new float[7], 2, 1));
        assertTrue(e.getMessage().contains("expected 2x4 = 8 values, got 7"), e.getMessage());
    }

    @Test
    void closedInstanceRefusesAndClosesTwice() throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.LSTM, false, 3, 2, 2, 4);
        Peer.Instance instance = new Dl4jPeer().open(cell, BenchWeights.of(cell), 1, "");
        instance.close();
        assertDoesNotThrow(instance::close);
        assertThrows(IllegalStateException.class, instance::run);
        assertThrows(IllegalStateException.class, instance::outputNth);
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
