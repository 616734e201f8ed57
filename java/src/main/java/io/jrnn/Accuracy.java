package io.jrnn;

import java.nio.FloatBuffer;
import java.util.Arrays;

/** Accuracy figures for comparing two runs of the same computation (e.g. bf16 vs fp32 outputs). */
public final class Accuracy {
    private Accuracy() {
    }

    /**
     * {@code max |a − b|} over all elements; NaN when either holds a NaN where the other does not
     * hold the same value (infinities of the same sign count as equal).
     *
     * @throws IllegalArgumentException when the shapes differ (the message names both)
     */
    public static double maxAbsError(Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("maxAbsError: expected tensors of the same shape, got "
                    + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
        FloatBuffer x = a.view();
        FloatBuffer y = b.view();
        double max = 0;
        for (int i = 0, n = x.limit(); i < n; i++) {
            float p = x.get(i);
            float q = y.get(i);
            if (Float.compare(p, q) == 0) {
                continue;
            }
            double d = Math.abs((double) p - q);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            max = Math.max(max, d);
        }
        return max;
    }

    /** The largest {@link #maxAbsError} over pairs of tensors ({@code a[i]} vs {@code b[i]}; same counts). */
    public static double maxAbsError(Tensor[] a, Tensor[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("maxAbsError: expected as many tensors on both sides, got " + a.length
                    + " and " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = maxAbsError(a[i], b[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            max = Math.max(max, d);
        }
        return max;
    }
}
