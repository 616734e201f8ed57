package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The row-major → column-major GEMM mapping, run through a plain-Java model of cuBLAS's
 * {@code gemm(N, N)} on flat arrays, including the GRU {@code reset_after=false} column blocks.
 */
class RowMajorGemmTest {

    /** cuBLAS {@code C = A·B} (no transposes), column-major: {@code A[m,k]} at {@code a[i + p·lda]} etc. */
    static void cublasGemm(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c,
            int cOff, int ldc) {
        assertTrue(lda >= m && ldb >= k && ldc >= m, "cuBLAS requires lda >= m, ldb >= k, ldc >= m");
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) a[aOff + i + p * lda] * b[bOff + p + j * ldb];
                }
                c[cOff + i + j * ldc] = (float) s;
            }
        }
    }

    /** What the executor does: the first cuBLAS operand is B, the second A. */
    static void run(RowMajorGemm g, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        cublasGemm(g.cublasM(), g.cublasN(), g.cublasK(), b, bOff, g.ldb(), a, aOff, g.lda(), c, cOff, g.ldc());
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    /** Row-major {@code A[rows, inner] · B[inner, cols]} with row strides. */
    static float product(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int row, int col, int inner) {
        double s = 0;
        for (int p = 0; p < inner; p++) {
            s += (double) a[aOff + row * lda + p] * b[bOff + p * ldb + col];
        }
        return (float) s;
    }

    @Test
    void denseProductMatchesTheRowMajorDefinition() {
        SplittableRandom rng = new SplittableRandom(5);
        int rows = 7;
        int cols = 12;
        int inner = 5;
        RowMajorGemm g = RowMajorGemm.dense(rows, cols, inner);
        assertEquals(cols, g.cublasM());
        assertEquals(rows, g.cublasN());
        assertEquals(inner, g.cublasK());
        float[] a = random(rng, rows * inner);
        float[] b = random(rng, inner * cols);
        float[] c = new float[rows * cols];
        run(g, a, 0, b, 0, c, 0);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                assertEquals(product(a, 0, inner, b, 0, cols, i, j, inner), c[i * cols + j], 1e-6, i + "," + j);
            }
        }
        assertEquals((long) rows * inner, g.extentA());
        assertEquals((long) inner * cols, g.extentB());
        assertEquals((long) rows * cols, g.extentC());
    }

    @Test
    void gruResetBeforeSplitsTheRecurrentProductIntoColumnBlocks() {
        SplittableRandom rng = new SplittableRandom(9);
        int n = 3;
        int h = 4;
        int c = 2;
        KerasRnnWeights w = KerasRnnWeights.of(CellType.GRU, false, c, h, random(rng, c * 3 * h),
                random(rng, h * 3 * h), random(rng, 3 * h));
        ComposedWeights packed = ComposedWeights.of(new RecurrentSpec("gru", CellType.GRU, Activation.TANH,
                Activation.SIGMOID, true, false, false, false, w));
        assertTrue(packed.splitsRecurrentProduct());
        float[] u = packed.recurrentKernel();
        float[] hState = random(rng, n * h);
        float[] rh = random(rng, n * h);
        float[] hp = new float[n * 3 * h];
        java.util.Arrays.fill(hp, Float.NaN);
        RowMajorGemm zr = packed.recurrent(n);
        assertEquals(new RowMajorGemm(n, 2 * h, h, h, 3 * h, 3 * h), zr);
        run(zr, hState, 0, u, 0, hp, 0);
        RowMajorGemm cand = packed.candidate(n);
        int col = packed.candidateColumn();
        assertEquals(2 * h, col);
        run(cand, rh, 0, u, col, hp, col);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 2 * h; j++) {
                assertEquals(product(hState, 0, h, u, 0, 3 * h, i, j, h), hp[i * 3 * h + j], 1e-6, "z/r " + i + "," + j);
            }
            for (int j = 0; j < h; j++) {
                assertEquals(product(rh, 0, h, u, col, 3 * h, i, j, h), hp[i * 3 * h + col + j], 1e-6,
                        "candidate " + i + "," + j);
            }
        }
        // The candidate block's B starts 2H into U and reads exactly to U's end.
        assertEquals(u.length, col + cand.extentB());
        assertEquals(hp.length, col + cand.extentC());
    }

    @Test
    void otherCellsMultiplyAllGatesAtOnce() {
        SplittableRandom rng = new SplittableRandom(2);
        for (CellType type : CellType.values()) {
            int g = type.gateCount();
            KerasRnnWeights w = KerasRnnWeights.of(type, type == CellType.GRU, 3, 5, random(rng, 3 * g * 5),
                    random(rng, 5 * g * 5), null);
            ComposedWeights packed = ComposedWeights.of(new RecurrentSpec("l", type, Activation.TANH,
                    Activation.SIGMOID, false, type == CellType.GRU, false, false, w));
            assertEquals(RowMajorGemm.dense(6, g * 5, 5), packed.recurrent(6));
            assertEquals(RowMajorGemm.dense(42, g * 5, 3), packed.projection(42));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> packed.candidate(6));
            assertTrue(e.getMessage().contains(type.kerasName()), e.getMessage());
        }
    }

    @Test
    void leadingDimensionsAndSizesAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RowMajorGemm(2, 8, 4, 4, 7, 8));
        assertTrue(e.getMessage().contains("ldb=7 (>= 8)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RowMajorGemm(2, 8, 4, 3, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> new RowMajorGemm(2, 8, 4, 4, 8, 7));
        assertThrows(IllegalArgumentException.class, () -> RowMajorGemm.dense(0, 8, 4));
        assertEquals(13, new RowMajorGemm(2, 3, 4, 4, 3, 10).offsetC(1, 3));
    }
}
