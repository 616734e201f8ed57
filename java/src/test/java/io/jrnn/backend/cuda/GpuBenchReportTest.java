package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
import io.jrnn.backend.cuda.GpuBenchReport.Case;
import io.jrnn.backend.cuda.GpuBenchReport.Cell;
import io.jrnn.backend.cuda.GpuBenchReport.Row;
import io.jrnn.backend.cuda.GpuBenchReport.Stats;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The GPU benchmark's cases, FLOP and byte counts, statistics, tables and half conversion (no device needed). */
class GpuBenchReportTest {

    @Test
    void flopsCountTheGateMatrixProductsTwicePerMultiplyAdd() {
        // LSTM: 4 gates × H × (C + H) multiply-adds per sample and step.
        Case lstm = new Case(Cell.LSTM, 512, 1, 25, 512, Precision.FP32);
        assertEquals(2.0 * 4 * 512 * 1024 * 1 * 25, lstm.flops());
        assertEquals(104_857_600.0, lstm.flops());
        // GRU: 3 gates; C != H counts both.
        Case gru = new Case(Cell.GRU, 1024, 4, 375, 256, Precision.FP16);
        assertEquals(2.0 * 3 * 1024 * (256 + 1024) * 4 * 375, gru.flops());
        assertEquals(4L * 4 * 375 * 256, gru.inputBytes());
        assertEquals(4L * 4 * 375 * 1024, gru.outputBytes());
        // No int overflow at the largest DeepBench case.
        Case big = new Case(Cell.LSTM, 1536, 64, 50, 1536, Precision.FP32);
        assertEquals(120_795_955_200.0, big.flops());
        assertEquals(19_660_800L, big.inputBytes());
    }

    @Test
    void caseIdsNameCellShapeAndPrecision() {
        assertEquals("lstm-h512-n1-t25-fp32", new Case(Cell.LSTM, 512, 1, 25, 512, Precision.FP32).id());
        assertEquals("gru-h1024-n4-t375-c256-fp16", new Case(Cell.GRU, 1024, 4, 375, 256, Precision.FP16).id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Case(Cell.LSTM, 0, 1, 25, 512, Precision.FP32));
        assertTrue(e.getMessage().contains("H=0"), e.getMessage());
    }

    @Test
    void deepBenchListsTheInferenceSizes() {
        List<Case> full = GpuBenchReport.deepBench(false);
        List<Case> fp32 = full.stream().filter(c -> c.precision() == Precision.FP32).toList();
        assertEquals(3 * 4 * 2 + 1, fp32.size());
        assertTrue(fp32.stream().allMatch(c -> c.input() == c.hidden()));
        assertTrue(fp32.contains(new Case(Cell.LSTM, 1536, 32, 50, 1536, Precision.FP32)));
        assertTrue(fp32.contains(new Case(Cell.GRU, 1024, 4, 375, 1024, Precision.FP32)));
        String subset = "lstm-h1024-n4-t25,lstm-h1024-n64-t25,gru-h1024-n4-t375";
        for (Precision p : new Precision[] {Precision.TF32, Precision.FP16}) {
            assertEquals(subset, full.stream().filter(c -> c.precision() == p)
                    .map(c -> c.id().substring(0, c.id().lastIndexOf('-'))).collect(Collectors.joining(",")));
        }
        assertEquals(25 + 3 + 3, full.size());
        assertEquals(full.size(), full.stream().map(Case::id).distinct().count());

        List<Case> quick = GpuBenchReport.deepBench(true);
        assertEquals(List.of("lstm-h512-n1-t25-fp32", "lstm-h512-n64-t25-fp32", "lstm-h1536-n1-t25-fp32",
                "lstm-h1536-n64-t25-fp32", "gru-h1024-n4-t375-fp32", "gru-h1024-n4-t375-fp16"),
                quick.stream().map(Case::id).toList());
    }

