package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
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

    /**
     * The error of one element: 0 where both are the same infinity or both NaN (the reference
     * propagates them as Keras does), infinite where only one side is infinite or NaN, else the
     * absolute difference.
     */
    static double elementError(float expected, float actual) {
        if (expected == actual || (Float.isNaN(expected) && Float.isNaN(actual))) {
            return 0;
        }
        double d = Math.abs((double) expected - actual);
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }

    /** The largest {@link #elementError} (matching infinities and NaNs count 0, a mismatch of them infinite). */
    static double maxAbsErr(Tensor expected, Tensor actual, String where) {
        assertArrayEquals(expected.shape(), actual.shape(), where + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            worst = Math.max(worst, elementError(e[i], a[i]));
        }
        return worst;
    }

    /** The precision field of a {@code GPU-PARITY} line: fp32, tf32, fp16 or bf16. */
    static String label(Precision precision) {
        return precision.name().toLowerCase(Locale.ROOT);
    }

    /**
     * One {@code GPU-PARITY <case> precision=<p> maxAbsErr=<x> tolerance=<t>} line: the bundle's
     * summary groups the cases by their precision field and checks each against its tolerance.
     */
    static String parityLine(String testCase, Precision precision, double maxAbsErr, double tolerance) {
        return "GPU-PARITY " + testCase.replace(' ', '_') + " precision=" + label(precision) + " maxAbsErr="
                + String.format(Locale.ROOT, "%.3e", maxAbsErr) + " tolerance=" + String.format(Locale.ROOT, "%.3g",
                        tolerance);
    }

    /**
     * The same for a case checked by error relative to {@code max(1, |expected|)}: {@code scaledErr}
     * (the largest such error) is what the summary checks against the tolerance.
     */
    static String parityLine(String testCase, Precision precision, double maxAbsErr, double scaledErr,
            double tolerance) {
        return parityLine(testCase, precision, maxAbsErr, tolerance) + " scaledErr="
                + String.format(Locale.ROOT, "%.3e", scaledErr);
    }

    /** Prints {@link #parityLine} (the bundle collects the worst per precision) and checks the tolerance. */
    static void report(String testCase, Precision precision, double maxAbsErr, double tolerance) {
        System.out.println(parityLine(testCase, precision, maxAbsErr, tolerance));
        assertTrue(maxAbsErr <= tolerance, testCase + ": max abs error " + maxAbsErr + " > " + tolerance);
    }
}
