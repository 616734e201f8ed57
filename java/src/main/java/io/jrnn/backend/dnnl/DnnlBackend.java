package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_OMP;
import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_SEQ;
import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_TBB;
import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_THREADPOOL;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_logistic;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_tanh;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unimplemented;

import io.jrnn.Device;
import io.jrnn.NativeException;
import io.jrnn.Precision;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Bidirectional;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The CPU backend: Keras recurrent layers on oneDNN's fused RNN primitives ({@code lstm_forward},
 * {@code gru_forward}, {@code lbr_gru_forward}, {@code vanilla_rnn_forward}), forward inference in
 * fp32 ({@link #instance()}) or, opt-in on CPUs with AVX512-BF16/AMX, bf16
 * ({@link #instance(Precision)}: bf16 weights converted once, bf16 activations converted by oneDNN
 * reorders around each primitive, f32 outputs; a bf16 backend runs Bidirectional pairs and stacks
 * layer by layer and ConvLSTM2D in fp32). Configurations those primitives cannot express (gate activations other than sigmoid,
 * candidate activations other than tanh, SimpleRNN activations other than tanh/relu/sigmoid) run on
 * the composed path ({@link ComposedRecurrentExecutor}: one oneDNN matmul for the input projection
 * of all steps, a matmul per step and fused gate arithmetic in Java), and the reason is logged once Right-padded masks stay on the fused
 * primitives (length segments); other masks run on the composed path. Both directions of a
 * Bidirectional (same fused cell, merge concat or sum) run on one {@code bidirectional_concat} /
 * {@code bidirectional_sum} primitive ({@link #compileBidirectional}). A stack of two or more
 * same-kind cells with input size = units, going forwards, runs on one multi-layer primitive
 * ({@link #compileStack}).
 *
 * <pre>{@code
 * Backend cpu = DnnlBackend.instance();          // throws if oneDNN cannot load here
 * try (RecurrentExecutor lstm = cpu.compile(spec)) {
 *     Tensor[] out = lstm.run(x, null);          // [output, h, c]
 * }
 * }</pre>
 */
public final class DnnlBackend implements Backend {
    /**
     * The module jrnn's batch-1 Java step multiplies with when the JVM was started with it
     * ({@code --add-modules jdk.incubator.vector}; docs/bench.md, "The Vector API").
     */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** {@code -Djrnn.composed.vectorProduct=false} keeps that product off even with the module. */
    public static final String VECTOR_PRODUCT_PROPERTY = "jrnn.composed.vectorProduct";

    private static final System.Logger LOG = System.getLogger("io.jrnn.backend.dnnl");
    private static final Set<String> LOGGED_REASONS = ConcurrentHashMap.newKeySet();
    private static volatile DnnlBackend instance;
    private static volatile DnnlBackend bf16Instance;

    /** The CPU engine, kept for the life of the process. */
    private final dnnl_engine engine;
    /** {@link Precision#FP32} or {@link Precision#BF16}. */
    private final Precision precision;

    private DnnlBackend() {
        try (PointerPointer<dnnl_engine> out = new PointerPointer<>(1)) {
            Dnnl.check(dnnl_engine_create(out, dnnl_cpu, 0), "dnnl_engine_create");
            engine = out.get(dnnl_engine.class, 0);
        }
        precision = Precision.FP32;
    }

    /** The same engine computing in {@code precision}. */
    private DnnlBackend(DnnlBackend fp32, Precision precision) {
        this.engine = fp32.engine;
        this.precision = precision;
    }

    /**
     * The backend, created on first use. When oneDNN cannot load, this throws whatever loading threw
     * (a {@link LinkageError} when the natives are missing, a {@link NativeException} when no CPU
     * engine can be created); {@link io.jrnn.backend.Backends#auto()} catches it and falls back.
     */
    public static DnnlBackend instance() {
        DnnlBackend b = instance;
        if (b == null) {
            synchronized (DnnlBackend.class) {
                b = instance;
                if (b == null) {
                    b = new DnnlBackend();
                    instance = b;
                }
            }
        }
        return b;
    }

    /**
     * The backend computing in {@code precision}: {@link Precision#FP32} is {@link #instance()};
     * {@link Precision#BF16} stores weights and activations in bfloat16 (weights converted once,
     * activations by oneDNN reorders around each primitive, float32 accumulation, bias and LSTM cell
     * state, float32 outputs) on CPUs whose oneDNN ISA has native bf16 arithmetic (AVX512-BF16 or
     * AMX, see {@link #supportedPrecisions()}).
     *
     * @throws UnsupportedConfigurationException for {@link Precision#TF32} and {@link Precision#FP16}
     *         (GPU precisions), and for bf16 on a CPU without native bf16 support (the message names
     *         the ISA oneDNN found)
     */
    public static DnnlBackend instance(Precision precision) {
        Objects.requireNonNull(precision, "precision");
        DnnlBackend fp32 = instance();
        switch (precision) {
            case FP32:
                return fp32;
            case BF16: {
                String refusal = bf16Refusal(dnnl.dnnl_get_effective_cpu_isa());
                if (refusal != null) {
                    throw new UnsupportedConfigurationException(refusal);
                }
                DnnlBackend b = bf16Instance;
                if (b == null) {
                    synchronized (DnnlBackend.class) {
                        b = bf16Instance;
                        if (b == null) {
                            b = new DnnlBackend(fp32, Precision.BF16);
                            bf16Instance = b;
                        }
                    }
                }
                return b;
            }
            default:
                throw new UnsupportedConfigurationException("Precision " + precision + " is not supported by backend"
                        + " 'cpu' (oneDNN): it runs fp32 and, on CPUs with AVX512-BF16 or AMX, bf16; " + precision
                        + " is a GPU precision (backend 'cuda')");
        }
    }

    /**
     * Why this CPU cannot run bf16, or {@code null} when it can: oneDNN's effective ISA
     * ({@code dnnl_get_effective_cpu_isa}, which honours {@code ONEDNN_MAX_CPU_ISA}) must include
     * {@code avx512_core_bf16} (AVX512-BF16; every AMX ISA includes it).
     */
    static String bf16Refusal(int isa) {
        if ((isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16) {
            return null;
        }
        return "Precision bf16 is not supported by backend 'cpu' (oneDNN) on this CPU: it needs AVX512-BF16 or AMX"
                + " (oneDNN ISA avx512_core_bf16 or higher), oneDNN found " + isaName(isa);
    }

    /** The precisions {@link #instance(Precision)} accepts on this CPU: fp32, and bf16 where supported. */
    public static List<Precision> supportedPrecisions() {
        return bf16Refusal(dnnl.dnnl_get_effective_cpu_isa()) == null ? List.of(Precision.FP32, Precision.BF16)
                : List.of(Precision.FP32);
    }

    /** The name of a {@code dnnl_cpu_isa_t} value, e.g. {@code avx512_core_bf16}. */
    static String isaName(int isa) {
        for (dnnl.cpu_isa i : dnnl.cpu_isa.values()) {
            if (i.value == isa) {
                return i.name();
            }
        }
        return "cpu_isa " + isa;
    }

    @Override
    public Precision precision() {
        return precision;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device device() {
        return Device.cpu();
    }

    @Override
    public RecurrentExecutor compile(RecurrentSpec spec) {
        Objects.requireNonNull(spec, "spec");
        checkWeights(spec);
        String unsupported = unsupportedReason(spec);
        if (unsupported != null) {
            return splitting(composed(spec, unsupported), spec);
        }
        RnnPrimitive primitive = primitiveFor(spec);
        try {
            RecurrentExecutor fused = new DnnlRecurrentExecutor(engine, spec, primitive,
                    vanillaActivationKind(spec.activation()), precision);
            if (zeroesNaN(spec)) {
                return new io.jrnn.backend.NonFiniteGuardExecutor(fused, () -> new ComposedRecurrentExecutor(engine, spec,
                        "the input holds NaN or an infinity, which oneDNN's fused relu would turn into 0", precision));
            }
            return fused;
        } catch (NativeException e) {
            if (e.status() != dnnl_unimplemented) {
                throw e;
            }
            return splitting(composed(spec, "oneDNN " + primitive.primitiveName
                    + " has no implementation for this configuration (" + e.getMessage() + ")"), spec);
        }
    }

    /**
     * One {@code bidirectional_concat} / {@code bidirectional_sum} primitive for both directions
     * ({@link DnnlBidirectionalExecutor}) when both layers are the same fused-expressible cell (type,
     * units, activations, GRU variant, input size, return_sequences), the forward one goes forwards
     * and the backward one backwards, and the merge is concat or sum; otherwise {@code null}.
     */
    @Override
    public RecurrentExecutor compileBidirectional(RecurrentSpec forward, RecurrentSpec backward,
            Bidirectional.MergeMode mergeMode) {
        Objects.requireNonNull(forward, "forward");
        Objects.requireNonNull(backward, "backward");
        if (precision != Precision.FP32 || bidirectionalUnsupportedReason(forward, backward, mergeMode) != null) {
            // bf16: the two directions run as two layers, each on its own bf16 primitive.
            return null;
        }
        checkWeights(forward);
        checkWeights(backward);
        RnnPrimitive primitive = primitiveFor(forward);
        try {
            return new DnnlBidirectionalExecutor(engine, forward, backward, mergeMode == Bidirectional.MergeMode.SUM,
                    primitive, vanillaActivationKind(forward.activation()));
        } catch (NativeException e) {
            if (e.status() != dnnl_unimplemented) {
                throw e;
            }
            return null;
        }
    }

    /**
     * {@code L > 1} layers on one oneDNN multi-layer primitive ({@link DnnlRecurrentExecutor} with
     * {@code L} layers) when {@link #stackUnsupportedReason} allows it; otherwise {@code null}.
     */
    @Override
    public RecurrentExecutor compileStack(List<RecurrentSpec> layers) {
        Objects.requireNonNull(layers, "layers");
        if (precision != Precision.FP32 || stackUnsupportedReason(layers) != null) {
            // bf16: the layers run one after the other, each on its own bf16 primitive.
            return null;
        }
        layers.forEach(DnnlBackend::checkWeights);
        RecurrentSpec first = layers.get(0);
        try {
            return new DnnlRecurrentExecutor(engine, List.copyOf(layers), primitiveFor(first),
                    vanillaActivationKind(first.activation()));
        } catch (NativeException e) {
            if (e.status() != dnnl_unimplemented) {
                throw e;
            }
            return null;
        }
    }

    /**
     * Why one multi-layer primitive cannot run this stack, or {@code null} when it can: at least two
     * layers, all fused-expressible and the same cell (type, GRU variant, activations) and units
     * {@code H}, all going forwards (under go_backwards every cell of a Keras stack consumes the
     * reversed sequence in processing order, which no right2left stack computes), every layer but the
     * last returning sequences, and the first layer's input size equal to {@code H} (oneDNN's
     * {@code weights_layer} has one input size for all layers).
     */
    static String stackUnsupportedReason(List<RecurrentSpec> layers) {
        if (layers.size() < 2) {
            return "a stack of " + layers.size() + " layer(s) (one primitive per layer)";
        }
        RecurrentSpec first = layers.get(0);
        boolean gates = first.cellType() != CellType.SIMPLE_RNN;
        for (int k = 0; k < layers.size(); k++) {
            RecurrentSpec s = layers.get(k);
            String reason = unsupportedReason(s);
            if (reason != null) {
                return reason;
            }
            if (s.goBackwards()) {
                return "layer " + k + " goes backwards";
            }
            if (k < layers.size() - 1 && !s.returnSequences()) {
                return "layer " + k + " does not return sequences";
            }
            if (s.cellType() != first.cellType() || s.resetAfter() != first.resetAfter()
                    || s.activation() != first.activation()
                    || (gates && s.recurrentActivation() != first.recurrentActivation())
                    || s.units() != first.units()) {
                return "the layers differ in cell, activations or units";
            }
        }
        if (first.inputSize() != first.units()) {
            return "input size " + first.inputSize() + " differs from units " + first.units()
                    + " (oneDNN's multi-layer weights_layer has one input size for every layer)";
        }
        return null;
    }

    /** Why one bidirectional primitive cannot run this pair, or {@code null} when it can. */
    static String bidirectionalUnsupportedReason(RecurrentSpec forward, RecurrentSpec backward,
            Bidirectional.MergeMode mergeMode) {
        if (mergeMode != Bidirectional.MergeMode.CONCAT && mergeMode != Bidirectional.MergeMode.SUM) {
            return "merge_mode=" + mergeMode + " (oneDNN merges by concat or sum only)";
        }
        if (forward.goBackwards() || !backward.goBackwards()) {
            return "the forward layer goes " + (forward.goBackwards() ? "backwards" : "forwards")
                    + " and the backward layer " + (backward.goBackwards() ? "backwards" : "forwards");
        }
        String reason = unsupportedReason(forward);
        if (reason == null) {
            reason = unsupportedReason(backward);
        }
        if (reason != null) {
            return reason;
        }
        boolean gates = forward.cellType() != CellType.SIMPLE_RNN;
        if (forward.cellType() != backward.cellType() || forward.resetAfter() != backward.resetAfter()
                || forward.activation() != backward.activation()
                || (gates && forward.recurrentActivation() != backward.recurrentActivation())
                || forward.units() != backward.units() || forward.inputSize() != backward.inputSize()
                || forward.returnSequences() != backward.returnSequences()) {
            return "the two directions differ in cell, activations, units, input size or return_sequences";
        }
        return null;
    }

    /**
     * {@code spec} on the composed path (oneDNN matmuls + Java gate loops), which runs every
     * configuration and every mask; {@code reason} says why the fused primitive does not, and is
     * logged once per distinct reason.
     */
    RecurrentExecutor composed(RecurrentSpec spec, String reason) {
        ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(engine, spec, reason, precision);
        if (LOGGED_REASONS.add(reason)) {
            LOG.log(System.Logger.Level.INFO, "jrnn: " + spec.describe() + " runs on the " + executor.executionPath());
        }
        return executor;
    }

    /** A layer's composed executor with the batch split ({@link RowSplitExecutor}: parts of the batch on separate threads). */
    private static RecurrentExecutor splitting(RecurrentExecutor composed, RecurrentSpec spec) {
        return new RowSplitExecutor(composed, BatchSplit.weightBytes(primitiveFor(spec), spec.inputSize(), spec.units()));
    }

    /**
     * For benchmarks: {@code spec} on the composed path (one matmul for the input projection of all
     * steps, a matmul per step, gates in Java) even when a fused primitive could run it.
     */
    public RecurrentExecutor compileComposed(RecurrentSpec spec) {
        Objects.requireNonNull(spec, "spec");
        checkWeights(spec);
        return new ComposedRecurrentExecutor(engine, spec, "requested by compileComposed", precision);
    }

    /** The CPU engine (tests build executors on it directly). */
    dnnl_engine engine() {
        return engine;
    }

    private static RnnPrimitive primitiveFor(RecurrentSpec spec) {
        return switch (spec.cellType()) {
            case SIMPLE_RNN -> RnnPrimitive.VANILLA_RNN;
            case LSTM -> RnnPrimitive.LSTM;
            case GRU -> spec.resetAfter() ? RnnPrimitive.LBR_GRU : RnnPrimitive.GRU;
        };
    }

    /**
     * Why oneDNN's fused primitive cannot express {@code spec}, or {@code null} when it can, e.g.
     * {@code "recurrent_activation=hard_sigmoid (Keras 2) is not expressible by lstm_forward (fixed sigmoid gates)"}.
     */
    static String unsupportedReason(RecurrentSpec spec) {
        String primitive = primitiveFor(spec).primitiveName;
        if (spec.cellType() == CellType.SIMPLE_RNN) {
            return vanillaActivationKind(spec.activation()) != 0 ? null
                    : "activation=" + label(spec.activation()) + " is not expressible by " + primitive
                            + " (tanh, relu and sigmoid only)";
        }
        List<String> fixed = new ArrayList<>();
        List<String> given = new ArrayList<>();
        if (spec.recurrentActivation() != Activation.SIGMOID) {
            fixed.add("fixed sigmoid gates");
            given.add("recurrent_activation=" + label(spec.recurrentActivation()));
        }
        if (spec.activation() != Activation.TANH) {
            fixed.add("a fixed tanh " + (spec.cellType() == CellType.LSTM ? "cell activation" : "candidate activation"));
            given.add("activation=" + label(spec.activation()));
        }
        return fixed.isEmpty() ? null
                : String.join(", ", given) + (given.size() == 1 ? " is" : " are") + " not expressible by " + primitive
                        + " (" + String.join(" and ", fixed) + ")";
    }

    private static String label(Activation a) {
        return switch (a) {
            case HARD_SIGMOID_KERAS2 -> "hard_sigmoid (Keras 2)";
            case HARD_SIGMOID_KERAS3 -> "hard_sigmoid (Keras 3)";
            default -> a.kerasName();
        };
    }

    /** The {@code dnnl_alg_kind_t} of a SimpleRNN activation, 0 when oneDNN has none (relu uses alpha 0). */
    /**
     * Whether oneDNN's fused primitive for {@code spec} would turn a NaN into 0: the relu
     * {@code vanilla_rnn_forward} computes max(x, 0). Such layers run behind {@link io.jrnn.backend.NonFiniteGuardExecutor};
     * Bidirectional pairs and stacks of them leave their single primitive for such calls
     * ({@link RecurrentSpec#fusedReluZeroesNaN()}).
     */
    static boolean zeroesNaN(RecurrentSpec spec) {
        return spec.cellType() == CellType.SIMPLE_RNN && spec.activation() == Activation.RELU;
    }

    private static int vanillaActivationKind(Activation a) {
        return switch (a) {
            case TANH -> dnnl_eltwise_tanh;
            case RELU -> dnnl_eltwise_relu;
            case SIGMOID -> dnnl_eltwise_logistic;
            default -> 0;
        };
    }

    /** Checks the weight array sizes before any native call (the layer should already have). */
    private static void checkWeights(RecurrentSpec spec) {
        KerasRnnWeights w = spec.weights();
        int c = w.inputSize();
        int h = w.hiddenSize();
        int gh = spec.cellType().gateCount() * h;
        if (w.type() != spec.cellType() || c < 1 || h < 1) {
            throw new IllegalArgumentException(spec.describe() + ": weights are for " + w.type() + " with input size "
                    + c + " and " + h + " units");
        }
        checkLength(spec, "kernel", w.kernel().length, (long) c * gh);
        checkLength(spec, "recurrent_kernel", w.recurrentKernel().length, (long) h * gh);
        if (w.hasBias()) {
            boolean twoRows = spec.cellType() == CellType.GRU && spec.resetAfter();
            checkLength(spec, "bias", w.bias().length, (long) gh * (twoRows ? 2 : 1));
        }
    }

    private static void checkLength(RecurrentSpec spec, String name, int actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(spec.describe() + ": " + name + " must have " + expected + " values, got "
                    + actual);
        }
    }

    /** ConvLSTM2D (spec §2.6): one input convolution over all N·T frames, a recurrent convolution per step, fused gates. */
    @Override
    public io.jrnn.backend.ConvLstmExecutor compileConvLstm(io.jrnn.backend.ConvLstmSpec spec) {
        io.jrnn.backend.ConvLstmExecutor fp32 = new DnnlConvLstmExecutor(engine, Objects.requireNonNull(spec, "spec"), false);
        return precision == Precision.FP32 ? fp32 : new Fp32ConvLstm(fp32, precision);
    }

    /** ConvLSTM2D has no bf16 path: under another precision it runs in fp32 and its execution path says so. */
    private record Fp32ConvLstm(io.jrnn.backend.ConvLstmExecutor fp32, Precision requested)
            implements io.jrnn.backend.ConvLstmExecutor {
        @Override
        public io.jrnn.Tensor[] run(io.jrnn.Tensor input, io.jrnn.Tensor[] initialStates, io.jrnn.Mask mask) {
            return fp32.run(input, initialStates, mask);
        }

        @Override
        public String executionPath() {
            return fp32.executionPath() + "; fp32: ConvLSTM2D has no " + requested + " path (fp32 fallback)";
        }

        @Override
        public void close() {
            fp32.close();
        }
    }

    /**
     * For benchmarks: ConvLSTM2D with the naive structure, the input convolution run once per step
     * (over that step's N frames) instead of once over all N·T frames. Same results.
     */
    public io.jrnn.backend.ConvLstmExecutor compileConvLstmInputConvPerStep(io.jrnn.backend.ConvLstmSpec spec) {
        return new DnnlConvLstmExecutor(engine, Objects.requireNonNull(spec, "spec"), true);
    }

    @Override
    public String describe() {
        dnnl_version_t v = dnnl.dnnl_version();
        String runtime = runtimeName(v.cpu_runtime());
        String ompThreads = System.getenv("OMP_NUM_THREADS");
        String threads = ompThreads != null && !ompThreads.isBlank()
                ? ompThreads.trim() + " (OMP_NUM_THREADS)"
                : Runtime.getRuntime().availableProcessors() + " (OMP_NUM_THREADS unset: one per available processor)";
        return "oneDNN " + v.major() + "." + v.minor() + "." + v.patch() + " (CPU runtime " + runtime + "), ISA "
                + dnnl.get_effective_cpu_isa() + ", threads " + threads + ", " + OpenMpWaiting.describe() + ", "
                + precision + " forward_inference"
                + (precision == Precision.BF16 ? " (bf16 weights and activations, f32 bias, cell state and outputs;"
                        + " weights 'any'; ConvLSTM2D in fp32)" : "") + "; weight formats: "
                + "lstm_forward 'any' (blocked, one reorder per layout), lbr_gru_forward and vanilla_rnn_forward 'any' "
                + "below batch " + WeightFormat.PLAIN_FROM_BATCH + " and 'ldigo' from it, gru_forward 'ldigo'; "
                + WeightFormat.COMPOSED_RULE + "; batch-1 Java step product "
                + (JavaRecurrentStep.VECTOR ? "on the Vector API"
                        : "auto-vectorised (the Vector API needs --add-modules jdk.incubator.vector)") + "; "
                + BatchSplit.describe() + "; up to "
                + DnnlRecurrentExecutor.SHAPE_CACHE_CAPACITY + " input shapes compiled per layer";
    }

    private static String runtimeName(int runtime) {
        if (runtime == DNNL_RUNTIME_OMP) {
            return "OpenMP";
        } else if (runtime == DNNL_RUNTIME_SEQ) {
            return "sequential";
        } else if (runtime == DNNL_RUNTIME_TBB) {
            return "TBB";
        } else if (runtime == DNNL_RUNTIME_THREADPOOL) {
            return "threadpool";
        }
        return "runtime " + runtime;
    }

    @Override
    public String toString() {
        return precision == Precision.FP32 ? "DnnlBackend(cpu)" : "DnnlBackend(cpu, " + precision + ")";
    }
}
