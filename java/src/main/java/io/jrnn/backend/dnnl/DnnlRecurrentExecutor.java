package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_LAYER;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_left2right;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_right2left;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.NativeResources;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.weights.OneDnnRnnWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One recurrent layer on a oneDNN RNN primitive. The Keras weights are copied to native memory
 * once ({@code ldigo}: Keras's own layout); per input shape {@code (N, T)} the executor keeps the
 * primitive, its memory objects and, when the primitive wants another layout, the weights reordered
 * into it, in a small LRU cache. Inputs, initial states and outputs are the callers' tensors,
 * wrapped without copies (except the time flip of go_backwards sequences).
 *
 * <p>oneDNN's {@code unidirectional_right2left} writes {@code dst_layer[t]} = the output after
 * consuming {@code x[t]} (aligned with input time); Keras's go_backwards sequence is in processing
 * order ({@code Y[k]} after {@code x[T−1−k]}, spec §3.1), so that case runs into a scratch buffer
 * and is copied out flipped.
 *
 * <p>Stacks ({@link #DnnlRecurrentExecutor(dnnl_engine, List, RnnPrimitive, int)}): {@code L > 1}
 * layers of the same cell, units {@code H} and input size {@code H} (oneDNN's {@code weights_layer
 * {L, 1, SLC, G, H}} has one {@code SLC} for every layer), left to right, run on one primitive:
 * weights {@code ldigo {L, 1, ·, G, H}} and bias {@code ldgo {L, 1, G', H}} are the layers' Keras
 * arrays one after the other, states {@code ldnc {L, 1, N, H}} are staged through executor buffers
 * (the caller's states are one tensor per layer and state), and {@code dst_layer} is the last layer's
 * sequence. Such an executor takes and returns the layers' states layer by layer ({@code [h1, c1, h2,
 * c2, …]}) and runs no masks other than all-valid ones.
 *
 * <p>Masks (spec §3.3): oneDNN has no sequence-length argument. A right-padded mask runs on the same
 * primitive kind in length segments (packed-sequence style, one cached primitive per segment shape,
 * see {@link #run(Tensor, Tensor[], Mask)}); any other mask runs on the composed path
 * ({@link ComposedRecurrentExecutor}).
 *
 * <p>bf16 ({@link Precision#BF16}): the primitive takes bf16 {@code src_layer}, {@code src_iter},
 * weights (asked as {@code any}, converted from the f32 {@code ldigo} copy once by a reorder and
 * cached like the fp32 ones), {@code dst_layer} and {@code dst_iter}, an f32 bias and, for LSTM,
 * f32 cell states (used in place). The caller's f32 input and states are converted into the
 * execution context's bf16 buffers, and the bf16 outputs back into the caller's f32 tensors, by
 * oneDNN reorders (user scratchpads too) queued on the context's stream around the primitive (one
 * wait per call); masks use the same plans.
 *
 * <p>Thread-safe without a lock around the call: each call checks an execution context (a
 * {@link ShapePlan}: its own memory objects, stream, scratchpad and staging buffers) out of the
 * per-shape pool ({@link ShapeCache}) and runs it alone; the uploaded and reordered weights are
 * shared read-only, and the primitives run with user-managed scratchpads, which oneDNN documents as
 * thread-safe. {@link #close()} waits for the calls in flight (the last one out releases).
 */
final class DnnlRecurrentExecutor implements RecurrentExecutor {
    /** Input shapes kept compiled per executor. */
    static final int SHAPE_CACHE_CAPACITY = 8;
    /** Segment shapes (batch, steps) of right-padded masked batches kept compiled per executor. */
    static final int SEGMENT_CACHE_CAPACITY = 64;

    /** The first layer's spec (the cell, activations, direction); for a stack see {@link #layers}. */
    private final RecurrentSpec spec;
    /** Layers in the primitive ({@code L}); 1 for a single Keras layer. */
    private final int layers;
    /** Whether the output is the (last layer's) sequence. */
    private final boolean returnSequences;
    private final RnnPrimitive kind;
    /** {@link Precision#FP32} or {@link Precision#BF16}. */
    private final Precision precision;
    /** Whether the primitive runs in bf16 (f32 ↔ bf16 reorders around it). */
    private final boolean bf16;
    /** {@code dnnl_alg_kind_t} of the vanilla RNN activation (unused otherwise). */
    private final int activationKind;
    private final dnnl_engine engine;
    private final int inputSize;
    private final int hiddenSize;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    private final WeightCache weights;
    /** Weights layer, weights iter, bias: in Keras layout ({@code ldigo}, {@code ldgo}). */
    private final WeightCache.Source[] userWeights;
    private final ShapeCache<Shape, ShapePlan> plans = new ShapeCache<>(SHAPE_CACHE_CAPACITY, this::createPlan);
    /** Primitives for the length segments of right-padded masked batches (no sequence scratch of their own). */
    private final ShapeCache<Shape, ShapePlan> segmentPlans = new ShapeCache<>(SEGMENT_CACHE_CAPACITY,
            shape -> createPlan(shape, true));
    /** Runs masks that are not right-padded; created on first use. */
    private volatile RecurrentExecutor arbitraryMaskExecutor;
    /** The start of the reason in the execution path of a small batch run composed; the fused primitive's name follows. */
    static final String SMALL_BATCH_REASON_PREFIX = "small batch: measured faster than ";
    /** Runs the small batches {@link WeightFormat#composedFaster} sends to the composed path; created on first use. */
    private volatile RecurrentExecutor smallBatchExecutor;
    private final AtomicInteger primitivesCreated = new AtomicInteger();
    private volatile String executionPath;
    private final CallGate gate = new CallGate();
    /** The batch split's workers for this executor's calls. */
    private final BatchSplit.Choice splits = new BatchSplit.Choice();
    private final String closedMessage;
    /** Releases {@link #scope} (weights, and the plans still open) if this executor is collected unclosed. */
    private final NativeResources.Registration registration;

    private record Shape(int batch, int steps) {
    }

    DnnlRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, RnnPrimitive kind, int activationKind) {
        this(engine, List.of(spec), kind, activationKind, Precision.FP32);
    }

    /** One layer computing in {@code precision} ({@link Precision#FP32} or {@link Precision#BF16}). */
    DnnlRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, RnnPrimitive kind, int activationKind,
            Precision precision) {
        this(engine, List.of(spec), kind, activationKind, precision);
    }

    /** A stack in fp32 (see below). */
    DnnlRecurrentExecutor(dnnl_engine engine, List<RecurrentSpec> specs, RnnPrimitive kind, int activationKind) {
        this(engine, specs, kind, activationKind, Precision.FP32);
    }

    /**
     * {@code specs.size()} layers on one primitive; for more than one the caller (see
     * {@link DnnlBackend#stackUnsupportedReason}) has checked that they share the cell, units and
     * activations, go forwards and take {@code H} inputs each.
     */
    DnnlRecurrentExecutor(dnnl_engine engine, List<RecurrentSpec> specs, RnnPrimitive kind, int activationKind,
            Precision precision) {
        if (precision != Precision.FP32 && precision != Precision.BF16) {
            throw new io.jrnn.UnsupportedConfigurationException("oneDNN recurrent primitives run fp32 or bf16, not "
                    + precision);
        }
        this.precision = precision;
        this.bf16 = precision == Precision.BF16;
        RecurrentSpec spec = specs.get(0);
        this.spec = spec;
        this.layers = specs.size();
        this.returnSequences = specs.get(layers - 1).returnSequences();
        this.kind = kind;
        this.activationKind = activationKind;
        this.engine = engine;
        this.inputSize = spec.inputSize();
        this.hiddenSize = spec.units();
        this.closedMessage = spec.describe() + ": oneDNN executor is closed";
        try {
            this.stream = Dnnl.stream(scope, engine);
            this.weights = new WeightCache(engine, stream);
            scope.defer(weights::close);
            long c = inputSize;
            long h = hiddenSize;
            long g = kind.gateCount;
            // The shared converter: Keras [C, G·H] and [H, G·H] are ldigo as they are; the bias becomes ldgo.
            // Layer-major: the layers' arrays one after the other are ldigo {L, 1, …} / ldgo {L, 1, …}.
            long l = layers;
            float[][] weightsLayer = new float[layers][];
            float[][] weightsIter = new float[layers][];
            float[][] bias = new float[layers][];
            for (int k = 0; k < layers; k++) {
                OneDnnRnnWeights packed = OneDnnRnnWeights.fromKeras(specs.get(k).weights());
                weightsLayer[k] = packed.weightsLayer();
                weightsIter[k] = packed.weightsIter();
                bias[k] = packed.bias();
            }
            this.userWeights = new WeightCache.Source[] {
                weights.upload(concat(weightsLayer), dnnl_ldigo, l, 1, c, g, h),
                weights.upload(concat(weightsIter), dnnl_ldigo, l, 1, h, g, h),
                weights.upload(concat(bias), dnnl_ldgo, l, 1, kind.biasGateCount, h),
            };
            // A descriptor for one sample and one step: oneDNN accepts the configuration and names its implementation.
            try (NativeScope probe = new NativeScope()) {
                WeightFormat format = WeightFormat.choose(kind, 1, precision);
                this.executionPath = describePath(primitiveDesc(probe, new Shape(1, 1), format), format);
            }
            this.registration = NativeResources.register(this, scope::close);
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    private static float[] concat(float[][] parts) {
        if (parts.length == 1) {
            return parts[0];
        }
        float[] all = new float[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** The forward-inference primitive descriptor for one shape, owned by {@code owner}. */
    private dnnl_primitive_desc primitiveDesc(NativeScope owner, Shape shape, WeightFormat format) {
        long n = shape.batch();
        long t = shape.steps();
        long c = inputSize;
        long h = hiddenSize;
        long g = kind.gateCount;
        long l = layers;
        int weightTag = format == WeightFormat.ANY ? dnnl_format_tag_any : dnnl_ldigo;
        // bf16: sequences, h states and weights in bf16; bias and the LSTM cell state stay f32.
        int low = bf16 ? dnnl_bf16 : dnnl_f32;
        // oneDNN's logical sequence dims are always {T, N, C}; ntc makes the memory batch-major.
        dnnl_memory_desc srcLayer = Dnnl.typedDesc(owner, low, dnnl_ntc, t, n, c);
        dnnl_memory_desc dstLayer = Dnnl.typedDesc(owner, low, dnnl_ntc, t, n, h);
        // A Keras state [N, H] is exactly ldnc {1, 1, N, H}; a stack's are staged into {L, 1, N, H}.
        dnnl_memory_desc state = Dnnl.typedDesc(owner, low, dnnl_ldnc, l, 1, n, h);
        dnnl_memory_desc cellState = bf16 ? Dnnl.desc(owner, dnnl_ldnc, l, 1, n, h) : state;
        dnnl_memory_desc weightsLayer = Dnnl.typedDesc(owner, low, weightTag, l, 1, c, g, h);
        dnnl_memory_desc weightsIter = Dnnl.typedDesc(owner, low, weightTag, l, 1, h, g, h);
        dnnl_memory_desc bias = userWeights[2].desc();
        int direction = spec.goBackwards() ? dnnl_unidirectional_right2left : dnnl_unidirectional_left2right;
        return kind.forwardInference(owner, engine, activationKind, direction, srcLayer, state, cellState,
                weightsLayer, weightsIter, bias, dstLayer, bf16 ? " (bf16)" : "");
    }

    private String describePath(dnnl_primitive_desc pd, WeightFormat format) {
        return "oneDNN " + kind.primitiveName + (layers > 1 ? ", " + layers + " layers in one primitive" : "")
                + " (" + Dnnl.implInfo(pd) + ", weights " + format.label + (bf16 ? ", bf16" : "") + ")";
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        gate.enter(closedMessage);
        try {
            return runUnmasked(input, initialStates);
        } finally {
            gate.exit();
        }
    }

    private Tensor[] runUnmasked(Tensor input, Tensor[] initialStates) {
        Shape shape = validate(input, initialStates);
        if (layers == 1 && WeightFormat.composedFaster(kind, shape.batch(), inputSize, hiddenSize, precision)) {
            RecurrentExecutor faster = smallBatchExecutor();
            executionPath = faster.executionPath();
            return faster.run(input, initialStates);
        }
        BatchSplit split = splits.workers();
        int parts = split != null ? splitParts(shape.batch(), split.workers() + 1) : 1;
        if (parts > 1) {
            if (split.tryAcquire()) {
                try {
                    return runSplit(split, parts, input, initialStates, shape);
                } finally {
                    split.release();
                }
            }
        }
        try (ShapeCache<Shape, ShapePlan>.Lease lease = plans.acquire(shape)) {
            ShapePlan plan = lease.plan();
            executionPath = plan.path;
            return plan.run(input, initialStates);
        }
    }

    /**
     * How many parts an unmasked call of {@code batch} rows runs as with {@code threads} threads
     * ({@link BatchSplit}; a stack's weights count every layer):
     * 1 unless {@link BatchSplit#parts} splits it and every part still runs the fused primitive on
     * one OpenMP thread.
     */
    int splitParts(int batch, int threads) {
        int parts = BatchSplit.parts(layers * BatchSplit.weightBytes(kind, inputSize, hiddenSize), batch, threads);
        if (parts > 1 && layers == 1 && WeightFormat.composedFaster(kind, BatchSplit.rows(batch, parts, parts - 1),
                inputSize, hiddenSize, precision, 1)) {
            return 1;
        }
        return parts;
    }

    /**
     * Runs the batch as {@code parts} parts of consecutive rows, each on its own plan (the fused
     * primitive compiled for the part's rows) and thread ({@link BatchSplit#run}), reading its rows
     * of the caller's tensors and writing its rows of the result in place.
     */
    private Tensor[] runSplit(BatchSplit split, int parts, Tensor input, Tensor[] initialStates, Shape shape) {
        int t = shape.steps();
        return Dnnl.outputs(1 + layers * spec.stateCount(), result -> allocateResult(result, shape.batch(), t),
                result -> executionPath = split.runOnPlans(plans, rows -> new Shape(rows, t), plan -> plan.path,
                        shape.batch(), parts, (plan, firstRow) -> plan.runRows(input, initialStates, result, firstRow)));
    }

    /** Tests: split batches over {@code split}'s workers whatever this process's settings; {@code null}: never split. */
    void batchSplitForTests(BatchSplit split) {
        splits.overrideForTests(split);
    }

    /**
     * Fills {@code result} (length 1 + layers × states) with the outputs of a call of {@code n} rows:
     * the (last layer's) output ({@code [N, T, H]} with return_sequences, else {@code [N, H]}), then
     * the final states {@code [N, H]}, layer by layer. Uninitialised: oneDNN and
     * {@link ShapePlan#runRows} write every element.
     * On failure the tensors allocated so far stay in {@code result} for the caller to close.
     */
    private void allocateResult(Tensor[] result, int n, int t) {
        int h = hiddenSize;
        for (int s = 1; s < result.length; s++) {
            result[s] = Tensor.uninitialized(n, h);
        }
        result[0] = returnSequences ? Tensor.uninitialized(n, t, h) : Tensor.uninitialized(n, h);
    }

    /** A pointer {@code bytes} into {@code tensor}'s data (no copy). */
    private static Pointer rows(Tensor tensor, long bytes) {
        return new BytePointer(tensor.pointer()).position(bytes);
    }

    /**
     * Runs under a mask (spec §3.3). Right-padded masks stay on the fused primitive
     * ({@link #runRightPadded}); other masks run on {@link #arbitraryMaskExecutor()}.
     */
    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        gate.enter(closedMessage);
        try {
            return runMasked(input, initialStates, mask);
        } finally {
            gate.exit();
        }
    }

    private Tensor[] runMasked(Tensor input, Tensor[] initialStates, Mask mask) {
        if (mask == null || mask.allValid()) {
            return runUnmasked(input, initialStates);
        }
        if (layers > 1) {
            throw new io.jrnn.UnsupportedConfigurationException(executionPath + " cannot apply a mask");
        }
        Shape shape = validate(input, initialStates);
        mask.checkShape(spec.describe(), shape.batch(), shape.steps());
        int[] lengths = mask.rightPaddedLengths();
        if (lengths == null) {
            RecurrentExecutor other = arbitraryMaskExecutor();
            executionPath = other.executionPath();
            return other.run(input, initialStates, mask);
        }
        return runRightPadded(input, initialStates, lengths);
    }

    /**
     * The composed executor for the shapes {@link WeightFormat#composedFaster} sends there (fp32,
     * small batches); created on first use.
     */
    private RecurrentExecutor smallBatchExecutor() {
        RecurrentExecutor faster = smallBatchExecutor;
        if (faster != null) {
            return faster;
        }
        synchronized (this) {
            if (smallBatchExecutor == null) {
                smallBatchExecutor = DnnlBackend.instance(precision).composed(spec, SMALL_BATCH_REASON_PREFIX
                        + kind.primitiveName + " at this batch and weight size (WeightFormat.composedFaster)");
            }
            return smallBatchExecutor;
        }
    }

    /**
     * The executor for masks that are not right-padded (a valid step after a padded one): the
     * length-segment scheme cannot express them. The one place to switch to the composed path.
     */
    private RecurrentExecutor arbitraryMaskExecutor() {
        RecurrentExecutor other = arbitraryMaskExecutor;
        if (other != null) {
            return other;
        }
        synchronized (this) {
            if (arbitraryMaskExecutor == null) {
                arbitraryMaskExecutor = DnnlBackend.instance(precision).composed(spec, "the mask is not right-padded"
                        + " (a valid step follows a padded one), which oneDNN's fused " + kind.primitiveName
                        + " cannot run");
            }
            return arbitraryMaskExecutor;
        }
    }

    /**
     * Right-padded batches on the fused primitive, packed-sequence style: samples sorted by length
     * (longest first), time cut at each distinct length into segments; segment {@code [from, to)}
     * runs the samples whose length reaches {@code to} (a prefix of the sorted batch), starting from
     * the states the previous segment left. Forward passes shrink the batch segment by segment;
     * go_backwards passes (right2left primitives) run the segments last to first, so the batch
     * grows and each sample starts, from its initial state, at its own last valid step, exactly as
     * Keras's backward pass carries the initial state through the padded head. The padded outputs
     * are then filled per spec §3.3 (carried output, zeros, or {@code h} before the step).
     */
    private Tensor[] runRightPadded(Tensor input, Tensor[] initialStates, int[] lengths) {
        int n = lengths.length;
        int steps = input.dim(1);
        int c = inputSize;
        int h = hiddenSize;
        int stateCount = spec.stateCount();
        boolean backwards = spec.goBackwards();
        // Samples by length, longest first (stable); zero-length samples come last and never run.
        int[] sorted = java.util.stream.IntStream.range(0, n).boxed()
                .sorted((a, b) -> Integer.compare(lengths[b], lengths[a])).mapToInt(Integer::intValue).toArray();
        int[] bounds = Arrays.stream(lengths).filter(l -> l > 0).distinct().sorted().toArray();
        List<Tensor> temporaries = new ArrayList<>();
        Tensor[] result = new Tensor[1 + stateCount];
        boolean done = false;
        try {
            // Carried states in sorted order (row j = sample sorted[j]), and the primitive's dst_iter.
            Tensor[] carried = new Tensor[stateCount];
            Tensor[] written = new Tensor[stateCount];
            Pointer[] carriedPointers = new Pointer[2];
            Pointer[] writtenPointers = new Pointer[2];
            for (int s = 0; s < stateCount; s++) {
                carried[s] = temporary(temporaries, Tensor.zeros(n, h));
                written[s] = temporary(temporaries, Tensor.zeros(n, h));
                if (initialStates != null) {
                    gatherRows(initialStates[s].view(), carried[s].view(), sorted, n, h);
                }
                carriedPointers[s] = carried[s].pointer();
                writtenPointers[s] = written[s].pointer();
            }
            Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, h) : null;
            result[0] = sequence;
            FloatBuffer x = input.view();
            String segmentPath = null;
            for (int k = 0; k < bounds.length; k++) {
                int segment = backwards ? bounds.length - 1 - k : k;
                int from = segment == 0 ? 0 : bounds[segment - 1];
                int to = bounds[segment];
                int len = to - from;
                int batch = 0;
                while (batch < n && lengths[sorted[batch]] >= to) {
                    batch++;
                }
                try (ShapeCache<Shape, ShapePlan>.Lease lease = segmentPlans.acquire(new Shape(batch, len));
                        Tensor xs = Tensor.zeros(batch, len, c); Tensor ys = Tensor.zeros(batch, len, h)) {
                    ShapePlan plan = lease.plan();
                    segmentPath = plan.path;
                    FloatBuffer xsView = xs.view();
                    for (int j = 0; j < batch; j++) {
                        xsView.put(j * len * c, x, (sorted[j] * steps + from) * c, len * c);
                    }
                    plan.execute(xs.pointer(), carriedPointers, ys.pointer(), writtenPointers);
                    for (int s = 0; s < stateCount; s++) {
                        carried[s].view().put(0, written[s].view(), 0, batch * h);
                    }
                    if (sequence != null) {
                        scatterSegment(ys.view(), sequence.view(), sorted, batch, from, len, steps);
                    }
                }
            }
            for (int s = 0; s < stateCount; s++) {
                result[1 + s] = Tensor.zeros(n, h);
                scatterRows(carried[s].view(), result[1 + s].view(), sorted, n, h);
            }
            fillPadded(result, initialStates, lengths, steps);
            executionPath = (segmentPath != null ? segmentPath : "oneDNN " + kind.primitiveName + " (no sample had a valid step)")
                    + ", right-padded mask in " + bounds.length + " length segment(s)";
            done = true;
            return result;
        } finally {
            for (Tensor t : temporaries) {
                t.close();
            }
            if (!done) {
                Dnnl.closeAll(result);
            }
        }
    }

    private static Tensor temporary(List<Tensor> temporaries, Tensor t) {
        temporaries.add(t);
        return t;
    }

    /** {@code to[j] = from[order[j]]}, rows of width {@code h}. */
    private static void gatherRows(FloatBuffer from, FloatBuffer to, int[] order, int rows, int h) {
        for (int j = 0; j < rows; j++) {
            to.put(j * h, from, order[j] * h, h);
        }
    }

    /** {@code to[order[j]] = from[j]}, rows of width {@code h}. */
    private static void scatterRows(FloatBuffer from, FloatBuffer to, int[] order, int rows, int h) {
        for (int j = 0; j < rows; j++) {
            to.put(order[j] * h, from, j * h, h);
        }
    }

    /**
     * Copies a segment's outputs ({@code [batch, len, H]}, aligned with input time {@code from…})
     * into the Keras sequence: at input time for forward passes, at processing position
     * {@code T−1−t} for go_backwards.
     */
    private void scatterSegment(FloatBuffer ys, FloatBuffer sequence, int[] sorted, int batch, int from, int len,
            int steps) {
        int h = hiddenSize;
        for (int j = 0; j < batch; j++) {
            int sample = sorted[j];
            if (!spec.goBackwards()) {
                sequence.put((sample * steps + from) * h, ys, j * len * h, len * h);
            } else {
                for (int i = 0; i < len; i++) {
                    int k = steps - 1 - (from + i);
                    sequence.put((sample * steps + k) * h, ys, (j * len + i) * h, h);
                }
            }
        }
    }

    /** The outputs at padded steps (spec §3.3): {@link io.jrnn.backend.RightPaddedOutputs#fill}. */
    private void fillPadded(Tensor[] result, Tensor[] initialStates, int[] lengths, int steps) {
        io.jrnn.backend.RightPaddedOutputs.fill(spec, result, initialStates, lengths, steps);
    }

    private Shape validate(Tensor input, Tensor[] initialStates) {
        int[] s = RecurrentInputs.checkInput(spec.describe(), input, inputSize);
        if (initialStates != null) {
            if (initialStates.length != layers * spec.stateCount()) {
                throw new IllegalArgumentException(spec.describe() + " has " + layers * spec.stateCount()
                        + " state(s) but was passed " + initialStates.length);
            }
            RecurrentInputs.checkStates(spec.describe(), initialStates, s[0], hiddenSize);
        }
        return new Shape(s[0], s[1]);
    }

    private ShapePlan createPlan(Shape shape) {
        return createPlan(shape, false);
    }

    private ShapePlan createPlan(Shape shape, boolean segment) {
        NativeScope planScope = scope.child();
        try {
            return new ShapePlan(shape, planScope, segment);
        } catch (RuntimeException | Error e) {
            planScope.closeAfter(e);
            throw e;
        }
    }

    /** Everything compiled for one input shape. */
    private final class ShapePlan implements ShapeCache.Plan {
        final Shape shape;
        final NativeScope planScope;
        final String path;
        final dnnl_primitive primitive;
        final dnnl_memory srcLayer;
        final dnnl_memory srcIter;
        final dnnl_memory srcIterC;
        final dnnl_memory dstLayer;
        final dnnl_memory dstIter;
        final dnnl_memory dstIterC;
        /** Zero initial state {@code [N, H]}, for calls without initial states. */
        final BytePointer zeroState;
        /** A stack's {@code ldnc {L, 1, N, H}} states: src_iter, dst_iter, then src_iter_c, dst_iter_c (LSTM); else {@code null}. */
        final BytePointer[] stagedStates;
        /** {@code dst_layer} when the caller does not get the sequence as oneDNN writes it (no return_sequences, or go_backwards). */
        final BytePointer sequenceScratch;
        final dnnl_exec_arg_t args;
        final int argCount;
        /** bf16: the f32 → bf16 conversions queued before the primitive, and the bf16 → f32 ones after it. */
        final List<Dnnl.Reorder> convertIn = new ArrayList<>();
        final List<Dnnl.Reorder> convertOut = new ArrayList<>();
        /** This context's own stream (a stream is not shared between threads); the reorders run on it too. */
        final dnnl_stream stream;

        ShapePlan(Shape shape, NativeScope planScope, boolean segment) {
            this.shape = shape;
            this.planScope = planScope;
            this.stream = Dnnl.stream(planScope, engine);
            boolean lstm = kind == RnnPrimitive.LSTM;
            WeightFormat format = WeightFormat.choose(kind, shape.batch(), precision);
            dnnl_primitive_desc pd = primitiveDesc(planScope, shape, format);
            this.path = describePath(pd, format);
            dnnl_memory weightsLayer = weights.in(planScope, userWeights[0], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_LAYER));
            dnnl_memory weightsIter = weights.in(planScope, userWeights[1], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_ITER));
            dnnl_memory bias = weights.in(planScope, userWeights[2], Dnnl.queryArgDesc(pd, DNNL_ARG_BIAS));
            this.primitive = Dnnl.primitive(planScope, pd);
            primitivesCreated.incrementAndGet();
            // Data handles are set on every call: the caller's tensors are used in place (bf16: the
            // caller's f32 tensors are the reorders' ends, the primitive's own arguments bf16 buffers).
            long n = shape.batch();
            long t = shape.steps();
            long stateFloats = n * hiddenSize;
            this.srcLayer = argMemory(pd, DNNL_ARG_SRC_LAYER, true, dnnl_ntc, t, n, inputSize);
            this.srcIter = argMemory(pd, DNNL_ARG_SRC_ITER, true, dnnl_ldnc, layers, 1, n, hiddenSize);
            this.srcIterC = lstm ? argMemory(pd, DNNL_ARG_SRC_ITER_C) : null;
            // Without return_sequences (and outside segments) the sequence goes to the scratch buffer and is
            // never read: in bf16 it is not converted back.
            boolean sequenceUsed = segment || returnSequences;
            this.dstLayer = sequenceUsed ? argMemory(pd, DNNL_ARG_DST_LAYER, false, dnnl_ntc, t, n, hiddenSize)
                    : argMemory(pd, DNNL_ARG_DST_LAYER);
            this.dstIter = argMemory(pd, DNNL_ARG_DST_ITER, false, dnnl_ldnc, layers, 1, n, hiddenSize);
            this.dstIterC = lstm ? argMemory(pd, DNNL_ARG_DST_ITER_C) : null;
            this.zeroState = Dnnl.alignedBuffer(planScope, stateFloats * layers * Float.BYTES);
            if (layers > 1) {
                long bytes = stateFloats * layers * Float.BYTES;
                this.stagedStates = new BytePointer[] {
                    Dnnl.alignedBuffer(planScope, bytes), Dnnl.alignedBuffer(planScope, bytes),
                    lstm ? Dnnl.alignedBuffer(planScope, bytes) : null, lstm ? Dnnl.alignedBuffer(planScope, bytes) : null,
                };
            } else {
                this.stagedStates = null;
            }
            // Segment plans always write into the caller's buffers.
            boolean outputInPlace = segment || (returnSequences && !spec.goBackwards());
            this.sequenceScratch = outputInPlace ? null
                    : Dnnl.alignedBuffer(planScope, stateFloats * shape.steps() * Float.BYTES);

            this.argCount = kind.argCount();
            this.args = kind.args(planScope, Dnnl.scratchpad(planScope, pd, engine), primitiveArg(srcLayer),
                    primitiveArg(srcIter), srcIterC, weightsLayer, weightsIter, bias, primitiveArg(dstLayer),
                    primitiveArg(dstIter), dstIterC);
        }

        /** The primitive's memories that differ from the caller-facing ones (bf16 runs). */
        private final java.util.Map<dnnl_memory, dnnl_memory> lowered = new java.util.IdentityHashMap<>();

        private dnnl_memory primitiveArg(dnnl_memory callerFacing) {
            return lowered.getOrDefault(callerFacing, callerFacing);
        }

        /** A memory for argument {@code arg} as the primitive wants it, its data handle set per call. */
        private dnnl_memory argMemory(dnnl_primitive_desc pd, int arg) {
            return Dnnl.memory(planScope, Dnnl.queryArgDesc(pd, arg), engine, null);
        }

        /** The primitive's memory for {@code arg} over a buffer of its own (bf16 data the caller never sees). */
        private dnnl_memory lowMemory(dnnl_primitive_desc pd, int arg) {
            dnnl_memory_desc desc = Dnnl.queryArgDesc(pd, arg);
            return Dnnl.memory(planScope, desc, engine, Dnnl.alignedBuffer(planScope, Dnnl.sizeInBytes(desc)));
        }

        /**
         * The caller-facing memory for a data argument. fp32: the primitive's own. bf16: an f32
         * memory of {@code tag} and {@code dims}, converted into the primitive's bf16 memory before it
         * runs ({@code input}) or from it after ({@code !input}) by a reorder.
         */
        private dnnl_memory argMemory(dnnl_primitive_desc pd, int arg, boolean input, int tag, long... dims) {
            if (!bf16) {
                return argMemory(pd, arg);
            }
            dnnl_memory_desc userDesc = Dnnl.typedDesc(planScope, dnnl_f32, tag, dims);
            dnnl_memory user = Dnnl.memory(planScope, userDesc, engine, null);
            dnnl_memory low = lowMemory(pd, arg);
            dnnl_memory_desc lowDesc = Dnnl.queryArgDesc(pd, arg);
            if (input) {
                convertIn.add(Dnnl.reorder(planScope, engine, userDesc, user, lowDesc, low));
            } else {
                convertOut.add(Dnnl.reorder(planScope, engine, lowDesc, low, userDesc, user));
            }
            lowered.put(user, low);
            return user;
        }

        /** Converts the inputs (bf16), runs the primitive, converts the outputs back (bf16), then waits. */
        private void executeAll() {
            for (Dnnl.Reorder r : convertIn) {
                r.submit(stream);
            }
            Dnnl.submit(primitive, stream, argCount, args);
            for (Dnnl.Reorder r : convertOut) {
                r.submit(stream);
            }
            Dnnl.await(stream);
        }

        Tensor[] run(Tensor input, Tensor[] initialStates) {
            return Dnnl.outputs(1 + layers * spec.stateCount(),
                    result -> allocateResult(result, shape.batch(), shape.steps()),
                    result -> runRows(input, initialStates, result, 0));
        }

        /**
         * Runs this plan's {@code N} rows of a larger batch, from row {@code firstRow}: reads them from
         * the caller's {@code input} ({@code [B, T, C]}) and {@code initialStates} ({@code [B, H]} each,
         * {@code null} for zeros) and writes them into {@code result}, allocated for the whole batch
         * (output {@code [B, T, H]} or {@code [B, H]}, then the final states; a stack: {@link #runStackRows}).
         */
        void runRows(Tensor input, Tensor[] initialStates, Tensor[] result, int firstRow) {
            if (layers > 1) {
                runStackRows(input, initialStates, result, firstRow);
                return;
            }
            int n = shape.batch();
            int t = shape.steps();
            int h = hiddenSize;
            long stateBytes = (long) firstRow * h * Float.BYTES;
            long sequenceBytes = stateBytes * t;
            Tensor sequence = sequenceScratch == null ? result[0] : null;
            Dnnl.setHandle(srcLayer, rows(input, (long) firstRow * t * inputSize * Float.BYTES));
            Dnnl.setHandle(srcIter, initialStates != null ? rows(initialStates[0], stateBytes) : zeroState);
            Dnnl.setHandle(dstLayer, sequence != null ? rows(sequence, sequenceBytes) : sequenceScratch);
            Dnnl.setHandle(dstIter, rows(result[1], stateBytes));
            if (srcIterC != null) {
                Dnnl.setHandle(srcIterC, initialStates != null ? rows(initialStates[1], stateBytes) : zeroState);
                Dnnl.setHandle(dstIterC, rows(result[2], stateBytes));
            }
            executeAll();
            if (sequence == null) {
                FloatBuffer to = result[0].view();
                if (spec.returnSequences()) {
                    // go_backwards: flip oneDNN's input-time order.
                    FloatBuffer from = Dnnl.floats(sequenceScratch);
                    for (int sample = 0; sample < n; sample++) {
                        for (int k = 0; k < t; k++) {
                            to.put(((firstRow + sample) * t + k) * h, from, (sample * t + (t - 1 - k)) * h, h);
                        }
                    }
                } else {
                    to.put(firstRow * h, result[1].view(), firstRow * h, n * h);
                }
            }
        }

        /**
         * A stack's rows from {@code firstRow} (as {@link #runRows}): the caller's states (layer by
         * layer, each layer's own order) are copied into the staged {@code ldnc {L, 1, N, H}} buffers
         * and the final ones out of them; the output is {@code dst_layer} (the last layer's sequence)
         * or the last layer's final {@code h}.
         */
        private void runStackRows(Tensor input, Tensor[] initialStates, Tensor[] result, int firstRow) {
            int n = shape.batch();
            int t = shape.steps();
            int h = hiddenSize;
            int stateCount = spec.stateCount();
            int layerFloats = n * h;
            int rowOffset = firstRow * h;
            for (int s = 0; initialStates != null && s < stateCount; s++) {
                FloatBuffer staged = Dnnl.floats(stagedStates[2 * s]);
                for (int k = 0; k < layers; k++) {
                    staged.put(k * layerFloats, initialStates[k * stateCount + s].view(), rowOffset, layerFloats);
                }
            }
            Tensor sequence = sequenceScratch == null ? result[0] : null;
            Dnnl.setHandle(srcLayer, rows(input, (long) firstRow * t * inputSize * Float.BYTES));
            Dnnl.setHandle(srcIter, initialStates != null ? stagedStates[0] : zeroState);
            Dnnl.setHandle(dstLayer, sequence != null ? rows(sequence, (long) rowOffset * t * Float.BYTES)
                    : sequenceScratch);
            Dnnl.setHandle(dstIter, stagedStates[1]);
            if (srcIterC != null) {
                Dnnl.setHandle(srcIterC, initialStates != null ? stagedStates[2] : zeroState);
                Dnnl.setHandle(dstIterC, stagedStates[3]);
            }
            executeAll();
            for (int s = 0; s < stateCount; s++) {
                FloatBuffer staged = Dnnl.floats(stagedStates[2 * s + 1]);
                for (int k = 0; k < layers; k++) {
                    result[1 + k * stateCount + s].view().put(rowOffset, staged, k * layerFloats, layerFloats);
                }
            }
            if (sequence == null) {
                result[0].view().put(rowOffset, result[1 + (layers - 1) * stateCount].view(), rowOffset, layerFloats);
            }
        }

        /**
         * Runs the primitive on caller buffers: input {@code [N, T, C]}, states {@code [N, H]}
         * (the LSTM cell states {@code null} for other cells), output sequence {@code [N, T, H]}
         * in oneDNN's order (aligned with input time, also for right2left).
         */
        void execute(Pointer src, Pointer[] srcStates, Pointer dst, Pointer[] dstStates) {
            Dnnl.setHandle(srcLayer, src);
            Dnnl.setHandle(srcIter, srcStates[0]);
            Dnnl.setHandle(dstLayer, dst);
            Dnnl.setHandle(dstIter, dstStates[0]);
            if (srcIterC != null) {
                Dnnl.setHandle(srcIterC, srcStates[1]);
                Dnnl.setHandle(dstIterC, dstStates[1]);
            }
            executeAll();
        }

        @Override
        public void close() {
            planScope.close();
        }
    }

    @Override
    public String executionPath() {
        return executionPath;
    }

    /** Primitives created so far (one per execution context compiled), for tests. */
    int primitivesCreated() {
        return primitivesCreated.get();
    }

    /** Weight arrays reordered (to another layout or to bf16) so far, for tests. */
    int weightConversions() {
        return weights.conversions();
    }

    /** Segment shapes of right-padded masked batches currently compiled, for tests. */
    int cachedSegmentCount() {
        return segmentPlans.size();
    }

    /** Shapes currently compiled, for tests. */
    int cachedShapeCount() {
        return plans.size();
    }

    boolean isClosed() {
        return gate.isClosed();
    }


    /** Refuses new calls; the native memory is released now, or by the last call in flight. */
    @Override
    public void close() {
        gate.close(this::release);
    }

    private void release() {
        // Plans first (they hold references to the reordered weights), then the executor's own handles.
        try (NativeScope closing = new NativeScope()) {
            closing.defer(registration::close);
            closing.defer(segmentPlans::clear);
            closing.defer(plans::clear);
            RecurrentExecutor other;
            synchronized (this) {
                other = arbitraryMaskExecutor;
                arbitraryMaskExecutor = null;
            }
            RecurrentExecutor faster;
            synchronized (this) {
                faster = smallBatchExecutor;
                smallBatchExecutor = null;
            }
            if (other != null) {
                closing.defer(other::close);
            }
            if (faster != null) {
                closing.defer(faster::close);
            }
        }
    }
}
