package io.jrnn.backend.dnnl;

import io.jrnn.layers.Activation;

/**
 * The Keras activations (spec §2.0) applied in place to a range of a {@code float[]}, for the
 * composed path's gate loops. One loop per activation with the switch outside it, so the JIT sees
 * straight-line bodies (the clip-style ones vectorise).
 *
 * <p>{@code tanh} and {@code sigmoid} (the hot ones: every LSTM/GRU step) are a branch-free float
 * rational approximation ({@link #tanh}; {@code sigmoid(x) = 0.5 + 0.5·tanh(x/2)}), which C2
 * auto-vectorises (AVX2/AVX-512): about 0.5 ns per element against 6–10 ns for a scalar
 * {@link Math#exp}-based one (JDK 17 intrinsifies neither {@code Math.tanh} nor a vector
 * {@code exp}). Max abs error 4.2e-7 for tanh, 2.3e-7 for sigmoid (measured over every float in
 * [−12, 12] and [−30, 30]; ComposedActivationsTest checks a dense grid and random points against
 * {@link Math#tanh} to 5e-7); the layers' outputs stay within 1e-5 of the reference backend.
 * The other transcendental ones go through {@link Math#exp} in double precision.
 *
 * <p>Written for this adapter on purpose: the reference backend is the oracle and shares no code
 * with it.
 */
final class ComposedActivations {
    private static final float SELU_SCALE = 1.0507009873554805f;
    private static final double SELU_ALPHA = 1.6732632423543772;

    private ComposedActivations() {
    }

    /** Whether {@code a} can be a recurrent-layer activation (everything elementwise). */
    static boolean supports(Activation a) {
        return a.isElementwise();
    }

