package io.jrnn.layers;

import java.util.SplittableRandom;

/** Keras's default initializers (glorot_uniform, orthogonal, zeros), seedable. Same distributions as Keras, not the same draws. */
final class Initializers {
    private Initializers() {
    }

    /** glorot_uniform for a [fanIn, fanOut] matrix: U(−l, l), l = √(6 / (fanIn + fanOut)). */
    static float[] glorotUniform(int fanIn, int fanOut, SplittableRandom rng) {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        float[] w = new float[fanIn * fanOut];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        return w;
    }

    /**
     * orthogonal for a [rows, cols] matrix (gain 1): orthonormal rows when rows ≤ cols, else
     * orthonormal columns — Gram–Schmidt on a standard normal draw.
     */
    static float[] orthogonal(int rows, int cols, SplittableRandom rng) {
        int small = Math.min(rows, cols);
        int large = Math.max(rows, cols);
        // small vectors of length large, orthonormalised.
        double[][] v = new double[small][large];
        for (int a = 0; a < small; a++) {
            for (int i = 0; i < large; i++) {
                v[a][i] = gaussian(rng);
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int b = 0; b < a; b++) {
                    double dot = 0;
                    for (int i = 0; i < large; i++) {
                        dot += v[a][i] * v[b][i];
                    }
                    for (int i = 0; i < large; i++) {
                        v[a][i] -= dot * v[b][i];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < large; i++) {
                norm += v[a][i] * v[a][i];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < large; i++) {
                v[a][i] /= norm;
            }
        }
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = (float) (rows <= cols ? v[r][c] : v[c][r]);
            }
        }
        return w;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box–Muller.
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
