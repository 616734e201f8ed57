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

    /** fp32 weights ({@code (C + H)·G·H·4} bytes) from which batches up to {@link #COMPOSED_UP_TO_BATCH} of LSTM and lbr_gru run composed. */
    static final long COMPOSED_FROM_WEIGHT_BYTES = 16L << 20;
    /** The largest batch that runs on the composed path when the weights are that large. */
    static final int COMPOSED_UP_TO_BATCH = 4;
    /** The largest batch of gru_forward ({@code reset_after=false}) that runs composed, whatever the weights. */
    static final int GRU_COMPOSED_UP_TO_BATCH = 4;
    /** The largest batch of gru_forward that runs composed with at least {@link #GRU_LARGE_FROM_WEIGHT_BYTES}. */
    static final int GRU_LARGE_COMPOSED_UP_TO_BATCH = 32;
    static final long GRU_LARGE_FROM_WEIGHT_BYTES = 4L << 20;
    /**
     * Batch 1: the least fp32 weight bytes from which LSTM, lbr_gru and vanilla RNN run composed, with
     * one OpenMP thread and with more (the composed gate pass is single-threaded, so more threads
     * favour the fused primitive).
     */
    static final long LSTM_BATCH1_FROM_WEIGHT_BYTES = 2L << 20;
    static final long LSTM_BATCH1_THREADED_FROM_WEIGHT_BYTES = 8L << 20;
    static final long LBR_GRU_BATCH1_FROM_WEIGHT_BYTES = 1L << 20;
    static final long LBR_GRU_BATCH1_THREADED_FROM_WEIGHT_BYTES = 4L << 20;
    static final long VANILLA_BATCH1_FROM_WEIGHT_BYTES = 512L << 10;
    static final long VANILLA_BATCH1_THREADED_FROM_WEIGHT_BYTES = 2L << 20;
    /** The OpenMP thread count oneDNN runs with: {@code OMP_NUM_THREADS}, else one per available processor. */
    static final int THREADS = ompThreads(System.getenv("OMP_NUM_THREADS"));

    static int ompThreads(String env) {
        if (env != null) {
            try {
                // OMP_NUM_THREADS may be a list ("4,2"); the first entry is the outer level.
                int n = Integer.parseInt(env.split(",")[0].trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // Unparseable: OpenMP ignores it too.
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    final String label;

    WeightFormat(String label) {
        this.label = label;
    }

    /** The layout for {@code precision}: bf16 always asks for {@code any} (oneDNN's bf16 brgemm kernels want their own blocked layout). */
    static WeightFormat choose(RnnPrimitive primitive, int batch, io.jrnn.Precision precision) {
        return precision == io.jrnn.Precision.BF16 ? ANY : choose(primitive, batch);
    }

    /**
     * Whether a single fp32 layer of this shape runs faster on the composed path (one matmul for the
     * input projection of all steps, then one {@code [N, H]·[H, G·H]} matmul and a Java gate pass per
     * step) than on the fused primitive. At small batches a step is a matrix-vector-like product bound
     * by reading the weights; the fused primitives read both weight matrices every step, the composed
     * path the input kernel once for all steps (and gru_forward's oneDNN implementation is slow at any
     * small batch). Measured paired (composed / fused, median of interleaved rounds, 1 and 2 OpenMP
     * threads, 2-vCPU Zen 4, fast float tanh/sigmoid in the gate loop; docs/benchmarks.md):
     * <pre>
     * (H, N, T, C)          lstm        lbr_gru     gru_forward  vanilla
     * (256, 1, 150, 256)    0.88/0.89   0.71/1.13   0.40/0.48    0.81/0.98
     * (512, 1, 25, 512)     0.89/0.93   0.81/0.93   0.38/0.41    0.77/0.76
     * (128, 1, 50, 64)      1.29        1.49        0.64         1.32
     * (128, 4, 50, 64)      1.67        1.32        0.84         1.48
     * (512, 4, 25, 512)     1.16/1.23   1.12/1.27   0.59/0.62    1.02/1.01
     * (1024, 4, 25, 1024)   (0.72)      0.64/0.66   0.23/0.25    1.07/1.13
     * (512, 8, 25, 512)     1.13        1.24        0.66         0.92
     * (512, 16, 25, 512)    1.08        1.06        0.86         1.07
     * </pre>
     * Rule (fp32, one layer): gru_forward at batch ≤ {@link #GRU_COMPOSED_UP_TO_BATCH}, and up to
     * {@link #GRU_LARGE_COMPOSED_UP_TO_BATCH} with ≥ {@link #GRU_LARGE_FROM_WEIGHT_BYTES}; LSTM and
     * lbr_gru at batch ≤ {@link #COMPOSED_UP_TO_BATCH} with ≥ {@link #COMPOSED_FROM_WEIGHT_BYTES} of
     * weights (LSTM earlier: H = C = 1024: 0.49 (N 1), 0.72 (N 4), 0.99 (N 8); H = C = 768: 0.54 (N 4);
     * H = C = 640 (13 MB): 1.06 (N 4)); at batch 1 also LSTM from {@link #LSTM_BATCH1_FROM_WEIGHT_BYTES},
     * lbr_gru from {@link #LBR_GRU_BATCH1_FROM_WEIGHT_BYTES} and vanilla RNN from
     * {@link #VANILLA_BATCH1_FROM_WEIGHT_BYTES} with one OpenMP thread, from the {@code *_THREADED_*}
     * sizes with more ({@code jrnn bench}, 2 threads, LSTM (256, 1, 150, 256): composed 3.36 ms, fused
     * 2.87). bf16 stays fused.
     */
    static boolean composedFaster(RnnPrimitive primitive, int batch, int inputSize, int units,
            io.jrnn.Precision precision) {
        return composedFaster(primitive, batch, inputSize, units, precision, THREADS,
                OpenMpWaiting.idleThreadsSleepSoon());
    }

    /** {@link #composedFaster(RnnPrimitive, int, int, int, io.jrnn.Precision)} for {@code threads} OpenMP threads that spin long. */
    static boolean composedFaster(RnnPrimitive primitive, int batch, int inputSize, int units,
            io.jrnn.Precision precision, int threads) {
        return composedFaster(primitive, batch, inputSize, units, precision, threads, false);
    }

    /**
     * {@link #composedFaster(RnnPrimitive, int, int, int, io.jrnn.Precision)} for {@code threads}
     * OpenMP threads; {@code idleThreadsSleepSoon}: they sleep soon after a call
     * ({@link OpenMpWaiting}), so with more than one thread the batch-1 LSTM and lbr_gru whose step
     * runs in Java on worker threads ({@link ComposedRecurrentExecutor#javaStepByDefault}) take the
     * one-thread sizes.
     */
    static boolean composedFaster(RnnPrimitive primitive, int batch, int inputSize, int units,
            io.jrnn.Precision precision, int threads, boolean idleThreadsSleepSoon) {
        if (precision != io.jrnn.Precision.FP32 || batch < 1) {
            return false;
        }
        long weightBytes = (long) (inputSize + units) * primitive.gateCount * units * Float.BYTES;
        long recurrentBytes = (long) units * primitive.gateCount * units * Float.BYTES;
        boolean javaStepWorkers = idleThreadsSleepSoon && primitive != RnnPrimitive.VANILLA_RNN
                && ComposedRecurrentExecutor.javaStepByDefault(batch, recurrentBytes);
        boolean one = threads <= 1 || javaStepWorkers;
        return switch (primitive) {
            case GRU -> batch <= GRU_COMPOSED_UP_TO_BATCH
                    || batch <= GRU_LARGE_COMPOSED_UP_TO_BATCH && weightBytes >= GRU_LARGE_FROM_WEIGHT_BYTES;
            case LSTM -> batch <= COMPOSED_UP_TO_BATCH && weightBytes >= COMPOSED_FROM_WEIGHT_BYTES
                    || batch == 1 && weightBytes >= (one ? LSTM_BATCH1_FROM_WEIGHT_BYTES
                            : LSTM_BATCH1_THREADED_FROM_WEIGHT_BYTES);
            case LBR_GRU -> batch <= COMPOSED_UP_TO_BATCH && weightBytes >= COMPOSED_FROM_WEIGHT_BYTES
                    || batch == 1 && weightBytes >= (one ? LBR_GRU_BATCH1_FROM_WEIGHT_BYTES
                            : LBR_GRU_BATCH1_THREADED_FROM_WEIGHT_BYTES);
            case VANILLA_RNN -> batch == 1 && weightBytes >= (one ? VANILLA_BATCH1_FROM_WEIGHT_BYTES
                    : VANILLA_BATCH1_THREADED_FROM_WEIGHT_BYTES);
        };
    }

    /** The rule {@link #composedFaster} applies, for execution paths and {@code describe()}. */
    static final String COMPOSED_RULE = "fp32 single layers run composed at batch <= " + GRU_COMPOSED_UP_TO_BATCH
            + " (gru_forward; <= " + GRU_LARGE_COMPOSED_UP_TO_BATCH + " with >= " + (GRU_LARGE_FROM_WEIGHT_BYTES >> 20)
            + " MiB of weights), batch <= " + COMPOSED_UP_TO_BATCH + " with >= " + (COMPOSED_FROM_WEIGHT_BYTES >> 20)
            + " MiB of weights (lstm, lbr_gru), batch 1 with >= " + (LSTM_BATCH1_FROM_WEIGHT_BYTES >> 20)
            + " MiB (lstm), >= " + (LBR_GRU_BATCH1_FROM_WEIGHT_BYTES >> 20) + " MiB (lbr_gru), >= "
            + (VANILLA_BATCH1_FROM_WEIGHT_BYTES >> 10) + " KiB (vanilla) at 1 thread, >= "
            + (LSTM_BATCH1_THREADED_FROM_WEIGHT_BYTES >> 20) + "/" + (LBR_GRU_BATCH1_THREADED_FROM_WEIGHT_BYTES >> 20)
            + "/" + (VANILLA_BATCH1_THREADED_FROM_WEIGHT_BYTES >> 20) + " MiB with more";

    static WeightFormat choose(RnnPrimitive primitive, int batch) {
        return switch (primitive) {
            case LSTM -> ANY;
            case LBR_GRU, VANILLA_RNN -> batch < PLAIN_FROM_BATCH ? ANY : LDIGO;
            case GRU -> LDIGO;
        };
    }
}
