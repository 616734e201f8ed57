package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_memory_desc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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
 * One recurrent layer on the <em>composed</em> path: what oneDNN's fused RNN primitives cannot
 * express (any elementwise Keras activation, arbitrary masks) as
 * <ol>
 * <li>one oneDNN {@code matmul} for the input projection of all {@code N·T} steps,
 * {@code XP = X[N·T, C] · K[C, G·H] + b} (the input bias fused into the matmul), then</li>
 * <li>per step a oneDNN {@code matmul} {@code HP = h[N, H] · R[H, G·H]} and one Java pass per
 * sample over its gate row (the spec's equations, §2.2–2.4) that updates the states in place.</li>
 * </ol>
 * GRU {@code reset_after=false} needs {@code (r ⊙ h)·R_h} once {@code r} is known: its recurrent
 * kernel is split into {@code R_zr [H, 2H]} and {@code R_h [H, H]}, two matmuls per step.
 *
 * <p>Masks follow the canonical Keras rule (spec §3.3): at a masked step every state is carried and
 * the output is the previous processed output (zeros before any valid step), or zeros with
 * {@code zero_output_for_mask}. Masks of any pattern are first-class here, not a special case.
 *
 * <p>The weights are copied to native memory once and reordered into the layouts the matmuls want
 * (shared between shapes that want the same one); per input shape {@code (N, T)} the executor keeps
 * the primitives and scratch memory in a small LRU cache, like {@link DnnlRecurrentExecutor}.
 */
final class ComposedRecurrentExecutor implements RecurrentExecutor {
    /** Input shapes kept compiled per executor. */
    static final int SHAPE_CACHE_CAPACITY = DnnlRecurrentExecutor.SHAPE_CACHE_CAPACITY;
    /** The start of every composed execution path. */
    static final String PATH_PREFIX = "oneDNN composed (matmul input projection + fused gates";

    private enum Kind {
        SIMPLE_RNN, LSTM, GRU, GRU_RESET_AFTER
    }

    private final RecurrentSpec spec;
    private final Kind kind;
    private final Activation sigma;
    private final Activation phi;
    /** Canonical rule hook (spec §3.3): masked steps output zeros instead of the carried output. */
    private final boolean zeroOutputForMask;
    /** {@link MaskedOutput#PREVIOUS_STATE}: a masked step outputs the carried {@code h}. */
    private final boolean previousStateOutput;
    private final dnnl_engine engine;
    private final int inputSize;
    private final int hiddenSize;
    /** {@code G·H}: the width of the input projection. */
    private final int projectionWidth;
    /** The width of the per-step recurrent product: {@code G·H}, or {@code 2H} for GRU reset_after=false. */
    private final int recurrentWidth;
    /** GRU reset_after=true: the recurrent bias {@code b_h [3H]}, added inside the gate loop. */
    private final float[] recurrentBias;
    private final String path;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    private final UserWeights kernel;
    private final UserWeights inputBias;
    private final UserWeights recurrentKernel;
    /** GRU reset_after=false: {@code R_h [H, H]}; else null. */
    private final UserWeights candidateKernel;
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
    private int plansCreated;
    private volatile boolean closed;

    private record Shape(int batch, int steps) {
    }

    /** A weight matrix in plain row-major layout ({@code ab}), owned by the executor. */
    private record UserWeights(dnnl_memory_desc desc, dnnl_memory memory) {
    }

    /** Weights reordered into a layout a matmul asked for, shared by the shapes that want the same one. */
    private static final class PackedWeights {
        final UserWeights source;
        final NativeScope scope = new NativeScope();
        dnnl_memory_desc desc;
        dnnl_memory memory;
        int users;

        PackedWeights(UserWeights source) {
            this.source = source;
        }
    }

    /**
     * @param reason why the fused primitive does not run this layer, shown in the execution path
     */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason) {
        this(engine, spec, reason, zeroOutputForMask(spec));
    }

    /** With an explicit {@code zero_output_for_mask} (tests; the layer flag once {@link RecurrentSpec} carries it). */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, boolean zeroOutputForMask) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.engine = engine;
        this.zeroOutputForMask = zeroOutputForMask;
        this.previousStateOutput = spec.maskedOutput() == MaskedOutput.PREVIOUS_STATE;
        this.kind = switch (spec.cellType()) {
            case SIMPLE_RNN -> Kind.SIMPLE_RNN;
            case LSTM -> Kind.LSTM;
            case GRU -> spec.resetAfter() ? Kind.GRU_RESET_AFTER : Kind.GRU;
        };
        this.phi = spec.activation();
        this.sigma = spec.recurrentActivation();
        if (!ComposedActivations.supports(phi)
                || (kind != Kind.SIMPLE_RNN && !ComposedActivations.supports(sigma))) {
            throw new IllegalArgumentException(spec.describe() + ": activations must be elementwise, got activation="
                    + phi.kerasName() + ", recurrent_activation=" + sigma.kerasName());
        }
        this.inputSize = spec.inputSize();
        this.hiddenSize = spec.units();
        int h = hiddenSize;
        int gates = spec.cellType().gateCount();
        this.projectionWidth = gates * h;
        this.recurrentWidth = kind == Kind.GRU ? 2 * h : gates * h;
        this.path = PATH_PREFIX + "; " + reason + ")";
        KerasRnnWeights w = spec.weights();
        float[] bias = w.hasBias() ? w.bias() : new float[projectionWidth * (kind == Kind.GRU_RESET_AFTER ? 2 : 1)];
        this.recurrentBias = kind == Kind.GRU_RESET_AFTER
                ? Arrays.copyOfRange(bias, projectionWidth, 2 * projectionWidth) : null;
        try {
            try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
                dnnl_stream s = out.get(dnnl_stream.class, 0);
                scope.defer(() -> Dnnl.check(dnnl_stream_destroy(s), "dnnl_stream_destroy"));
                this.stream = s;
            }
            // Keras kernels are [C, G·H] and [H, G·H] row-major: matmul's plain "ab" weights as they are.
            this.kernel = userWeights(w.kernel(), inputSize, projectionWidth);
            this.inputBias = userWeights(Arrays.copyOf(bias, projectionWidth), 1, projectionWidth);
            float[] r = w.recurrentKernel();
            if (kind == Kind.GRU) {
                this.recurrentKernel = userWeights(columns(r, h, projectionWidth, 0, 2 * h), h, 2 * h);
                this.candidateKernel = userWeights(columns(r, h, projectionWidth, 2 * h, 3 * h), h, h);
            } else {
                this.recurrentKernel = userWeights(r, h, projectionWidth);
                this.candidateKernel = null;
            }
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    /** The layer's {@code zero_output_for_mask}. */
    static boolean zeroOutputForMask(RecurrentSpec spec) {
        return spec.zeroOutputForMask();
    }

    /** Columns {@code [from, to)} of a row-major {@code [rows, width]} matrix. */
    private static float[] columns(float[] m, int rows, int width, int from, int to) {
        int w = to - from;
        float[] out = new float[rows * w];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(m, i * width + from, out, i * w, w);
        }
        return out;
    }

    private UserWeights userWeights(float[] values, long rows, long cols) {
        dnnl_memory_desc desc = Dnnl.desc(scope, dnnl_ab, rows, cols);
        BytePointer buffer = Dnnl.alignedBuffer(scope, (long) values.length * Float.BYTES);
        Dnnl.floats(buffer).put(values);
        return new UserWeights(desc, Dnnl.memory(scope, desc, engine, buffer));
    }

    /** A matmul {@code [m, k] · [k, n] (+ bias [1, n])} with weights in the layout oneDNN prefers. */
    private dnnl_primitive_desc matmulDesc(NativeScope owner, long m, long k, long n, boolean withBias) {
        dnnl_memory_desc src = Dnnl.desc(owner, dnnl_ab, m, k);
        dnnl_memory_desc weights = Dnnl.desc(owner, dnnl_format_tag_any, k, n);
        dnnl_memory_desc bias = withBias ? Dnnl.desc(owner, dnnl_ab, 1, n) : null;
        dnnl_memory_desc dst = Dnnl.desc(owner, dnnl_ab, m, n);
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            Dnnl.check(dnnl_matmul_primitive_desc_create(out, engine, src, weights, bias, dst, null),
                    "dnnl_matmul_primitive_desc_create");
            return Dnnl.adopt(owner, out);
        }
    }

    @Override
    public String executionPath() {
        return path;
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        return run(input, initialStates, null);
    }

    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        ensureOpen();
        Shape shape = validate(input, initialStates, mask);
        ShapePlan plan = plans.get(shape);
        if (plan == null) {
            plan = createPlan(shape);
            plans.put(shape, plan);
        }
        boolean[] valid = mask == null || mask.allValid() ? null : mask.toArray();
        return plan.run(input, initialStates, valid);
    }

    private Shape validate(Tensor input, Tensor[] initialStates, Mask mask) {
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
        if (mask != null && (mask.batch() != s[0] || mask.steps() != s[1])) {
            throw new IllegalArgumentException(spec.describe() + ": mask must be [" + s[0] + ", " + s[1] + "], got ["
                    + mask.batch() + ", " + mask.steps() + "]");
        }
        return new Shape(s[0], s[1]);
    }

    private ShapePlan createPlan(Shape shape) {
        NativeScope planScope = new NativeScope();
        try {
            ShapePlan plan = new ShapePlan(shape, planScope);
            plansCreated++;
            return plan;
        } catch (RuntimeException | Error e) {
            planScope.closeAfter(e);
            throw e;
        }
    }

    /** The weights of {@code user} in the layout {@code wanted}: the plain copy, or a reordered one shared between shapes. */
    private dnnl_memory weightsFor(NativeScope planScope, UserWeights user, dnnl_memory_desc wanted) {
        if (dnnl_memory_desc_equal(user.desc(), wanted) != 0) {
            return user.memory();
        }
        PackedWeights packed = null;
        for (PackedWeights p : packedWeights) {
            if (p.source == user && dnnl_memory_desc_equal(p.desc, wanted) != 0) {
                packed = p;
                break;
            }
        }
        if (packed == null) {
            packed = new PackedWeights(user);
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

    /** One matmul primitive with its argument memories. */
    private final class Matmul {
        final dnnl_primitive primitive;
        final dnnl_memory src;
        final dnnl_memory dst;
        final dnnl_exec_arg_t args;
        final int argCount;

        /** {@code src [m, k] · weights [k, n] (+ bias)} into {@code dst}; src/dst handles are set by the caller. */
        Matmul(NativeScope owner, long m, long k, long n, UserWeights weights, UserWeights bias, Pointer srcData,
                Pointer dstData) {
            dnnl_primitive_desc pd = matmulDesc(owner, m, k, n, bias != null);
            dnnl_memory w = weightsFor(owner, weights, Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS));
            this.primitive = Dnnl.primitive(owner, pd);
            this.src = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_SRC), engine, srcData);
            this.dst = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_DST), engine, dstData);
            this.argCount = bias != null ? 4 : 3;
            this.args = owner.own(new dnnl_exec_arg_t(argCount));
            args.getPointer(0).arg(DNNL_ARG_SRC).memory(src);
            args.getPointer(1).arg(DNNL_ARG_WEIGHTS).memory(w);
            args.getPointer(2).arg(DNNL_ARG_DST).memory(dst);
            if (bias != null) {
                args.getPointer(3).arg(DNNL_ARG_BIAS).memory(bias.memory());
            }
        }

        void execute() {
            Dnnl.execute(primitive, stream, argCount, args);
        }
    }

    /** Everything compiled for one input shape: the matmuls, their native buffers and the Java scratch. */
    private final class ShapePlan implements AutoCloseable {
        final int batch;
        final int steps;
        final NativeScope planScope;
        final Matmul projection;
        final Matmul recurrent;
        /** GRU reset_after=false: {@code (r ⊙ h) · R_h}. */
        final Matmul candidate;
        final FloatBuffer projected;
        final FloatBuffer hiddenNative;
        final FloatBuffer recurrentOut;
        final FloatBuffer resetHiddenNative;
        final FloatBuffer candidateOut;
        /** States, updated in place: h, c (LSTM), and the previous processed output (masks). */
        final float[] h;
        final float[] c;
        final float[] previous;
        /** One sample's gate row, the recurrent product of the step, and per-step GRU scratch. */
        final float[] row;
        final float[] hp;
        final float[] tmp;
        final float[] z;
        final float[] rh;
        final float[] xh;
        final float[] hph;

        ShapePlan(Shape shape, NativeScope planScope) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            this.planScope = planScope;
            int n = batch;
            int hs = hiddenSize;
            long rows = (long) n * steps;
            BytePointer xp = Dnnl.alignedBuffer(planScope, rows * projectionWidth * Float.BYTES);
            BytePointer hNative = Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES);
            BytePointer hpNative = Dnnl.alignedBuffer(planScope, (long) n * recurrentWidth * Float.BYTES);
            this.projection = new Matmul(planScope, rows, inputSize, projectionWidth, kernel, inputBias, null, xp);
            this.recurrent = new Matmul(planScope, n, hs, recurrentWidth, recurrentKernel, null, hNative, hpNative);
            this.projected = Dnnl.floats(xp);
            this.hiddenNative = Dnnl.floats(hNative);
            this.recurrentOut = Dnnl.floats(hpNative);
            this.h = new float[n * hs];
            this.c = kind == Kind.LSTM ? new float[n * hs] : null;
            this.previous = new float[n * hs];
            this.row = new float[projectionWidth];
            this.hp = new float[n * recurrentWidth];
            this.tmp = new float[hs];
            if (kind == Kind.GRU) {
                BytePointer rhNative = Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES);
                BytePointer hphNative = Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES);
                this.candidate = new Matmul(planScope, n, hs, hs, candidateKernel, null, rhNative, hphNative);
                this.resetHiddenNative = Dnnl.floats(rhNative);
                this.candidateOut = Dnnl.floats(hphNative);
                this.z = new float[n * hs];
                this.rh = new float[n * hs];
                this.xh = new float[n * hs];
                this.hph = new float[n * hs];
            } else {
                this.candidate = null;
                this.resetHiddenNative = null;
                this.candidateOut = null;
                this.z = null;
                this.rh = null;
                this.xh = null;
                this.hph = null;
            }
        }

        Tensor[] run(Tensor input, Tensor[] initialStates, boolean[] valid) {
            int n = batch;
            int hs = hiddenSize;
            int stateSize = n * hs;
            Tensor[] result = new Tensor[1 + spec.stateCount()];
            boolean done = false;
            try {
                setHandle(projection.src, input.pointer());
                projection.execute();
                if (initialStates != null) {
                    initialStates[0].copyTo(FloatBuffer.wrap(h));
                    if (c != null) {
                        initialStates[1].copyTo(FloatBuffer.wrap(c));
                    }
                } else {
                    Arrays.fill(h, 0f);
                    if (c != null) {
                        Arrays.fill(c, 0f);
                    }
                }
                Arrays.fill(previous, 0f);
                // Without a mask the output is h itself.
                float[] output = valid == null ? h : previous;
                Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, hs) : null;
                result[0] = sequence;
                FloatBuffer sequenceView = sequence != null ? sequence.view() : null;
                for (int k = 0; k < steps; k++) {
                    // go_backwards consumes x[T-1-k] at processing step k; the output stays at k (spec §3.1).
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    hiddenNative.put(0, h, 0, stateSize);
                    recurrent.execute();
                    recurrentOut.get(0, hp, 0, n * recurrentWidth);
                    switch (kind) {
                        case LSTM -> lstmStep(t, valid);
                        case GRU -> gruStep(t, valid);
                        case GRU_RESET_AFTER -> gruResetAfterStep(t, valid);
                        case SIMPLE_RNN -> simpleStep(t, valid);
                    }
                    if (valid != null) {
                        for (int s = 0; s < n; s++) {
                            if (valid[s * steps + t]) {
                                System.arraycopy(h, s * hs, previous, s * hs, hs);
                            } else if (zeroOutputForMask) {
                                Arrays.fill(previous, s * hs, (s + 1) * hs, 0f);
                            } else if (previousStateOutput) {
                                // MaskedOutput.PREVIOUS_STATE: the carried h (= h before this step).
                                System.arraycopy(h, s * hs, previous, s * hs, hs);
                            }
                        }
                    }
                    if (sequenceView != null) {
                        for (int s = 0; s < n; s++) {
                            sequenceView.put((s * steps + k) * hs, output, s * hs, hs);
                        }
                    }
                }
                if (sequence == null) {
                    result[0] = Tensor.of(output, n, hs);
                }
                result[1] = Tensor.of(h, n, hs);
                if (c != null) {
                    result[2] = Tensor.of(c, n, hs);
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

        /** Whether sample {@code s} is masked at input step {@code t}: its states are carried. */
        private boolean masked(boolean[] valid, int s, int t) {
            return valid != null && !valid[s * steps + t];
        }

        /** Reads sample {@code s}'s input projection at step {@code t} into {@link #row}. */
        private void readProjection(int s, int t) {
            projected.get((s * steps + t) * projectionWidth, row, 0, projectionWidth);
        }

        /** §2.4, gate blocks i, f, c, o. */
        private void lstmStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            int gw = projectionWidth;
            float[] row = this.row;
            float[] hp = this.hp;
            float[] h = this.h;
            float[] c = this.c;
            float[] tmp = this.tmp;
            for (int s = 0; s < batch; s++) {
                if (masked(valid, s, t)) {
                    continue;
                }
                readProjection(s, t);
                int base = s * gw;
                for (int j = 0; j < gw; j++) {
                    row[j] += hp[base + j];
                }
                ComposedActivations.apply(sigma, row, 0, 2 * hs);
                ComposedActivations.apply(phi, row, 2 * hs, 3 * hs);
                ComposedActivations.apply(sigma, row, 3 * hs, 4 * hs);
                int off = s * hs;
                for (int j = 0; j < hs; j++) {
                    float cj = row[hs + j] * c[off + j] + row[j] * row[2 * hs + j];
                    c[off + j] = cj;
                    tmp[j] = cj;
                }
                ComposedActivations.apply(phi, tmp, 0, hs);
                for (int j = 0; j < hs; j++) {
                    h[off + j] = row[3 * hs + j] * tmp[j];
                }
            }
        }

        /** §2.2. */
        private void simpleStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            for (int s = 0; s < batch; s++) {
                if (masked(valid, s, t)) {
                    continue;
                }
                readProjection(s, t);
                int off = s * hs;
                for (int j = 0; j < hs; j++) {
                    row[j] += hp[off + j];
                }
                ComposedActivations.apply(phi, row, 0, hs);
                System.arraycopy(row, 0, h, off, hs);
            }
        }

        /** §2.3 reset_after=true; gate blocks z, r, h; {@code b_h} inside the reset product. */
        private void gruResetAfterStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            int gw = projectionWidth;
            float[] row = this.row;
            float[] hp = this.hp;
            float[] h = this.h;
            float[] tmp = this.tmp;
            float[] bh = recurrentBias;
            for (int s = 0; s < batch; s++) {
                if (masked(valid, s, t)) {
                    continue;
                }
                readProjection(s, t);
                int base = s * gw;
                for (int j = 0; j < 2 * hs; j++) {
                    row[j] += hp[base + j] + bh[j];
                }
                ComposedActivations.apply(sigma, row, 0, 2 * hs);
                for (int j = 0; j < hs; j++) {
                    tmp[j] = row[2 * hs + j] + row[hs + j] * (hp[base + 2 * hs + j] + bh[2 * hs + j]);
                }
                ComposedActivations.apply(phi, tmp, 0, hs);
                int off = s * hs;
                for (int j = 0; j < hs; j++) {
                    float zj = row[j];
                    h[off + j] = zj * h[off + j] + (1f - zj) * tmp[j];
                }
            }
        }

        /** §2.3 reset_after=false: z, r from the first matmul, then {@code (r ⊙ h)·R_h}. */
        private void gruStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            int zrw = 2 * hs;
            float[] row = this.row;
            for (int s = 0; s < batch; s++) {
                int off = s * hs;
                if (masked(valid, s, t)) {
                    // Its candidate is discarded; keep the product's input defined.
                    Arrays.fill(rh, off, off + hs, 0f);
                    continue;
                }
                readProjection(s, t);
                int base = s * zrw;
                for (int j = 0; j < zrw; j++) {
                    row[j] += hp[base + j];
                }
                ComposedActivations.apply(sigma, row, 0, zrw);
                for (int j = 0; j < hs; j++) {
                    z[off + j] = row[j];
                    rh[off + j] = row[hs + j] * h[off + j];
                    xh[off + j] = row[zrw + j];
                }
            }
            int stateSize = batch * hs;
            resetHiddenNative.put(0, rh, 0, stateSize);
            candidate.execute();
            candidateOut.get(0, hph, 0, stateSize);
            for (int s = 0; s < batch; s++) {
                if (masked(valid, s, t)) {
                    continue;
                }
                int off = s * hs;
                for (int j = 0; j < hs; j++) {
                    tmp[j] = xh[off + j] + hph[off + j];
                }
                ComposedActivations.apply(phi, tmp, 0, hs);
                for (int j = 0; j < hs; j++) {
                    float zj = z[off + j];
                    h[off + j] = zj * h[off + j] + (1f - zj) * tmp[j];
                }
            }
        }

        private void setHandle(dnnl_memory memory, Pointer data) {
            Dnnl.check(dnnl_memory_set_data_handle(memory, data), "dnnl_memory_set_data_handle");
        }

        @Override
        public void close() {
            planScope.close();
        }
    }

    /** Shape plans created so far (one per compiled shape), for tests. */
    synchronized int plansCreated() {
        return plansCreated;
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
            throw new IllegalStateException(spec.describe() + ": oneDNN composed executor is closed");
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
        List<Runnable> releases = new ArrayList<>();
        for (int i = open.size() - 1; i >= 0; i--) {
            releases.add(open.get(i)::close);
        }
        for (PackedWeights p : new ArrayList<>(packedWeights)) {
            releases.add(p.scope::close);
        }
        packedWeights.clear();
        releases.add(scope::close);
        for (Runnable release : releases) {
            try {
                release.run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
