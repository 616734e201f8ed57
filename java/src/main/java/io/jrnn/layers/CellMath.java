package io.jrnn.layers;

/** Row-major float helpers for the Java cell steps (cells, legacy cells, the RNN step loop). */
final class CellMath {
    private CellMath() {
    }

    /** {@code a [n, k] · w [k, m]} → new {@code [n, m]}. */
    static float[] matmul(float[] a, int n, int k, float[] w, int m) {
        float[] out = new float[n * m];
        for (int i = 0; i < n; i++) {
            int outRow = i * m;
            for (int p = 0; p < k; p++) {
                float av = a[i * k + p];
                if (av == 0f) {
                    continue;
                }
                int wRow = p * m;
                for (int j = 0; j < m; j++) {
                    out[outRow + j] += av * w[wRow + j];
                }
            }
        }
        return out;
    }

    /** Adds {@code bias[offset .. offset+m)} to every row of {@code z [n, m]} in place. */
    static void addRowVector(float[] z, int n, int m, float[] bias, int offset) {
        if (bias == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                z[i * m + j] += bias[offset + j];
            }
        }
    }

    /** Adds {@code b} to {@code a} elementwise in place. */
    static void addInPlace(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }

    static float act(Activation a, float v) {
        return Activations.one(a, v);
    }

    /** Applies {@code a} to every element in place and returns the array. */
    static float[] actInPlace(Activation a, float[] v) {
        if (a != Activation.LINEAR) {
            for (int i = 0; i < v.length; i++) {
                v[i] = Activations.one(a, v[i]);
            }
        }
        return v;
    }

    /** Columns {@code [col, col + width)} of a row-major {@code [rows, cols]} matrix, as a new {@code [rows, width]}. */
    static float[] columns(float[] m, int rows, int cols, int col, int width) {
        float[] out = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(m, r * cols + col, out, r * width, width);
        }
        return out;
    }

    /** [A, B, C] → [B, A, C]. */
    static float[] swapFirstAxes(float[] src, int a, int b, int c) {
        float[] dst = new float[src.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(src, (i * b + j) * c, dst, (j * a + i) * c, c);
            }
        }
        return dst;
    }
}
