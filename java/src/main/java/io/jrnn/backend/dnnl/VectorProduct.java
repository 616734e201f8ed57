package io.jrnn.backend.dnnl;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batch-1 recurrent product of {@link JavaRecurrentStep} with the Vector API
 * ({@code jdk.incubator.vector}): four vectors of accumulators stay in registers while every row of
 * a column block of the panel streams past, one load per fused multiply-add. C2's auto-vectorised
 * saxpy ({@link JavaRecurrentStep#rowGroupFma}) loads and stores its accumulators for every four
 * rows instead. Only loaded when the module is in the boot layer ({@link JavaRecurrentStep#VECTOR}):
 * a JVM started without {@code --add-modules jdk.incubator.vector} never touches this class.
 */
final class VectorProduct {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector (16 with AVX-512, 8 with AVX2). */
    static final int LANES = SPECIES.length();
    /** Columns per block: four vectors of accumulators. */
    static final int BLOCK = 4 * LANES;

    private VectorProduct() {
    }

    /** {@code width} rounded up to whole blocks. */
    static int padded(int width) {
        return (width + BLOCK - 1) / BLOCK * BLOCK;
    }

    /**
     * The panel of one unit range in blocks: {@code [padded(g·w) / BLOCK][rows][BLOCK]}, where panel
     * column {@code b·w + u} is column {@code b·hidden + from + u} of the row-major {@code [rows,
     * g·hidden]} kernel; padding columns are zero.
     */
    static float[] pack(float[] kernel, int rows, int hidden, int gates, int from, int w) {
        int gw = gates * w;
        int pw = padded(gw);
        float[] packed = new float[rows * pw];
        int gh = gates * hidden;
        for (int c = 0; c < gw; c++) {
            int source = (c / w) * hidden + from + c % w;
            int base = (c / BLOCK) * rows * BLOCK + c % BLOCK;
            for (int r = 0; r < rows; r++) {
                packed[base + r * BLOCK] = kernel[r * gh + source];
            }
        }
        return packed;
    }

    /**
     * {@code acc[b][0..padded) += h[b·rows .. (b+1)·rows) · panel} for each batch row {@code b < n}
     * over a {@link #pack packed} panel; blocks in reverse order when {@code backwards} (see
     * {@link JavaRecurrentStep}'s product). Batch rows one after the other: the Java step runs
     * batch 1 by default, and kernels holding several batch rows' accumulators (measured for batches
     * 2 and 4) were slower than oneDNN's step at batch 4 and only faster at batch 2 with H = 256.
     */
    static void product(float[] packed, int rows, int paddedWidth, float[] h, int n, float[][] acc,
            boolean backwards) {
        if (n < 1 || n > JavaRecurrentStep.MAX_BATCH || h.length < n * rows || acc.length < n) {
            throw new IllegalArgumentException("batch " + n + " (1.." + JavaRecurrentStep.MAX_BATCH + ")");
        }
        int blocks = paddedWidth / BLOCK;
        for (int b = 0; b < n; b++) {
            for (int q = 0; q < blocks; q++) {
                int blk = backwards ? blocks - 1 - q : q;
                block(packed, blk * rows * BLOCK, rows, h, b * rows, acc[b], blk * BLOCK);
            }
        }
    }

    /**
     * The input projection of one unit range: {@code out[r·paddedWidth + j] = bias[j] + x[r, :] ·
     * packed[:, j]} for the {@code rows} rows of the row-major {@code [rows, k]} matrix {@code x}, over a
     * panel {@link #pack packed} with {@code k} rows. Six rows at a time share each block's loads (24
     * accumulators in registers); the sums run in {@code k} order as fused multiply-adds.
     */
    static void project(float[] x, int rows, int k, float[] packed, float[] bias, int paddedWidth, float[] out) {
        if (x.length < rows * k || bias.length < paddedWidth || out.length < rows * paddedWidth
                || packed.length < k * paddedWidth) {
            throw new IllegalArgumentException("projection of " + rows + " rows of " + k + " into " + paddedWidth
                    + " columns: arrays too short");
        }
        int blocks = paddedWidth / BLOCK;
        for (int q = 0; q < blocks; q++) {
            int o = q * k * BLOCK;
            int a = q * BLOCK;
            int r = 0;
            for (; r + 6 <= rows; r += 6) {
                sixRows(x, r * k, k, packed, o, bias, a, out, r * paddedWidth + a, paddedWidth);
            }
            for (; r < rows; r++) {
                FloatVector c0 = FloatVector.fromArray(SPECIES, bias, a);
                FloatVector c1 = FloatVector.fromArray(SPECIES, bias, a + LANES);
                FloatVector c2 = FloatVector.fromArray(SPECIES, bias, a + 2 * LANES);
                FloatVector c3 = FloatVector.fromArray(SPECIES, bias, a + 3 * LANES);
                for (int i = 0, xi = r * k, p = o; i < k; i++, p += BLOCK) {
                    FloatVector xv = FloatVector.broadcast(SPECIES, x[xi + i]);
                    c0 = FloatVector.fromArray(SPECIES, packed, p).fma(xv, c0);
                    c1 = FloatVector.fromArray(SPECIES, packed, p + LANES).fma(xv, c1);
                    c2 = FloatVector.fromArray(SPECIES, packed, p + 2 * LANES).fma(xv, c2);
                    c3 = FloatVector.fromArray(SPECIES, packed, p + 3 * LANES).fma(xv, c3);
                }
                int d = r * paddedWidth + a;
                c0.intoArray(out, d);
                c1.intoArray(out, d + LANES);
                c2.intoArray(out, d + 2 * LANES);
                c3.intoArray(out, d + 3 * LANES);
            }
        }
    }

    /** Six rows of {@code x} (from {@code x0}, {@code k} apart) times one block at {@code o}, plus the bias at {@code a}, into {@code out} from {@code d}. */
    private static void sixRows(float[] x, int x0, int k, float[] p, int o, float[] bias, int a, float[] out, int d,
            int stride) {
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, a);
        FloatVector b1 = FloatVector.fromArray(SPECIES, bias, a + LANES);
        FloatVector b2 = FloatVector.fromArray(SPECIES, bias, a + 2 * LANES);
        FloatVector b3 = FloatVector.fromArray(SPECIES, bias, a + 3 * LANES);
        FloatVector c00 = b0, c01 = b1, c02 = b2, c03 = b3;
        FloatVector c10 = b0, c11 = b1, c12 = b2, c13 = b3;
        FloatVector c20 = b0, c21 = b1, c22 = b2, c23 = b3;
        FloatVector c30 = b0, c31 = b1, c32 = b2, c33 = b3;
        FloatVector c40 = b0, c41 = b1, c42 = b2, c43 = b3;
        FloatVector c50 = b0, c51 = b1, c52 = b2, c53 = b3;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int x4 = x3 + k;
        int x5 = x4 + k;
        for (int i = 0; i < k; i++, o += BLOCK) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, p, o);
            FloatVector w1 = FloatVector.fromArray(SPECIES, p, o + LANES);
            FloatVector w2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES);
            FloatVector w3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, x[x0 + i]);
            c00 = w0.fma(v, c00);
            c01 = w1.fma(v, c01);
            c02 = w2.fma(v, c02);
            c03 = w3.fma(v, c03);
            v = FloatVector.broadcast(SPECIES, x[x1 + i]);
            c10 = w0.fma(v, c10);
            c11 = w1.fma(v, c11);
            c12 = w2.fma(v, c12);
            c13 = w3.fma(v, c13);
            v = FloatVector.broadcast(SPECIES, x[x2 + i]);
            c20 = w0.fma(v, c20);
            c21 = w1.fma(v, c21);
            c22 = w2.fma(v, c22);
            c23 = w3.fma(v, c23);
            v = FloatVector.broadcast(SPECIES, x[x3 + i]);
            c30 = w0.fma(v, c30);
            c31 = w1.fma(v, c31);
            c32 = w2.fma(v, c32);
            c33 = w3.fma(v, c33);
            v = FloatVector.broadcast(SPECIES, x[x4 + i]);
            c40 = w0.fma(v, c40);
            c41 = w1.fma(v, c41);
            c42 = w2.fma(v, c42);
            c43 = w3.fma(v, c43);
            v = FloatVector.broadcast(SPECIES, x[x5 + i]);
            c50 = w0.fma(v, c50);
            c51 = w1.fma(v, c51);
            c52 = w2.fma(v, c52);
            c53 = w3.fma(v, c53);
        }
        // Stored here, not in a helper: C2 stops inlining in a method this size (NodeCountInliningCutoff), and
        // vectors passed to a call it did not inline are boxed (measured 7× slower).
        int d0 = d;
        c00.intoArray(out, d0);
        c01.intoArray(out, d0 + LANES);
        c02.intoArray(out, d0 + 2 * LANES);
        c03.intoArray(out, d0 + 3 * LANES);
        int d1 = d + stride;
        c10.intoArray(out, d1);
        c11.intoArray(out, d1 + LANES);
        c12.intoArray(out, d1 + 2 * LANES);
        c13.intoArray(out, d1 + 3 * LANES);
        int d2 = d + 2 * stride;
        c20.intoArray(out, d2);
        c21.intoArray(out, d2 + LANES);
        c22.intoArray(out, d2 + 2 * LANES);
        c23.intoArray(out, d2 + 3 * LANES);
        int d3 = d + 3 * stride;
        c30.intoArray(out, d3);
        c31.intoArray(out, d3 + LANES);
        c32.intoArray(out, d3 + 2 * LANES);
        c33.intoArray(out, d3 + 3 * LANES);
        int d4 = d + 4 * stride;
        c40.intoArray(out, d4);
        c41.intoArray(out, d4 + LANES);
        c42.intoArray(out, d4 + 2 * LANES);
        c43.intoArray(out, d4 + 3 * LANES);
        int d5 = d + 5 * stride;
        c50.intoArray(out, d5);
        c51.intoArray(out, d5 + LANES);
        c52.intoArray(out, d5 + 2 * LANES);
        c53.intoArray(out, d5 + 3 * LANES);
    }

    /** One batch row ({@code h} from {@code hOffset}), one block at {@code o}: four accumulators. */
    private static void block(float[] p, int o, int rows, float[] h, int hOffset, float[] acc, int a) {
        FloatVector c0 = FloatVector.fromArray(SPECIES, acc, a);
        FloatVector c1 = FloatVector.fromArray(SPECIES, acc, a + LANES);
        FloatVector c2 = FloatVector.fromArray(SPECIES, acc, a + 2 * LANES);
        FloatVector c3 = FloatVector.fromArray(SPECIES, acc, a + 3 * LANES);
        for (int i = 0; i < rows; i++, o += BLOCK) {
            FloatVector hv = FloatVector.broadcast(SPECIES, h[hOffset + i]);
            c0 = FloatVector.fromArray(SPECIES, p, o).fma(hv, c0);
            c1 = FloatVector.fromArray(SPECIES, p, o + LANES).fma(hv, c1);
            c2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES).fma(hv, c2);
            c3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES).fma(hv, c3);
        }
        c0.intoArray(acc, a);
        c1.intoArray(acc, a + LANES);
        c2.intoArray(acc, a + 2 * LANES);
        c3.intoArray(acc, a + 3 * LANES);
    }
}
