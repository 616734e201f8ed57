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
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lbr_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lstm_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_memory_desc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_rnn_flags_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_left2right;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_right2left;
import static org.bytedeco.dnnl.global.dnnl.dnnl_vanilla_rnn_forward_primitive_desc_create;

import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.weights.OneDnnRnnWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

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
 */
final class DnnlRecurrentExecutor implements RecurrentExecutor {
    /** Input shapes kept compiled per executor. */
    static final int SHAPE_CACHE_CAPACITY = 8;

    private final RecurrentSpec spec;
    private final RnnPrimitive kind;
    /** {@code dnnl_alg_kind_t} of the vanilla RNN activation (unused otherwise). */
    private final int activationKind;
    private final dnnl_engine engine;
    private final int inputSize;
    private final int hiddenSize;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    /** Weights layer, weights iter, bias: in Keras layout ({@code ldigo}, {@code ldgo}). */
    private final UserWeights[] userWeights;
    private final List<PackedWeights> packedWeights = new ArrayList<>();
    private final LinkedHashMap<Shape, ShapePlan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, ShapePlan> eldest) {
            if (size() > SHAPE_CACHE_CAPACITY) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };
    private int primitivesCreated;
    private volatile String executionPath;
    private volatile boolean closed;

    private record Shape(int batch, int steps) {
    }

    /** One weight argument in Keras layout, owned by the executor. */
    private record UserWeights(int arg, dnnl_memory_desc desc, dnnl_memory memory) {
    }

    /** Weights reordered into a layout a primitive asked for, shared by the shapes that want the same layout. */
    private static final class PackedWeights {
        final int arg;
        final NativeScope scope = new NativeScope();
        dnnl_memory_desc desc;
        dnnl_memory memory;
        int users;

        PackedWeights(int arg) {
            this.arg = arg;
        }
    }

    DnnlRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, RnnPrimitive kind, int activationKind) {
        this.spec = spec;
        this.kind = kind;
        this.activationKind = activationKind;
        this.engine = engine;
        this.inputSize = spec.inputSize();
        this.hiddenSize = spec.units();
        try {
            try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
                dnnl_stream s = out.get(dnnl_stream.class, 0);
                scope.defer(() -> Dnnl.check(dnnl_stream_destroy(s), "dnnl_stream_destroy"));
                this.stream = s;
            }
            long c = inputSize;
            long h = hiddenSize;
            long g = kind.gateCount;
            // The shared converter: Keras [C, G·H] and [H, G·H] are ldigo as they are; the bias becomes ldgo.
            OneDnnRnnWeights packed = OneDnnRnnWeights.fromKeras(spec.weights());
            this.userWeights = new UserWeights[] {
                userWeights(DNNL_ARG_WEIGHTS_LAYER, packed.weightsLayer(), dnnl_ldigo, 1, 1, c, g, h),
                userWeights(DNNL_ARG_WEIGHTS_ITER, packed.weightsIter(), dnnl_ldigo, 1, 1, h, g, h),
                userWeights(DNNL_ARG_BIAS, packed.bias(), dnnl_ldgo, 1, 1, kind.biasGateCount, h),
            };
            // A descriptor for one sample and one step: oneDNN accepts the configuration and names its implementation.
            try (NativeScope probe = new NativeScope()) {
                WeightFormat format = WeightFormat.choose(kind, 1);
                this.executionPath = describePath(primitiveDesc(probe, new Shape(1, 1), format), format);
            }
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    private UserWeights userWeights(int arg, float[] values, int tag, long... dims) {
        dnnl_memory_desc desc = Dnnl.desc(scope, tag, dims);
        BytePointer buffer = Dnnl.alignedBuffer(scope, (long) values.length * Float.BYTES);
        Dnnl.floats(buffer).put(values);
        return new UserWeights(arg, desc, Dnnl.memory(scope, desc, engine, buffer));
    }

    /** The forward-inference primitive descriptor for one shape, owned by {@code owner}. */
    private dnnl_primitive_desc primitiveDesc(NativeScope owner, Shape shape, WeightFormat format) {
        long n = shape.batch();
        long t = shape.steps();
        long c = inputSize;
        long h = hiddenSize;
        long g = kind.gateCount;
        int weightTag = format == WeightFormat.ANY ? dnnl_format_tag_any : dnnl_ldigo;
        // oneDNN's logical sequence dims are always {T, N, C}; ntc makes the memory batch-major.
        dnnl_memory_desc srcLayer = Dnnl.desc(owner, dnnl_ntc, t, n, c);
        dnnl_memory_desc dstLayer = Dnnl.desc(owner, dnnl_ntc, t, n, h);
        // A Keras state [N, H] is exactly ldnc {1, 1, N, H}.
        dnnl_memory_desc state = Dnnl.desc(owner, dnnl_ldnc, 1, 1, n, h);
        dnnl_memory_desc weightsLayer = Dnnl.desc(owner, weightTag, 1, 1, c, g, h);
        dnnl_memory_desc weightsIter = Dnnl.desc(owner, weightTag, 1, 1, h, g, h);
        dnnl_memory_desc bias = userWeights[2].desc();
        int direction = spec.goBackwards() ? dnnl_unidirectional_right2left : dnnl_unidirectional_left2right;
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            int status = switch (kind) {
                case LSTM -> dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference, direction,
                        srcLayer, state, state, weightsLayer, weightsIter, null, null, bias, dstLayer, state, state,
                        dnnl_rnn_flags_undef, null);
                case GRU -> dnnl_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference, direction,
                        srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state, dnnl_rnn_flags_undef, null);
                case LBR_GRU -> dnnl_lbr_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        direction, srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state,
                        dnnl_rnn_flags_undef, null);
                case VANILLA_RNN -> dnnl_vanilla_rnn_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        activationKind, direction, srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state,
                        dnnl_rnn_flags_undef, 0f, 0f, null);
            };
            Dnnl.check(status, "dnnl_" + kind.primitiveName + "_primitive_desc_create");
            return Dnnl.adopt(owner, out);
        }
    }

    private String describePath(dnnl_primitive_desc pd, WeightFormat format) {
        return "oneDNN " + kind.primitiveName + " (" + Dnnl.implInfo(pd) + ", weights " + format.label + ")";
    }

    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates) {
        ensureOpen();
        Shape shape = validate(input, initialStates);
        ShapePlan plan = plans.get(shape);
        if (plan == null) {
            plan = createPlan(shape);
            plans.put(shape, plan);
        }
        executionPath = plan.path;
        return plan.run(input, initialStates);
    }

    private Shape validate(Tensor input, Tensor[] initialStates) {
        Objects.requireNonNull(input, "input");
        int[] s = input.shape();
        if (input.isClosed()) {
            throw new IllegalStateException(spec.describe() + ": input tensor " + Arrays.toString(s) + " is closed");
        }
        if (s.length != 3 || s[0] < 1 || s[1] < 1 || s[2] != inputSize) {
            throw new IllegalArgumentException(spec.describe() + ": expected input [N, T, " + inputSize
                    + "] with N, T >= 1, got " + Arrays.toString(s));
        }
        if (initialStates != null) {
            if (initialStates.length != spec.stateCount()) {
                throw new IllegalArgumentException(spec.describe() + " has " + spec.stateCount()
                        + " state(s) but was passed " + initialStates.length);
            }
            for (int i = 0; i < initialStates.length; i++) {
                Tensor state = Objects.requireNonNull(initialStates[i], "initial state " + i);
                int[] ss = state.shape();
                if (ss.length != 2 || ss[0] != s[0] || ss[1] != hiddenSize) {
                    throw new IllegalArgumentException(spec.describe() + ": initial state " + i + " must be ["
                            + s[0] + ", " + hiddenSize + "], got " + Arrays.toString(ss));
                }
                if (state.isClosed()) {
                    throw new IllegalStateException(spec.describe() + ": initial state " + i + " is closed");
                }
            }
        }
        return new Shape(s[0], s[1]);
    }

    private ShapePlan createPlan(Shape shape) {
        NativeScope planScope = new NativeScope();
        try {
            return new ShapePlan(shape, planScope);
        } catch (RuntimeException | Error e) {
            planScope.closeAfter(e);
            throw e;
        }
    }

    /** The weights for {@code user.arg} in the layout {@code wanted}: the Keras copy, or a reordered one shared between shapes. */
    private dnnl_memory weightsFor(NativeScope planScope, UserWeights user, dnnl_memory_desc wanted) {
        if (dnnl_memory_desc_equal(user.desc(), wanted) != 0) {
            return user.memory();
        }
        PackedWeights packed = null;
        for (PackedWeights p : packedWeights) {
            if (p.arg == user.arg() && dnnl_memory_desc_equal(p.desc, wanted) != 0) {
                packed = p;
                break;
            }
        }
        if (packed == null) {
            packed = new PackedWeights(user.arg());
            try {
                BytePointer buffer = Dnnl.alignedBuffer(packed.scope, Dnnl.sizeInBytes(wanted));
                packed.memory = Dnnl.memory(packed.scope, wanted, engine, buffer);
                try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
                    // The memory's own copy of the descriptor outlives the primitive descriptor that asked for it.
                    Dnnl.check(dnnl_memory_get_memory_desc(packed.memory, out), "dnnl_memory_get_memory_desc");
                    packed.desc = out.get(dnnl_memory_desc.class, 0);
                }
                Dnnl.reorder(engine, stream, user.desc(), user.memory(), packed.desc, packed.memory);
            } catch (RuntimeException | Error e) {
                packed.scope.closeAfter(e);
                throw e;
            }
            packedWeights.add(packed);
        }
        PackedWeights acquired = packed;
        acquired.users++;
        planScope.defer(() -> release(acquired));
        return acquired.memory;
    }

    private void release(PackedWeights packed) {
        packed.users--;
        if (packed.users == 0) {
            packedWeights.remove(packed);
            packed.scope.close();
        }
    }

    /** Everything compiled for one input shape. */
    private final class ShapePlan implements AutoCloseable {
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
        /** {@code dst_layer} when the caller does not get the sequence as oneDNN writes it (no return_sequences, or go_backwards). */
        final BytePointer sequenceScratch;
        final dnnl_exec_arg_t args;
        final int argCount;

        ShapePlan(Shape shape, NativeScope planScope) {
            this.shape = shape;
            this.planScope = planScope;
            boolean lstm = kind == RnnPrimitive.LSTM;
            WeightFormat format = WeightFormat.choose(kind, shape.batch());
            dnnl_primitive_desc pd = primitiveDesc(planScope, shape, format);
            this.path = describePath(pd, format);
            dnnl_memory weightsLayer = weightsFor(planScope, userWeights[0], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_LAYER));
            dnnl_memory weightsIter = weightsFor(planScope, userWeights[1], Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS_ITER));
            dnnl_memory bias = weightsFor(planScope, userWeights[2], Dnnl.queryArgDesc(pd, DNNL_ARG_BIAS));
            this.primitive = Dnnl.primitive(planScope, pd);
            primitivesCreated++;
            // Data handles are set on every call: the caller's tensors are used in place.
            this.srcLayer = argMemory(pd, DNNL_ARG_SRC_LAYER);
            this.srcIter = argMemory(pd, DNNL_ARG_SRC_ITER);
            this.srcIterC = lstm ? argMemory(pd, DNNL_ARG_SRC_ITER_C) : null;
            this.dstLayer = argMemory(pd, DNNL_ARG_DST_LAYER);
            this.dstIter = argMemory(pd, DNNL_ARG_DST_ITER);
            this.dstIterC = lstm ? argMemory(pd, DNNL_ARG_DST_ITER_C) : null;
            long stateFloats = (long) shape.batch() * hiddenSize;
            this.zeroState = Dnnl.alignedBuffer(planScope, stateFloats * Float.BYTES);
            boolean outputInPlace = spec.returnSequences() && !spec.goBackwards();
            this.sequenceScratch = outputInPlace ? null
                    : Dnnl.alignedBuffer(planScope, stateFloats * shape.steps() * Float.BYTES);

            this.argCount = lstm ? 9 : 7;
            this.args = planScope.own(new dnnl_exec_arg_t(argCount));
            int i = 0;
            i = put(i, DNNL_ARG_SRC_LAYER, srcLayer);
            i = put(i, DNNL_ARG_SRC_ITER, srcIter);
            i = put(i, DNNL_ARG_WEIGHTS_LAYER, weightsLayer);
            i = put(i, DNNL_ARG_WEIGHTS_ITER, weightsIter);
            i = put(i, DNNL_ARG_BIAS, bias);
            i = put(i, DNNL_ARG_DST_LAYER, dstLayer);
            i = put(i, DNNL_ARG_DST_ITER, dstIter);
            if (lstm) {
                i = put(i, DNNL_ARG_SRC_ITER_C, srcIterC);
                put(i, DNNL_ARG_DST_ITER_C, dstIterC);
            }
        }

        private dnnl_memory argMemory(dnnl_primitive_desc pd, int arg) {
            return Dnnl.memory(planScope, Dnnl.queryArgDesc(pd, arg), engine, null);
        }

        private int put(int index, int arg, dnnl_memory memory) {
            args.getPointer(index).arg(arg).memory(memory);
            return index + 1;
        }

        Tensor[] run(Tensor input, Tensor[] initialStates) {
            int n = shape.batch();
            int t = shape.steps();
            int h = hiddenSize;
            Tensor[] result = new Tensor[1 + spec.stateCount()];
            boolean done = false;
            try {
                // oneDNN writes every element of dst_layer and dst_iter(_c): no zero-fill needed.
                for (int s = 1; s < result.length; s++) {
                    result[s] = Tensor.uninitialized(n, h);
                }
                Tensor sequence = sequenceScratch == null ? Tensor.uninitialized(n, t, h) : null;
                result[0] = sequence;
                setHandle(srcLayer, input.pointer());
                setHandle(srcIter, initialStates != null ? initialStates[0].pointer() : zeroState);
                setHandle(dstLayer, sequence != null ? sequence.pointer() : sequenceScratch);
                setHandle(dstIter, result[1].pointer());
                if (srcIterC != null) {
                    setHandle(srcIterC, initialStates != null ? initialStates[1].pointer() : zeroState);
                    setHandle(dstIterC, result[2].pointer());
                }
                Dnnl.execute(primitive, stream, argCount, args);
                if (sequence == null) {
                    // No return_sequences: the output is the final h. go_backwards: flip oneDNN's input-time order.
                    result[0] = spec.returnSequences() ? flippedInTime(n, t, h) : result[1].copy();
                }
                done = true;
                return result;
            } finally {
                if (!done) {
                    for (Tensor r : result) {
                        if (r != null) {
                            r.close();
                        }
                    }
                }
            }
        }

        /** The scratch sequence {@code [N, T, H]} with its time axis reversed, as a new tensor. */
        private Tensor flippedInTime(int n, int t, int h) {
            Tensor out = Tensor.uninitialized(n, t, h);
            FloatBuffer from = Dnnl.floats(sequenceScratch);
            FloatBuffer to = out.view();
            for (int sample = 0; sample < n; sample++) {
                for (int k = 0; k < t; k++) {
                    to.put((sample * t + k) * h, from, (sample * t + (t - 1 - k)) * h, h);
                }
            }
            return out;
        }

        private void setHandle(dnnl_memory memory, Pointer data) {
            Dnnl.check(dnnl_memory_set_data_handle(memory, data), "dnnl_memory_set_data_handle");
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
    synchronized int primitivesCreated() {
        return primitivesCreated;
    }

    /** Shapes currently compiled, for tests. */
    synchronized int cachedShapeCount() {
        return plans.size();
    }

    boolean isClosed() {
        return closed;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": oneDNN executor is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        // Plans first (they hold references to the packed weights), then the executor's own handles.
        List<ShapePlan> open = new ArrayList<>(plans.values());
        plans.clear();
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        for (Iterator<PackedWeights> it = packedWeights.iterator(); it.hasNext();) {
            PackedWeights p = it.next();
            it.remove();
            try {
                p.scope.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        try {
            scope.close();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
