package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The direct oneDNN yardstick computes the Keras layer (vs jrnn's reference backend), for both weight formats. */
class DirectOneDnnRnnTest {

    @ParameterizedTest
    @CsvSource({"LSTM,LSTM,true", "LSTM,LSTM,false", "GRU,LBR_GRU,true", "GRU,LBR_GRU,false", "RNN,VANILLA_RNN,true",
            "RNN,VANILLA_RNN,false"})
    void equalsReference(BenchCell.Kind kind, DirectOneDnnRnn.Primitive primitive, boolean any) throws Exception {
        BenchCell cell = new BenchCell(kind, false, 6, 3, 4, 5);
        BenchWeights w = BenchWeights.of(cell);
        float[] expected;
        try (JrnnInstance ref = new JrnnInstance(cell, w, ReferenceBackend.instance())) {
            expected = ref.outputNth();
        }
        DirectOneDnnRnn direct = new DirectOneDnnRnn(primitive, any, 6, 3, 4, 5, w.kernel(), w.recurrent(), w.bias(),
                w.input());
        direct.run();
        assertArrayEquals(expected, direct.output(), 1e-5f);
        assertTrue(direct.path().startsWith("oneDNN " + primitive.oneDnnName + " ("), direct.path());
        assertTrue(direct.path().endsWith(any ? ", weights any)" : ", weights ldigo)"), direct.path());
        direct.close();
        direct.close();
        assertThrows(IllegalStateException.class, direct::run);
    }

    @Test
    void parsesJrnnExecutionPaths() {
        Object[] p = OneDnnPeer.parsePath("oneDNN lbr_gru_forward (brgemm:avx512_core, weights ldigo)");
        assertEquals(DirectOneDnnRnn.Primitive.LBR_GRU, p[0]);
        assertEquals(false, p[1]);
        assertEquals(true, OneDnnPeer.parsePath("oneDNN lstm_forward (ref:any, weights any)")[1]);
        assertNull(OneDnnPeer.parsePath("oneDNN composed (matmul + gates)"));
        // jrnn splits the batch over threads: the peer runs the whole batch on one primitive.
        Object[] split = OneDnnPeer.parsePath("oneDNN vanilla_rnn_forward (brgemm:avx512_core, weights any), batch "
                + "split: 2 parts of 16 rows on 2 threads, one OpenMP thread each");
        assertEquals(DirectOneDnnRnn.Primitive.VANILLA_RNN, split[0]);
        assertEquals(true, split[1]);
        // A small batch jrnn runs composed because it beat the fused primitive: the peer runs that primitive.
        Object[] lbr = OneDnnPeer.parsePath("oneDNN composed (matmul input projection + fused gates; small batch: "
                + "measured faster than lbr_gru_forward at this batch and weight size (WeightFormat.composedFaster))");
        assertEquals(DirectOneDnnRnn.Primitive.LBR_GRU, lbr[0]);
        assertEquals(true, lbr[1]);
        Object[] gru = OneDnnPeer.parsePath("oneDNN composed (matmul input projection + fused gates; small batch: "
                + "measured faster than gru_forward at this batch and weight size (WeightFormat.composedFaster))");
        assertEquals(DirectOneDnnRnn.Primitive.GRU, gru[0]);
        assertEquals(false, gru[1]);
        assertNull(OneDnnPeer.parsePath("oneDNN composed (matmul input projection + fused gates; arbitrary mask)"));
        assertThrows(UnsupportedOperationException.class, () -> new OneDnnPeer().open(
                new BenchCell(BenchCell.Kind.LSTM, false, 1, 1, 1, 1), null, 1, "oneDNN composed"));
    }

    @Test
    void matmulPeakIsPositive() {
        MatmulPeak.Peak p = MatmulPeak.measure(false, 64, 10);
        assertEquals("fp32", p.dataType());
        assertTrue(p.medianGflops() > 0 && p.bestGflops() >= p.medianGflops(), p.toString());
    }
}
