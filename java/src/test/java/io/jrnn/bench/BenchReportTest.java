package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.bench.BenchResults.CellResult;
import io.jrnn.bench.BenchResults.Report;
import io.jrnn.bench.BenchResults.RunResult;
import io.jrnn.bench.BenchResults.SystemResult;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Table, Markdown and chart from tiny fake results. */
class BenchReportTest {
    static final BenchCell LSTM = new BenchCell(BenchCell.Kind.LSTM, false, 512, 64, 25, 512);
    static final BenchCell GRU = new BenchCell(BenchCell.Kind.GRU, false, 128, 32, 50, 64);

    static final BenchCell RNN = new BenchCell(BenchCell.Kind.RNN, false, 64, 1, 10, 8);

    static Map<String, Sampler.Stats> ratios(Object... nameMedian) {
        Map<String, Sampler.Stats> m = new LinkedHashMap<>();
        for (int i = 0; i < nameMedian.length; i += 2) {
            m.put((String) nameMedian[i], stats((Double) nameMedian[i + 1]));
        }
        return m;
    }

    static Sampler.Stats stats(double median) {
        return new Sampler.Stats(median, median * 0.9, median * 1.1, median * 0.8, 5);
    }

    static Report fake() {
        // LSTM: 6.7109 GFLOP in 50 ms = 134.2 GFLOP/s = 89.5% of a 150 GFLOP/s peak (misses 90%).
        List<SystemResult> lstm = List.of(
                new SystemResult("jrnn", "jrnn", "oneDNN lstm_forward (brgemm, weights any)", stats(50), null, true,
                        null, null),
                new SystemResult("onednn", "oneDNN 3.11.0 (direct)", "", stats(49), stats(0.98), true, 0.0, null),
                new SystemResult("ort", "ONNX Runtime 1.29.0", "", stats(55), stats(1.10), true, 2e-7, null),
                new SystemResult("torch", "PyTorch 1.13", "", stats(500), stats(10), false, 1e-7, null),
                // bf16: 6.7109 GFLOP in 12 ms = 559 GFLOP/s = 93% of a 600 GFLOP/s bf16 peak; 4.4× ORT: target met.
                new SystemResult("jrnn-bf16", "jrnn bf16", "oneDNN lstm_forward bf16", stats(12), null, true, 3e-3,
                        null, ratios("jrnn", 4.0, "onednn", 3.9, "ort", 4.4, "torch", 40.0)));
        List<SystemResult> gru = List.of(
                new SystemResult("jrnn", "jrnn", "p", stats(2), null, true, null, null),
                // bf16: only 2.4× ORT at N = 32: target missed.
                new SystemResult("jrnn-bf16", "jrnn bf16", "q", stats(1), null, true, 2e-3, null,
                        ratios("jrnn", 2.0, "ort", 2.4)),
                new SystemResult("ort", "ONNX Runtime 1.29.0", "", stats(2.4), stats(1.2), true, 1e-7, null),
                new SystemResult("dl4j", "DL4J", "", null, null, false, null, "LSTM only"));
        List<SystemResult> rnn = List.of(
                new SystemResult("jrnn", "jrnn", "p", stats(1), null, true, null, null),
                new SystemResult("jrnn-bf16", "jrnn bf16", "", null, null, false, null,
                        BenchChild.noBf16("oneDNN found avx2")));
        Map<String, String> peers = new LinkedHashMap<>();
        peers.put("ort", "ONNX Runtime 1.29.0");
        peers.put("dl4j", "unavailable: not built (mvn -Pdl4j)");
        RunResult run = new RunResult(1, "Test CPU (2 processors)",
                List.of(new MatmulPeak.Peak("fp32", 1024, 150, 160, "brg_matmul:avx512_core"),
                        new MatmulPeak.Peak("bf16", 1024, 600, 650, "brg_matmul:avx512_core_amx")), peers,
                List.of(new CellResult(LSTM, lstm), new CellResult(GRU, gru), new CellResult(RNN, rnn)));
        return new Report("2026-11-22", "jrnn bench --quick", "Test CPU (2 processors)", "OpenJDK 17",
                "OMP_WAIT_POLICY=ACTIVE", List.of(run));
    }

    @Test
    void tableHasOneRowPerSystemWithDerivedFigures() {
        String table = BenchReport.table(fake());
        assertTrue(table.startsWith("threads=1  fp32 matmul peak 160.0 GFLOP/s, bf16 650.0 GFLOP/s\n"), table);
        String row = table.lines().filter(l -> l.startsWith("LSTM") && l.contains(" jrnn ")).findFirst().orElseThrow();
        // median 50 ms, IQR 10 ms, 64/0.05 = 1280 seq/s, 134 GFLOP/s, 84% of the best peak, 160
        assertEquals(List.of("LSTM", "(512,", "64,", "25,", "512)", "jrnn", "50.0", "10.0", "1280", "134", "84%"),
                List.of(row.trim().split("\\s+")));
        assertTrue(table.contains(" 1.10 "), "interleaved ratio");
        assertTrue(table.contains(" 10.00* "), "separate-process ratio is starred");
        assertTrue(table.replaceAll(" +", " ").contains("GRU (128, 32, 50, 64) dl4j n/a: LSTM only\n"), table);
        assertTrue(table.contains("  dl4j: unavailable: not built (mvn -Pdl4j)\n"), table);
    }

