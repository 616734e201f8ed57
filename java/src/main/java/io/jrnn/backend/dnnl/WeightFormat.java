package io.jrnn.backend.dnnl;

/**
 * The weight layout asked of oneDNN for one batch size: Keras's own {@code ldigo} (used as is, no
 * copy per shape) or {@code format_tag::any} (oneDNN picks a blocked layout, filled once by a
 * reorder and cached).
 *
 * <p>Measured on the 2-vCPU Xeon (AVX-512) these tests run on, oneDNN 3.11, fp32, 1 OpenMP
 * thread, interleaved runs, best of 20–300 (ms per forward; H, C, T, N):
 * <pre>
 * primitive   H    C    T  N     ldigo impl  ldigo   any (brgemm)  any/ldigo
 * lstm        512  512  25 1     ref          3.47    3.05         0.88
 * lstm        512  512  25 2     ref          8.89    3.24         0.36
 * lstm        512  512  25 4     ref          8.43    4.45         0.53
 * lstm        512  512  25 16    ref         18.4    15.6          0.85
 * lstm        512  512  25 32    ref         39.7    32.9          0.83
 * lstm        512  512  25 64    ref         65.9    67.3          1.02
 * lstm        1024 1024 25 4     ref         79.7    29.9          0.38
 * lstm        128  64   50 1     ref          0.225   0.230        1.02
 * lstm        128  64   50 32    ref          3.51    3.69         1.05
 * lstm        128  64   50 64    ref          7.23    7.12         0.98
 * lbr_gru     512  512  25 4     ref          4.03    3.30         0.82
 * lbr_gru     128  64   50 32    ref          2.58–3.03  2.73      0.90–1.06
 * lbr_gru     512  512  25 64    ref         47.3    50.9          1.06–1.08
 * vanilla     512  512  25 4     ref          1.12    1.01         0.90
 * vanilla     128  64   50 32    ref          0.877   0.935        1.07–1.16
 * vanilla     512  512  25 64    ref         15.7    16.3          1.04–1.06
 * gru         128–512 …   1–64   ref+matmul for both layouts:      0.93–1.06 (noise)
 * </pre>
 * The machine was shared (load 4–6 on 2 vCPUs), so 2-thread timings were too noisy to use; the
 * earlier note that {@code ldigo} won by 27% at batch 4 did not reproduce. Rule: LSTM always
 * asks for {@code any}; lbr_gru and vanilla RNN ask for {@code any} below batch 32 and
 * {@code ldigo} from 32 on; gru_forward keeps {@code ldigo} (same implementation either way, and
 * no reorder).
 */
enum WeightFormat {
    LDIGO("ldigo"),
    ANY("any");

    /** From this batch size on, lbr_gru and vanilla RNN use plain {@code ldigo} weights. */
    static final int PLAIN_FROM_BATCH = 32;

    /** fp32 LSTM weights ({@code (C + H)·4H·4} bytes) from which small batches run on the composed path. */
    static final long COMPOSED_FROM_WEIGHT_BYTES = 16L << 20;
    /** The largest batch that runs on the composed path when the weights are that large. */
    static final int COMPOSED_UP_TO_BATCH = 4;

    final String label;

    WeightFormat(String label) {
        this.label = label;
    }

    /** The layout for {@code precision}: bf16 always asks for {@code any} (oneDNN's bf16 brgemm kernels want their own blocked layout). */
    static WeightFormat choose(RnnPrimitive primitive, int batch, io.jrnn.Precision precision) {
        return precision == io.jrnn.Precision.BF16 ? ANY : choose(primitive, batch);
    }

    /**
     * Whether a single fp32 LSTM layer of this shape runs faster on the composed path (one matmul for
     * the input projection of all steps, then one {@code [N, H]·[H, 4H]} matmul per step) than on
     * {@code lstm_forward}: with at least {@link #COMPOSED_FROM_WEIGHT_BYTES} of weights (they no longer
     * stay in cache) and at most {@link #COMPOSED_UP_TO_BATCH} samples. Paired CPU time, 1 thread
     * ({@code io.jrnn.bench.LstmFormatPaired}, docs/benchmarks.md), composed / fused {@code any}:
     * H = C = 1024: 0.49 (N 1), 0.72 (N 4), 0.99 (N 8), 0.95 (N 16), 1.19 (N 64); H = C = 768 (18.9 MB):
     * 0.29 (N 1), 0.54 (N 4); H = C = 640 (13 MB): 0.70 (N 1), 1.06 (N 4); H = C = 512 (8 MB): 1.0–1.1
     * (N 1), 1.5 (N 4). {@code lstm_forward}'s brgemm kernels at these shapes read both weight
     * matrices every step; the composed path reads the input kernel once for all steps.
     */
    static boolean composedFaster(RnnPrimitive primitive, int batch, int inputSize, int units,
            io.jrnn.Precision precision) {
        long weightBytes = (long) (inputSize + units) * 4 * units * Float.BYTES;
        return primitive == RnnPrimitive.LSTM && precision == io.jrnn.Precision.FP32
                && batch <= COMPOSED_UP_TO_BATCH && weightBytes >= COMPOSED_FROM_WEIGHT_BYTES;
    }

    static WeightFormat choose(RnnPrimitive primitive, int batch) {
        return switch (primitive) {
            case LSTM -> ANY;
            case LBR_GRU, VANILLA_RNN -> batch < PLAIN_FROM_BATCH ? ANY : LDIGO;
            case GRU -> LDIGO;
        };
    }
}
