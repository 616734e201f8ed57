package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.layers.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The composed path's fast tanh and sigmoid against {@link Math#tanh} / {@link Math#exp} in double. */
class ComposedActivationsTest {
    private static final double TOLERANCE = 5e-7;

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @Test
    void tanhAndSigmoidStayWithin5e7OfDoublePrecisionOnADenseGridAndRandomPoints() {
        double worstTanh = 0;
        double worstSigmoid = 0;
        for (int i = -400_000; i <= 400_000; i++) {
            float x = i * 5e-5f; // [-20, 20] in steps of 5e-5
            worstTanh = Math.max(worstTanh, Math.abs(ComposedActivations.tanh(x) - Math.tanh(x)));
            worstSigmoid = Math.max(worstSigmoid, Math.abs(ComposedActivations.sigmoid(x) - sigmoid(x)));
        }
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 1_000_000; i++) {
            // Log-uniform magnitudes from 1e-30 to 1e3, both signs.
            float x = (float) (Math.pow(10, rng.nextDouble(-30, 3)) * (rng.nextBoolean() ? 1 : -1));
            worstTanh = Math.max(worstTanh, Math.abs(ComposedActivations.tanh(x) - Math.tanh(x)));
            worstSigmoid = Math.max(worstSigmoid, Math.abs(ComposedActivations.sigmoid(x) - sigmoid(x)));
        }
        assertTrue(worstTanh <= TOLERANCE, "tanh max abs error " + worstTanh);
        assertTrue(worstSigmoid <= TOLERANCE, "sigmoid max abs error " + worstSigmoid);
        // And not a trivially loose approximation: the error is real but small.
        assertTrue(worstTanh > 0 && worstSigmoid > 0);
    }

    @Test
    void specialValues() {
        assertTrue(Float.isNaN(ComposedActivations.tanh(Float.NaN)));
        assertTrue(Float.isNaN(ComposedActivations.sigmoid(Float.NaN)));
        assertEquals(1f, ComposedActivations.tanh(Float.POSITIVE_INFINITY));
        assertEquals(-1f, ComposedActivations.tanh(Float.NEGATIVE_INFINITY));
        assertEquals(1f, ComposedActivations.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0f, ComposedActivations.sigmoid(Float.NEGATIVE_INFINITY));
        assertEquals(0f, ComposedActivations.tanh(0f));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(ComposedActivations.tanh(-0f)));
        assertEquals(0.5f, ComposedActivations.sigmoid(0f));
        // Odd symmetry, exactly.
        for (float x : new float[] {1e-3f, 0.3f, 1f, 2.5f, 7f, 9f}) {
            assertEquals(-ComposedActivations.tanh(x), ComposedActivations.tanh(-x), "x=" + x);
        }
    }

    @Test
    void applyUsesThemOverARange() {
        float[] v = {-3f, -0.5f, 0f, 0.5f, 3f, 42f};
        float[] t = v.clone();
        ComposedActivations.apply(Activation.TANH, t, 1, 5);
        float[] s = v.clone();
        ComposedActivations.apply(Activation.SIGMOID, s, 1, 5);
        assertEquals(-3f, t[0]);
        assertEquals(42f, t[5]);
        assertEquals(42f, s[5]);
        for (int i = 1; i < 5; i++) {
            assertEquals(Math.tanh(v[i]), t[i], TOLERANCE, "tanh " + v[i]);
            assertEquals(sigmoid(v[i]), s[i], TOLERANCE, "sigmoid " + v[i]);
        }
    }
}
