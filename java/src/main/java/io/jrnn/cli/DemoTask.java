package io.jrnn.cli;

import java.util.SplittableRandom;

/**
 * The synthetic task of the bundled default model: <b>frequency classification</b> of noisy
 * sinusoids.
 *
 * <p>Each sample has {@link #STEPS} = 40 time steps of {@link #FEATURES} = 3 features and a label
 * {@code k} in {@code 0..4}. With a per-sample phase {@code φ ∈ [0, 2π)}, amplitude
 * {@code a ∈ [0.5, 1.5)} and frequency {@code f = 1.0 + 0.25·k + 0.125·(2u − 1)} cycles per 10
 * steps ({@code u} uniform in [0, 1), so the five frequency bands just touch), and
 * {@code θ_t = 2π·f·t/10 + φ}:
 * <pre>
 *   x[t,0] = a·sin(θ_t) + 0.3·ε      x[t,1] = a·cos(θ_t) + 0.3·ε      x[t,2] = 0.5·ε
 * </pre>
 * with independent {@code ε ~ N(0, 1)}. The bundled LSTM(32) → Dense(5, softmax) model reaches
 * about 96% accuracy on it.
 *
 * <p>The generator is fully deterministic: one {@link SplittableRandom}{@code (seed)} produces,
 * per sample and in this order, 124 {@code nextDouble()} values: label ({@code ⌊5u⌋}), phase,
 * amplitude, frequency jitter, then 60 Box–Muller pairs {@code (u1, u2)} giving
 * {@code ε = √(−2 ln(1−u1))·cos(2πu2)} and {@code √(−2 ln(1−u1))·sin(2πu2)} for the noise values
 * {@code 2j} and {@code 2j+1} of the sample's row-major {@code [STEPS, FEATURES]} block. Values are
 * computed in double and rounded to float once.
 *
 * <p>{@code tools/default-model/train.py} (which trains the model with PyTorch) implements the
 * same generator in NumPy and reproduces these inputs bit for bit (up to last-ulp differences of
 * the platform's {@code sin}/{@code cos}/{@code log}); see {@code tools/default-model/README.md}.
 */
public final class DemoTask {
    public static final int STEPS = 40, FEATURES = 3, CLASSES = 5;

    /** Seed of the 2000-sample test set on which {@code train.py} reports the model's accuracy. */
    public static final long TEST_SEED = 20240601L;

    static final double FREQ_BASE = 1.0;      // cycles per 10 steps, class 0
    static final double FREQ_STEP = 0.25;     // between classes
    static final double FREQ_JITTER = 0.125;  // uniform in [-J, +J)
    static final double AMP_MIN = 0.5, AMP_MAX = 1.5;
    static final double SIGNAL_NOISE = 0.3, PURE_NOISE = 0.5;
    static final int DRAWS_PER_SAMPLE = 4 + STEPS * FEATURES;

    /** Inputs {@code [n, STEPS, FEATURES]} row-major, and labels {@code [n]} in {@code 0..CLASSES-1}. */
    public record Batch(float[] inputs, int[] labels) {
    }

    private DemoTask() {
    }

    /** {@code n} samples of the task, a pure function of {@code (n, seed)}; a prefix of a longer batch. */
    public static Batch generate(int n, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] inputs = new float[Math.multiplyExact(n, STEPS * FEATURES)];
        int[] labels = new int[n];
        double[] eps = new double[STEPS * FEATURES];
        for (int s = 0; s < n; s++) {
            int k = Math.min((int) (rng.nextDouble() * CLASSES), CLASSES - 1);
            double phase = 2.0 * Math.PI * rng.nextDouble();
            double amp = AMP_MIN + (AMP_MAX - AMP_MIN) * rng.nextDouble();
            double freq = FREQ_BASE + FREQ_STEP * k + FREQ_JITTER * (2.0 * rng.nextDouble() - 1.0);
            for (int j = 0; j < eps.length; j += 2) {
                double u1 = rng.nextDouble();
                double u2 = rng.nextDouble();
                double r = Math.sqrt(-2.0 * Math.log(1.0 - u1));
                eps[j] = r * Math.cos(2.0 * Math.PI * u2);
                eps[j + 1] = r * Math.sin(2.0 * Math.PI * u2);
            }
            labels[s] = k;
            int base = s * STEPS * FEATURES;
            for (int t = 0; t < STEPS; t++) {
                double theta = 2.0 * Math.PI * freq * t / 10.0 + phase;
                int o = base + t * FEATURES;
                int e = t * FEATURES;
                inputs[o] = (float) (amp * Math.sin(theta) + SIGNAL_NOISE * eps[e]);
                inputs[o + 1] = (float) (amp * Math.cos(theta) + SIGNAL_NOISE * eps[e + 1]);
                inputs[o + 2] = (float) (PURE_NOISE * eps[e + 2]);
            }
        }
        return new Batch(inputs, labels);
    }

    /**
     * Fraction of rows of {@code probabilities} ({@code [n, CLASSES]} row-major) whose arg-max (first
     * one on ties) equals the label. Returns 0 for {@code n = 0}.
     */
    public static double accuracy(float[] probabilities, int[] labels) {
        int n = labels.length;
        if (probabilities.length != n * CLASSES) {
            throw new IllegalArgumentException("expected " + n + " x " + CLASSES + " = " + n * CLASSES
                    + " probabilities, got " + probabilities.length);
        }
        if (n == 0) {
            return 0.0;
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) {
                if (probabilities[i * CLASSES + c] > probabilities[i * CLASSES + best]) {
                    best = c;
                }
            }
            if (best == labels[i]) {
                correct++;
            }
        }
        return (double) correct / n;
    }

    /** One line for the CLI. */
    public static String describe() {
        return "frequency classification: " + CLASSES + " classes, " + STEPS + " steps × " + FEATURES
                + " features (noisy sinusoids)";
    }
}
