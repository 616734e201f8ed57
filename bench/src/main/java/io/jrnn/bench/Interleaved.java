package io.jrnn.bench;

import java.util.Arrays;

/**
 * Interleaved timing for a shared, noisy machine: two variants alternate call by call so both see
 * the same load; prints min and median per variant and their ratio. Used by the benchmarks' {@code main}s.
 */
final class Interleaved {
    private Interleaved() {
    }

    /** Applies {@code field=value} overrides (from {@code args[1..]}) to a benchmark's public parameter fields. */
    static void override(Object bench, String[] args) {
        for (int i = 1; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            try {
                java.lang.reflect.Field f = bench.getClass().getField(kv[0]);
                f.set(bench, f.getType() == int.class ? Integer.valueOf(kv[1])
                        : f.getType() == boolean.class ? Boolean.valueOf(kv[1]) : kv[1]);
            } catch (ReflectiveOperationException | ArrayIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("unknown parameter " + args[i], e);
            }
        }
    }

    /** Runs {@code first} and {@code second} alternately (3 warm-up rounds, then {@code rounds}) and prints the figures. */
    static void compare(int rounds, String firstName, Runnable first, String secondName, Runnable second) {
        long[][] times = new long[2][rounds];
        for (int r = -3; r < rounds; r++) {
            long t0 = System.nanoTime();
            first.run();
            long t1 = System.nanoTime();
            second.run();
            long t2 = System.nanoTime();
            if (r >= 0) {
                times[0][r] = t1 - t0;
                times[1][r] = t2 - t1;
            }
        }
        String[] names = {firstName, secondName};
        double[][] stats = new double[2][];
        for (int v = 0; v < 2; v++) {
            Arrays.sort(times[v]);
            stats[v] = new double[] {times[v][0] / 1e6, times[v][rounds / 2] / 1e6};
            System.out.printf("%-24s min %8.3f ms  median %8.3f ms%n", names[v], stats[v][0], stats[v][1]);
        }
        System.out.printf("ratio %s/%s: min %.3f  median %.3f%n", firstName, secondName, stats[0][0] / stats[1][0],
                stats[0][1] / stats[1][1]);
    }
}
