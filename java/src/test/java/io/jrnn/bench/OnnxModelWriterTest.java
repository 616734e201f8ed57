package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proof that {@link OnnxModelWriter} is right: ONNX Runtime, running the written model, gives
 * jrnn's reference output on small, distinct sizes (H, N, T, C all different, so a transposed or
 * mis-ordered tensor cannot pass), for every cell the benchmark runs.
 */
class OnnxModelWriterTest {

    @ParameterizedTest
    @CsvSource({"LSTM,false", "LSTM,true", "GRU,false", "RNN,false"})
    void ortOutputEqualsJrnnReference(BenchCell.Kind kind, boolean hardSigmoid) throws Exception {
        BenchCell cell = new BenchCell(kind, hardSigmoid, 5, 3, 4, 7);
        BenchWeights w = BenchWeights.of(cell);
        float[] expected;
        try (JrnnInstance jrnn = new JrnnInstance(cell, w, ReferenceBackend.instance())) {
            expected = jrnn.outputNth();
        }
        OrtPeer ort = new OrtPeer();
        assertEquals(null, ort.unavailableReason());
        try (Peer.Instance instance = ort.open(cell, w, 1, "")) {
            instance.run();
            float[] actual = instance.outputNth();
            assertEquals(cell.n() * cell.t() * cell.h(), actual.length);
            assertArrayEquals(expected, actual, 2e-5f, cell.toString());
            assertTrue(maxAbs(actual) > 0.05f, "non-trivial output");
        }
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
