package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchArgsTest {
    @Test
    void parsesShapesThreadsPeersAndCells() {
        List<int[]> s = BenchArgs.shapes("512x64x25x512, 1x2x3x4");
        assertArrayEquals(new int[] {512, 64, 25, 512}, s.get(0));
        assertArrayEquals(new int[] {1, 2, 3, 4}, s.get(1));
        assertEquals(List.of(1, 2), BenchArgs.threads("1,2,1"));
        assertEquals(List.of("ort", "torch"), BenchArgs.peers("ORT,torch"));
        assertEquals(List.of(), BenchArgs.peers("none"));
        assertEquals(List.of("gru", "lstm-hs"), List.copyOf(BenchArgs.cells("gru,LSTM-HS")));
        assertEquals(List.of("fp32", "bf16"), BenchArgs.precisions("fp32,bf16"));
        assertEquals(List.of("fp32", "bf16"), BenchArgs.precisions("BF16"), "jrnn fp32 always runs (the reference)");
        assertEquals(List.of("fp32"), BenchArgs.precisions("fp32"));
    }

    @Test
    void badValuesNameTheOptionExpectedAndActual() {
        assertEquals("--shapes: expected HxNxTxC (e.g. 512x64x25x512), got '1x2x3'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.shapes("1x2x3")).getMessage());
        assertEquals("--shapes: expected positive integers, got '0x2x3x4'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.shapes("0x2x3x4")).getMessage());
        assertEquals("--threads: expected positive integers, got 'two'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.threads("1,two")).getMessage());
        assertEquals("--peers: expected some of onednn,ort,dl4j,torch (or none), got 'tf'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.peers("ort,tf")).getMessage());
        assertEquals("--cells: expected some of lstm,gru,rnn,lstm-hs, got 'cnn'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.cells("cnn")).getMessage());
        assertEquals("--precisions: expected some of fp32,bf16, got 'fp16'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.precisions("fp32,fp16")).getMessage());
        assertEquals("--threads: empty item in '1,,2'",
                assertThrows(IllegalArgumentException.class, () -> BenchArgs.threads("1,,2")).getMessage());
    }

    @Test
    void defaultPlansAreTheIssuesCells() {
        List<BenchCell> full = BenchArgs.plan(false, null, null);
        assertEquals(6 * 3 + 1, full.size());
        BenchCell hs = full.get(full.size() - 1);
        assertEquals(new BenchCell(BenchCell.Kind.LSTM, true, 512, 64, 25, 512), hs);
        assertEquals(new BenchCell(BenchCell.Kind.GRU, false, 128, 32, 50, 64), full.get(1));
        List<BenchCell> quick = BenchArgs.plan(true, null, null);
        assertEquals(2 * 3 + 1, quick.size());
        // Explicit shapes without --cells: the three plain cells only; lstm-hs asked for: at every shape.
        assertEquals(3, BenchArgs.plan(false, "8x2x3x4", null).size());
        List<BenchCell> hsOnly = BenchArgs.plan(false, "8x2x3x4,16x2x3x4", "lstm-hs");
        assertEquals(2, hsOnly.size());
        assertTrue(hsOnly.stream().allMatch(BenchCell::hardSigmoid));
    }
}
