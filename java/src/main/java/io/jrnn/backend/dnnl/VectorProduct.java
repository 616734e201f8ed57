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
