package io.jrnn.backend.dnnl;

import io.jrnn.layers.Activation;

/**
 * The Keras activations (spec §2.0) applied in place to a range of a {@code float[]}, for the
 * composed path's gate loops. One loop per activation with the switch outside it, so the JIT sees
 * straight-line bodies (the clip-style ones vectorise). Transcendental ones go through
 * {@link Math#exp} (a JIT intrinsic) in double precision; {@code tanh} is
 * {@code sign(x)·(1 − e^{−2|x|}) / (1 + e^{−2|x|})}, which neither overflows nor cancels.
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
                    v[i] = (float) (1.0 / (1.0 + Math.exp(-(double) v[i])));
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

    static float tanh(float x) {
        double e = Math.exp(-2.0 * Math.abs((double) x));
        double r = (1.0 - e) / (1.0 + e);
        // NaN: r is NaN; copySign keeps it NaN.
        return (float) Math.copySign(r, x);
    }
}
