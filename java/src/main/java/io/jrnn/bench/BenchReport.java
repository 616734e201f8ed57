package io.jrnn.bench;

import io.jrnn.bench.BenchResults.CellResult;
import io.jrnn.bench.BenchResults.Report;
import io.jrnn.bench.BenchResults.RunResult;
import io.jrnn.bench.BenchResults.SystemResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's outputs: a plain-text table (the terminal), a Markdown page and a PNG chart
 * ({@link BenchChart}), written atomically to the output directory.
 */
public final class BenchReport {
    /** File names under {@code --out}. */
    public static final String JSON = "bench-results.json";
    public static final String MARKDOWN = "bench-results.md";
    public static final String CHART = "bench-chart.png";

    private BenchReport() {
    }

    /** Sequences per second at a median time per forward. */
    static double sequencesPerSecond(BenchCell cell, double ms) {
        return cell.n() * 1000.0 / ms;
    }

    /** GFLOP/s ({@link BenchCell#flops}) at a median time per forward. */
    static double gflops(BenchCell cell, double ms) {
        return cell.flops() / (ms * 1e6);
    }

    /**
     * The target for one row, or {@code null} when it has none: {@code [wanted, met]}.
     * ONNX Runtime: jrnn ≥ 1.0× (GRU ≥ 1.3×); direct oneDNN: jrnn ≤ 3% slower (ratio ≥ 0.97);
     * jrnn: ≥ 90% of the fp32 matmul peak at H ≥ 512, N = 64; jrnn-bf16: ≥ 3× ONNX Runtime fp32 at
     * N ≥ 32 with max |Δ| (from jrnn fp32) ≤ 1e-2 (only where ONNX Runtime ran).
     */
    static String[] target(BenchCell cell, SystemResult row, MatmulPeak.Peak fp32) {
        if (!row.ran()) {
            return null;
        }
        switch (row.system()) {
            case BenchChild.BF16 -> {
                Sampler.Stats ort = row.bf16Ratios() == null ? null : row.bf16Ratios().get("ort");
                if (cell.n() < 32 || ort == null || row.maxAbsDiff() == null) {
                    return null;
                }
                return new String[] {BF16_TARGET, Boolean.toString(ort.median() >= 3.0 && row.maxAbsDiff() <= 1e-2)};
            }
            case "ort" -> {
                double want = cell.kind() == BenchCell.Kind.GRU ? 1.3 : 1.0;
                return new String[] {String.format(Locale.ROOT, "≥ %.1f×", want),
                        Boolean.toString(row.speedRatio().median() >= want)};
            }
            case "onednn" -> {
                return new String[] {"≥ 0.97×", Boolean.toString(row.speedRatio().median() >= 0.97)};
            }
            case "jrnn" -> {
                if (cell.h() >= 512 && cell.n() == 64 && fp32 != null && !cell.hardSigmoid()) {
                    double frac = gflops(cell, row.ms().median()) / fp32.bestGflops();
                    return new String[] {"≥ 90% peak", Boolean.toString(frac >= 0.9)};
                }
                return null;
            }
            default -> {
                return null;
            }
        }
    }

    /** The bf16 target, as the target column names it. */
    static final String BF16_TARGET = "bf16 ≥ 3× ONNX Runtime fp32 at N ≥ 32 with max abs error ≤ 1e-2";

    /** The peak a row is a fraction of: the bf16 matmul peak for {@code jrnn-bf16}, else fp32. */
    static MatmulPeak.Peak peakFor(RunResult run, SystemResult row) {
        return run.peak(row.system().equals(BenchChild.BF16) ? "bf16" : "fp32");
    }

