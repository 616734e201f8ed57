package io.jrnn.layers;

/** Applies activations to whole arrays, for the non-recurrent layers (Dense, Activation). */
final class Activations {
    private Activations() {
    }

    /** In place over rows of width {@code width} (softmax is row-wise, the rest elementwise). */
    static void apply(Activation a, float[] values, int width) {
        if (a == Activation.LINEAR) {
            return;
        }
        if (a == Activation.SOFTMAX) {
            for (int row = 0; row < values.length / width; row++) {
                int off = row * width;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < width; j++) {
                    max = Math.max(max, values[off + j]);
                }
                double sum = 0;
                for (int j = 0; j < width; j++) {
                    double e = Math.exp(values[off + j] - max);
                    values[off + j] = (float) e;
                    sum += e;
                }
                for (int j = 0; j < width; j++) {
                    values[off + j] = (float) (values[off + j] / sum);
                }
            }
            return;
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = one(a, values[i]);
        }
    }

    static float one(Activation a, float x) {
        return switch (a) {
            case LINEAR -> x;
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case HARD_SIGMOID_KERAS2 -> Math.max(0f, Math.min(1f, 0.2f * x + 0.5f));
            case HARD_SIGMOID_KERAS3 -> Math.max(0f, Math.min(1f, x / 6f + 0.5f));
            case RELU -> x > 0 ? x : (x == x ? 0f : x);
            case RELU6 -> x != x ? x : Math.max(0f, Math.min(6f, x));
            case ELU -> x > 0 ? x : (float) Math.expm1(x);
            case SELU -> (float) (1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x)));
            case SOFTSIGN -> x / (1f + Math.abs(x));
            case SOFTPLUS -> (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs((double) x))));
            case EXPONENTIAL -> (float) Math.exp(x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise");
        };
    }
}
