package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BenchCellTest {
    @Test
    void flopsAre2TNCplusHGH() {
        // 2·25·64·(512+512)·4·512
        assertEquals(6_710_886_400.0, new BenchCell(BenchCell.Kind.LSTM, false, 512, 64, 25, 512).flops());
        // 2·50·32·(64+128)·3·128
        assertEquals(235_929_600.0, new BenchCell(BenchCell.Kind.GRU, false, 128, 32, 50, 64).flops());
        // 2·150·1·(256+256)·1·256
        assertEquals(39_321_600.0, new BenchCell(BenchCell.Kind.RNN, false, 256, 1, 150, 256).flops());
        BenchCell c = new BenchCell(BenchCell.Kind.LSTM, false, 512, 64, 25, 512);
        assertEquals(6.7108864, BenchReport.gflops(c, 1000), 1e-9);
        assertEquals(64.0, BenchReport.sequencesPerSecond(c, 1000), 1e-12);
    }

    @Test
    void namesAndValidation() {
        BenchCell hs = new BenchCell(BenchCell.Kind.LSTM, true, 512, 64, 25, 512);
        assertEquals("LSTM hard_sigmoid", hs.name());
        assertEquals("(512, 64, 25, 512)", hs.shapeLabel());
        assertEquals("lstm-hs_512x64x25x512", hs.id());
        assertEquals("hard_sigmoid cell: expected LSTM, got GRU", assertThrows(IllegalArgumentException.class,
                () -> new BenchCell(BenchCell.Kind.GRU, true, 1, 1, 1, 1)).getMessage());
        assertEquals("shape (H,N,T,C): expected positive sizes, got (1,0,1,1)", assertThrows(
                IllegalArgumentException.class, () -> new BenchCell(BenchCell.Kind.GRU, false, 1, 0, 1, 1)).getMessage());
    }
}