    @Test
    void statisticsInterpolateBetweenRanks() {
        Stats s = Stats.of(new double[] {5, 1, 4, 2, 3});
        assertEquals(3, s.median());
        assertEquals(1.4, s.p10(), 1e-12);
        assertEquals(4.6, s.p90(), 1e-12);
        assertEquals(5, s.count());
        assertEquals((4.6 - 1.4) / 3, s.spread(), 1e-12);
        assertEquals(2.5, Stats.of(new double[] {1, 2, 3, 4}).median());
        assertEquals(7, Stats.of(new double[] {7}).p90());
        assertThrows(IllegalArgumentException.class, () -> Stats.of(new double[0]));
    }

    @Test
    void overheadIsTheMedianOfPairedRatios() {
        double[] jrnn = {1.01, 2.04, 3.0, 10.0};
        double[] direct = {1.0, 2.0, 3.0, 5.0};
        // ratios − 1: 0.01, 0.02, 0, 1 → median 0.015 (a single outlier pair does not move it far).
        assertEquals(0.015, GpuBenchReport.pairedOverhead(jrnn, direct), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> GpuBenchReport.pairedOverhead(jrnn, new double[3]));
    }

    @Test
    void tablesShowTimingsOverheadThroughputAndFailures() {
        Case c = new Case(Cell.LSTM, 512, 64, 25, 512, Precision.FP32);
        Row ok = new Row(c, new Stats(2.0, 1.9, 2.2, 25), new Stats(1.98, 1.9, 2.1, 25), 0.01, -0.005,
                new Stats(2.6, 2.5, 2.7, 25), new Stats(2.5, 2.4, 2.6, 25), 0.04,
                new Stats(1.0, 1.0, 1.0, 25), 0.0, "cudnn fused", null);
        Row slow = new Row(new Case(Cell.LSTM, 512, 1, 25, 512, Precision.FP32), new Stats(1.5, 1.4, 1.6, 25),
                new Stats(1.0, 1.0, 1.1, 25), 0.5, 0.03, new Stats(1.6, 1.5, 1.7, 25), new Stats(1.2, 1.1, 1.3, 25),
                0.333, new Stats(0.5, 0.5, 0.5, 25), 1e-7, "cudnn, fused", null);
        Row failed = Row.failed(new Case(Cell.GRU, 1024, 4, 375, 1024, Precision.FP16), "CudaException: bad | param");
        String md = GpuBenchReport.markdown(List.of(ok, slow, failed));
        assertTrue(md.startsWith("Pinned input: both sides read a page-locked input tensor"), md);
        String[] lines = md.substring(md.indexOf("| case")).split("\n");
        assertTrue(lines[0].startsWith("| case | jrnn e2e ms, pinned input (p10–p90) | direct cuDNN e2e ms, pinned input"),
                lines[0]);
        assertTrue(lines[0].contains("| jrnn overhead (pinned) | A/A: jrnn vs identical jrnn | jrnn e2e ms, pageable"
                + " | direct e2e ms, pageable "
                + "| jrnn overhead (pageable) |"), lines[0]);
        assertEquals("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", lines[1]);
        assertEquals(lines[0].split("\\|", -1).length, lines[1].split("\\|", -1).length, "header and rule columns");
        // 2·4·512·1024·64·25 flop in 1 ms = 6.7 TFLOP/s.
        assertEquals("| lstm-h512-n64-t25-fp32 | 2.000 (1.900–2.200) | 1.980 (1.900–2.100) | +1.0 % | -0.5 % | 2.600 | 2.500 "
                + "| +4.0 % | 1.000 | 6.7 | 0.0 |", lines[2]);
        assertEquals(lines[1].split("\\|", -1).length, lines[2].split("\\|", -1).length, "row columns");
        assertTrue(lines[3].contains("| +50.0 % ✗ | +3.0 % | 1.600 | 1.200 | +33.3 % |"), lines[3]);
        assertEquals("| gru-h1024-n4-t375-fp16 | failed: CudaException: bad / param | | | | | | | | | |", lines[4]);
        assertEquals(lines[1].split("\\|", -1).length, lines[4].split("\\|", -1).length, "failed row columns");
        assertTrue(md.contains("1 of 2 measured cases within the 2 % overhead target on pinned input"), md);
        assertTrue(md.contains("1 failed."), md);

        String csv = GpuBenchReport.csv(List.of(ok, slow, failed));
        String[] rows = csv.split("\n");
        assertEquals(GpuBenchReport.CSV_HEADER, rows[0]);
        assertEquals(GpuBenchReport.CSV_HEADER.split(",").length, rows[1].split(",", -1).length);
        assertTrue(rows[1].startsWith("lstm-h512-n64-t25-fp32,lstm,512,64,25,512,fp32,2.0000,1.9000,2.2000,1.9800,"),
                rows[1]);
        assertTrue(rows[1].contains(",1.0000,-0.5000,2.6000,2.5000,4.0000,1.0000,6.7109,0.00,cudnn fused,"), rows[1]);
        assertTrue(rows[0].contains(",overhead_pct,aa_pct,jrnn_pageable_ms,direct_pageable_ms,overhead_pageable_pct,"
                + "cudnn_compute_ms,"), rows[0]);
        assertTrue(rows[2].endsWith(",\"cudnn, fused\","), rows[2]);
        assertTrue(rows[3].startsWith("gru-h1024-n4-t375-fp16,gru,1024,4,375,1024,fp16,,,,,,,,,,,,,,,,"), rows[3]);
        assertEquals(GpuBenchReport.CSV_HEADER.split(",").length, rows[3].split(",", -1).length);
        assertTrue(rows[3].endsWith("CudaException: bad | param"), rows[3]);
        assertFalse(Double.isNaN(ok.computeTflops()));
        assertTrue(Double.isNaN(failed.computeTflops()));
    }

