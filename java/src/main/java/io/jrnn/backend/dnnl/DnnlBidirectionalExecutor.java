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
import static org.bytedeco.dnnl.global.dnnl.dnnl_bidirectional_concat;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bidirectional_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;

import io.jrnn.NativeResources;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.weights.OneDnnRnnWeights;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;

/**
 * Both directions of a Keras {@code Bidirectional} (merge_mode concat or sum) on one oneDNN RNN
 * primitive with direction {@code bidirectional_concat} / {@code bidirectional_sum}.
 *
 * <p>oneDNN's second direction runs right to left and writes {@code dst_layer[t]} = its output after
 * consuming {@code x[T−1] … x[t]}: exactly Keras's go_backwards layer with its sequence flipped back
 * to input time (spec §3.7). The merged sequence is therefore oneDNN's {@code dst_layer} as it is
 * ({@code [N, T, 2H]} = {@code [y_fwd ‖ y_bwd]}, or {@code [N, T, H]} = {@code y_fwd + y_bwd}); without
 * return_sequences the output merges the two final states ({@code dst_iter}: forward after
 * {@code x[T−1]}, backward after {@code x[0]}).
 *
 * <p>Weights: {@code ldigo {1, 2, C, G, H}} and bias {@code ldgo {1, 2, G', H}}, forward direction
 * then backward, each half in Keras's own layout; states {@code ldnc {1, 2, N, H}} (staged through a
 * small buffer because the caller's forward and backward states are separate tensors).
 *
 * <p>{@link #run(Tensor, Tensor[])} takes {@code [N, T, C]} and {@code null} (zeros) or the forward
 * layer's initial states then the backward layer's, and returns
 * {@code [merged output, *forward states, *backward states]}. No masks other than all-valid ones
 * (the default of {@link RecurrentExecutor#run(Tensor, Tensor[], io.jrnn.Mask)}): masked
 * Bidirectional calls run as two layers.
 *
 * <p>Thread-safe without a lock around the call, as {@link DnnlRecurrentExecutor}: per-call
 * execution contexts from a per-shape pool, weights shared read-only.
 */
final class DnnlBidirectionalExecutor implements RecurrentExecutor {
    private static final int DIRECTIONS = 2;

    private final RecurrentSpec forward;
    private final RnnPrimitive kind;
    private final int activationKind;
    private final boolean sum;
    private final dnnl_engine engine;
    private final int inputSize;
    private final int hiddenSize;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    private final WeightCache weights;
    /** Weights layer, weights iter, bias, both directions, in Keras layout ({@code ldigo}, {@code ldgo}). */
    private final WeightCache.Source[] userWeights;
    private final ShapeCache<Shape, ShapePlan> plans = new ShapeCache<>(DnnlRecurrentExecutor.SHAPE_CACHE_CAPACITY,
            this::createPlan);
    private final AtomicInteger primitivesCreated = new AtomicInteger();
    private volatile String executionPath;
    private final CallGate gate = new CallGate();
    private final NativeResources.Registration registration;
    /** The batch split's workers for this executor's calls. */
    private final BatchSplit.Choice splits = new BatchSplit.Choice();

    private record Shape(int batch, int steps) {
    }

