package io.jrnn.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A noise-resistant cross-check of {@link JrnnVsOneDnnBenchmark} for shared machines: in one JVM,
 * alternates blocks of {@code jrnn()} and {@code directOneDnn()} calls (order swapped every round)
 * and measures the calling thread's CPU time per call, so time the thread spends descheduled by
 * other jobs does not count and slow drifts hit both sides of each pair. Prints, per cell and shape,
 * the median CPU ms per call of each path and the median and quartiles of the per-round ratio
 * jrnn / direct. oneDNN runs on the calling thread with {@code OMP_NUM_THREADS=1}; with more
 * threads, worker threads' time would be missed.
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=ACTIVE java -cp bench/target/benchmarks.jar io.jrnn.bench.PairedCpuTime \
 *     [cells=LSTM,GRU,GRU_RESET_BEFORE] [shapes=512x64x25x512,128x32x50x64] [rounds=60] [budgetMs=200]
 * </pre>
 * {@code budgetMs} is the CPU time per block, which sets the calls per block.
 */
public final class PairedCpuTime {
    private PairedCpuTime() {
    }

    public static void main(String[] args) {
        List<String> cells = List.of("LSTM", "GRU", "GRU_RESET_BEFORE");
        List<String> shapes = List.of("512x64x25x512", "128x32x50x64");
        int rounds = 60;
        double budgetMs = 200;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "cells" -> cells = List.of(kv[1].split(","));
                case "shapes" -> shapes = List.of(kv[1].split(","));
                case "rounds" -> rounds = Integer.parseInt(kv[1]);
                case "budgetMs" -> budgetMs = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        List<String> rows = new ArrayList<>();
        for (String shape : shapes) {
            for (String cell : cells) {
                JrnnVsOneDnnBenchmark b = new JrnnVsOneDnnBenchmark();
                b.cell = JrnnVsOneDnnBenchmark.Cell.valueOf(cell);
                b.shape = shape;
                b.setUp();
                try {
                    rows.add(measure(mx, b, rounds, budgetMs));
                } finally {
                    b.tearDown();
                }
                System.out.println(rows.get(rows.size() - 1));
            }
        }
        System.out.println();
        System.out.println("| cell | shape (H, N, T, C) | direct CPU ms/call | jrnn CPU ms/call | jrnn / direct (median, IQR) |");
        System.out.println("| --- | --- | ---: | ---: | ---: |");
        rows.forEach(System.out::println);
    }

    private static String measure(ThreadMXBean mx, JrnnVsOneDnnBenchmark b, int rounds, double budgetMs) {
        // Warm up both paths (JIT, caches) and size the blocks.
        long c0 = mx.getCurrentThreadCpuTime();
        int warm = 0;
        while (mx.getCurrentThreadCpuTime() - c0 < 2_000_000_000L || warm < 10) {
            b.jrnn();
            b.directOneDnn();
            warm++;
        }
        double perPairMs = (mx.getCurrentThreadCpuTime() - c0) / 1e6 / warm;
        int block = Math.max(1, (int) Math.round(budgetMs / (perPairMs / 2)));
        double[] jrnn = new double[rounds];
        double[] direct = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            boolean jrnnFirst = (r & 1) == 0;
            for (int k = 0; k < 2; k++) {
                boolean doJrnn = (k == 0) == jrnnFirst;
                long start = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < block; i++) {
                    if (doJrnn) {
                        b.jrnn();
                    } else {
                        b.directOneDnn();
                    }
                }
                double ms = (mx.getCurrentThreadCpuTime() - start) / 1e6 / block;
                if (doJrnn) {
                    jrnn[r] = ms;
                } else {
                    direct[r] = ms;
                }
            }
            ratio[r] = jrnn[r] / direct[r];
        }
        Arrays.sort(jrnn);
        Arrays.sort(direct);
        Arrays.sort(ratio);
        return String.format("| %s | %s | %.3f | %.3f | %.3f (%.3f–%.3f) |", b.cell, b.shape.replace("x", ", "),
                median(direct), median(jrnn), median(ratio), ratio[rounds / 4], ratio[(3 * rounds) / 4]);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
