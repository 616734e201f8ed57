package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.NativeResources;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.layers.Activation;
import io.jrnn.weights.KerasRnnWeights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
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
 * From batch {@link #ACTIVATED_STEP_FROM_BATCH}, an LSTM, GRU {@code reset_after=false} or SimpleRNN
 * whose activations oneDNN has runs one matmul per gate block instead, each summed in place into the input
 * projection and activated by oneDNN post-ops; Java keeps only the state update
 * ({@link #activatedStepRuns}).
 *
 * <p>Masks follow the canonical Keras rule (spec §3.3): at a masked step every state is carried and
 * the output is the previous processed output (zeros before any valid step), or zeros with
 * {@code zero_output_for_mask}. Masks of any pattern are first-class here, not a special case.
 *
 * <p>The weights are copied to native memory once and reordered into the layouts the matmuls want
 * (shared between shapes that want the same one); per input shape {@code (N, T)} the executor keeps
 * the primitives and scratch memory in a small LRU cache, like {@link DnnlRecurrentExecutor}.
 *
 * <p>bf16 ({@link Precision#BF16}): both matmuls take bf16 weights (converted once by the weight
 * cache's reorder) and a bf16 source (the f32 input or state converted by a oneDNN reorder queued
 * before the matmul), accumulate in f32 and write f32 (the bias is f32); the gate arithmetic and the
 * states stay f32 in Java. The execution path says {@code bf16 matmuls}.
 *
 * <p>Thread-safe without a lock around the call: each call checks a plan (its matmuls' memory
 * objects, stream, scratchpads, bf16 conversion buffers and Java scratch arrays) out of the
 * per-shape pool; the weights are shared read-only.
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
    private final String reason;
    /** Whether the matmuls take bf16 sources and weights. */
    private final boolean bf16;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    /** Weight matrices in plain row-major layout ({@code ab}). */
    private final WeightCache weights;
    private final WeightCache.Source kernel;
    private final WeightCache.Source inputBias;
    private final WeightCache.Source recurrentKernel;
    /** GRU reset_after=false: {@code R_h [H, H]}; else null. */
    private final WeightCache.Source candidateKernel;
    /**
     * LSTM, GRU reset_after=false or SimpleRNN whose activations oneDNN has as eltwise post-ops
     * ({@link #postOpEltwise}): the gate blocks, one step matmul each that also adds the input
     * projection and activates (see {@link #activatedStepRuns}): LSTM {@code [i f]}, {@code [c̃]},
     * {@code [o]}; GRU {@code [z r]} from {@code h}, then {@code [h̃]} from {@code r ⊙ h}; SimpleRNN
     * {@code [h]}; else null.
     */
    private final GateBlock[] gateBlocks;
    private final ShapeCache<Shape, ShapePlan> plans = new ShapeCache<>(SHAPE_CACHE_CAPACITY, this::createPlan);
    private final AtomicInteger plansCreated = new AtomicInteger();
    private final CallGate gate = new CallGate();
    private final String closedMessage;
    /** Threads the Java step splits its units across ({@link #defaultStepThreads} unless a test sets them). */
    private final int stepThreads;
    /** Built with an explicit step thread count (tests): the Java step at every batch up to its maximum. */
    private final boolean javaStepExplicit;
    /** The execution path of a call whose step ran in Java (set with {@link #javaStep}). */
    private volatile String javaStepPath;
    /** The execution path of a call whose step ran the {@link #gateBlocks} matmuls. */
    private final String activatedPath;
    /** What the last call ran (the oneDNN step or the Java step). */
    private volatile String lastPath;
    /** The Java per-step product and gates for small batches; created with the first such plan. */
    private volatile JavaRecurrentStep javaStep;
    /** Whether the Java step's product runs on the Vector API ({@link JavaRecurrentStep#VECTOR}). */
    private volatile boolean vectorProduct = JavaRecurrentStep.VECTOR;
    private final NativeResources.Registration registration;

    private record Shape(int batch, int steps) {
    }

    /**
     * Columns {@code [from, from + width)} of the gates: one step matmul with these columns of the
     * recurrent kernel, added in place to the same columns of the input projection, then
     * {@code eltwise} ({@link #postOpEltwise}).
     */
    private record GateBlock(int from, int width, float[] eltwise, WeightCache.Source kernel) {
    }

    /**
     * @param reason why the fused primitive does not run this layer, shown in the execution path
     */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason) {
        this(engine, spec, reason, zeroOutputForMask(spec), Precision.FP32);
    }

    /** Computing in {@code precision} ({@link Precision#FP32} or {@link Precision#BF16} matmuls). */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, Precision precision) {
        this(engine, spec, reason, zeroOutputForMask(spec), precision);
    }

    /** With an explicit {@code zero_output_for_mask} (tests; the layer flag once {@link RecurrentSpec} carries it). */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, boolean zeroOutputForMask) {
        this(engine, spec, reason, zeroOutputForMask, Precision.FP32, 0);
    }

    /** With an explicit thread count for the Java step (tests). */
    ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, int stepThreads) {
        this(engine, spec, reason, zeroOutputForMask(spec), Precision.FP32, stepThreads);
    }

    private ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, boolean zeroOutputForMask,
            Precision precision) {
        this(engine, spec, reason, zeroOutputForMask, precision, 0);
    }

    private ComposedRecurrentExecutor(dnnl_engine engine, RecurrentSpec spec, String reason, boolean zeroOutputForMask,
            Precision precision, int stepThreads) {
        // 0: the default (see javaStepRuns and defaultStepThreads).
        this.javaStepExplicit = stepThreads > 0;
        this.spec = Objects.requireNonNull(spec, "spec");
        if (precision != Precision.FP32 && precision != Precision.BF16) {
            throw new io.jrnn.UnsupportedConfigurationException("oneDNN composed path runs fp32 or bf16, not " + precision);
        }
        this.bf16 = precision == Precision.BF16;
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
        String head = PATH_PREFIX + (bf16 ? "; bf16 matmuls, f32 accumulation and gates" : "");
        this.path = head + "; " + reason + ")";
        this.activatedPath = head + "; gate activations as matmul post-ops; " + reason + ")";
        this.closedMessage = spec.describe() + ": oneDNN composed executor is closed";
        this.stepThreads = stepThreads > 0 ? stepThreads : defaultStepThreads(spec.units());
        this.lastPath = path;
        this.reason = reason;
        KerasRnnWeights w = spec.weights();
        float[] bias = w.hasBias() ? w.bias() : new float[projectionWidth * (kind == Kind.GRU_RESET_AFTER ? 2 : 1)];
        this.recurrentBias = kind == Kind.GRU_RESET_AFTER
                ? Arrays.copyOfRange(bias, projectionWidth, 2 * projectionWidth) : null;
        try {
            this.stream = Dnnl.stream(scope, engine);
            this.weights = new WeightCache(engine, stream);
            scope.defer(weights::close);
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
            float[] sigmaOp = postOpEltwise(sigma, false);
            float[] phiOp = postOpEltwise(phi, true);
            if (kind == Kind.LSTM && sigmaOp != null && phiOp != null) {
                this.gateBlocks = new GateBlock[] {gateBlock(0, 2 * h, sigmaOp), gateBlock(2 * h, h, phiOp),
                        gateBlock(3 * h, h, sigmaOp)};
            } else if (kind == Kind.GRU && sigmaOp != null && phiOp != null) {
                // z, r from h; the candidate from r ⊙ h, once r is known.
                this.gateBlocks = new GateBlock[] {new GateBlock(0, 2 * h, sigmaOp, recurrentKernel),
                        new GateBlock(2 * h, h, phiOp, candidateKernel)};
            } else if (kind == Kind.SIMPLE_RNN && phiOp != null) {
                // The activated block is the new h.
                this.gateBlocks = new GateBlock[] {new GateBlock(0, h, phiOp, recurrentKernel)};
            } else {
                this.gateBlocks = null;
            }
            this.registration = NativeResources.register(this, scope::close);
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

    private WeightCache.Source userWeights(float[] values, long rows, long cols) {
        return weights.upload(values, dnnl_ab, rows, cols);
    }

    private GateBlock gateBlock(int from, int width, float[] eltwise) {
        return new GateBlock(from, width, eltwise,
                weights.columns(recurrentKernel, hiddenSize, projectionWidth, from, width));
    }

    /**
     * oneDNN's eltwise post-op (algorithm, alpha, beta) for a Keras activation, {@code {0}} for linear
     * (none), or null where the step keeps the activation in Java: oneDNN has none, or, for the
     * activation whose output carries the state ({@code carriesState}: the candidate, SimpleRNN's h),
     * oneDNN's loses NaN ({@link Dnnl#eltwiseKeepsNaN}). relu stays in Java as a gate too, as it
     * always has on the composed path.
     */
    static float[] postOpEltwise(Activation a, boolean carriesState) {
        if (a == Activation.RELU || carriesState && !Dnnl.eltwiseKeepsNaN(a)) {
            return null;
        }
        return Dnnl.eltwiseFor(a);
    }

    /**
     * Whether a plan's step runs the {@link #gateBlocks} matmuls (activations as post-ops, so on
     * oneDNN's threads; only the state update in Java) instead of its matmul(s) and a single-threaded
     * Java gate pass: LSTM, GRU reset_after=false and SimpleRNN whose activations oneDNN has, from
     * batch {@link #ACTIVATED_STEP_FROM_BATCH}.
     * Paired medians, hard_sigmoid LSTM, 2-vCPU Zen 4 (docs/benchmarks.md): (512, 64, 25, 512)
     * 41.4 → 36.8 ms at 2 threads, 69.4 → 68.4 at 1 (GRU: 32.6 → 29.5 at 2 threads; elu SimpleRNN:
     * 21.1 → 11.2 at 2 threads, 25.6 → 18.2 at 1); at batch 8 and 16 within the noise either way;
     * at batches 1–4 (sigmoid LSTM) three matmul calls per step cost more than the gate pass they
     * save (batch 1, H = 1024: 14.6–15.1 against 17.3–20.4 ms at 1 thread), and a tanh SimpleRNN's
     * one post-op matmul at batch 1 was slower than its plain one and the Java tanh (1.5 against
     * 0.8–1.0 ms at (256, 1, 150, 256), 1 thread).
     */
    boolean activatedStepRuns(int batch) {
        return ACTIVATED_STEP_ENABLED && gateBlocks != null && batch >= ACTIVATED_STEP_FROM_BATCH
                && !javaStepRuns(batch);
    }

    /** The smallest batch whose step runs the {@link #gateBlocks} matmuls. */
    static final int ACTIVATED_STEP_FROM_BATCH = 16;

    /** Whether the system property {@value #ACTIVATED_STEP_PROPERTY} leaves {@link #activatedStepRuns} on (default true). */
    static final String ACTIVATED_STEP_PROPERTY = "jrnn.composed.activatedStep";
    private static final boolean ACTIVATED_STEP_ENABLED =
            !"false".equalsIgnoreCase(System.getProperty(ACTIVATED_STEP_PROPERTY));

    /**
     * A matmul {@code [m, k] · [k, n] (+ bias [1, n])} into {@code dst} with weights in the layout
     * oneDNN prefers, and the post-ops of {@code attr}.
     */
    private dnnl_primitive_desc matmulDesc(NativeScope owner, long m, long k, long n, boolean withBias,
            dnnl_memory_desc dst, dnnl_primitive_attr attr) {
        int low = bf16 ? dnnl_bf16 : dnnl_f32;
        dnnl_memory_desc src = Dnnl.typedDesc(owner, low, dnnl_ab, m, k);
        dnnl_memory_desc weights = Dnnl.typedDesc(owner, low, dnnl_format_tag_any, k, n);
        dnnl_memory_desc bias = withBias ? Dnnl.desc(owner, dnnl_ab, 1, n) : null;
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            Dnnl.check(dnnl_matmul_primitive_desc_create(out, engine, src, weights, bias, dst, attr),
                    "dnnl_matmul_primitive_desc_create");
            return Dnnl.adopt(owner, out);
        }
    }

    @Override
    public String executionPath() {
        return lastPath;
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        return run(input, initialStates, null);
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        gate.enter(closedMessage);
        try {
            Shape shape = validate(input, initialStates, mask);
            boolean[] valid = mask == null || mask.allValid() ? null : mask.toArray();
            try (ShapeCache<Shape, ShapePlan>.Lease lease = plans.acquire(shape)) {
                return lease.plan().run(input, initialStates, valid);
            }
        } finally {
            gate.exit();
        }
    }

    private Shape validate(Tensor input, Tensor[] initialStates, Mask mask) {
        int[] s = RecurrentInputs.checkInput(spec.describe(), input, inputSize);
        if (initialStates != null) {
            if (initialStates.length != spec.stateCount()) {
                throw new IllegalArgumentException(spec.describe() + " has " + spec.stateCount()
                        + " state(s) but was passed " + initialStates.length);
            }
            RecurrentInputs.checkStates(spec.describe(), initialStates, s[0], hiddenSize);
        }
        if (mask != null && (mask.batch() != s[0] || mask.steps() != s[1])) {
            throw new IllegalArgumentException(spec.describe() + ": mask must be [" + s[0] + ", " + s[1] + "], got ["
                    + mask.batch() + ", " + mask.steps() + "]");
        }
        return new Shape(s[0], s[1]);
    }

    /** Whether the system property {@value #JAVA_STEP_PROPERTY} leaves the Java step on (default true). */
    static final String JAVA_STEP_PROPERTY = "jrnn.composed.javaStep";
    private static final boolean JAVA_STEP_ENABLED = !"false".equalsIgnoreCase(System.getProperty(JAVA_STEP_PROPERTY));

    /**
     * Whether a batch runs its per-step product and gates in Java: fp32, batch <= 4, LSTM or GRU
     * reset_after=true, and (by default) only when oneDNN runs one OpenMP thread or its idle OpenMP
     * threads sleep soon after a call ({@link OpenMpWaiting}; the launcher and {@code jrnn bench} set
     * {@code GOMP_SPINCOUNT=10000}). Otherwise oneDNN's OpenMP threads go on spinning after the input
     * projection (OMP_WAIT_POLICY=ACTIVE) and take the core a Java worker would use: 2 threads, LSTM
     * (256, 1, 150, 256), Java step on 2 threads 3.80 ms at 1M spins against 2.06–2.17 ms at 3 000–10 000
     * (fused primitive 2.4–2.7 ms; docs/benchmarks.md, "Composed path: the recurrent step in Java").
     * By default also only at batch 1 with a recurrent kernel of at most
     * {@link #JAVA_STEP_MAX_RECURRENT_BYTES}: the full {@code jrnn bench} run measured it 1.6–1.7×
     * slower than the oneDNN step at (1024, 4, 25, 1024), whose 16 MiB kernel a per-row Java pass
     * streams from memory at every step. An executor built with an explicit step thread count (tests)
     * takes every batch up to {@link JavaRecurrentStep#MAX_BATCH}.
     */
    boolean javaStepRuns(int batch) {
        boolean allowed = javaStepExplicit || WeightFormat.THREADS == 1 || OpenMpWaiting.idleThreadsSleepSoon();
        boolean eligible = JAVA_STEP_ENABLED && allowed && !bf16
                && (kind == Kind.LSTM || kind == Kind.GRU_RESET_AFTER) && batch >= 1
                && batch <= JavaRecurrentStep.MAX_BATCH;
        if (!eligible || javaStepExplicit) {
            return eligible;
        }
        return javaStepByDefault(batch, (long) hiddenSize * recurrentWidth * Float.BYTES);
    }

    /** Whether the system property {@value #JAVA_PROJECTION_PROPERTY} leaves the Java input projection on (default true). */
    static final String JAVA_PROJECTION_PROPERTY = "jrnn.composed.javaProjection";
    private static final boolean JAVA_PROJECTION_ENABLED =
            !"false".equalsIgnoreCase(System.getProperty(JAVA_PROJECTION_PROPERTY));

    /** The largest input kernel ({@code C·G·H} floats) the Java step projects itself. */
    static final long JAVA_PROJECTION_MAX_INPUT_BYTES = 1L << 20;

    /**
     * Whether a Java step also computes the input projection ({@link JavaRecurrentStep#project}) instead
     * of oneDNN's matmul: on the Vector API, with at least two step threads, an input kernel of at most
     * {@link #JAVA_PROJECTION_MAX_INPUT_BYTES}, and {@value #JAVA_PROJECTION_PROPERTY} not false. With two
     * threads, oneDNN's projection is followed by its second OpenMP thread spinning on the core the
     * step's worker needs (up to {@code GOMP_SPINCOUNT}), and the worker spinning between calls slows
     * the projection: LSTM (256, 1, 150, 256) measured 0.45–0.49 ms for oneDNN's projection inside a call
     * against 0.36 ms alone, and a Java projection on the step's own two threads 0.35 ms alone
     * (docs/benchmarks.md, "The input projection on the step's threads"). At one thread the two
     * matmuls are as fast as each other, and oneDNN's stays.
     */
    static boolean javaProjectionRuns(boolean vector, int stepThreads, long inputKernelBytes) {
        return JAVA_PROJECTION_ENABLED && vector && stepThreads >= 2
                && inputKernelBytes <= JAVA_PROJECTION_MAX_INPUT_BYTES;
    }

    /** The default size rule of {@link #javaStepRuns}: batch 1, recurrent kernel of at most 1 MiB. */
    static boolean javaStepByDefault(int batch, long recurrentBytes) {
        return batch == 1 && recurrentBytes <= JAVA_STEP_MAX_RECURRENT_BYTES;
    }

    /**
     * The Java step's threads by default: one per OpenMP thread, at most one per
     * {@link #JAVA_STEP_UNITS_PER_THREAD} units (measured at 1 and 2 threads only).
     */
    static int defaultStepThreads(int units) {
        return defaultStepThreads(units, WeightFormat.THREADS);
    }

    static int defaultStepThreads(int units, int ompThreads) {
        return Math.max(1, Math.min(ompThreads, units / JAVA_STEP_UNITS_PER_THREAD));
    }

    /** The fewest hidden units a Java step thread gets by default. */
    static final int JAVA_STEP_UNITS_PER_THREAD = 64;

    /** The largest recurrent kernel ({@code H·G·H} floats) whose batch-1 step runs in Java by default. */
    static final long JAVA_STEP_MAX_RECURRENT_BYTES = 1L << 20;

    /** The Java step, created (with its worker threads) on first use; closed with this executor. */
    private JavaRecurrentStep javaStep() {
        JavaRecurrentStep step = javaStep;
        if (step != null) {
            return step;
        }
        synchronized (this) {
            if (javaStep == null) {
                JavaRecurrentStep.Kind k = switch (kind) {
                    case LSTM -> JavaRecurrentStep.Kind.LSTM;
                    case GRU_RESET_AFTER -> JavaRecurrentStep.Kind.GRU_RESET_AFTER;
                    case GRU, SIMPLE_RNN -> throw new IllegalStateException(kind + " has no Java step");
                };
                boolean project = javaProjectionRuns(vectorProduct, stepThreads,
                        (long) inputSize * projectionWidth * Float.BYTES);
                KerasRnnWeights w = spec.weights();
                float[] inputBias = !project ? null
                        : w.hasBias() ? Arrays.copyOf(w.bias(), projectionWidth) : new float[projectionWidth];
                JavaRecurrentStep created = new JavaRecurrentStep(k, hiddenSize, sigma, phi,
                        w.recurrentKernel(), recurrentBias, project ? w.kernel() : null, inputBias, inputSize,
                        stepThreads, vectorProduct, "jrnn-step-" + spec.layerName());
                try {
                    scope.defer(created::close);
                } catch (RuntimeException | Error e) {
                    created.close();
                    throw e;
                }
                javaStepPath = PATH_PREFIX + "; recurrent product and gates in Java" + (created.vector() ? " (Vector API)" : "")
                        + ", " + created.chunks() + " thread(s)"
                        + (created.projects() ? ", input projection in Java too" : "") + "; " + reason + ")";
                javaStep = created;
            }
            return javaStep;
        }
    }

    /**
     * Tests: the Java step's product on the Vector API or not (default {@link JavaRecurrentStep#VECTOR});
     * before the first call that creates the step.
     */
    void vectorProductForTests(boolean vector) {
        if (javaStep != null) {
            throw new IllegalStateException("the Java step already exists");
        }
        this.vectorProduct = vector;
    }

    /** The Java step if one was created, for tests. */
    JavaRecurrentStep javaStepForTests() {
        return javaStep;
    }

    private ShapePlan createPlan(Shape shape) {
        NativeScope planScope = scope.child();
        try {
            ShapePlan plan = new ShapePlan(shape, planScope);
            plansCreated.incrementAndGet();
            return plan;
        } catch (RuntimeException | Error e) {
            planScope.closeAfter(e);
            throw e;
        }
    }

    /** One matmul primitive with its argument memories. */
    private final class Matmul {
        final dnnl_primitive primitive;
        /** The f32 source the caller points at its data (bf16: converted into {@link #lowSource} first). */
        final dnnl_memory src;
        final dnnl_memory dst;
        final dnnl_exec_arg_t args;
        final int argCount;
        /** bf16: the f32 → bf16 conversion of the source; else {@code null}. */
        final Dnnl.Reorder lowSource;
        /** The plan's own stream (the conversion runs on it too). */
        final dnnl_stream stream;
        /** The implementation oneDNN chose, e.g. {@code brg_matmul:avx512_core}. */
        final String implementation;

        /** {@code src [m, k] · weights [k, n] (+ bias)} into {@code dst}; src/dst handles are set by the caller. */
        Matmul(NativeScope owner, dnnl_stream stream, long m, long k, long n, WeightCache.Source matrix,
                WeightCache.Source bias, Pointer srcData, Pointer dstData) {
            this(owner, stream, m, k, n, matrix, bias, srcData, dstData, Dnnl.desc(owner, dnnl_ab, m, n),
                    Dnnl.userScratchpadAttr(owner));
        }

        /**
         * A gate block's step matmul {@code src [m, k] · block.kernel}, added in place to an
         * {@code [m, block.width]} block of rows {@code rowStride} floats apart (the block's columns of
         * one step of the input projection; the caller points {@link #dst} there), then activated.
         */
        Matmul(NativeScope owner, dnnl_stream stream, long m, long k, GateBlock block, long rowStride, Pointer srcData) {
            this(owner, stream, m, k, block.width(), block.kernel(), null, srcData, null,
                    Dnnl.stridedDesc(owner, new long[] {m, block.width()}, new long[] {rowStride, 1}),
                    Dnnl.sumAttr(owner, block.eltwise()));
        }

        private Matmul(NativeScope owner, dnnl_stream stream, long m, long k, long n, WeightCache.Source matrix,
                WeightCache.Source bias, Pointer srcData, Pointer dstData, dnnl_memory_desc dstDesc,
                dnnl_primitive_attr attr) {
            this.stream = stream;
            dnnl_primitive_desc pd = matmulDesc(owner, m, k, n, bias != null, dstDesc, attr);
            dnnl_memory w = weights.in(owner, matrix, Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS));
            this.primitive = Dnnl.primitive(owner, pd);
            this.implementation = Dnnl.implInfo(pd);
            dnnl_memory primitiveSource;
            if (bf16) {
                dnnl_memory_desc f32 = Dnnl.desc(owner, dnnl_ab, m, k);
                dnnl_memory_desc lowDesc = Dnnl.queryArgDesc(pd, DNNL_ARG_SRC);
                this.src = Dnnl.memory(owner, f32, engine, srcData);
                primitiveSource = Dnnl.memory(owner, lowDesc, engine,
                        Dnnl.alignedBuffer(owner, Dnnl.sizeInBytes(lowDesc)));
                this.lowSource = Dnnl.reorder(owner, engine, f32, src, lowDesc, primitiveSource);
            } else {
                this.src = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_SRC), engine, srcData);
                primitiveSource = src;
                this.lowSource = null;
            }
            this.dst = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_DST), engine, dstData);
            this.argCount = bias != null ? 5 : 4;
            this.args = owner.own(new dnnl_exec_arg_t(argCount));
            args.getPointer(0).arg(DNNL_ARG_SRC).memory(primitiveSource);
            args.getPointer(1).arg(DNNL_ARG_WEIGHTS).memory(w);
            args.getPointer(2).arg(DNNL_ARG_DST).memory(dst);
            args.getPointer(3).arg(DNNL_ARG_SCRATCHPAD).memory(Dnnl.scratchpad(owner, pd, engine));
            if (bias != null) {
                args.getPointer(4).arg(DNNL_ARG_BIAS).memory(bias.memory());
            }
        }

        void execute() {
            if (lowSource != null) {
                lowSource.submit(stream);
            }
            Dnnl.execute(primitive, stream, argCount, args);
        }
    }

    /** Everything compiled for one input shape: the matmuls, their native buffers and the Java scratch. */
    private final class ShapePlan implements ShapeCache.Plan {
        final int batch;
        final int steps;
        final NativeScope planScope;
        /** oneDNN's input projection; null when the Java step computes it ({@link JavaRecurrentStep#projects}). */
        final Matmul projection;
        /** The step's product {@code h · R}, or null where {@link #gateMatmuls} run instead. */
        final Matmul recurrent;
        /** {@link #activatedStepRuns}: one matmul per {@link #gateBlocks} entry, writing activated gates; else null. */
        final Matmul[] gateMatmuls;
        /** A pointer into the input projection, moved to a gate matmul's columns of the step before it runs. */
        final BytePointer gateTarget;
        /** Where the input projection starts in its aligned buffer (the gate target's base position). */
        final long projectedStart;
        /** GRU reset_after=false: {@code (r ⊙ h) · R_h}. */
        final Matmul candidate;
        /** oneDNN's input projection {@code [N·T, G·H]}; null when the Java step computes its own. */
        final FloatBuffer projected;
        final FloatBuffer hiddenNative;
        /** The output of {@link #recurrent} (null with {@link #gateMatmuls}, which write into {@link #projected}). */
        final FloatBuffer recurrentOut;
        final FloatBuffer resetHiddenNative;
        final FloatBuffer candidateOut;
        /** States, updated in place: h, c (LSTM), and the previous processed output (masks). */
        final float[] h;
        final float[] c;
        final float[] previous;
        /** One sample's gate row, the recurrent product of the step (null with gate matmuls), and per-step GRU scratch. */
        final float[] row;
        final float[] hp;
        final float[] tmp;
        final float[] z;
        final float[] rh;
        final float[] xh;
        final float[] hph;
        /** The Java step's per-call state (batch <= 4, fp32), or null: the step runs a oneDNN matmul. */
        final JavaRecurrentStep.Task javaTask;
        final JavaRecurrentStep stepper;

        ShapePlan(Shape shape, NativeScope planScope) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            this.planScope = planScope;
            dnnl_stream stream = Dnnl.stream(planScope, engine);
            int n = batch;
            int hs = hiddenSize;
            long rows = (long) n * steps;
            boolean javaRuns = javaStepRuns(n);
            // A Java step that projects the input itself needs neither oneDNN's projection nor its buffer.
            boolean javaProjects = javaRuns && javaStep().projects();
            BytePointer xp = javaProjects ? null : Dnnl.alignedBuffer(planScope, rows * projectionWidth * Float.BYTES);
            BytePointer hNative = Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES);
            // GRU reset_after=false: r ⊙ h, the source of the candidate's product.
            BytePointer rhNative = kind == Kind.GRU ? Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES) : null;
            this.projection = javaProjects ? null
                    : new Matmul(planScope, stream, rows, inputSize, projectionWidth, kernel, inputBias, null, xp);
            this.projectedStart = javaProjects ? 0 : xp.position();
            if (activatedStepRuns(n)) {
                this.recurrent = null;
                this.gateMatmuls = new Matmul[gateBlocks.length];
                this.gateTarget = new BytePointer(xp);
                for (int i = 0; i < gateBlocks.length; i++) {
                    // Sample s's row of step t is row s·T + t of the projection.
                    gateMatmuls[i] = new Matmul(planScope, stream, n, hs, gateBlocks[i], (long) steps * projectionWidth,
                            kind == Kind.GRU && i == 1 ? rhNative : hNative);
                }
                this.recurrentOut = null;
                this.hp = null;
            } else {
                BytePointer hpNative = Dnnl.alignedBuffer(planScope, (long) n * recurrentWidth * Float.BYTES);
                this.recurrent = new Matmul(planScope, stream, n, hs, recurrentWidth, recurrentKernel, null, hNative,
                        hpNative);
                this.recurrentOut = Dnnl.floats(hpNative);
                this.hp = new float[n * recurrentWidth];
                this.gateMatmuls = null;
                this.gateTarget = null;
            }
            this.projected = javaProjects ? null : Dnnl.floats(xp);
            this.hiddenNative = Dnnl.floats(hNative);
            this.h = new float[n * hs];
            this.c = kind == Kind.LSTM ? new float[n * hs] : null;
            this.previous = new float[n * hs];
            this.row = new float[projectionWidth];
            this.tmp = new float[hs];
            if (javaRuns) {
                this.stepper = javaStep();
                this.javaTask = stepper.task(n, steps);
                javaTask.h = h;
                javaTask.next = new float[n * hs];
                javaTask.c = c;
                javaTask.projected = projected;
            } else {
                this.stepper = null;
                this.javaTask = null;
            }
            if (kind == Kind.GRU && gateMatmuls != null) {
                this.candidate = null;
                this.resetHiddenNative = Dnnl.floats(rhNative);
                this.candidateOut = null;
                this.z = null;
                this.rh = new float[n * hs];
                this.xh = null;
                this.hph = null;
            } else if (kind == Kind.GRU) {
                BytePointer hphNative = Dnnl.alignedBuffer(planScope, (long) n * hs * Float.BYTES);
                this.candidate = new Matmul(planScope, stream, n, hs, hs, candidateKernel, null, rhNative, hphNative);
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
                if (projection == null) {
                    // The Java step computes the projection itself (JavaRecurrentStep#project).
                    input.view().get(0, javaTask.input, 0, javaTask.input.length);
                } else {
                    Dnnl.setHandle(projection.src, input.pointer());
                    projection.execute();
                }
                if (javaTask != null) {
                    Tensor[] out = runJava(initialStates, valid, result);
                    done = true;
                    return out;
                }
                lastPath = gateMatmuls != null ? activatedPath : path;
                resetStates(initialStates);
                // Without a mask the output is h itself.
                float[] output = valid == null ? h : previous;
                Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, hs) : null;
                result[0] = sequence;
                FloatBuffer sequenceView = sequence != null ? sequence.view() : null;
                for (int k = 0; k < steps; k++) {
                    // go_backwards consumes x[T-1-k] at processing step k; the output stays at k (spec §3.1).
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    hiddenNative.put(0, h, 0, stateSize);
                    if (gateMatmuls != null) {
                        switch (kind) {
                            case LSTM -> activatedLstmStep(t, valid);
                            case GRU -> activatedGruStep(t, valid);
                            case SIMPLE_RNN -> activatedSimpleStep(t, valid);
                            case GRU_RESET_AFTER -> throw new IllegalStateException("GRU reset_after has no gate matmuls");
                        }
                        recordStep(valid, t, k, output, sequenceView);
                        continue;
                    }
                    recurrent.execute();
                    recurrentOut.get(0, hp, 0, n * recurrentWidth);
                    switch (kind) {
                        case LSTM -> lstmStep(t, valid);
                        case GRU -> gruStep(t, valid);
                        case GRU_RESET_AFTER -> gruResetAfterStep(t, valid);
                        case SIMPLE_RNN -> simpleStep(t, valid);
                    }
                    recordStep(valid, t, k, output, sequenceView);
                }
                finish(output, sequence == null, result);
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

        /** The steps with the recurrent product and gates in Java ({@link JavaRecurrentStep}). */
        private Tensor[] runJava(Tensor[] initialStates, boolean[] valid, Tensor[] result) {
            int n = batch;
            int hs = hiddenSize;
            int stateSize = n * hs;
            resetStates(initialStates);
            float[] output = valid == null ? h : previous;
            Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, hs) : null;
            result[0] = sequence;
            FloatBuffer sequenceView = sequence != null ? sequence.view() : null;
            JavaRecurrentStep.Task task = javaTask;
            float[] next = task.next;
            task.valid = valid;
            boolean parallel = stepper.acquireWorkers();
            try {
                if (task.input != null) {
                    stepper.project(task, parallel);
                }
                for (int k = 0; k < steps; k++) {
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    task.t = t;
                    stepper.step(task, parallel);
                    System.arraycopy(next, 0, h, 0, stateSize);
                    recordStep(valid, t, k, output, sequenceView);
                }
            } finally {
                task.valid = null;
                if (parallel) {
                    stepper.releaseWorkers();
                }
            }
            finish(output, sequence == null, result);
            lastPath = javaStepPath;
            return result;
        }

        /** h, c from the initial states (or zeros) and the masked-output carry cleared, before step 0. */
        private void resetStates(Tensor[] initialStates) {
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
        }

        /**
         * After processing step {@code k} (input step {@code t}): the masked output per spec §3.3
         * (carried, zeros, or the carried h) and the step's output row of the sequence.
         */
        private void recordStep(boolean[] valid, int t, int k, float[] output, FloatBuffer sequenceView) {
            int n = batch;
            int hs = hiddenSize;
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

        /** The last output (unless the sequence was returned) and the final states into {@code result}. */
        private void finish(float[] output, boolean lastOutput, Tensor[] result) {
            if (lastOutput) {
                result[0] = Tensor.of(output, batch, hiddenSize);
            }
            result[1] = Tensor.of(h, batch, hiddenSize);
            if (c != null) {
                result[2] = Tensor.of(c, batch, hiddenSize);
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
                ComposedActivations.lstmCell(sigma, phi, row, hs, c, h, s * hs, tmp);
            }
        }

        /**
         * §2.4 with the {@link #gateMatmuls}: oneDNN writes the activated gates i, f, c̃, o of every
         * sample (product, input projection and activation), Java updates c and h.
         */
        private void activatedLstmStep(int t, boolean[] valid) {
            for (int i = 0; i < gateMatmuls.length; i++) {
                runGateMatmul(i, t);
            }
            for (int s = 0; s < batch; s++) {
                if (!masked(valid, s, t)) {
                    readProjection(s, t);
                    ComposedActivations.lstmUpdate(phi, row, 0, hiddenSize, c, h, s * hiddenSize, tmp);
                }
            }
        }

        /** §2.2 with the {@link #gateMatmuls}: oneDNN writes the activated {@code h} of every sample. */
        private void activatedSimpleStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            runGateMatmul(0, t);
            for (int s = 0; s < batch; s++) {
                if (!masked(valid, s, t)) {
                    projected.get((s * steps + t) * projectionWidth, h, s * hs, hs);
                }
            }
        }

        /** Gate matmul {@code i} into its columns of step {@code t} of the input projection. */
        private void runGateMatmul(int i, int t) {
            // Aligned buffers start at their position.
            gateTarget.position(projectedStart + ((long) t * projectionWidth + gateBlocks[i].from()) * Float.BYTES);
            Dnnl.setHandle(gateMatmuls[i].dst, gateTarget);
            gateMatmuls[i].execute();
        }

        /**
         * §2.3 reset_after=false with the {@link #gateMatmuls}: oneDNN writes the activated z, r; Java
         * forms {@code r ⊙ h}; oneDNN writes the activated candidate; Java updates h.
         */
        private void activatedGruStep(int t, boolean[] valid) {
            int hs = hiddenSize;
            int gw = projectionWidth;
            runGateMatmul(0, t);
            for (int s = 0; s < batch; s++) {
                int off = s * hs;
                if (masked(valid, s, t)) {
                    // Its candidate is discarded; keep the product's input defined.
                    Arrays.fill(rh, off, off + hs, 0f);
                    continue;
                }
                projected.get((s * steps + t) * gw + hs, row, 0, hs);
                for (int j = 0; j < hs; j++) {
                    rh[off + j] = row[j] * h[off + j];
                }
            }
            resetHiddenNative.put(0, rh, 0, batch * hs);
            runGateMatmul(1, t);
            for (int s = 0; s < batch; s++) {
                if (masked(valid, s, t)) {
                    continue;
                }
                int off = s * hs;
                int base = (s * steps + t) * gw;
                projected.get(base, row, 0, hs);
                projected.get(base + 2 * hs, tmp, 0, hs);
                for (int j = 0; j < hs; j++) {
                    float zj = row[j];
                    h[off + j] = zj * h[off + j] + (1f - zj) * tmp[j];
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
                ComposedActivations.gruResetAfterCell(sigma, phi, row, hp, s * gw, bh, hs, h, h, s * hs, tmp);
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

        @Override
        public void close() {
            planScope.close();
        }
    }

    /**
     * The implementations oneDNN chose for a shape's gate matmuls, or for its one recurrent matmul
     * (compiling the shape if needed), for tests: a {@code ref} one would run a thousand times slower.
     */
    List<String> stepImplementations(int batch, int steps) {
        try (ShapeCache<Shape, ShapePlan>.Lease lease = plans.acquire(new Shape(batch, steps))) {
            ShapePlan plan = lease.plan();
            List<String> out = new ArrayList<>();
            if (plan.gateMatmuls != null) {
                for (Matmul m : plan.gateMatmuls) {
                    out.add(m.implementation);
                }
            } else {
                out.add(plan.recurrent.implementation);
            }
            return out;
        }
    }

    /** Shape plans created so far (one per compiled shape), for tests. */
    int plansCreated() {
        return plansCreated.get();
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
            closing.defer(plans::clear);
        }
    }
}
