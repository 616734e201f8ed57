package io.jrnn.backend.dnnl;

import java.util.Locale;

/**
 * How long oneDNN's idle OpenMP threads spin before they sleep, as GNU libgomp (which the JavaCPP
 * build bundles) computes it from the environment when it loads: {@code GOMP_SPINCOUNT} if set, else
 * 30 billion spins for {@code OMP_WAIT_POLICY=ACTIVE}, 0 for {@code PASSIVE} and 300 000 when unset;
 * at most 1 000 (ACTIVE) or 100 when there are more OpenMP threads than processors. libgomp counts
 * about 100 spins per microsecond.
 *
 * <p>It matters to the composed path's Java step: after the input projection (a oneDNN matmul) the
 * OpenMP threads go on spinning, and a Java worker thread that wants the same core loses to them
 * until they sleep. {@link #idleThreadsSleepSoon} says whether they sleep within about 0.1 ms.
 */
final class OpenMpWaiting {
    /** At most this many spins (about 0.1 ms) leaves the cores to Java threads soon after a oneDNN call. */
    static final long BRIEF_SPINS = 10_000;
    /** The spin count libgomp runs with in this process. */
    static final long SPINS = spins(System.getenv("OMP_WAIT_POLICY"), System.getenv("GOMP_SPINCOUNT"),
            WeightFormat.THREADS, Runtime.getRuntime().availableProcessors());

    private OpenMpWaiting() {
    }

    /** Whether idle OpenMP threads sleep within {@link #BRIEF_SPINS} spins, so Java workers get the cores. */
    static boolean idleThreadsSleepSoon() {
        return SPINS <= BRIEF_SPINS;
    }

    /** For {@code describe()}: the spin count and what it means for the composed path's Java step. */
    static String describe() {
        return "idle OpenMP threads spin " + (SPINS == Long.MAX_VALUE ? "for ever" : SPINS + " times")
                + " (OMP_WAIT_POLICY, GOMP_SPINCOUNT; "
                + (idleThreadsSleepSoon() ? "at most " + BRIEF_SPINS + ": the batch-1 Java step may use worker threads)"
                        : "over " + BRIEF_SPINS + ": the batch-1 Java step runs only with one thread)");
    }

    /**
     * libgomp's spin count for these settings ({@code Long.MAX_VALUE}: for ever).
     *
     * @param policy {@code OMP_WAIT_POLICY} or null
     * @param spinCount {@code GOMP_SPINCOUNT} or null: a number with an optional k/M/G/T suffix, or infinite
     */
    static long spins(String policy, String spinCount, int threads, int processors) {
        int wait = waitPolicy(policy);
        Long parsed = parseSpinCount(spinCount);
        long spins = parsed != null ? parsed : wait > 0 ? 30_000_000_000L : wait == 0 ? 0 : 300_000;
        if (threads > processors) {
            spins = Math.min(spins, wait > 0 ? 1_000 : wait < 0 ? 100 : spins);
        }
        return spins;
    }

    /** 1 ACTIVE, 0 PASSIVE, -1 unset or unrecognised (libgomp warns and ignores it). */
    private static int waitPolicy(String policy) {
        if (policy == null) {
            return -1;
        }
        String p = policy.trim().toLowerCase(Locale.ROOT);
        return p.equals("active") ? 1 : p.equals("passive") ? 0 : -1;
    }

    /** libgomp's {@code parse_spincount}: null where it would ignore the value. */
    static Long parseSpinCount(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("infinite") || v.equals("infinity")) {
            return Long.MAX_VALUE;
        }
        long multiplier = 1;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> multiplier = 1_000L;
                case 'm' -> multiplier = 1_000_000L;
                case 'g' -> multiplier = 1_000_000_000L;
                case 't' -> multiplier = 1_000_000_000_000L;
                default -> multiplier = 1;
            }
            if (multiplier != 1) {
                v = v.substring(0, v.length() - 1).trim();
            }
        }
        if (v.isEmpty() || !v.chars().allMatch(Character::isDigit)) {
            return null;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null; // out of range: libgomp's strtoull fails and it ignores the value
        }
        return n > Long.MAX_VALUE / multiplier ? Long.MAX_VALUE : n * multiplier;
    }
}