    /** {@code v[from..to) = a(v[from..to))}. */
    static void apply(Activation a, float[] v, int from, int to) {
        switch (a) {
            case LINEAR -> {
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    v[i] = tanh(v[i]);
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    v[i] = sigmoid(v[i]);
                }
            }
            case HARD_SIGMOID_KERAS2 -> {
                for (int i = from; i < to; i++) {
                    v[i] = Math.max(0f, Math.min(1f, 0.2f * v[i] + 0.5f));
                }
            }
            case HARD_SIGMOID_KERAS3 -> {
                for (int i = from; i < to; i++) {
                    v[i] = Math.max(0f, Math.min(1f, v[i] / 6f + 0.5f));
                }
            }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    // NaN stays NaN, as in Keras.
                    v[i] = x < 0f ? 0f : x;
                }
            }
            case RELU6 -> {
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = x < 0f ? 0f : (x > 6f ? 6f : x);
                }
            }
            case ELU -> {
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = x > 0f ? x : (float) (Math.exp(x) - 1.0);
                }
            }
            case SELU -> {
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = x > 0f ? SELU_SCALE * x : (float) (SELU_SCALE * SELU_ALPHA * (Math.exp(x) - 1.0));
                }
            }
            case SOFTSIGN -> {
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = x / (1f + Math.abs(x));
                }
            }
            case SOFTPLUS -> {
                for (int i = from; i < to; i++) {
                    double x = v[i];
                    v[i] = (float) ((x > 0 ? x : 0) + Math.log(1.0 + Math.exp(-Math.abs(x))));
                }
            }
            case EXPONENTIAL -> {
                for (int i = from; i < to; i++) {
                    v[i] = (float) Math.exp(v[i]);
                }
            }
            case SILU -> {
                for (int i = from; i < to; i++) {
                    double x = v[i];
                    v[i] = (float) (x / (1.0 + Math.exp(-x)));
                }
            }
            case SOFTMAX -> throw new IllegalArgumentException("softmax is not an elementwise activation");
        }
    }

    /** |x| beyond which tanh(x) rounds to ±1 in the approximation below (clamped there). */
    private static final float TANH_CLAMP = 7.90531110763549805f;
    // Odd numerator and even denominator of a [13/6] minimax rational approximation of tanh on
    // [−TANH_CLAMP, TANH_CLAMP] (the coefficients Eigen's and XLA's fast float tanh use).
    private static final float A1 = 4.89352455891786e-03f;
    private static final float A3 = 6.37261928875436e-04f;
    private static final float A5 = 1.48572235717979e-05f;
    private static final float A7 = 5.12229709037114e-08f;
    private static final float A9 = -8.60467152213735e-11f;
    private static final float A11 = 2.00018790482477e-13f;
    private static final float A13 = -2.76076847742355e-16f;
    private static final float B0 = 4.89352518554385e-03f;
    private static final float B2 = 2.26843463243900e-03f;
    private static final float B4 = 1.18534705686654e-04f;
    private static final float B6 = 1.19825839466702e-06f;

    /**
     * tanh in float, branch-free (so loops over it vectorise): max abs error 4.2e-7; NaN stays NaN
     * ({@code Math.min/max} propagate it), ±∞ gives ±1, ±0 gives ±0.
     */
    static float tanh(float v) {
        float x = Math.max(-TANH_CLAMP, Math.min(TANH_CLAMP, v));
        float x2 = x * x;
        float p = x2 * A13 + A11;
        p = x2 * p + A9;
        p = x2 * p + A7;
        p = x2 * p + A5;
        p = x2 * p + A3;
        p = x2 * p + A1;
        p = x * p;
        float q = x2 * B6 + B4;
        q = x2 * q + B2;
        q = x2 * q + B0;
        return p / q;
    }

    /** {@code 1/(1+e^{−x}) = 0.5 + 0.5·tanh(x/2)}: max abs error 2.3e-7, NaN stays NaN. */
    static float sigmoid(float v) {
        return 0.5f + 0.5f * tanh(0.5f * v);
    }

    /**
     * The LSTM cell (spec §2.4) on one sample's pre-activations {@code a}: gate blocks i, f, c, o of
     * {@code w} units each, side by side from index 0 (activated in place). Updates
     * {@code c[off, off + w)} to {@code f·c + i·φ(c̃)} and writes {@code o·φ(c)} to
     * {@code h[off, off + w)}; {@code tmp} holds at least {@code w} floats of scratch.
     */
    static void lstmCell(Activation sigma, Activation phi, float[] a, int w, float[] c, float[] h, int off,
            float[] tmp) {
        apply(sigma, a, 0, 2 * w);
        apply(phi, a, 2 * w, 3 * w);
        apply(sigma, a, 3 * w, 4 * w);
        lstmUpdate(phi, a, 0, w, c, h, off, tmp);
    }

    /**
     * The LSTM state update (spec §2.4) from one sample's activated gates i, f, c̃, o of {@code w}
     * units each at {@code a[from, from + 4w)}: {@code c[off, off + w)} becomes {@code f·c + i·c̃}
     * and {@code h[off, off + w)} becomes {@code o·φ(c)}; {@code tmp} holds at least {@code w}
     * floats of scratch.
     */
    static void lstmUpdate(Activation phi, float[] a, int from, int w, float[] c, float[] h, int off, float[] tmp) {
        int f = from + w;
        int g = from + 2 * w;
        int o = from + 3 * w;
        for (int j = 0; j < w; j++) {
            float cj = a[f + j] * c[off + j] + a[from + j] * a[g + j];
            c[off + j] = cj;
            tmp[j] = cj;
        }
        apply(phi, tmp, 0, w);
        for (int j = 0; j < w; j++) {
            h[off + j] = a[o + j] * tmp[j];
        }
    }

    /**
     * The GRU {@code reset_after=true} cell (spec §2.3) on one sample: {@code x} holds the input
     * pre-activations z, r, h̃ of {@code w} units each (activated in place), {@code r[rOff, rOff + 3w)}
     * the recurrent product, to which {@code bias} (b_h) is added, or null when the product already
     * holds it. Writes {@code z·state + (1 − z)·φ(x_h̃ + r_gate·(R_h̃ + b_h̃))} to
     * {@code next[off, off + w)} ({@code next} may be {@code state}); {@code tmp} holds at least
     * {@code w} floats of scratch.
     */
    static void gruResetAfterCell(Activation sigma, Activation phi, float[] x, float[] r, int rOff, float[] bias,
            int w, float[] state, float[] next, int off, float[] tmp) {
        if (bias == null) {
            for (int j = 0; j < 2 * w; j++) {
                x[j] += r[rOff + j];
            }
        } else {
            for (int j = 0; j < 2 * w; j++) {
                x[j] += r[rOff + j] + bias[j];
            }
        }
        apply(sigma, x, 0, 2 * w);
        int rh = rOff + 2 * w;
        if (bias == null) {
            for (int j = 0; j < w; j++) {
                tmp[j] = x[2 * w + j] + x[w + j] * r[rh + j];
            }
        } else {
            for (int j = 0; j < w; j++) {
                tmp[j] = x[2 * w + j] + x[w + j] * (r[rh + j] + bias[2 * w + j]);
            }
        }
        apply(phi, tmp, 0, w);
        for (int j = 0; j < w; j++) {
            float zj = x[j];
            next[off + j] = zj * state[off + j] + (1f - zj) * tmp[j];
        }
    }
}