    @Test
    void bf16RowsUseTheBf16PeakAndListTheirRatios() {
        String table = BenchReport.table(fake());
        String row = table.lines().filter(l -> l.startsWith("LSTM") && l.contains(" jrnn-bf16 ")).findFirst()
                .orElseThrow();
        // 12 ms, IQR 2.4 ms, 5333 seq/s, 559 GFLOP/s = 86% of the best bf16 peak, 650 (349% of fp32's), max|Δ| 3e-3
        assertEquals("LSTM (512, 64, 25, 512) jrnn-bf16 12.0 2.40 5333 559 86% 3.0e-03 speed × vs jrnn 4.00, "
                + "onednn 3.90, ort 4.40, torch 40.00*", row.replaceAll(" +", " ").trim());
        assertTrue(table.replaceAll(" +", " ").contains("SimpleRNN (64, 1, 10, 8) jrnn-bf16 n/a: this CPU has no bf16"
                + " (oneDNN found avx2)\n"), table);
        String md = BenchReport.markdown(fake());
        assertTrue(md.contains("| LSTM | (512, 64, 25, 512) | jrnn-bf16 | 12.0 | 2.40 | 5333 | 559 | 86% | vs jrnn 4.00,"
                + " onednn 3.90, ort 4.40, torch 40.00* | 3.0e-03 | bf16 ≥ 3× ONNX Runtime fp32 at N ≥ 32 with max abs"
                + " error ≤ 1e-2 ✓ |"), md);
        assertTrue(md.contains("| GRU | (128, 32, 50, 64) | jrnn-bf16 | 1.00 | 0.200 | 32000 | 236 | 36% | vs jrnn 2.00,"
                + " ort 2.40 | 2.0e-03 | bf16 ≥ 3× ONNX Runtime fp32 at N ≥ 32 with max abs error ≤ 1e-2 **missed** |"),
                md);
        assertTrue(md.contains("- GRU (128, 32, 50, 64), 1 thread(s), jrnn-bf16: wanted bf16 ≥ 3× ONNX Runtime fp32 at"
                + " N ≥ 32 with max abs error ≤ 1e-2, got 2.40× ONNX Runtime, max |Δ| 2.0e-03"), md);
        assertTrue(md.contains("| SimpleRNN | (64, 1, 10, 8) | jrnn-bf16 | n/a: this CPU has no bf16 (oneDNN found"
                + " avx2) |"), md);
        assertTrue(BenchChart.chart(fake().runs().get(0)).getSeriesMap().containsKey("jrnn-bf16"));
    }

    @Test
    void bf16TargetNeedsOrtAtBatch32AndTheErrorBound() {
        SystemResult accurate = new SystemResult("jrnn-bf16", "", "", stats(1), null, true, 1e-2, null,
                ratios("ort", 3.0));
        assertEquals("true", BenchReport.target(LSTM, accurate, null)[1]);
        SystemResult inaccurate = new SystemResult("jrnn-bf16", "", "", stats(1), null, true, 1.1e-2, null,
                ratios("ort", 5.0));
        assertEquals("false", BenchReport.target(LSTM, inaccurate, null)[1], "fast but beyond 1e-2");
        assertEquals(null, BenchReport.target(RNN, accurate, null), "N = 1 < 32: no target");
        SystemResult noOrt = new SystemResult("jrnn-bf16", "", "", stats(1), null, true, 1e-3, null,
                ratios("jrnn", 3.0));
        assertEquals(null, BenchReport.target(LSTM, noOrt, null), "no ONNX Runtime row: nothing to compare with");
    }

    @Test
    void markdownMarksTargets() {
        String md = BenchReport.markdown(fake());
        assertTrue(md.contains("- command: `jrnn bench --quick`"), md);
        assertTrue(md.contains("| LSTM | (512, 64, 25, 512) | ort | 55.0 | 11.0 | 1164 | 122 | 76% | 1.10 | 2.0e-07 | ≥ 1.0× ✓ |"),
                md);
        assertTrue(md.contains("| GRU | (128, 32, 50, 64) | ort | 2.40 | 0.480 | 13333 | 98.3 | 61% | 1.20 | 1.0e-07 | ≥ 1.3× **missed** |"),
                md);
        assertTrue(md.contains("| LSTM | (512, 64, 25, 512) | jrnn | 50.0 | 10.0 | 1280 | 134 | 84% |  |  | ≥ 90% peak **missed** |"), md);
        assertTrue(md.contains("| LSTM | (512, 64, 25, 512) | onednn | 49.0 | 9.80 | 1306 | 137 | 86% | 0.98 | 0.0e+00 | ≥ 0.97× ✓ |"), md);
        assertTrue(md.contains("- GRU (128, 32, 50, 64), 1 thread(s), ort: wanted ≥ 1.3×, got 1.20×"), md);
        assertTrue(md.contains("- LSTM (512, 64, 25, 512), 1 thread(s), jrnn: wanted ≥ 90% peak, got 84% of peak"), md);
        assertTrue(md.contains("| GRU | (128, 32, 50, 64) | dl4j | n/a: LSTM only |"), md);
    }

    @Test
    void writesJsonMarkdownAndAReadablePngAtomically(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("results");
        List<Path> written = BenchReport.writeAll(fake(), out);
        assertEquals(List.of(out.resolve("bench-results.json"), out.resolve("bench-results.md"),
                out.resolve("bench-chart.png")), written);
        BufferedImage png = ImageIO.read(out.resolve("bench-chart.png").toFile());
        assertNotNull(png);
        assertTrue(png.getWidth() >= 900 && png.getHeight() >= 500, png.getWidth() + "x" + png.getHeight());
        assertEquals(fake(), BenchResults.read(out.resolve("bench-results.json"), Report.class));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(3, files.count(), "no temporary files left");
        }
    }
}