    @Test
    void halfConversionRoundsToNearestEven() {
        assertEquals(0x3c00, GpuBenchmark.toHalf(1f) & 0xffff);
        assertEquals(0xc000, GpuBenchmark.toHalf(-2f) & 0xffff);
        assertEquals(0x2e66, GpuBenchmark.toHalf(0.1f) & 0xffff);
        assertEquals(0x3555, GpuBenchmark.toHalf(0.33333334f) & 0xffff);
        assertEquals(0x7bff, GpuBenchmark.toHalf(65504f) & 0xffff);
        assertEquals(0x7bff, GpuBenchmark.toHalf(65519f) & 0xffff);
        assertEquals(0x7c00, GpuBenchmark.toHalf(65520f) & 0xffff);
        assertEquals(0xfc00, GpuBenchmark.toHalf(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x0001, GpuBenchmark.toHalf(0x1p-24f) & 0xffff);
        assertEquals(0x0000, GpuBenchmark.toHalf(0x1p-25f) & 0xffff);
        assertEquals(0x0002, GpuBenchmark.toHalf(0x1.8p-24f) & 0xffff);
        assertEquals(0x00a8, GpuBenchmark.toHalf(1e-5f) & 0xffff);
        assertEquals(0x03ff, GpuBenchmark.toHalf(6.1e-5f) & 0xffff);
        assertEquals(0x8000, GpuBenchmark.toHalf(-0f) & 0xffff);
        int nan = GpuBenchmark.toHalf(Float.NaN) & 0xffff;
        assertTrue((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0, Integer.toHexString(nan));
        // Property: the result is a nearest half, ties to even.
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(0x33000000 + rng.nextInt(0x477fe000 - 0x33000000))
                    * (rng.nextBoolean() ? 1 : -1);
            int h = GpuBenchmark.toHalf(f) & 0xffff;
            double err = Math.abs(halfValue(h) - f);
            for (int neighbour : new int[] {h - 1, h + 1}) {
                if ((neighbour & 0x7c00) != 0x7c00 && ((neighbour ^ h) & 0x8000) == 0) {
                    double other = Math.abs(halfValue(neighbour) - f);
                    assertTrue(err < other || (err == other && (h & 1) == 0),
                            f + " -> " + Integer.toHexString(h) + " but " + Integer.toHexString(neighbour) + " is nearer");
                }
            }
        }
    }

    private static double halfValue(int h) {
        int exponent = (h >> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        double magnitude = exponent == 0 ? mantissa * 0x1p-24 : (1024 + mantissa) * Math.pow(2, exponent - 25);
        return (h & 0x8000) != 0 ? -magnitude : magnitude;
    }
}
