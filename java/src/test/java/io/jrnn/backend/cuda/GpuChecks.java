package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers of the GPU tests: skip without a device, compare, and print one summary line per case. */
final class GpuChecks {
    private GpuChecks() {
    }

    static void assumeGpu() {
        Assumptions.assumeTrue(Cuda.usable(), () -> "no usable CUDA device: " + Cuda.status().reason());
    }

    /** The largest absolute difference (NaN counts as infinite). */
    static double maxAbsErr(Tensor expected, Tensor actual, String where) {
        assertArrayEquals(expected.shape(), actual.shape(), where + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }

    /** Prints {@code GPU-PARITY <case> maxAbsErr=<x>} (the bundle collects the worst) and checks the tolerance. */
    static void report(String testCase, double maxAbsErr, double tolerance) {
        System.out.println("GPU-PARITY " + testCase.replace(' ', '_') + " maxAbsErr="
                + String.format(Locale.ROOT, "%.3e", maxAbsErr));
        assertTrue(maxAbsErr <= tolerance, testCase + ": max abs error " + maxAbsErr + " > " + tolerance);
    }
}
