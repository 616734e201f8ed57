package io.jrnn.backend.cuda;

import io.jrnn.Precision;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The GPU benchmark's cases (DeepBench inference sizes), statistics and tables; pure Java, no
 * device, so its arithmetic and formatting are unit-tested ({@code GpuBenchReportTest}).
 */
final class GpuBenchReport {
    /** The recurrent cell and its gate count. */
    enum Cell {
        LSTM(4), GRU(3);

        final int gates;

        Cell(int gates) {
            this.gates = gates;
        }

        String lower() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One benchmark shape: {@code H} units, batch {@code N}, {@code T} steps, {@code C} input features.
     */
    record Case(Cell cell, int hidden, int batch, int steps, int input, Precision precision) {
        Case {
            if (hidden <= 0 || batch <= 0 || steps <= 0 || input <= 0) {
                throw new IllegalArgumentException("benchmark case: expected positive H, N, T, C, got H=" + hidden
                        + " N=" + batch + " T=" + steps + " C=" + input);
            }
        }

        /** {@code lstm-h512-n1-t25-fp32}. */
        String id() {
            return cell.lower() + "-h" + hidden + "-n" + batch + "-t" + steps + (input == hidden ? "" : "-c" + input)
                    + "-" + precision;
        }

        /**
         * Floating-point operations of one forward pass: the gate matrix products, 2 per multiply-add,
         * {@code 2·G·H·(C + H)·N·T} (the element-wise gate math is left out, as DeepBench does).
         */
        double flops() {
            return 2.0 * cell.gates * hidden * ((double) input + hidden) * batch * steps;
        }

        /** Bytes of the float32 input {@code [N, T, C]}. */
        long inputBytes() {
            return 4L * batch * steps * input;
        }

        /** Bytes of the float32 output sequence {@code [N, T, H]}. */
        long outputBytes() {
            return 4L * batch * steps * hidden;
        }
    }

    /** The precisions of the subset that also runs in TF32 and FP16 (besides FP32). */
    static boolean inPrecisionSubset(Cell cell, int hidden, int batch, int steps) {
        return cell == Cell.GRU || (hidden == 1024 && (batch == 4 || batch == 64) && steps == 25);
    }

    /**
     * DeepBench inference sizes: LSTM {@code H ∈ {512, 1024, 1536} × N ∈ {1, 4, 32, 64} × T ∈ {25, 50}},
     * GRU {@code H = 1024, N = 4, T = 375}, all with {@code C = H}, in FP32; the subset of
     * {@link #inPrecisionSubset} again in TF32 and FP16. {@code quick}: LSTM {@code H ∈ {512, 1536} ×
     * N ∈ {1, 64} × T = 25} and the GRU in FP32, plus the GRU in FP16.
     */
    static List<Case> deepBench(boolean quick) {
        List<Case> cases = new ArrayList<>();
        int[] hiddens = quick ? new int[] {512, 1536} : new int[] {512, 1024, 1536};
        int[] batches = quick ? new int[] {1, 64} : new int[] {1, 4, 32, 64};
        int[] steps = quick ? new int[] {25} : new int[] {25, 50};
        for (int h : hiddens) {
            for (int n : batches) {
                for (int t : steps) {
                    cases.add(new Case(Cell.LSTM, h, n, t, h, Precision.FP32));
                }
            }
        }
        cases.add(new Case(Cell.GRU, 1024, 4, 375, 1024, Precision.FP32));
        if (quick) {
            cases.add(new Case(Cell.GRU, 1024, 4, 375, 1024, Precision.FP16));
            return cases;
        }
        for (Precision p : new Precision[] {Precision.TF32, Precision.FP16}) {
            for (Case c : List.copyOf(cases)) {
                if (c.precision() == Precision.FP32 && inPrecisionSubset(c.cell(), c.hidden(), c.batch(), c.steps())) {
                    cases.add(new Case(c.cell(), c.hidden(), c.batch(), c.steps(), c.input(), p));
                }
            }
        }
        return cases;
    }