    /**
     * @param forward  the forward layer (go_backwards false)
     * @param backward the backward layer (go_backwards true), same cell, activations, sizes and return_sequences
     * @param sum      {@code bidirectional_sum} instead of {@code bidirectional_concat}
     */
    DnnlBidirectionalExecutor(dnnl_engine engine, RecurrentSpec forward, RecurrentSpec backward, boolean sum,
            RnnPrimitive kind, int activationKind) {
        this.forward = forward;
        this.kind = kind;
        this.activationKind = activationKind;
        this.sum = sum;
        this.engine = engine;
        this.inputSize = forward.inputSize();
        this.hiddenSize = forward.units();
        try {
            this.stream = Dnnl.stream(scope, engine);
            this.weights = new WeightCache(engine, stream);
            scope.defer(weights::close);
            long c = inputSize;
            long h = hiddenSize;
            long g = kind.gateCount;
            OneDnnRnnWeights f = OneDnnRnnWeights.fromKeras(forward.weights());
            OneDnnRnnWeights b = OneDnnRnnWeights.fromKeras(backward.weights());
            // The direction axis is outside C/G/H: forward's ldigo block, then backward's.
            this.userWeights = new WeightCache.Source[] {
                weights.upload(concat(f.weightsLayer(), b.weightsLayer()), dnnl_ldigo, 1, DIRECTIONS, c, g, h),
                weights.upload(concat(f.weightsIter(), b.weightsIter()), dnnl_ldigo, 1, DIRECTIONS, h, g, h),
                weights.upload(concat(f.bias(), b.bias()), dnnl_ldgo, 1, DIRECTIONS, kind.biasGateCount, h),
            };
            try (NativeScope probe = new NativeScope()) {
                WeightFormat format = WeightFormat.choose(kind, 1);
                this.executionPath = describePath(primitiveDesc(probe, new Shape(1, 1), format), format);
            }
            this.registration = NativeResources.register(this, scope::close);
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private String directionName() {
        return sum ? "bidirectional_sum" : "bidirectional_concat";
    }

    private dnnl_primitive_desc primitiveDesc(NativeScope owner, Shape shape, WeightFormat format) {
        long n = shape.batch();
        long t = shape.steps();
        long c = inputSize;
        long h = hiddenSize;
        long g = kind.gateCount;
        int weightTag = format == WeightFormat.ANY ? dnnl_format_tag_any : dnnl_ldigo;
        dnnl_memory_desc srcLayer = Dnnl.desc(owner, dnnl_ntc, t, n, c);
        dnnl_memory_desc dstLayer = Dnnl.desc(owner, dnnl_ntc, t, n, sum ? h : DIRECTIONS * h);
        dnnl_memory_desc state = Dnnl.desc(owner, dnnl_ldnc, 1, DIRECTIONS, n, h);
        dnnl_memory_desc weightsLayer = Dnnl.desc(owner, weightTag, 1, DIRECTIONS, c, g, h);
        dnnl_memory_desc weightsIter = Dnnl.desc(owner, weightTag, 1, DIRECTIONS, h, g, h);
        dnnl_memory_desc bias = userWeights[2].desc();
        int direction = sum ? dnnl_bidirectional_sum : dnnl_bidirectional_concat;
        return kind.forwardInference(owner, engine, activationKind, direction, srcLayer, state, weightsLayer,
                weightsIter, bias, dstLayer, "(" + directionName() + ")");
    }

    private String describePath(dnnl_primitive_desc pd, WeightFormat format) {
        return "oneDNN " + kind.primitiveName + " " + directionName() + " (" + Dnnl.implInfo(pd) + ", weights "
                + format.label + "): both directions in one primitive";
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        gate.enter("Bidirectional(" + forward.describe() + "): oneDNN executor is closed");
        try {
            Shape shape = validate(input, initialStates);
            BatchSplit split = splits.workers();
            int parts = split != null ? splitParts(shape.batch(), split.workers() + 1) : 1;
            if (parts > 1 && split.tryAcquire()) {
                try {
                    return runSplit(split, parts, input, initialStates, shape);
                } finally {
                    split.release();
                }
            }
            try (ShapeCache<Shape, ShapePlan>.Lease lease = plans.acquire(shape)) {
                ShapePlan plan = lease.plan();
                executionPath = plan.path;
                return plan.run(input, initialStates);
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * How many parts a call of {@code batch} rows runs as with {@code threads} threads
     * ({@link BatchSplit}; both directions' weights count).
     */
    int splitParts(int batch, int threads) {
        return BatchSplit.parts(DIRECTIONS * BatchSplit.weightBytes(kind, inputSize, hiddenSize), batch, threads);
    }

    /** Tests: split batches over {@code split}'s workers whatever this process's settings; {@code null}: never split. */
    void batchSplitForTests(BatchSplit split) {
        splits.overrideForTests(split);
    }

    /** As {@code DnnlRecurrentExecutor.runSplit}: parts of consecutive rows, each on its own plan and thread, in place. */
    private Tensor[] runSplit(BatchSplit split, int parts, Tensor input, Tensor[] initialStates, Shape shape) {
        int t = shape.steps();
        return Dnnl.outputs(1 + DIRECTIONS * stateCount(), result -> allocateResult(result, shape.batch(), t),
                result -> executionPath = split.runOnPlans(plans, rows -> new Shape(rows, t), plan -> plan.path,
                        shape.batch(), parts, (plan, firstRow) -> plan.runRows(input, initialStates, result, firstRow)));
    }

    /**
     * Fills {@code result} with a call's outputs for {@code n} rows, zeroed: the merged output
     * ({@code [N, T, 2H]} or {@code [N, T, H]} with return_sequences, else {@code [N, 2H]} or
     * {@code [N, H]}), then the forward and the backward final states {@code [N, H]}.
     */
    private void allocateResult(Tensor[] result, int n, int t) {
        int h = hiddenSize;
        int width = sum ? h : DIRECTIONS * h;
        result[0] = forward.returnSequences() ? Tensor.zeros(n, t, width) : Tensor.zeros(n, width);
        for (int s = 1; s < result.length; s++) {
            result[s] = Tensor.zeros(n, h);
        }
    }

    private int stateCount() {
        return forward.stateCount();
    }

    private Shape validate(Tensor input, Tensor[] initialStates) {
        String who = "Bidirectional(" + forward.describe() + ")";
        int[] s = RecurrentInputs.checkInput(who, input, inputSize);
        if (initialStates != null) {
            if (initialStates.length != DIRECTIONS * stateCount()) {
                throw new IllegalArgumentException(who + " has " + DIRECTIONS * stateCount() + " states (" + stateCount()
                        + " forward, then " + stateCount() + " backward) but was passed " + initialStates.length);
            }
            RecurrentInputs.checkStates(who, initialStates, s[0], hiddenSize);
        }
        return new Shape(s[0], s[1]);
    }

    private ShapePlan createPlan(Shape shape) {
        NativeScope planScope = scope.child();
        try {
            return new ShapePlan(shape, planScope);
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
        final dnnl_memory dstLayer;
        /** {@code [2, N, H]} state staging buffers (h; c for LSTM), both directions. */
        final BytePointer srcIter;
        final BytePointer srcIterC;
        final BytePointer dstIter;
        final BytePointer dstIterC;
        /** Zeros for the staged states of a call without initial states ({@code [2, N, H]}), allocated once. */
        final float[] zeroStates;
        /** {@code dst_layer} when the caller gets no sequence. */
        final BytePointer sequenceScratch;
        final dnnl_exec_arg_t args;
        final int argCount;
        /** This context's own stream. */
        final dnnl_stream stream;

        ShapePlan(Shape shape, NativeScope planScope) {
            this.shape = shape;
            this.planScope = planScope;
            this.stream = Dnnl.stream(planScope, engine);
            boolean lstm = kind == RnnPrimitive.LSTM;
            WeightFormat format = WeightFormat.choose(kind, shape.batch());
            dnnl_primitive_desc pd = primitiveDesc(planScope, shape, format);
            this.path = describePath(pd, format);
            dnnl_memory weightsLayer = weights.in(planScope, userWeights[0], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_LAYER));
            dnnl_memory weightsIter = weights.in(planScope, userWeights[1], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_ITER));
            dnnl_memory bias = weights.in(planScope, userWeights[2], Dnnl.queryArgDesc(pd, DNNL_ARG_BIAS));
            this.primitive = Dnnl.primitive(planScope, pd);
            primitivesCreated.incrementAndGet();
            this.srcLayer = Dnnl.memory(planScope, Dnnl.queryArgDesc(pd, DNNL_ARG_SRC_LAYER), engine, null);
            this.dstLayer = Dnnl.memory(planScope, Dnnl.queryArgDesc(pd, DNNL_ARG_DST_LAYER), engine, null);
            long stateBytes = (long) DIRECTIONS * shape.batch() * hiddenSize * Float.BYTES;
            this.srcIter = Dnnl.alignedBuffer(planScope, stateBytes);
            this.zeroStates = new float[DIRECTIONS * shape.batch() * hiddenSize];
            this.dstIter = Dnnl.alignedBuffer(planScope, stateBytes);
            this.srcIterC = lstm ? Dnnl.alignedBuffer(planScope, stateBytes) : null;
            this.dstIterC = lstm ? Dnnl.alignedBuffer(planScope, stateBytes) : null;
            long width = sum ? hiddenSize : (long) DIRECTIONS * hiddenSize;
            this.sequenceScratch = forward.returnSequences() ? null
                    : Dnnl.alignedBuffer(planScope, (long) shape.batch() * shape.steps() * width * Float.BYTES);
            this.argCount = kind.argCount();
            this.args = kind.args(planScope, Dnnl.scratchpad(planScope, pd, engine), srcLayer, stateMemory(pd, DNNL_ARG_SRC_ITER, srcIter),
                    lstm ? stateMemory(pd, DNNL_ARG_SRC_ITER_C, srcIterC) : null, weightsLayer, weightsIter, bias,
                    dstLayer, stateMemory(pd, DNNL_ARG_DST_ITER, dstIter),
                    lstm ? stateMemory(pd, DNNL_ARG_DST_ITER_C, dstIterC) : null);
        }

        private dnnl_memory stateMemory(dnnl_primitive_desc pd, int arg, BytePointer buffer) {
            return Dnnl.memory(planScope, Dnnl.queryArgDesc(pd, arg), engine, buffer);
        }

        Tensor[] run(Tensor input, Tensor[] initialStates) {
            return Dnnl.outputs(1 + DIRECTIONS * stateCount(),
                    result -> allocateResult(result, shape.batch(), shape.steps()),
                    result -> runRows(input, initialStates, result, 0));
        }

        /**
         * Runs this plan's {@code N} rows of a larger batch, from row {@code firstRow}: reads them from
         * the caller's {@code input} ({@code [B, T, C]}) and {@code initialStates} ({@code null}: zeros)
         * and writes them into {@code result}, allocated for the whole batch ({@link #allocateResult}).
         */
        void runRows(Tensor input, Tensor[] initialStates, Tensor[] result, int firstRow) {
            int n = shape.batch();
            int t = shape.steps();
            int h = hiddenSize;
            int nh = n * h;
            int states = stateCount();
            int width = sum ? h : DIRECTIONS * h;
            // Initial states: ldnc {1, 2, N, H} = forward [N, H] then backward [N, H].
            BytePointer[] src = srcIterC == null ? new BytePointer[] {srcIter} : new BytePointer[] {srcIter, srcIterC};
            BytePointer[] dst = dstIterC == null ? new BytePointer[] {dstIter} : new BytePointer[] {dstIter, dstIterC};
            for (int k = 0; k < states; k++) {
                FloatBuffer staged = Dnnl.floats(src[k]);
                if (initialStates == null) {
                    staged.put(0, zeroStates);
                } else {
                    staged.put(0, initialStates[k].view(), firstRow * h, nh);
                    staged.put(nh, initialStates[states + k].view(), firstRow * h, nh);
                }
            }
            Tensor sequence = sequenceScratch == null ? result[0] : null;
            Dnnl.setHandle(srcLayer, new BytePointer(input.pointer()).position((long) firstRow * t * inputSize
                    * Float.BYTES));
            Dnnl.setHandle(dstLayer, sequence != null
                    ? new BytePointer(sequence.pointer()).position((long) firstRow * t * width * Float.BYTES)
                    : sequenceScratch);
            Dnnl.execute(primitive, stream, argCount, args);
            for (int k = 0; k < states; k++) {
                FloatBuffer out = Dnnl.floats(dst[k]);
                result[1 + k].view().put(firstRow * h, out, 0, nh);
                result[1 + states + k].view().put(firstRow * h, out, nh, nh);
            }
            if (sequence == null) {
                mergeLast(Dnnl.floats(dstIter), n, h, result[0].view(), firstRow);
            }
        }

        /**
         * Without return_sequences: forward h after {@code x[T−1]} merged with backward h after
         * {@code x[0]}, into rows {@code firstRow…} of {@code to} ({@code [B, 2H]} or {@code [B, H]}).
         */
        private void mergeLast(FloatBuffer finalH, int n, int h, FloatBuffer to, int firstRow) {
            if (sum) {
                for (int i = 0; i < n * h; i++) {
                    to.put(firstRow * h + i, finalH.get(i) + finalH.get(n * h + i));
                }
                return;
            }
            for (int s = 0; s < n; s++) {
                to.put((firstRow + s) * 2 * h, finalH, s * h, h);
                to.put((firstRow + s) * 2 * h + h, finalH, n * h + s * h, h);
            }
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

    /** Primitives created so far (one per compiled shape), for tests. */
    int primitivesCreated() {
        return primitivesCreated.get();
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
            closing.defer(plans::clear);
        }
    }
}
