package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_hwio;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nhwc;

import io.jrnn.Mask;
import io.jrnn.NativeResources;
import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.layers.Activation;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@code ConvLSTM2D} (spec §2.6) on oneDNN, channels-last ({@code nhwc}) throughout:
 * <ol>
 * <li>one oneDNN convolution over all {@code N·T} frames for the input side,
 * {@code X = conv(x, K; strides, dilation, padding) + b} (bias fused), then</li>
 * <li>per step a oneDNN convolution {@code U = conv(h, R)} (stride 1, undilated, TensorFlow 'same'
 * with oneDNN's separate {@code padding_l}/{@code padding_r}, so even kernels put the extra cell
 * bottom/right) that accumulates onto {@code X_t} (a {@code sum} post-op), dense oneDNN eltwise passes
 * for the gate activations, and one Java pass for the state update; {@code φ(c_t)} is one more
 * eltwise. So that each eltwise runs on a dense buffer, the gates are split by activation into two
 * convolution groups: σ gates {@code [i, f, o]} (3F output channels) and the candidate {@code c} (F).
 * Activations oneDNN has no eltwise for (softsign, selu, …) run in Java instead.</li>
 * </ol>
 * Keras kernels are HWIO, which is oneDNN's {@code hwio} tag for {@code OIHW} dims: they are copied
 * once and reordered into the layout the primitives choose ({@code format_tag any}); the reordered
 * copies live as long as the executor. Primitives and scratch buffers are cached per input shape
 * (small LRU), as a pool of execution contexts per shape: calls from several threads run at once,
 * each on its own context (memory objects, stream, scratchpads, Java scratch), the weights shared
 * read-only; no lock is held around a call. Masks follow the canonical rule (spec §3.3): a masked sample keeps {@code h} and
 * {@code c}, and outputs its previous processed output.
 *
 * <p>{@link #inputConvPerStep} (benchmarks only) runs the input convolution once per step over the
 * {@code N} frames of that step instead, the naive structure the fused one is measured against.
 */
final class DnnlConvLstmExecutor implements ConvLstmExecutor {
    static final int SHAPE_CACHE_CAPACITY = 4;
    static final String PATH = "oneDNN ConvLSTM2D (one input convolution over N·T frames + per-step recurrent "
            + "convolution accumulating onto it, nhwc";
    static final String PER_STEP_PATH = "oneDNN ConvLSTM2D, naive (input convolution per step + per-step recurrent "
            + "convolution accumulating onto it, nhwc";

    private final ConvLstmSpec spec;
    private final dnnl_engine engine;
    private final boolean inputConvPerStep;
    private final Activation sigma;
    private final Activation phi;
    private final int channels;
    private final int filters;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    /** Keras's gate blocks split by activation: σ gates {@code [i, f, o]} (3F outputs) and the candidate c (F outputs). */
    private final WeightCache weights;
    private final WeightCache.Source kernelSigma;
    private final WeightCache.Source kernelCandidate;
    private final WeightCache.Source recurrentSigma;
    private final WeightCache.Source recurrentCandidate;
    private final WeightCache.Source biasSigma;
    private final WeightCache.Source biasCandidate;
    private final ShapeCache<Shape, Plan> plans = new ShapeCache<>(SHAPE_CACHE_CAPACITY, this::createPlan);
    private final AtomicInteger plansCreated = new AtomicInteger();
    private final CallGate gate = new CallGate();
    private final NativeResources.Registration registration;

    private record Shape(int batch, int steps, int rows, int cols) {
    }

    DnnlConvLstmExecutor(dnnl_engine engine, ConvLstmSpec spec, boolean inputConvPerStep) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.engine = engine;
        this.inputConvPerStep = inputConvPerStep;
        this.sigma = spec.recurrentActivation();
        this.phi = spec.activation();
        if (!ComposedActivations.supports(phi) || !ComposedActivations.supports(sigma)) {
            throw new IllegalArgumentException(spec.describe() + ": activations must be elementwise, got activation="
                    + phi.kerasName() + ", recurrent_activation=" + sigma.kerasName());
        }
        this.channels = spec.inputChannels();
        this.filters = spec.filters();
        try {
            this.stream = Dnnl.stream(scope, engine);
            this.weights = new WeightCache(engine, stream);
            scope.defer(weights::close);
            // Keras [kr, kc, C, 4F] row-major is oneDNN's OIHW tensor in 'hwio' order.
            int kr = spec.kernelRows();
            int kc = spec.kernelCols();
            int f = filters;
            // Keras [kr, kc, C, 4F] row-major is oneDNN's OIHW tensor in 'hwio' order; gates i, f, c, o along O.
            this.kernelSigma = userWeights(gateColumns(spec.kernel(), true), dnnl_hwio, 3L * f, channels, kr, kc);
            this.kernelCandidate = userWeights(gateColumns(spec.kernel(), false), dnnl_hwio, f, channels, kr, kc);
            this.recurrentSigma = userWeights(gateColumns(spec.recurrentKernel(), true), dnnl_hwio, 3L * f, f, kr, kc);
            this.recurrentCandidate = userWeights(gateColumns(spec.recurrentKernel(), false), dnnl_hwio, f, f, kr, kc);
            this.biasSigma = userWeights(gateColumns(spec.bias(), true), dnnl_a, 3L * f);
            this.biasCandidate = userWeights(gateColumns(spec.bias(), false), dnnl_a, f);
            this.registration = NativeResources.register(this, scope::close);
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    /** The σ-gate columns {@code [i, f, o]} (or the candidate's {@code c}) of a row-major {@code [rows, 4F]} array. */
    private float[] gateColumns(float[] w, boolean sigmaGates) {
        int f = filters;
        int rowsCount = w.length / (4 * f);
        int width = sigmaGates ? 3 * f : f;
        float[] out = new float[rowsCount * width];
        for (int r = 0; r < rowsCount; r++) {
            int src = r * 4 * f;
            int dst = r * width;
            if (sigmaGates) {
                System.arraycopy(w, src, out, dst, 2 * f);
                System.arraycopy(w, src + 3 * f, out, dst + 2 * f, f);
            } else {
                System.arraycopy(w, src + 2 * f, out, dst, f);
            }
        }
        return out;
    }

    private WeightCache.Source userWeights(float[] values, int tag, long... dims) {
        return weights.upload(values, tag, dims);
    }

    @Override
    public String executionPath() {
        boolean allNative = Dnnl.eltwiseFor(sigma) != null && stateEltwise(phi) != null;
        Activation inJava = Dnnl.eltwiseFor(sigma) == null ? sigma : phi;
        return (inputConvPerStep ? PER_STEP_PATH : PATH) + (allNative ? ", oneDNN eltwise activations"
                : ", activations in Java (" + inJava.kerasName()
                        + (Dnnl.eltwiseFor(inJava) == null ? " has no oneDNN eltwise" : ": oneDNN's loses NaN") + ")")
                + ", state update in Java)";
    }

    /**
     * oneDNN's eltwise for the activation of the candidate and of the cell state, whose outputs carry
     * the state: null where oneDNN has none or its form loses NaN ({@link Dnnl#eltwiseKeepsNaN}).
     */
    static float[] stateEltwise(Activation phi) {
        return Dnnl.eltwiseKeepsNaN(phi) ? Dnnl.eltwiseFor(phi) : null;
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        gate.enter(spec.describe() + ": oneDNN ConvLSTM2D executor is closed");
        try {
            return runOpen(input, initialStates, mask);
        } finally {
            gate.exit();
        }
    }

    private Tensor[] runOpen(Tensor input, Tensor[] initialStates, Mask mask) {
        Objects.requireNonNull(input, "input");
        int[] s = input.shape();
        if (input.isClosed()) {
            throw new IllegalStateException(spec.describe() + ": input tensor " + Arrays.toString(s) + " is closed");
        }
        if (s.length != 5 || s[0] < 1 || s[1] < 1 || s[2] < 1 || s[3] < 1 || s[4] != channels) {
            throw new IllegalArgumentException(spec.describe() + ": expected input [N, T, rows, cols, " + channels
                    + "] with every axis >= 1, got " + Arrays.toString(s));
        }
        int outR = spec.outputRows(s[2]);
        int outC = spec.outputCols(s[3]);
        if (outR < 1 || outC < 1) {
            throw new IllegalArgumentException(spec.describe() + ": input frame " + s[2] + "x" + s[3]
                    + " is smaller than the dilated kernel");
        }
        if (initialStates != null) {
            if (initialStates.length != 2) {
                throw new IllegalArgumentException(spec.describe() + " has 2 states (h, c) but was passed "
                        + initialStates.length);
            }
            int[] want = {s[0], outR, outC, filters};
            for (int i = 0; i < 2; i++) {
                if (!Arrays.equals(initialStates[i].shape(), want)) {
                    throw new IllegalArgumentException(spec.describe() + ": initial state " + i + " must be "
                            + Arrays.toString(want) + ", got " + Arrays.toString(initialStates[i].shape()));
                }
            }
        }
        if (mask != null) {
            mask.checkShape(spec.describe(), s[0], s[1]);
        }
        Shape shape = new Shape(s[0], s[1], s[2], s[3]);
        boolean[] valid = mask == null || mask.allValid() ? null : mask.toArray();
        try (ShapeCache<Shape, Plan>.Lease lease = plans.acquire(shape)) {
            return lease.plan().run(input, initialStates, valid);
        }
    }

    private Plan createPlan(Shape shape) {
        NativeScope planScope = scope.child();
        try {
            Plan plan = new Plan(shape, spec.outputRows(shape.rows()), spec.outputCols(shape.cols()), planScope);
            plansCreated.incrementAndGet();
            return plan;
        } catch (RuntimeException | Error e) {
            planScope.closeAfter(e);
            throw e;
        }
    }

    /** A convolution primitive with its argument memories (src/dst data handles set by the caller). */
    private final class Conv {
        final dnnl_primitive primitive;
        final dnnl_memory src;
        final dnnl_memory dst;
        final dnnl_exec_arg_t args;
        final int argCount;
        final dnnl_stream stream;

        Conv(NativeScope owner, dnnl_stream stream, long images, long inC, long inR, long inCols, long outR, long outCols, long outChannels,
                WeightCache.Source filter, WeightCache.Source bias, long[] strides, long[] dilates, long[] padL, long[] padR, Pointer srcData, Pointer dstData,
                boolean accumulate) {
            dnnl_memory_desc srcDesc = Dnnl.desc(owner, dnnl_nhwc, images, inC, inR, inCols);
            boolean withBias = bias != null;
            dnnl_memory_desc wDesc = Dnnl.desc(owner, dnnl_format_tag_any, outChannels, inC, spec.kernelRows(),
                    spec.kernelCols());
            dnnl_memory_desc bDesc = withBias ? Dnnl.desc(owner, dnnl_a, outChannels) : null;
            dnnl_memory_desc dstDesc = Dnnl.desc(owner, dnnl_nhwc, images, outChannels, outR, outCols);
            this.stream = stream;
            dnnl_primitive_attr attr = accumulate ? Dnnl.sumAttr(owner, null) : Dnnl.userScratchpadAttr(owner);
            dnnl_primitive_desc pd;
            try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_convolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        dnnl_convolution_direct, srcDesc, wDesc, bDesc, dstDesc, strides, dilates, padL, padR, attr),
                        "dnnl_convolution_forward_primitive_desc_create");
                pd = Dnnl.adopt(owner, out);
            }
            dnnl_memory w = weights.in(owner, filter, Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS));
            this.primitive = Dnnl.primitive(owner, pd);
            this.src = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_SRC), engine, srcData);
            this.dst = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_DST), engine, dstData);
            this.argCount = withBias ? 5 : 4;
            this.args = owner.own(new dnnl_exec_arg_t(argCount));
            args.getPointer(0).arg(DNNL_ARG_SRC).memory(src);
            args.getPointer(1).arg(DNNL_ARG_WEIGHTS).memory(w);
            args.getPointer(2).arg(DNNL_ARG_DST).memory(dst);
            args.getPointer(3).arg(DNNL_ARG_SCRATCHPAD).memory(Dnnl.scratchpad(owner, pd, engine));
            if (withBias) {
                args.getPointer(4).arg(DNNL_ARG_BIAS).memory(bias.memory());
            }
        }

        void execute() {
            Dnnl.execute(primitive, stream, argCount, args);
        }
    }


    /** An in-place oneDNN eltwise over a dense buffer of {@code size} floats. */
    private final class Eltwise {
        final dnnl_primitive primitive;
        final dnnl_exec_arg_t args;
        final dnnl_stream stream;

        Eltwise(NativeScope owner, dnnl_stream stream, float[] alg, long size, Pointer data) {
            this.stream = stream;
            dnnl_memory_desc desc = Dnnl.desc(owner, dnnl_a, size);
            dnnl_primitive_desc pd;
            try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference, (int) alg[0], desc,
                        desc, alg[1], alg[2], Dnnl.userScratchpadAttr(owner)), "dnnl_eltwise_forward_primitive_desc_create");
                pd = Dnnl.adopt(owner, out);
            }
            this.primitive = Dnnl.primitive(owner, pd);
            dnnl_memory memory = Dnnl.memory(owner, desc, engine, data);
            this.args = owner.own(new dnnl_exec_arg_t(3));
            args.getPointer(0).arg(DNNL_ARG_SRC).memory(memory);
            args.getPointer(1).arg(DNNL_ARG_DST).memory(memory);
            args.getPointer(2).arg(DNNL_ARG_SCRATCHPAD).memory(Dnnl.scratchpad(owner, pd, engine));
        }

        void execute() {
            Dnnl.execute(primitive, stream, 3, args);
        }
    }

    /** Everything compiled for one input shape. */
    private final class Plan implements ShapeCache.Plan {
        final int batch;
        final int steps;
        final int rows;
        final int cols;
        final int outR;
        final int outC;
        final int frame;
        final int pixels;
        /** One frame of σ-gate pre-activations ({@code P·3F}) and of candidate ones ({@code P·F = frame}). */
        final int sigmaBlock;
        final NativeScope planScope;
        final Conv inputSigma;
        final Conv inputCandidate;
        final Conv recurrentSigmaConv;
        final Conv recurrentCandidateConv;
        final FloatBuffer projectedSigma;
        final FloatBuffer projectedCandidate;
        final FloatBuffer hNative;
        /** Per step: {@code X_t}, then {@code X_t + U_t} (sum post-op), then activated (σ: i, f, o; φ: c). */
        final FloatBuffer sigmaNative;
        final FloatBuffer candidateNative;
        /** {@code c_t}, then {@code φ(c_t)}. */
        final FloatBuffer cellNative;
        /** Naive mode: the frames of one step, gathered contiguous. */
        final FloatBuffer stepInput;
        /** oneDNN eltwise passes, or null where oneDNN lacks the activation (Java applies it). */
        final Eltwise sigmaActivation;
        final Eltwise candidateActivation;
        final Eltwise cellActivation;
        final float[] h;
        final float[] c;
        final float[] previous;
        final float[] gates;
        final float[] candidate;
        final float[] cellAct;

        Plan(Shape shape, int outR, int outC, NativeScope planScope) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            this.rows = shape.rows();
            this.cols = shape.cols();
            this.outR = outR;
            this.outC = outC;
            this.planScope = planScope;
            dnnl_stream stream = Dnnl.stream(planScope, engine);
            this.pixels = outR * outC;
            this.frame = pixels * filters;
            this.sigmaBlock = 3 * frame;
            int kr = spec.kernelRows();
            int kc = spec.kernelCols();
            long[] strides = {spec.strideRows(), spec.strideCols()};
            // oneDNN counts dilation from 0 (no dilation) where Keras counts from 1.
            long[] dilates = {spec.dilationRows() - 1, spec.dilationCols() - 1};
            long[] padL = {0, 0};
            long[] padR = {0, 0};
            if (spec.samePadding()) {
                padL[0] = ConvLstmSpec.padBefore(rows, outR, kr, spec.strideRows(), spec.dilationRows());
                padR[0] = ConvLstmSpec.padAfter(rows, outR, kr, spec.strideRows(), spec.dilationRows());
                padL[1] = ConvLstmSpec.padBefore(cols, outC, kc, spec.strideCols(), spec.dilationCols());
                padR[1] = ConvLstmSpec.padAfter(cols, outC, kc, spec.strideCols(), spec.dilationCols());
            }
            // 'valid': no padding; oneDNN's output size (floor division) is Keras's.
            long images = inputConvPerStep ? batch : (long) batch * steps;
            int f = filters;
            BytePointer xs = Dnnl.alignedBuffer(planScope, images * sigmaBlock * Float.BYTES);
            BytePointer xc = Dnnl.alignedBuffer(planScope, images * frame * Float.BYTES);
            BytePointer stepIn = null;
            if (inputConvPerStep) {
                stepIn = Dnnl.alignedBuffer(planScope, (long) batch * rows * cols * channels * Float.BYTES);
            }
            this.inputSigma = new Conv(planScope, stream, images, channels, rows, cols, outR, outC, 3L * f, kernelSigma, biasSigma,
                    strides, dilates, padL, padR, stepIn, xs, false);
            this.inputCandidate = new Conv(planScope, stream, images, channels, rows, cols, outR, outC, f, kernelCandidate,
                    biasCandidate, strides, dilates, padL, padR, stepIn, xc, false);
            BytePointer hN = Dnnl.alignedBuffer(planScope, (long) batch * frame * Float.BYTES);
            BytePointer gS = Dnnl.alignedBuffer(planScope, (long) batch * sigmaBlock * Float.BYTES);
            BytePointer gC = Dnnl.alignedBuffer(planScope, (long) batch * frame * Float.BYTES);
            BytePointer cN = Dnnl.alignedBuffer(planScope, (long) batch * frame * Float.BYTES);
            long[] rPadL = {ConvLstmSpec.padBefore(outR, outR, kr, 1, 1), ConvLstmSpec.padBefore(outC, outC, kc, 1, 1)};
            long[] rPadR = {ConvLstmSpec.padAfter(outR, outR, kr, 1, 1), ConvLstmSpec.padAfter(outC, outC, kc, 1, 1)};
            long[] one = {1, 1};
            long[] none = {0, 0};
            // The recurrent convolutions accumulate onto X_t (sum post-op): their outputs are the pre-activations.
            this.recurrentSigmaConv = new Conv(planScope, stream, batch, f, outR, outC, outR, outC, 3L * f, recurrentSigma, null,
                    one, none, rPadL, rPadR, hN, gS, true);
            this.recurrentCandidateConv = new Conv(planScope, stream, batch, f, outR, outC, outR, outC, f, recurrentCandidate, null,
                    one, none, rPadL, rPadR, hN, gC, true);
            float[] sigmaAlg = Dnnl.eltwiseFor(sigma);
            float[] phiAlg = stateEltwise(phi);
            this.sigmaActivation = sigmaAlg != null && sigmaAlg.length > 1
                    ? new Eltwise(planScope, stream, sigmaAlg, (long) batch * sigmaBlock, gS) : null;
            this.candidateActivation = phiAlg != null && phiAlg.length > 1
                    ? new Eltwise(planScope, stream, phiAlg, (long) batch * frame, gC) : null;
            this.cellActivation = phiAlg != null && phiAlg.length > 1
                    ? new Eltwise(planScope, stream, phiAlg, (long) batch * frame, cN) : null;
            this.projectedSigma = Dnnl.floats(xs);
            this.projectedCandidate = Dnnl.floats(xc);
            this.stepInput = stepIn == null ? null : Dnnl.floats(stepIn);
            this.hNative = Dnnl.floats(hN);
            this.sigmaNative = Dnnl.floats(gS);
            this.candidateNative = Dnnl.floats(gC);
            this.cellNative = Dnnl.floats(cN);
            this.h = new float[batch * frame];
            this.c = new float[batch * frame];
            this.previous = new float[batch * frame];
            this.gates = new float[batch * sigmaBlock];
            this.candidate = new float[batch * frame];
            this.cellAct = new float[batch * frame];
        }

        Tensor[] run(Tensor x, Tensor[] initialStates, boolean[] valid) {
            int n = batch;
            int stateSize = n * frame;
            if (!inputConvPerStep) {
                Dnnl.setHandle(inputSigma.src, x.pointer());
                Dnnl.setHandle(inputCandidate.src, x.pointer());
                inputSigma.execute();
                inputCandidate.execute();
            }
            if (initialStates != null) {
                initialStates[0].copyTo(FloatBuffer.wrap(h));
                initialStates[1].copyTo(FloatBuffer.wrap(c));
            } else {
                Arrays.fill(h, 0f);
                Arrays.fill(c, 0f);
            }
            Arrays.fill(previous, 0f);
            float[] output = valid == null ? h : previous;
            Tensor[] result = new Tensor[3];
            boolean done = false;
            try {
                Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, outR, outC, filters) : null;
                FloatBuffer seqView = sequence != null ? sequence.view() : null;
                result[0] = sequence;
                FloatBuffer xView = inputConvPerStep ? x.view() : null;
                int inFrame = rows * cols * channels;
                for (int k = 0; k < steps; k++) {
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    if (inputConvPerStep) {
                        for (int s = 0; s < n; s++) {
                            stepInput.put(s * inFrame, xView, (s * steps + t) * inFrame, inFrame);
                        }
                        inputSigma.execute();
                        inputCandidate.execute();
                    }
                    for (int s = 0; s < n; s++) {
                        int image = inputConvPerStep ? s : s * steps + t;
                        sigmaNative.put(s * sigmaBlock, projectedSigma, image * sigmaBlock, sigmaBlock);
                        candidateNative.put(s * frame, projectedCandidate, image * frame, frame);
                    }
                    hNative.put(0, h, 0, stateSize);
                    recurrentSigmaConv.execute();
                    recurrentCandidateConv.execute();
                    if (sigmaActivation != null) {
                        sigmaActivation.execute();
                    }
                    if (candidateActivation != null) {
                        candidateActivation.execute();
                    }
                    sigmaNative.get(0, gates, 0, n * sigmaBlock);
                    candidateNative.get(0, candidate, 0, stateSize);
                    if (sigmaActivation == null) {
                        ComposedActivations.apply(sigma, gates, 0, n * sigmaBlock);
                    }
                    if (candidateActivation == null) {
                        ComposedActivations.apply(phi, candidate, 0, stateSize);
                    }
                    step(t, valid);
                    if (valid != null) {
                        for (int s = 0; s < n; s++) {
                            if (valid[s * steps + t]) {
                                System.arraycopy(h, s * frame, previous, s * frame, frame);
                            }
                        }
                    }
                    if (seqView != null) {
                        for (int s = 0; s < n; s++) {
                            seqView.put((s * steps + k) * frame, output, s * frame, frame);
                        }
                    }
                }
                if (sequence == null) {
                    result[0] = Tensor.of(output, n, outR, outC, filters);
                }
                result[1] = Tensor.of(h, n, outR, outC, filters);
                result[2] = Tensor.of(c, n, outR, outC, filters);
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

        /**
         * §2.6 after the convolutions and activations: {@code gates} holds σ(i), σ(f), σ(o) per pixel,
         * {@code candidate} φ(g); c_t = f ⊙ c + i ⊙ g, h_t = o ⊙ φ(c_t) for every valid sample.
         */
        private void step(int t, boolean[] valid) {
            int f = filters;
            int gw = 3 * f;
            float[] g = gates;
            float[] cand = candidate;
            float[] c = this.c;
            float[] h = this.h;
            float[] ca = cellAct;
            for (int s = 0; s < batch; s++) {
                if (valid != null && !valid[s * steps + t]) {
                    continue;
                }
                for (int p = 0; p < pixels; p++) {
                    int base = s * sigmaBlock + p * gw;
                    int off = s * frame + p * f;
                    for (int j = 0; j < f; j++) {
                        float cj = g[base + f + j] * c[off + j] + g[base + j] * cand[off + j];
                        c[off + j] = cj;
                        ca[off + j] = cj;
                    }
                }
            }
            if (cellActivation != null) {
                cellNative.put(0, ca, 0, batch * frame);
                cellActivation.execute();
                cellNative.get(0, ca, 0, batch * frame);
            } else {
                ComposedActivations.apply(phi, ca, 0, batch * frame);
            }
            for (int s = 0; s < batch; s++) {
                if (valid != null && !valid[s * steps + t]) {
                    continue;
                }
                for (int p = 0; p < pixels; p++) {
                    int base = s * sigmaBlock + p * gw + 2 * f;
                    int off = s * frame + p * f;
                    for (int j = 0; j < f; j++) {
                        h[off + j] = g[base + j] * ca[off + j];
                    }
                }
            }
        }

        @Override
        public void close() {
            planScope.close();
        }
    }

    /** Shape plans created so far, for tests. */
    int plansCreated() {
        return plansCreated.get();
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
