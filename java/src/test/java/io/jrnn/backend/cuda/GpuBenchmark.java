package io.jrnn.backend.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_HALF;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FWD_MODE_INFERENCE;
import static org.bytedeco.cuda.global.cudnn.CUDNN_GRU;
import static org.bytedeco.cuda.global.cudnn.CUDNN_LINEAR_INPUT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_LSTM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_RNN_ALGO_STANDARD;
import static org.bytedeco.cuda.global.cudnn.CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_RNN_DOUBLE_BIAS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_RNN_PADDED_IO_ENABLED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_OP_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_UNIDIRECTIONAL;

import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.cuda.GpuBenchReport.Case;
import io.jrnn.backend.cuda.GpuBenchReport.Cell;
import io.jrnn.backend.cuda.GpuBenchReport.Row;
import io.jrnn.backend.cuda.GpuBenchReport.Stats;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.weights.CudnnRnnWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnDropoutStruct;
import org.bytedeco.cuda.cudnn.cudnnRNNDataStruct;
import org.bytedeco.cuda.cudnn.cudnnRNNStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The GPU benchmark of the check bundle: jrnn end to end (a host {@link Tensor} in,
 * {@code layer.forward(x)}, the output {@link Tensor} out, closed: what a JVM user gets) against
 * the same cuDNN call made directly through JavaCPP, at DeepBench inference sizes
 * ({@link GpuBenchReport#deepBench}).
 *
 * <p>The direct path, written here: {@code cudnnSetRNNDescriptor_v8} (standard algorithm, double
 * bias, unidirectional, linear input, padded IO), batch-major unpacked RNN data descriptors with
 * every sequence length {@code T}, the weight space packed once at the offsets
 * {@code cudnnGetRNNWeightParams} reports; one call copies the input into a pinned buffer, uploads
 * it on a non-blocking stream, runs {@code cudnnRNNForward} (inference), downloads the output
 * sequence into a pinned buffer, synchronises and copies it out. Math: FP32 → FMA (no TF32), TF32 →
 * default math, FP16 → tensor-op math with FP32 accumulation, the FP32 ↔ FP16 casts of input and
 * output on the device ({@code cudnnTransformTensor}). Once jrnn has compiled a case, the direct
 * path runs on jrnn's device memory for it (weight space, workspace, x, y and final states,
 * {@link DirectCudnn#shareDeviceMemory}): identical cuDNN calls on different allocations differed
 * by up to 10 % from run to run on an H100, more than the 2 % the comparison is about.
 *
 * <p>Before the first case, {@link #JIT_WARMUP_CALLS} calls per system at a small shape let the JIT
 * compile both sides' per-call code. Each case builds {@link #INSTANCES} jrnn instances, each with
 * its own direct twin. Timing is in blocks (one untimed call, then {@link #STEADY} timed calls whose
 * median is the block's time), every pair a series of its own with its two blocks in a random
 * order: jrnn against its twin from a page-locked input ({@link CudaBackend#pinnedTensor}; the
 * direct path DMAs straight from it and leaves its outputs in its pinned buffers, no copies: the
 * headline pair, all instances), an A/A control (jrnn instance 0 against instance 1), and the
 * pair from an ordinary pageable tensor (instance 0; the direct path memcpys through its pinned
 * buffers). Each case reports medians and 10th/90th percentiles, the median per-pair overhead,
 * the A/A ratio, the direct cuDNN compute time alone (CUDA events around the device work, no
 * transfers) and the largest difference between the outputs. A case that fails is reported as
 * failed and the run goes on.
 *
 * <p>Usage: {@code GpuBenchmark [--quick] [--reps N] [--warmup N] [--only SUBSTRING] [--budget-s S]
 * [--out DIR]}; the tables are rewritten after every case, and no case starts after {@code S}
 * seconds (the rest are listed as not run). Without a usable GPU it says so and exits 0.
 */
public final class GpuBenchmark {
    private static final long SEED = 20261122L;

    private GpuBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        boolean quick = false;
        int reps = 25;
        int warmup = 40; // lets the JIT compile the per-call Java paths of both sides before timing
        String only = "";
        double budgetSeconds = Double.POSITIVE_INFINITY;
        Path out = Path.of("gpu-bench-report");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                case "--budget-s" -> budgetSeconds = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("GpuBenchmark: unknown argument '" + args[i]
                        + "'; valid: --quick, --reps N, --warmup N, --only SUBSTRING, --budget-s S, --out DIR");
            }
        }
        if (reps < 3) {
            throw new IllegalArgumentException("GpuBenchmark: expected --reps >= 3, got " + reps);
        }
        Files.createDirectories(out);
        CudaStatus status = Cuda.status();
        if (!status.usable()) {
            String message = "GPU-BENCH skipped: CUDA not usable: " + status.reason();
            System.out.println(message);
            Files.writeString(out.resolve("gpu-bench.md"), message + "\n", StandardCharsets.UTF_8);
            return;
        }
        System.out.println("GPU-BENCH device: " + status.deviceName() + ", CUDA runtime "
                + CudaStatus.cudaVersionText(status.runtimeVersion()) + ", cuDNN "
                + CudaStatus.cudnnVersionText(status.cudnnVersion()) + "; " + reps + " block pairs per series, in random order (1 untimed + " + STEADY + " timed calls each) per case after "
                + warmup + " warm-up runs");
        long jitStart = System.nanoTime();
        warmUpJit(JIT_WARMUP_CALLS);
        System.out.printf(Locale.ROOT, "GPU-BENCH JIT warm-up: %d calls per system at %s in %.1f s%n", JIT_WARMUP_CALLS,
                JIT_WARMUP_CASE.id(), (System.nanoTime() - jitStart) / 1e9);
        List<Row> rows = new ArrayList<>();
        long start = System.nanoTime();
        for (Case c : GpuBenchReport.deepBench(quick)) {
            if (!c.id().contains(only)) {
                continue;
            }
            Row row;
            if ((System.nanoTime() - start) / 1e9 > budgetSeconds) {
                row = Row.failed(c, "not run: the " + budgetSeconds + " s time budget was spent");
                System.out.println("GPU-BENCH " + c.id() + " " + row.error());
                rows.add(row);
                continue;
            }
            try {
                row = measure(c, reps, warmup);
                System.out.printf(Locale.ROOT, "GPU-BENCH %s pinned-input: jrnn=%.3fms direct=%.3fms overhead=%+.1f%% (A/A %+.1f%%);"
                        + " pageable-input: jrnn=%.3fms direct=%.3fms overhead=%+.1f%%; compute=%.3fms"
                        + " maxAbsDiff=%.2g path=%s%n", c.id(), row.jrnn().median(), row.direct().median(),
                        row.overhead() * 100, row.aa() * 100, row.jrnnPageable().median(), row.directPageable().median(),
                        row.overheadPageable() * 100, row.compute().median(), row.maxAbsDiff(), row.path());
            } catch (Throwable t) {
                row = Row.failed(c, oneLine(t));
                System.out.println("GPU-BENCH " + c.id() + " FAILED: " + row.error());
            }
            rows.add(row);
            // Rewritten after every case: a run stopped from outside still leaves its measured rows.
            Files.writeString(out.resolve("gpu-bench.md"), GpuBenchReport.markdown(rows), StandardCharsets.UTF_8);
            Files.writeString(out.resolve("gpu-bench.csv"), GpuBenchReport.csv(rows), StandardCharsets.UTF_8);
        }
        System.out.println();
        System.out.print(GpuBenchReport.markdown(rows));
    }

    /**
     * Calls per system (jrnn and direct, pinned and pageable input) of the JIT warm-up: enough for
     * HotSpot's C2 to compile both sides' per-call Java code, as in a service that has been
     * running for a while. With 200 calls per case instead (and no global warm-up), a probe on an
     * H100 measured jrnn's host code at 50 µs per call more than after 20 000 calls, most of the
     * small cases' overhead.
     */
    static final int JIT_WARMUP_CALLS = 12_000;
    static final Case JIT_WARMUP_CASE = new Case(Cell.LSTM, 32, 2, 4, 16, Precision.FP32);

    /** Runs {@link #JIT_WARMUP_CASE} {@code calls} times per system, untimed. */
    static void warmUpJit(int calls) {
        Case c = JIT_WARMUP_CASE;
        SplittableRandom rng = new SplittableRandom(SEED);
        int gh = c.cell().gates * c.hidden();
        float[] input = uniform(rng, c.batch() * c.steps() * c.input(), 1f);
        RecurrentLayer layer = LSTM.builder().units(c.hidden()).returnSequences(true).build();
        try (layer; Tensor x = Tensor.of(input, c.batch(), c.steps(), c.input());
                Tensor xPinned = CudaBackend.pinnedTensor(c.batch(), c.steps(), c.input());
                DirectCudnn direct = new DirectCudnn(c, CudnnRnnWeights.fromKeras(layerWeights(layer,
                        uniform(rng, c.input() * gh, 0.3f), uniform(rng, c.hidden() * gh, 0.3f),
                        uniform(rng, gh, 0.1f))))) {
            xPinned.pointer().put(input, 0, input.length);
            layer.useBackend(CudaBackend.instance(0, c.precision()));
            timeJrnn(layer, x);
            direct.shareDeviceMemory(cudnnExecutor(layer).deviceMemory(c.batch(), c.steps()));
            for (int i = 0; i < calls; i++) {
                timeJrnn(layer, xPinned);
                timeDirectPinned(direct, xPinned);
                timeJrnn(layer, x);
                timeDirect(direct, x);
            }
        }
    }

    /** The cuDNN executor jrnn compiled for {@code layer} (a private field: the benchmark reads it by reflection). */
    static CudnnRecurrentExecutor cudnnExecutor(RecurrentLayer layer) {
        try {
            java.lang.reflect.Field f = RecurrentLayer.class.getDeclaredField("executor");
            f.setAccessible(true);
            if (f.get(layer) instanceof CudnnRecurrentExecutor e) {
                return e;
            }
            throw new IllegalStateException(layer + " does not run on the fused cuDNN path: " + layer.executionPath());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("RecurrentLayer has no 'executor' field any more", e);
        }
    }

    /**
     * Independent jrnn instances per case (same weights), each with its own direct twin on its
     * device memory. Identical instances differed by up to 4 % from each other on an H100 (and so
     * did identical direct paths): per-instance effects that one pair would report as jrnn's
     * overhead. The pinned series runs every pair; its overhead is the median of all per-pair
     * ratios, and the A/A column compares instance 0 with instance 1 the same way.
     */
    static final int INSTANCES = 3;

    private static Row measure(Case c, int reps, int warmup) {
        SplittableRandom rng = new SplittableRandom(SEED ^ c.id().hashCode());
        SplittableRandom orderRng = new SplittableRandom(SEED + c.id().hashCode());
        int h = c.hidden();
        int gh = c.cell().gates * h;
        float[] kernel = uniform(rng, c.input() * gh, (float) Math.sqrt(6.0 / (c.input() + gh)));
        float[] recurrent = uniform(rng, h * gh, (float) (1 / Math.sqrt(h)));
        float[] bias = uniform(rng, c.cell() == Cell.GRU ? 2 * gh : gh, 0.1f);
        float[] input = uniform(rng, c.batch() * c.steps() * c.input(), 1f);
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Tensor x = track(owned, Tensor.of(input, c.batch(), c.steps(), c.input()));
            Tensor xPinned = track(owned, CudaBackend.pinnedTensor(c.batch(), c.steps(), c.input()));
            xPinned.pointer().put(input, 0, input.length);
            RecurrentLayer[] layers = new RecurrentLayer[INSTANCES];
            DirectCudnn[] directs = new DirectCudnn[INSTANCES];
            float[] viaJrnn = null;
            float[] viaJrnnPinned = null;
            String path = null;
            for (int k = 0; k < INSTANCES; k++) {
                RecurrentLayer layer = track(owned, c.cell() == Cell.LSTM
                        ? LSTM.builder().units(h).returnSequences(true).build()
                        : GRU.builder().units(h).resetAfter(true).returnSequences(true).build());
                CudnnRnnWeights weights = CudnnRnnWeights.fromKeras(layerWeights(layer, kernel, recurrent, bias));
                layer.useBackend(CudaBackend.instance(0, c.precision()));
                try (Outputs o = layer.forward(x)) {
                    viaJrnn = o.output().toArray();
                }
                try (Outputs o = layer.forward(xPinned)) {
                    viaJrnnPinned = o.output().toArray();
                }
                path = layer.executionPath();
                CudnnRecurrentExecutor.DeviceMemory memory = cudnnExecutor(layer).deviceMemory(c.batch(), c.steps());
                if (memory == null) {
                    throw new IllegalStateException(c.id() + ": jrnn has no device-side plan for this shape (" + path
                            + ")");
                }
                // Built after jrnn's first calls, so both sides' pinned output memory comes from the same phase.
                DirectCudnn direct = track(owned, new DirectCudnn(c, weights));
                direct.shareDeviceMemory(memory);
                direct.run(x.pointer());
                float[] viaDirect = direct.output();
                direct.runPinned(xPinned.pointer());
                float[] viaDirectPinned = direct.pinnedOutput();
                maxAbsDiff(c, viaJrnn, viaDirect);
                maxAbsDiff(c, viaJrnnPinned, viaDirectPinned);
                layers[k] = layer;
                directs[k] = direct;
            }
            // The largest difference of the first pair (pageable and pinned input); the others are checked above.
            double maxAbsDiff = Math.max(maxAbsDiff(c, viaJrnn, directs[INSTANCES - 1].output()),
                    maxAbsDiff(c, viaJrnnPinned, directs[INSTANCES - 1].pinnedOutput()));
            for (int i = 0; i < warmup; i++) {
                for (int k = 0; k < INSTANCES; k++) {
                    timeJrnn(layers[k], xPinned);
                    timeDirectPinned(directs[k], xPinned);
                }
                timeJrnn(layers[0], x);
                timeDirect(directs[0], x);
            }
            // Blocks, not single calls: each system runs one untimed call and then STEADY timed calls back to back,
            // as a service calling one model does. Alternating single calls measured jrnn 6 % over direct at
            // h1024 n64 t50 while jrnn alone ran within 0.3 % of it (GpuProfile, H100). Every pair is its own
            // series, its two blocks in a random order each time, so neither side always follows the same block.
            int perInstance = Math.max(3, (reps + INSTANCES - 1) / INSTANCES);
            int[] instanceOrder = new int[INSTANCES];
            for (int k = 0; k < INSTANCES; k++) {
                instanceOrder[k] = k;
            }
            double[] jrnnMs = new double[perInstance * INSTANCES];
            double[] directMs = new double[jrnnMs.length];
            for (int i = 0; i < perInstance; i++) {
                shuffle(instanceOrder, orderRng);
                for (int j = 0; j < INSTANCES; j++) {
                    int k = instanceOrder[j];
                    RecurrentLayer layer = layers[k];
                    DirectCudnn direct = directs[k];
                    double[] pair = pairOfBlocks(orderRng, () -> timeJrnn(layer, xPinned),
                            () -> timeDirectPinned(direct, xPinned));
                    jrnnMs[i * INSTANCES + k] = pair[0];
                    directMs[i * INSTANCES + k] = pair[1];
                }
            }
            double[] aaFirst = new double[reps];
            double[] aaSecond = new double[reps];
            double[] jrnnPageableMs = new double[reps];
            double[] directPageableMs = new double[reps];
            for (int i = 0; i < reps; i++) {
                double[] pair = pairOfBlocks(orderRng, () -> timeJrnn(layers[0], xPinned),
                        () -> timeJrnn(layers[1], xPinned));
                aaFirst[i] = pair[0];
                aaSecond[i] = pair[1];
            }
            for (int i = 0; i < reps; i++) {
                double[] pair = pairOfBlocks(orderRng, () -> timeJrnn(layers[0], x), () -> timeDirect(directs[0], x));
                jrnnPageableMs[i] = pair[0];
                directPageableMs[i] = pair[1];
            }
            double[] computeMs = new double[reps];
            for (int i = 0; i < reps; i++) {
                computeMs[i] = directs[0].computeOnlyMs();
            }
            Row row = new Row(c, Stats.of(jrnnMs), Stats.of(directMs), GpuBenchReport.pairedOverhead(jrnnMs, directMs),
                    GpuBenchReport.pairedOverhead(aaFirst, aaSecond), Stats.of(jrnnPageableMs),
                    Stats.of(directPageableMs), GpuBenchReport.pairedOverhead(jrnnPageableMs, directPageableMs),
                    Stats.of(computeMs), maxAbsDiff, path, null);
            Closing.closeReversed(owned, null);
            return row;
        } catch (RuntimeException | Error e) {
            Closing.closeReversed(owned, e);
            throw e;
        }
    }

    /** The two blocks of a pair in a random order: {first system's ms, second system's ms}. */
    private static double[] pairOfBlocks(SplittableRandom orderRng, java.util.function.DoubleSupplier first,
            java.util.function.DoubleSupplier second) {
        double[] ms = new double[2];
        if (orderRng.nextBoolean()) {
            ms[0] = block(first);
            ms[1] = block(second);
        } else {
            ms[1] = block(second);
            ms[0] = block(first);
        }
        return ms;
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> owned, T resource) {
        owned.add(resource);
        return resource;
    }

    /** Fisher–Yates. */
    static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Timed calls per block, after one untimed call. */
    static final int STEADY = 3;

    /** One untimed call, then the median of {@link #STEADY} timed calls, in milliseconds. */
    private static double block(java.util.function.DoubleSupplier call) {
        call.getAsDouble();
        double[] ms = new double[STEADY];
        for (int j = 0; j < STEADY; j++) {
            ms[j] = call.getAsDouble();
        }
        java.util.Arrays.sort(ms);
        return ms[STEADY / 2];
    }

    private static io.jrnn.weights.KerasRnnWeights layerWeights(RecurrentLayer layer, float[] kernel,
            float[] recurrent, float[] bias) {
        layer.setWeights(kernel, recurrent, bias);
        return layer.weights();
    }

    private static double timeJrnn(RecurrentLayer layer, Tensor x) {
        long t0 = System.nanoTime();
        try (Outputs o = layer.forward(x)) {
            o.output();
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double timeDirect(DirectCudnn direct, Tensor x) {
        long t0 = System.nanoTime();
        direct.run(x.pointer());
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double maxAbsDiff(Case c, float[] viaJrnn, float[] viaDirect) {
        double max = 0;
        for (int i = 0; i < Math.min(viaJrnn.length, viaDirect.length); i++) {
            max = Math.max(max, Math.abs(viaDirect[i] - viaJrnn[i]));
        }
        if (viaDirect.length != viaJrnn.length || Double.isNaN(max)) {
            throw new IllegalStateException(c.id() + ": jrnn and direct cuDNN disagree (lengths " + viaJrnn.length
                    + " and " + viaDirect.length + ", max abs diff " + max + ")");
        }
        return max;
    }

    private static double timeDirectPinned(DirectCudnn direct, Tensor xPinned) {
        long t0 = System.nanoTime();
        direct.runPinned(xPinned.pointer());
        return (System.nanoTime() - t0) / 1e6;
    }

    private static float[] uniform(SplittableRandom rng, int count, float limit) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        return a;
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        return (t.getClass().getSimpleName() + (m == null ? "" : ": " + m)).replace('\n', ' ');
    }

    /** IEEE 754 binary16 bits of {@code f}, rounded to nearest even (overflow → ±∞, NaN stays NaN). */
    static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7fffff;
        if (exponent == 0xff) {
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
        }
        int e = exponent - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            // Subnormal: shift the mantissa with its implicit bit into place, then round to nearest even.
            int m = mantissa | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rest = m & ((1 << shift) - 1);
            int midpoint = 1 << (shift - 1);
            if (rest > midpoint || (rest == midpoint && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mantissa >>> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, up to infinity: still correct
        }
        return (short) (sign | half);
    }

    /**
     * The same forward pass made directly through the JavaCPP cuDNN bindings: descriptors, weight
     * space, workspace and pinned buffers built once; {@link #run} is one end-to-end call.
     */
    static final class DirectCudnn implements AutoCloseable {
        private final Deque<Runnable> releases = new ArrayDeque<>();
        private final Case c;
        private final boolean half;
        private final GpuStream stream;
        private final cudnnContext handle;
        private final cudnnRNNStruct rnn = new cudnnRNNStruct();
        private final cudnnRNNDataStruct xDesc = new cudnnRNNDataStruct();
        private final cudnnRNNDataStruct yDesc = new cudnnRNNDataStruct();
        private final cudnnTensorStruct hDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct xFloatDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct xHalfDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct yFloatDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct yHalfDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct hFloatDesc = new cudnnTensorStruct();
        private final cudnnTensorStruct hHalfDesc = new cudnnTensorStruct();
        private final long inBytes;
        private final long outBytes;
        /** Float32 bytes of one final state ({@code N·H·4}); LSTM has two (hy, cy), GRU one. */
        private final long stateBytes;
        private final int stateCount;
        private final long weightBytes;
        private final long workBytes;
        private final DeviceBuffer weightSpace;
        private final DeviceBuffer workSpace;
        private final DeviceBuffer seqLengths;
        private final IntPointer devSeqLengths;
        private final DeviceBuffer xDev;
        private final DeviceBuffer yDev;
        private final DeviceBuffer xHalf;
        private final DeviceBuffer yHalf;
        private final PinnedBuffer xPinned;
        private final PinnedBuffer yPinned;
        /** Final states: float32 on the device (converted from the fp16 ones in half), pinned {@code hy | cy}. */
        private final DeviceBuffer hyDev;
        private final DeviceBuffer cyDev;
        private final DeviceBuffer hyHalf;
        private final DeviceBuffer cyHalf;
        private final PinnedBuffer statesPinned;
        private final FloatPointer outHost;
        private final FloatPointer statesHost;
        private final FloatPointer one = new FloatPointer(1f);
        private final FloatPointer zero = new FloatPointer(0f);
        private final CUevent_st start = new CUevent_st();
        private final CUevent_st stop = new CUevent_st();
        /**
         * What cudnnRNNForward reads and writes (in the cuDNN data type), and where the float32
         * input, output and states are uploaded and downloaded: this path's own buffers, or jrnn's
         * after {@link #shareDeviceMemory}.
         */
        private long weightsAt;
        private long workAt;
        private long workLength;
        private long xCudnn;
        private long yCudnn;
        private long hyCudnn;
        private long cyCudnn;
        private long xFloat;
        private long yFloat;
        private long hyFloat;
        private long cyFloat;

        DirectCudnn(Case c, CudnnRnnWeights weights) {
            this.c = c;
            this.half = c.precision() == Precision.FP16;
            if (c.precision() == Precision.BF16) {
                throw new UnsupportedOperationException("the direct cuDNN benchmark path has no bf16 variant");
            }
            int n = c.batch();
            int t = c.steps();
            int h = c.hidden();
            int in = c.input();
            int dataType = half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
            int elementBytes = half ? 2 : 4;
            inBytes = c.inputBytes();
            outBytes = c.outputBytes();
            stateCount = c.cell() == Cell.LSTM ? 2 : 1;
            stateBytes = 4L * n * h;
            try {
                stream = track(new GpuStream(0, "direct cuDNN benchmark " + c.id()));
                handle = stream.cudnn();

                cudnnDropoutStruct dropout = new cudnnDropoutStruct();
                CudaCheck.cudnn(cudnn.cudnnCreateDropoutDescriptor(dropout), "cudnnCreateDropoutDescriptor");
                releases.push(() -> cudnn.cudnnDestroyDropoutDescriptor(dropout));
                CudaCheck.cudnn(cudnn.cudnnSetDropoutDescriptor(dropout, handle, 0f, null, 0, 0),
                        "cudnnSetDropoutDescriptor(no dropout)");

                CudaCheck.cudnn(cudnn.cudnnCreateRNNDescriptor(rnn), "cudnnCreateRNNDescriptor");
                releases.push(() -> cudnn.cudnnDestroyRNNDescriptor(rnn));
                int mathType = switch (c.precision()) {
                    case FP32 -> CUDNN_FMA_MATH;
                    case TF32 -> CUDNN_DEFAULT_MATH;
                    default -> CUDNN_TENSOR_OP_MATH;
                };
                CudaCheck.cudnn(cudnn.cudnnSetRNNDescriptor_v8(rnn, CUDNN_RNN_ALGO_STANDARD,
                        c.cell() == Cell.LSTM ? CUDNN_LSTM : CUDNN_GRU, CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL,
                        CUDNN_LINEAR_INPUT, dataType, CUDNN_DATA_FLOAT, mathType, in, h, h, 1, dropout,
                        CUDNN_RNN_PADDED_IO_ENABLED), "cudnnSetRNNDescriptor_v8");

                int[] lengths = new int[n];
                Arrays.fill(lengths, t);
                dataDescriptor(xDesc, dataType, t, n, in, lengths, "x");
                dataDescriptor(yDesc, dataType, t, n, h, lengths, "y");
                CudaCheck.cudnn(cudnn.cudnnCreateTensorDescriptor(hDesc), "cudnnCreateTensorDescriptor(h)");
                releases.push(() -> cudnn.cudnnDestroyTensorDescriptor(hDesc));
                CudaCheck.cudnn(cudnn.cudnnSetTensorNdDescriptor(hDesc, dataType, 3, new int[] {1, n, h},
                        new int[] {n * h, h, 1}), "cudnnSetTensorNdDescriptor(h)");

                // Weight space: cuDNN's size and offsets, packed on the host once, uploaded once.
                SizeTPointer size = new SizeTPointer(1);
                CudaCheck.cudnn(cudnn.cudnnGetRNNWeightSpaceSize(handle, rnn, size), "cudnnGetRNNWeightSpaceSize");
                weightBytes = size.get();
                weightSpace = track(DeviceBuffer.allocate(weightBytes, "direct weight space"));
                uploadWeights(weights, elementBytes);

                SizeTPointer work = new SizeTPointer(1);
                SizeTPointer reserve = new SizeTPointer(1);
                CudaCheck.cudnn(cudnn.cudnnGetRNNTempSpaceSizes(handle, rnn, CUDNN_FWD_MODE_INFERENCE, xDesc, work,
                        reserve), "cudnnGetRNNTempSpaceSizes");
                workBytes = work.get();
                workSpace = track(DeviceBuffer.allocate(workBytes, "direct workspace"));

                seqLengths = track(DeviceBuffer.allocate(4L * n, "direct sequence lengths"));
                IntPointer hostLengths = new IntPointer(lengths);
                CudaCheck.cuda(cudart.cudaMemcpy(seqLengths.pointer(), hostLengths, 4L * n, cudart.cudaMemcpyHostToDevice),
                        "cudaMemcpy(sequence lengths)");
                hostLengths.close();
                devSeqLengths = new IntPointer(seqLengths.pointer());

                xDev = track(DeviceBuffer.allocate(inBytes, "direct x"));
                yDev = track(DeviceBuffer.allocate(outBytes, "direct y"));
                hyDev = track(DeviceBuffer.allocate(stateBytes, "direct hy"));
                cyDev = stateCount == 2 ? track(DeviceBuffer.allocate(stateBytes, "direct cy")) : null;
                if (half) {
                    xHalf = track(DeviceBuffer.allocate(inBytes / 2, "direct x (fp16)"));
                    yHalf = track(DeviceBuffer.allocate(outBytes / 2, "direct y (fp16)"));
                    hyHalf = track(DeviceBuffer.allocate(stateBytes / 2, "direct hy (fp16)"));
                    cyHalf = stateCount == 2 ? track(DeviceBuffer.allocate(stateBytes / 2, "direct cy (fp16)")) : null;
                    matrixDescriptor(xFloatDesc, CUDNN_DATA_FLOAT, n * t, in, "x fp32");
                    matrixDescriptor(xHalfDesc, CUDNN_DATA_HALF, n * t, in, "x fp16");
                    matrixDescriptor(yFloatDesc, CUDNN_DATA_FLOAT, n * t, h, "y fp32");
                    matrixDescriptor(yHalfDesc, CUDNN_DATA_HALF, n * t, h, "y fp16");
                    matrixDescriptor(hFloatDesc, CUDNN_DATA_FLOAT, n, h, "state fp32");
                    matrixDescriptor(hHalfDesc, CUDNN_DATA_HALF, n, h, "state fp16");
                } else {
                    xHalf = null;
                    yHalf = null;
                    hyHalf = null;
                    cyHalf = null;
                }
                weightsAt = DeviceAddress.of(weightSpace);
                workAt = DeviceAddress.of(workSpace);
                workLength = workBytes;
                xFloat = DeviceAddress.of(xDev);
                yFloat = DeviceAddress.of(yDev);
                hyFloat = DeviceAddress.of(hyDev);
                cyFloat = cyDev == null ? 0 : DeviceAddress.of(cyDev);
                xCudnn = half ? DeviceAddress.of(xHalf) : xFloat;
                yCudnn = half ? DeviceAddress.of(yHalf) : yFloat;
                hyCudnn = half ? DeviceAddress.of(hyHalf) : hyFloat;
                cyCudnn = cyDev == null ? 0 : half ? DeviceAddress.of(cyHalf) : cyFloat;
                xPinned = track(PinnedBuffer.allocate(inBytes, "direct x (pinned)"));
                yPinned = track(PinnedBuffer.allocate(outBytes, "direct y (pinned)"));
                statesPinned = track(PinnedBuffer.allocate(stateCount * stateBytes, "direct hy|cy (pinned)"));
                outHost = new FloatPointer((long) n * t * h);
                releases.push(outHost::close);
                statesHost = new FloatPointer(stateCount * (long) n * h);
                releases.push(statesHost::close);
                CudaCheck.cuda(cudart.cudaEventCreate(start), "cudaEventCreate");
                releases.push(() -> cudart.cudaEventDestroy(start));
                CudaCheck.cuda(cudart.cudaEventCreate(stop), "cudaEventCreate");
                releases.push(() -> cudart.cudaEventDestroy(stop));
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        private <T extends CudaResource> T track(T resource) {
            releases.push(resource::close);
            return resource;
        }

        private void dataDescriptor(cudnnRNNDataStruct desc, int dataType, int steps, int batch, int vector,
                int[] lengths, String what) {
            CudaCheck.cudnn(cudnn.cudnnCreateRNNDataDescriptor(desc), "cudnnCreateRNNDataDescriptor(" + what + ")");
            releases.push(() -> cudnn.cudnnDestroyRNNDataDescriptor(desc));
            CudaCheck.cudnn(cudnn.cudnnSetRNNDataDescriptor(desc, dataType, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
                    steps, batch, vector, lengths, null), "cudnnSetRNNDataDescriptor(" + what + ")");
        }

        private void matrixDescriptor(cudnnTensorStruct desc, int dataType, int rows, int columns, String what) {
            CudaCheck.cudnn(cudnn.cudnnCreateTensorDescriptor(desc), "cudnnCreateTensorDescriptor(" + what + ")");
            releases.push(() -> cudnn.cudnnDestroyTensorDescriptor(desc));
            CudaCheck.cudnn(cudnn.cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, dataType, 1, 1, rows, columns),
                    "cudnnSetTensor4dDescriptor(" + what + ")");
        }

        private void uploadWeights(CudnnRnnWeights weights, int elementBytes) {
            int ids = 2 * c.cell().gates;
            long[] matrixOffsets = new long[ids];
            long[] biasOffsets = new long[ids];
            long base = weightSpace.pointer().address();
            cudnnTensorStruct mDesc = new cudnnTensorStruct();
            cudnnTensorStruct bDesc = new cudnnTensorStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateTensorDescriptor(mDesc), "cudnnCreateTensorDescriptor(matrix)");
            CudaCheck.cudnn(cudnn.cudnnCreateTensorDescriptor(bDesc), "cudnnCreateTensorDescriptor(bias)");
            try (PointerPointer<Pointer> mAddr = new PointerPointer<>(1);
                    PointerPointer<Pointer> bAddr = new PointerPointer<>(1)) {
                for (int id = 0; id < ids; id++) {
                    CudaCheck.cudnn(cudnn.cudnnGetRNNWeightParams(handle, rnn, 0, weightBytes, weightSpace.pointer(),
                            id, mDesc, mAddr, bDesc, bAddr), "cudnnGetRNNWeightParams(linLayerID " + id + ")");
                    matrixOffsets[id] = offset(mAddr.get(0).address(), base, elementBytes, "matrix", id);
                    biasOffsets[id] = offset(bAddr.get(0).address(), base, elementBytes, "bias", id);
                }
            } finally {
                cudnn.cudnnDestroyTensorDescriptor(mDesc);
                cudnn.cudnnDestroyTensorDescriptor(bDesc);
            }
            float[] packed = new float[Math.toIntExact(weightBytes / elementBytes)];
            weights.packInto(packed, matrixOffsets, biasOffsets);
            Pointer host;
            if (half) {
                short[] bits = new short[packed.length];
                for (int i = 0; i < packed.length; i++) {
                    bits[i] = toHalf(packed[i]);
                }
                host = new ShortPointer(bits);
            } else {
                host = new FloatPointer(packed);
            }
            try {
                CudaCheck.cuda(cudart.cudaMemcpy(weightSpace.pointer(), host, (long) packed.length * elementBytes,
                        cudart.cudaMemcpyHostToDevice), "cudaMemcpy(weight space)");
            } finally {
                host.close();
            }
        }

        private long offset(long address, long base, int elementBytes, String what, int id) {
            long bytes = address - base;
            if (address == 0 || bytes < 0 || bytes >= weightBytes || bytes % elementBytes != 0) {
                throw new IllegalStateException(c.id() + ": cudnnGetRNNWeightParams gave the " + what + " of linLayerID "
                        + id + " at byte " + bytes + " of a " + weightBytes + "-byte weight space");
            }
            return bytes / elementBytes;
        }

        /**
         * From now on cuDNN runs on jrnn's device memory for this shape (weights, workspace, x, y,
         * hy, cy; {@link CudnnRecurrentExecutor#deviceMemory}): the same kernels on the same
         * allocations, so a timing difference is host code. The float32 input and outputs still go
         * through this path's buffers in fp16 (converted into and out of jrnn's 16-bit buffers);
         * in fp32 they are jrnn's buffers themselves.
         */
        void shareDeviceMemory(CudnnRecurrentExecutor.DeviceMemory m) {
            if (m.weightBytes() != weightBytes || m.workspaceBytes() < workBytes) {
                throw new IllegalStateException(c.id() + ": jrnn's cuDNN memory does not fit this descriptor (weight space "
                        + m.weightBytes() + " vs " + weightBytes + " bytes, workspace " + m.workspaceBytes() + " vs "
                        + workBytes + ")");
            }
            if ((m.cy() != 0) != (stateCount == 2)) {
                throw new IllegalStateException(c.id() + ": jrnn's memory has " + (m.cy() != 0 ? 2 : 1) + " states");
            }
            weightsAt = m.weights();
            workAt = m.workspace();
            workLength = m.workspaceBytes();
            xCudnn = m.x();
            yCudnn = m.y();
            hyCudnn = m.hy();
            cyCudnn = m.cy();
            if (!half) {
                xFloat = xCudnn;
                yFloat = yCudnn;
                hyFloat = hyCudnn;
                cyFloat = cyCudnn;
            }
        }

        /**
         * One end-to-end call: host input → pinned → device → cuDNN → pinned → host output and final
         * states (hy, and cy for LSTM), as jrnn returns them.
         */
        void run(FloatPointer xHost) {
            Pointer.memcpy(xPinned.pointer(), xHost, inBytes);
            stream.upload(xPinned.pointer(), DeviceAddress.at(xFloat), inBytes);
            forwardOnDevice();
            downloadToPinned();
            Pointer.memcpy(outHost, yPinned.pointer(), outBytes);
            Pointer.memcpy(statesHost, statesPinned.pointer(), stateCount * stateBytes);
        }

        /** Output and final states (hy, then cy for LSTM), device → this path's pinned buffers; waits. */
        private void downloadToPinned() {
            stream.download(DeviceAddress.at(yFloat), yPinned.pointer(), outBytes);
            long pinnedStates = statesPinned.pointer().address();
            stream.download(DeviceAddress.at(hyFloat), DeviceAddress.at(pinnedStates), stateBytes);
            if (stateCount == 2) {
                stream.download(DeviceAddress.at(cyFloat), DeviceAddress.at(pinnedStates + stateBytes), stateBytes);
            }
            stream.sync();
        }

        /**
         * One end-to-end call from a page-locked input (as jrnn gets from {@link CudaBackend#pinnedTensor}):
         * DMA straight from {@code xPinnedHost}, cuDNN, output and final states DMA'd into this path's
         * pinned buffers, which the caller reads as they are (no copies, like jrnn's pinned outputs).
         */
        void runPinned(FloatPointer xPinnedHost) {
            if (!PinnedHost.covers(xPinnedHost.address(), inBytes)) {
                throw new IllegalArgumentException(c.id() + ": runPinned needs a pinned input of " + inBytes + " bytes");
            }
            stream.upload(xPinnedHost, DeviceAddress.at(xFloat), inBytes);
            forwardOnDevice();
            downloadToPinned();
        }

        /** The output sequence of the last {@link #runPinned}, read from the pinned buffer. */
        float[] pinnedOutput() {
            float[] a = new float[Math.toIntExact(outBytes / 4)];
            yPinned.floats().get(a);
            return a;
        }

        /** The device work alone, timed with CUDA events on the stream, in milliseconds. */
        double computeOnlyMs() {
            CudaCheck.cuda(cudart.cudaEventRecord(start, stream.stream()), "cudaEventRecord(start)");
            forwardOnDevice();
            CudaCheck.cuda(cudart.cudaEventRecord(stop, stream.stream()), "cudaEventRecord(stop)");
            CudaCheck.cuda(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
            float[] ms = new float[1];
            CudaCheck.cuda(cudart.cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
            return ms[0];
        }

        private void forwardOnDevice() {
            if (half) {
                CudaCheck.cudnn(cudnn.cudnnTransformTensor(handle, one, xFloatDesc, DeviceAddress.at(xFloat), zero,
                        xHalfDesc, DeviceAddress.at(xCudnn)), "cudnnTransformTensor(x fp32 to fp16)");
            }
            CudaCheck.cudnn(cudnn.cudnnRNNForward(handle, rnn, CUDNN_FWD_MODE_INFERENCE, devSeqLengths, xDesc,
                    DeviceAddress.at(xCudnn), yDesc, DeviceAddress.at(yCudnn), hDesc, null, DeviceAddress.at(hyCudnn),
                    hDesc, null, stateCount == 2 ? DeviceAddress.at(cyCudnn) : null, weightBytes,
                    DeviceAddress.at(weightsAt), workLength, DeviceAddress.at(workAt), 0, null), "cudnnRNNForward");
            if (half) {
                CudaCheck.cudnn(cudnn.cudnnTransformTensor(handle, one, yHalfDesc, DeviceAddress.at(yCudnn), zero,
                        yFloatDesc, DeviceAddress.at(yFloat)), "cudnnTransformTensor(y fp16 to fp32)");
                CudaCheck.cudnn(cudnn.cudnnTransformTensor(handle, one, hHalfDesc, DeviceAddress.at(hyCudnn), zero,
                        hFloatDesc, DeviceAddress.at(hyFloat)), "cudnnTransformTensor(hy fp16 to fp32)");
                if (stateCount == 2) {
                    CudaCheck.cudnn(cudnn.cudnnTransformTensor(handle, one, hHalfDesc, DeviceAddress.at(cyCudnn), zero,
                            hFloatDesc, DeviceAddress.at(cyFloat)), "cudnnTransformTensor(cy fp16 to fp32)");
                }
            }
        }

        /** The output of the last {@link #run}. */
        float[] output() {
            float[] a = new float[Math.toIntExact(outBytes / 4)];
            outHost.get(a);
            return a;
        }

        /** Final state {@code s} (0: hy, 1: cy of an LSTM) of the last {@link #run}. */
        float[] finalState(int s) {
            if (s < 0 || s >= stateCount) {
                throw new IllegalArgumentException(c.id() + " has " + stateCount + " final state(s), not state " + s);
            }
            int count = Math.toIntExact(stateBytes / 4);
            float[] a = new float[count];
            statesHost.position((long) s * count).get(a);
            statesHost.position(0);
            return a;
        }

        @Override
        public void close() {
            RuntimeException first = null;
            while (!releases.isEmpty()) {
                try {
                    releases.pop().run();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            one.close();
            zero.close();
            if (first != null) {
                throw first;
            }
        }
    }
}