    private static String percentOfPeak(BenchCell c, double ms, MatmulPeak.Peak peak) {
        return peak == null ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * gflops(c, ms) / peak.bestGflops());
    }

    /** jrnn-bf16's ratios: {@code vs jrnn 3.10, ort 3.52, torch 30.1*} (each system's ms ÷ bf16 ms). */
    static String bf16Ratios(SystemResult row) {
        if (row.bf16Ratios() == null || row.bf16Ratios().isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        row.bf16Ratios().forEach((name, st) -> parts.add(name + " " + String.format(Locale.ROOT, "%.2f%s",
                st.median(), name.equals("torch") ? "*" : "")));
        return "vs " + String.join(", ", parts);
    }

    /** The terminal table: one block per thread count, one row per system and cell. */
    public static String table(Report report) {
        StringBuilder sb = new StringBuilder();
        for (RunResult run : report.runs()) {
            MatmulPeak.Peak fp32 = run.peak("fp32");
            sb.append(String.format(Locale.ROOT, "threads=%d  fp32 matmul peak %s%s%n", run.threads(),
                    fp32 == null ? "n/a" : String.format(Locale.ROOT, "%.1f GFLOP/s", fp32.bestGflops()),
                    run.peak("bf16") == null ? "" : String.format(Locale.ROOT, ", bf16 %.1f GFLOP/s",
                            run.peak("bf16").bestGflops())));
            String fmt = "%-20s %-22s %-9s %10s %9s %10s %8s %6s %14s %9s%n";
            sb.append(String.format(Locale.ROOT, fmt, "cell", "(H, N, T, C)", "system", "median ms", "IQR ms",
                    "seq/s", "GFLOP/s", "%peak", "jrnn speed ×", "max|Δ|"));
            for (CellResult cell : run.cells()) {
                for (SystemResult row : cell.systems()) {
                    BenchCell c = cell.cell();
                    if (!row.ran()) {
                        sb.append(String.format(Locale.ROOT, "%-20s %-22s %-9s %s%n", c.name(), c.shapeLabel(),
                                row.system(), "n/a: " + row.note()));
                        continue;
                    }
                    double ms = row.ms().median();
                    String line = String.format(Locale.ROOT, fmt, c.name(), c.shapeLabel(), row.system(), num(ms),
                            num(row.ms().q3() - row.ms().q1()), num(sequencesPerSecond(c, ms)), num(gflops(c, ms)),
                            percentOfPeak(c, ms, peakFor(run, row)),
                            ratio(row), row.maxAbsDiff() == null ? "" : String.format(Locale.ROOT, "%.1e",
                                    row.maxAbsDiff()));
                    String extra = bf16Ratios(row);
                    sb.append(extra.isEmpty() ? line : line.stripTrailing() + "  speed × " + extra + "\n");
                }
            }
            for (Map.Entry<String, String> peer : run.peers().entrySet()) {
                sb.append("  ").append(peer.getKey()).append(": ").append(peer.getValue()).append('\n');
            }
            sb.append('\n');
        }
        sb.append("jrnn speed × = peer ms ÷ jrnn ms (> 1: jrnn is faster), median over interleaved rounds"
                + " (* = separate process, medians of the same run); jrnn-bf16: each system's ms ÷ bf16 ms, its"
                + " %peak of the bf16 matmul peak, its max|Δ| from jrnn fp32\n");
        return sb.toString();
    }

    private static String ratio(SystemResult row) {
        if (row.speedRatio() == null) {
            return "";
        }
        return String.format(Locale.ROOT, "%.2f%s", row.speedRatio().median(), row.interleaved() ? "" : "*");
    }

    /** Three significant digits, no exponent for the usual ranges. */
    static String num(double v) {
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        } else if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        } else if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** The Markdown page: machine, command, peaks, one table per thread count, missed targets. */
    public static String markdown(Report report) {
        StringBuilder sb = new StringBuilder();
        sb.append("# jrnn bench results\n\n");
        sb.append("- date: ").append(report.date()).append('\n');
        sb.append("- CPU: ").append(report.cpu()).append('\n');
        sb.append("- Java: ").append(report.java()).append('\n');
        sb.append("- command: `").append(report.commandLine()).append("`\n");
        sb.append("- threads: ").append(report.environment()).append("\n\n");
        sb.append("Times are ms per forward (median of rounds; IQR = interquartile range). GFLOP/s counts "
                + "2·T·N·(C+H)·G·H. *jrnn speed ×* = peer ms ÷ jrnn ms, the median of per-round ratios of "
                + "interleaved blocks (> 1: jrnn is faster); * marks a peer timed in its own process "
                + "(medians of the same run). % peak = GFLOP/s ÷ the best run of a 1024³ oneDNN matmul (the median "
                + "run of the matmul is noisier than a whole cell's median). max |Δ| = largest difference from jrnn's "
                + "(fp32) output. "
                + "*jrnn-bf16* is jrnn in bf16 (`--precisions`), timed interleaved with the others: its % peak is of "
                + "the bf16 matmul peak, its ratios (vs …) are each system's ms ÷ bf16 ms (> 1: bf16 is faster).\n\n");
        List<String> missed = new ArrayList<>();
        for (RunResult run : report.runs()) {
            MatmulPeak.Peak fp32 = run.peak("fp32");
            sb.append("## ").append(run.threads()).append(run.threads() == 1 ? " thread" : " threads").append("\n\n");
            for (MatmulPeak.Peak p : run.peaks()) {
                sb.append(String.format(Locale.ROOT, "- oneDNN %s matmul peak (%d³): %.1f GFLOP/s, the best run (median %.1f; %s)%n",
                        p.dataType(), p.size(), p.bestGflops(), p.medianGflops(), p.impl()));
            }
            for (Map.Entry<String, String> peer : run.peers().entrySet()) {
                sb.append("- ").append(peer.getKey()).append(": ").append(peer.getValue()).append('\n');
            }
            sb.append("\n| cell | (H, N, T, C) | system | median ms | IQR ms | seq/s | GFLOP/s | % peak "
                    + "| jrnn speed × | max \\|Δ\\| | target |\n");
            sb.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            for (CellResult cell : run.cells()) {
                BenchCell c = cell.cell();
                for (SystemResult row : cell.systems()) {
                    if (!row.ran()) {
                        sb.append("| ").append(c.name()).append(" | ").append(c.shapeLabel()).append(" | ")
                                .append(row.system()).append(" | n/a: ").append(row.note().replace("|", "\\|"))
                                .append(" | | | | | | | |\n");
                        continue;
                    }
                    double ms = row.ms().median();
                    String[] t = target(c, row, fp32);
                    String targetCell = "";
                    if (t != null) {
                        boolean met = Boolean.parseBoolean(t[1]);
                        targetCell = t[0] + (met ? " ✓" : " **missed**");
                        if (!met) {
                            missed.add(String.format(Locale.ROOT, "%s %s, %d thread(s), %s: wanted %s, got %s",
                                    c.name(), c.shapeLabel(), run.threads(), row.system(), t[0],
                                    missedGot(c, row, ms, fp32)));
                        }
                    }
                    sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                            c.name(), c.shapeLabel(), row.system(), num(ms), num(row.ms().q3() - row.ms().q1()),
                            num(sequencesPerSecond(c, ms)), num(gflops(c, ms)), percentOfPeak(c, ms, peakFor(run, row)),
                            row.bf16Ratios() != null ? bf16Ratios(row) : ratio(row), row.maxAbsDiff() == null ? "" : String.format(Locale.ROOT, "%.1e",
                                    row.maxAbsDiff()), targetCell));
                }
            }
            sb.append('\n');
        }
        sb.append("## Missed targets\n\n");
        if (missed.isEmpty()) {
            sb.append("None.\n");
        } else {
            for (String m : missed) {
                sb.append("- ").append(m).append('\n');
            }
        }
        sb.append("\n![sequences per second](").append(CHART).append(")\n");
        return sb.toString();
    }

    private static String missedGot(BenchCell c, SystemResult row, double ms, MatmulPeak.Peak fp32) {
        return switch (row.system()) {
            case "jrnn" -> String.format(Locale.ROOT, "%.0f%% of peak", 100 * gflops(c, ms) / fp32.bestGflops());
            case BenchChild.BF16 -> String.format(Locale.ROOT, "%.2f× ONNX Runtime, max |Δ| %.1e",
                    row.bf16Ratios().get("ort").median(), row.maxAbsDiff());
            default -> ratio(row) + "×";
        };
    }

    /** Writes JSON, Markdown and chart into {@code dir}, each through a temporary file and an atomic move. */
    public static List<Path> writeAll(Report report, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        written.add(writeAtomically(dir.resolve(JSON), BenchResults.write(report).getBytes(
                java.nio.charset.StandardCharsets.UTF_8)));
        written.add(writeAtomically(dir.resolve(MARKDOWN), markdown(report).getBytes(
                java.nio.charset.StandardCharsets.UTF_8)));
        written.add(writeAtomically(dir.resolve(CHART), BenchChart.png(report)));
        return written;
    }

    static Path writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }
}
