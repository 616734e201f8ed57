package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrnn.Precision;
import io.jrnn.Tensor;
import org.junit.jupiter.api.Test;

/** The GPU tests' comparison (host only): matching infinities and NaNs are equal, mismatches of them fail. */
class GpuChecksTest {
    private static final float INF = Float.POSITIVE_INFINITY;

    @Test
    void sameInfinitiesAndNaNsMatchAndOtherwiseTheDifferenceCounts() {
        assertEquals(0, GpuChecks.elementError(INF, INF));
        assertEquals(0, GpuChecks.elementError(-INF, -INF));
        assertEquals(0, GpuChecks.elementError(Float.NaN, Float.NaN));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(INF, -INF));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(INF, 3e38f));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(1f, INF));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(Float.NaN, 1f));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(1f, Float.NaN));
        assertEquals(Double.POSITIVE_INFINITY, GpuChecks.elementError(INF, Float.NaN));
        assertEquals(0.25, GpuChecks.elementError(1f, 1.25f));
    }

    @Test
    void maxAbsErrIgnoresMatchingNonFiniteValuesButNotMismatches() {
        try (Tensor e = Tensor.of(new float[] {INF, Float.NaN, 1f, -INF}, 2, 2);
                Tensor a = Tensor.of(new float[] {INF, Float.NaN, 1.5f, -INF}, 2, 2);
                Tensor finite = Tensor.of(new float[] {INF, Float.NaN, 1f, 7f}, 2, 2)) {
            assertEquals(0.5, GpuChecks.maxAbsErr(e, a, "t"));
            assertEquals(Double.POSITIVE_INFINITY, GpuChecks.maxAbsErr(e, finite, "t"));
        }
    }

    @Test
    void parityLinesCarryAnExplicitPrecisionAndTolerance() {
        assertEquals("GPU-PARITY LSTM_x_TF32 precision=tf32 maxAbsErr=1.000e-03 tolerance=0.0200",
                GpuChecks.parityLine("LSTM x TF32", Precision.TF32, 1e-3, 2e-2));
        assertEquals("GPU-PARITY a precision=bf16 maxAbsErr=5.000e-01 tolerance=0.0200 scaledErr=1.000e-03",
                GpuChecks.parityLine("a", Precision.BF16, 0.5, 1e-3, 2e-2));
    }
}
