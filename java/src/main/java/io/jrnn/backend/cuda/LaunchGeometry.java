package io.jrnn.backend.cuda;

/**
 * Grid sizes for jrnn's kernels: one thread per element, {@link #BLOCK} threads per block
 * ({@code JRNN_BLOCK} in {@code jrnn_kernels.cuh}).
 */
final class LaunchGeometry {
    /** Threads per block of every jrnn kernel. */
    static final int BLOCK = 256;
    /**
     * The most blocks a grid-stride utility kernel is launched with: enough to fill any current GPU
     * many times over; larger inputs loop inside the kernel.
     */
    static final int MAX_STRIDE_BLOCKS = 1 << 16;

    private LaunchGeometry() {
    }

    /**
     * Blocks for a step kernel over {@code [batch, units]} (one thread per element, no loop).
     *
     * @throws IllegalArgumentException if a size is not positive or the grid would exceed CUDA's limit
     */
    static int stepBlocks(int batch, int units) {
        if (batch < 1 || units < 1) {
            throw new IllegalArgumentException("step kernel over [" + batch + ", " + units + "]: sizes must be >= 1");
        }
        long blocks = ceilDiv((long) batch * units, BLOCK);
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("step kernel over [" + batch + ", " + units + "] needs " + blocks
                    + " blocks; CUDA allows " + Integer.MAX_VALUE);
        }
        return (int) blocks;
    }

    /** Blocks for a grid-stride utility kernel over {@code count} elements (at least 1). */
    static int strideBlocks(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("element count must be >= 0, got " + count);
        }
        return (int) Math.max(1, Math.min(ceilDiv(count, BLOCK), MAX_STRIDE_BLOCKS));
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