    /** Median and the 10th/90th percentiles of a sample (linear interpolation between ranks). */
    record Stats(double median, double p10, double p90, int count) {
        static Stats of(double[] samples) {
            if (samples.length == 0) {
                throw new IllegalArgumentException("statistics of an empty sample");
            }
            double[] s = samples.clone();
            Arrays.sort(s);
            return new Stats(percentile(s, 50), percentile(s, 10), percentile(s, 90), s.length);
        }

        /** {@code (p90 − p10) / median}, the relative spread. */
        double spread() {
            return median == 0 ? 0 : (p90 - p10) / median;
        }
    }

    /** The {@code q}-th percentile (0–100) of sorted values, linearly interpolated. */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 1) {
            return sorted[0];
        }
        double rank = q / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }

    /**
     * The median of the per-pair ratios {@code jrnn[i] / direct[i] − 1} of interleaved runs: jrnn's
     * overhead over the direct cuDNN call (0.02 = 2 % slower).
     */
    static double pairedOverhead(double[] jrnn, double[] direct) {
        if (jrnn.length != direct.length || jrnn.length == 0) {
            throw new IllegalArgumentException("paired overhead: expected two samples of the same non-zero length, got "
                    + jrnn.length + " and " + direct.length);
        }
        double[] ratios = new double[jrnn.length];
        for (int i = 0; i < jrnn.length; i++) {
            ratios[i] = jrnn[i] / direct[i] - 1;
        }
        return Stats.of(ratios).median();
    }

    /**
     * One measured case; times in milliseconds. The headline pair ({@code jrnn}, {@code direct},
     * {@code overhead}) feeds both sides from a page-locked input ({@link CudaBackend#pinnedTensor};
     * the direct path DMAs straight from it and into pinned output memory, no copies); the
     * {@code pageable} pair feeds both from an ordinary (pageable) tensor (the direct path stages
     * through its pinned buffers with memcpy). {@code aa} is the A/A control: one jrnn instance
     * against an identical one, measured the same way as {@code overhead} (its spread is the
     * measurement's resolution). {@code error} is non-null when the case failed (the other fields
     * may then be {@code null}/NaN).
     */
    record Row(Case c, Stats jrnn, Stats direct, double overhead, double aa, Stats jrnnPageable,
            Stats directPageable, double overheadPageable, Stats compute, double maxAbsDiff, String path,
            String error) {
        static Row failed(Case c, String error) {
            return new Row(c, null, null, Double.NaN, Double.NaN, null, null, Double.NaN, null, Double.NaN, "", error);
        }

        /** TFLOP/s of the direct cuDNN compute alone ({@link Case#flops} / compute median). */
        double computeTflops() {
            return compute == null || compute.median() <= 0 ? Double.NaN : c.flops() / (compute.median() * 1e-3) / 1e12;
        }
    }

    /** The overhead target: jrnn end to end at most 2 % slower than the same cuDNN call made directly. */
    static final double OVERHEAD_TARGET = 0.02;

    static final String CSV_HEADER = "case,cell,H,N,T,C,precision,jrnn_ms,jrnn_p10_ms,jrnn_p90_ms,direct_ms,"
            + "direct_p10_ms,direct_p90_ms,overhead_pct,aa_pct,jrnn_pageable_ms,direct_pageable_ms,overhead_pageable_pct,"
            + "cudnn_compute_ms,compute_tflops,max_abs_diff,jrnn_path,error";

    static String csv(List<Row> rows) {
        StringBuilder s = new StringBuilder(CSV_HEADER).append('\n');
        for (Row r : rows) {
            Case c = r.c();
            s.append(String.join(",", c.id(), c.cell().lower(), Integer.toString(c.hidden()),
                    Integer.toString(c.batch()), Integer.toString(c.steps()), Integer.toString(c.input()),
                    c.precision().toString(),
                    num(r.jrnn() == null ? Double.NaN : r.jrnn().median()),
                    num(r.jrnn() == null ? Double.NaN : r.jrnn().p10()),
                    num(r.jrnn() == null ? Double.NaN : r.jrnn().p90()),
                    num(r.direct() == null ? Double.NaN : r.direct().median()),
                    num(r.direct() == null ? Double.NaN : r.direct().p10()),
                    num(r.direct() == null ? Double.NaN : r.direct().p90()),
                    num(r.overhead() * 100),
                    num(r.aa() * 100),
                    num(r.jrnnPageable() == null ? Double.NaN : r.jrnnPageable().median()),
                    num(r.directPageable() == null ? Double.NaN : r.directPageable().median()),
                    num(r.overheadPageable() * 100),
                    num(r.compute() == null ? Double.NaN : r.compute().median()),
                    num(r.computeTflops()),
                    Double.isNaN(r.maxAbsDiff()) ? "" : String.format(Locale.ROOT, "%.3g", r.maxAbsDiff()),
                    csvText(r.path()), csvText(r.error() == null ? "" : r.error()))).append('\n');
        }
        return s.toString();
    }

    static String markdown(List<Row> rows) {
        StringBuilder s = new StringBuilder();
        s.append("Pinned input: both sides read a page-locked input tensor (jrnn: CudaBackend.pinnedTensor; direct:"
                + " DMA straight from it, output DMA'd into pinned memory, no copies). Pageable input: an ordinary"
                + " tensor (direct: memcpy through its pinned staging buffers). The direct path runs cuDNN on jrnn's"
                + " device memory (weights, workspace, x, y, states), after a JIT warm-up of both sides; the pinned pair"
                + " is measured on " + GpuBenchmark.INSTANCES + " independent jrnn instances, each with its own direct"
                + " twin, and the overhead is the median of all per-pair ratios. A/A: one jrnn instance against an"
                + " identical one, measured the same way (the measurement's resolution).\n\n");
        s.append("| case | jrnn e2e ms, pinned input (p10–p90) | direct cuDNN e2e ms, pinned input (p10–p90) "
                + "| jrnn overhead (pinned) | A/A: jrnn vs identical jrnn | jrnn e2e ms, pageable | direct e2e ms, pageable | jrnn overhead (pageable) "
                + "| cuDNN compute ms | TFLOP/s | max abs diff |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            if (r.error() != null) {
                s.append("| ").append(r.c().id()).append(" | failed: ").append(r.error().replace('|', '/'))
                        .append(" | | | | | | | | | |\n");
                continue;
            }
            s.append("| ").append(r.c().id())
                    .append(" | ").append(timing(r.jrnn()))
                    .append(" | ").append(timing(r.direct()))
                    .append(" | ").append(String.format(Locale.ROOT, "%+.1f %%", r.overhead() * 100))
                    .append(r.overhead() <= OVERHEAD_TARGET ? "" : " ✗")
                    .append(" | ").append(String.format(Locale.ROOT, "%+.1f %%", r.aa() * 100))
                    .append(" | ").append(String.format(Locale.ROOT, "%.3f", r.jrnnPageable().median()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.3f", r.directPageable().median()))
                    .append(" | ").append(String.format(Locale.ROOT, "%+.1f %%", r.overheadPageable() * 100))
                    .append(" | ").append(String.format(Locale.ROOT, "%.3f", r.compute().median()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.1f", r.computeTflops()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.2g", r.maxAbsDiff()))
                    .append(" |\n");
        }
        long within = rows.stream().filter(r -> r.error() == null && r.overhead() <= OVERHEAD_TARGET).count();
        long measured = rows.stream().filter(r -> r.error() == null).count();
        s.append('\n').append(String.format(Locale.ROOT,
                "%d of %d measured cases within the %.0f %% overhead target on pinned input (✗ marks the others);"
                        + " %d failed.%n",
                within, measured, OVERHEAD_TARGET * 100, rows.size() - measured));
        return s.toString();
    }

    private static String timing(Stats t) {
        return String.format(Locale.ROOT, "%.3f (%.3f–%.3f)", t.median(), t.p10(), t.p90());
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String csvText(String v) {
        return v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0
                ? '"' + v.replace("\"", "\"\"").replace('\n', ' ') + '"'
                : v;
    }

    private GpuBenchReport() {
    }
}
