package io.jrnn.bench;

import java.util.Arrays;
import java.util.List;

/**
 * Interleaved timing for a shared machine: every system is warmed up, then each round runs one
 * block of calls per system (≈ {@code blockMs} each; the order rotates every round), so drifts in
 * the machine's load hit every system alike, and the per-round ratio of two systems compares calls
 * made moments apart. Each block starts with one untimed call; with more than one thread, the
 * sampler first sleeps {@code settleMs} so the previous system's spinning worker threads (OpenMP's
 * {@code GOMP_SPINCOUNT}, ONNX Runtime's spin) go idle before the next system's are timed.
 *
 * @param warmupMs per system, before the first round (at least two calls)
 * @param rounds   rounds of blocks
 * @param blockMs  target length of one timed block
 * @param settleMs pause between blocks when threads &gt; 1
 */
public record Sampler(long warmupMs, int rounds, long blockMs, long settleMs) {

    public Sampler {
        if (warmupMs < 0 || rounds < 1 || blockMs < 1 || settleMs < 0) {
            throw new IllegalArgumentException("sampler: expected warmupMs >= 0, rounds >= 1, blockMs >= 1,"
                    + " settleMs >= 0, got " + warmupMs + ", " + rounds + ", " + blockMs + ", " + settleMs);
        }
    }

    /** Few short rounds: {@code jrnn bench --quick}. */
    public static Sampler quick() {
        return new Sampler(150, 5, 25, 40);
    }

    /** The full run. */
    public static Sampler full() {
        return new Sampler(1000, 15, 150, 80);
    }

    /** Per system, per round: milliseconds per call. */
    public double[][] sample(List<Peer.Instance> systems, int threads) throws Exception {
        int k = systems.size();
        int[] calls = new int[k];
        for (int s = 0; s < k; s++) {
            Peer.Instance sys = systems.get(s);
            long start = System.nanoTime();
            long end = start + warmupMs * 1_000_000L;
            int count = 0;
            do {
                sys.run();
                count++;
            } while (count < 2 || System.nanoTime() < end);
            double perCallMs = (System.nanoTime() - start) / 1e6 / count;
            calls[s] = (int) Math.max(1, Math.min(100_000, Math.round(blockMs / perCallMs)));
        }
        double[][] ms = new double[k][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < k; i++) {
                int s = (i + r) % k;
                Peer.Instance sys = systems.get(s);
                if (threads > 1 && settleMs > 0) {
                    Thread.sleep(settleMs);
                }
                sys.run();
                long t0 = System.nanoTime();
                for (int c = 0; c < calls[s]; c++) {
                    sys.run();
                }
                ms[s][r] = (System.nanoTime() - t0) / 1e6 / calls[s];
            }
        }
        return ms;
    }

    /** Median, quartiles and minimum of samples. */
    public record Stats(double median, double q1, double q3, double min, int count) {
        public static Stats of(double[] values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("stats: expected at least one sample, got none");
            }
            double[] s = values.clone();
            Arrays.sort(s);
            return new Stats(quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75), s[0], s.length);
        }

        /** Linear interpolation between closest ranks. */
        static double quantile(double[] sorted, double p) {
            double pos = p * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(sorted.length - 1, lo + 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }
}
