package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_hwio;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_memory_desc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nhwc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.layers.Activation;
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
 * {@code ConvLSTM2D} (spec §2.6) on oneDNN, channels-last ({@code nhwc}) throughout:
 * <ol>
 * <li>one oneDNN convolution over all {@code N·T} frames for the input side,
 * {@code X = conv(x, K; strides, dilation, padding) + b} (bias fused), then</li>
 * <li>per step a oneDNN convolution {@code U = conv(h, R)} (stride 1, undilated, TensorFlow 'same'
 * with oneDNN's separate {@code padding_l}/{@code padding_r}, so even kernels put the extra cell
 * bottom/right) and one Java pass over the two outputs for the gates and the state update.</li>
 * </ol>
 * Keras kernels are HWIO, which is oneDNN's {@code hwio} tag for {@code OIHW} dims: they are copied
 * once and reordered into the layout the primitives choose ({@code format_tag any}); the reordered
 * copies live as long as the executor. Primitives and scratch buffers are cached per input shape
 * (small LRU). Masks follow the canonical rule (spec §3.3): a masked sample keeps {@code h} and
 * {@code c}, and outputs its previous processed output.
 *
 * <p>{@link #inputConvPerStep} (benchmarks only) runs the input convolution once per step over the
 * {@code N} frames of that step instead, the naive structure the fused one is measured against.
 */
final class DnnlConvLstmExecutor implements ConvLstmExecutor {
    static final int SHAPE_CACHE_CAPACITY = 4;
    static final String PATH = "oneDNN ConvLSTM2D (one input convolution over N·T frames + per-step recurrent "
            + "convolution, nhwc, fused Java gates)";
    static final String PER_STEP_PATH = "oneDNN ConvLSTM2D, naive (input convolution per step + per-step recurrent "
            + "convolution, nhwc, fused Java gates)";

    private final ConvLstmSpec spec;
    private final dnnl_engine engine;
    private final boolean inputConvPerStep;
    private final Activation sigma;
    private final Activation phi;
    private final int channels;
    private final int filters;
    private final int gateWidth;
    private final NativeScope scope = new NativeScope();
    private final dnnl_stream stream;
    private final UserWeights kernel;
    private final UserWeights recurrentKernel;
    private final UserWeights bias;
    private final List<Packed> packed = new ArrayList<>();
    private final LinkedHashMap<Shape, Plan> plans = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, Plan> eldest) {
            if (size() > SHAPE_CACHE_CAPACITY) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };
    private int plansCreated;
    private boolean closed;

    private record Shape(int batch, int steps, int rows, int cols) {
    }

    private record UserWeights(dnnl_memory_desc desc, dnnl_memory memory) {
    }

    private record Packed(UserWeights source, dnnl_memory_desc desc, dnnl_memory memory) {
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
        this.gateWidth = 4 * filters;
        try {
            try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
                dnnl_stream s = out.get(dnnl_stream.class, 0);
                scope.defer(() -> Dnnl.check(dnnl_stream_destroy(s), "dnnl_stream_destroy"));
                this.stream = s;
            }
            // Keras [kr, kc, C, 4F] row-major is oneDNN's OIHW tensor in 'hwio' order.
            this.kernel = userWeights(spec.kernel(), dnnl_hwio, gateWidth, channels, spec.kernelRows(), spec.kernelCols());
            this.recurrentKernel = userWeights(spec.recurrentKernel(), dnnl_hwio, gateWidth, filters, spec.kernelRows(),
                    spec.kernelCols());
            this.bias = userWeights(spec.bias(), dnnl_a, gateWidth);
        } catch (RuntimeException | Error e) {
            scope.closeAfter(e);
            throw e;
        }
    }

    private UserWeights userWeights(float[] values, int tag, long... dims) {
        dnnl_memory_desc desc = Dnnl.desc(scope, tag, dims);
        BytePointer buffer = Dnnl.alignedBuffer(scope, (long) values.length * Float.BYTES);
        Dnnl.floats(buffer).put(values);
        return new UserWeights(desc, Dnnl.memory(scope, desc, engine, buffer));
    }

    /** The weights in the layout a primitive wants: the user copy, or one reordered copy per layout (kept until close). */
    private dnnl_memory weightsFor(UserWeights user, dnnl_memory_desc wanted) {
        if (dnnl_memory_desc_equal(user.desc(), wanted) != 0) {
            return user.memory();
        }
        for (Packed p : packed) {
            if (p.source() == user && dnnl_memory_desc_equal(p.desc(), wanted) != 0) {
                return p.memory();
            }
        }
        BytePointer buffer = Dnnl.alignedBuffer(scope, Dnnl.sizeInBytes(wanted));
        dnnl_memory memory = Dnnl.memory(scope, wanted, engine, buffer);
        dnnl_memory_desc desc;
        try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
            Dnnl.check(dnnl_memory_get_memory_desc(memory, out), "dnnl_memory_get_memory_desc");
            desc = out.get(dnnl_memory_desc.class, 0);
        }
        Dnnl.reorder(engine, stream, user.desc(), user.memory(), desc, memory);
        packed.add(new Packed(user, desc, memory));
        return memory;
    }

    @Override
    public String executionPath() {
        return inputConvPerStep ? PER_STEP_PATH : PATH;
    }

    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": oneDNN ConvLSTM2D executor is closed");
        }
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
        Plan plan = plans.get(shape);
        if (plan == null) {
            NativeScope planScope = new NativeScope();
            try {
                plan = new Plan(shape, outR, outC, planScope);
            } catch (RuntimeException | Error e) {
                planScope.closeAfter(e);
                throw e;
            }
            plans.put(shape, plan);
            plansCreated++;
        }
        boolean[] valid = mask == null || mask.allValid() ? null : mask.toArray();
        return plan.run(input, initialStates, valid);
    }

    /** A convolution primitive with its argument memories (src/dst data handles set by the caller). */
    private final class Conv {
        final dnnl_primitive primitive;
        final dnnl_memory src;
        final dnnl_memory dst;
        final dnnl_exec_arg_t args;
        final int argCount;

        Conv(NativeScope owner, long images, long inC, long inR, long inCols, long outR, long outCols, UserWeights weights,
                boolean withBias, long[] strides, long[] dilates, long[] padL, long[] padR, Pointer srcData, Pointer dstData) {
            dnnl_memory_desc srcDesc = Dnnl.desc(owner, dnnl_nhwc, images, inC, inR, inCols);
            dnnl_memory_desc wDesc = Dnnl.desc(owner, dnnl_format_tag_any, gateWidth, inC, spec.kernelRows(),
                    spec.kernelCols());
            dnnl_memory_desc bDesc = withBias ? Dnnl.desc(owner, dnnl_a, gateWidth) : null;
            dnnl_memory_desc dstDesc = Dnnl.desc(owner, dnnl_nhwc, images, gateWidth, outR, outCols);
            dnnl_primitive_desc pd;
            try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_convolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        dnnl_convolution_direct, srcDesc, wDesc, bDesc, dstDesc, strides, dilates, padL, padR, null),
                        "dnnl_convolution_forward_primitive_desc_create");
                pd = Dnnl.adopt(owner, out);
            }
            dnnl_memory w = weightsFor(weights, Dnnl.queryArgDesc(pd, DNNL_ARG_WEIGHTS));
            this.primitive = Dnnl.primitive(owner, pd);
            this.src = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_SRC), engine, srcData);
            this.dst = Dnnl.memory(owner, Dnnl.queryArgDesc(pd, DNNL_ARG_DST), engine, dstData);
            this.argCount = withBias ? 4 : 3;
            this.args = owner.own(new dnnl_exec_arg_t(argCount));
            args.getPointer(0).arg(DNNL_ARG_SRC).memory(src);
            args.getPointer(1).arg(DNNL_ARG_WEIGHTS).memory(w);
            args.getPointer(2).arg(DNNL_ARG_DST).memory(dst);
            if (withBias) {
                args.getPointer(3).arg(DNNL_ARG_BIAS).memory(bias.memory());
            }
        }

        void execute() {
            Dnnl.execute(primitive, stream, argCount, args);
        }
    }

    /** Everything compiled for one input shape. */
    private final class Plan implements AutoCloseable {
        final int batch;
        final int steps;
        final int rows;
        final int cols;
        final int frame;
        final int pixels;
        final NativeScope planScope;
        final Conv input;
        final Conv recurrent;
        final FloatBuffer projected;
        final FloatBuffer hNative;
        final FloatBuffer recurrentOut;
        /** Naive mode: the frames of one step, gathered contiguous. */
        final FloatBuffer stepInput;
        final float[] h;
        final float[] c;
        final float[] previous;
        final float[] hp;
        final float[] row;
        final float[] tmp;

        Plan(Shape shape, int outR, int outC, NativeScope planScope) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            this.rows = shape.rows();
            this.cols = shape.cols();
            this.planScope = planScope;
            this.pixels = outR * outC;
            this.frame = pixels * filters;
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
            BytePointer xp = Dnnl.alignedBuffer(planScope, images * pixels * gateWidth * Float.BYTES);
            BytePointer stepIn = null;
            if (inputConvPerStep) {
                stepIn = Dnnl.alignedBuffer(planScope, (long) batch * rows * cols * channels * Float.BYTES);
            }
            this.input = new Conv(planScope, images, channels, rows, cols, outR, outC, kernel, true, strides, dilates, padL,
                    padR, stepIn, xp);
            BytePointer hN = Dnnl.alignedBuffer(planScope, (long) batch * frame * Float.BYTES);
            BytePointer up = Dnnl.alignedBuffer(planScope, (long) batch * pixels * gateWidth * Float.BYTES);
            long[] rPadL = {ConvLstmSpec.padBefore(outR, outR, kr, 1, 1), ConvLstmSpec.padBefore(outC, outC, kc, 1, 1)};
            long[] rPadR = {ConvLstmSpec.padAfter(outR, outR, kr, 1, 1), ConvLstmSpec.padAfter(outC, outC, kc, 1, 1)};
            this.recurrent = new Conv(planScope, batch, filters, outR, outC, outR, outC, recurrentKernel, false,
                    new long[] {1, 1}, new long[] {0, 0}, rPadL, rPadR, hN, up);
            this.projected = Dnnl.floats(xp);
            this.stepInput = stepIn == null ? null : Dnnl.floats(stepIn);
            this.hNative = Dnnl.floats(hN);
            this.recurrentOut = Dnnl.floats(up);
            this.h = new float[batch * frame];
            this.c = new float[batch * frame];
            this.previous = new float[batch * frame];
            this.hp = new float[batch * pixels * gateWidth];
            this.row = new float[pixels * gateWidth];
            this.tmp = new float[filters];
        }

        Tensor[] run(Tensor x, Tensor[] initialStates, boolean[] valid) {
            int n = batch;
            int stateSize = n * frame;
            if (!inputConvPerStep) {
                Dnnl.check(dnnl_memory_set_data_handle(input.src, x.pointer()), "dnnl_memory_set_data_handle");
                input.execute();
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
                Tensor sequence = spec.returnSequences() ? Tensor.zeros(n, steps, outRows(), outCols(), filters) : null;
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
                        input.execute();
                    }
                    hNative.put(0, h, 0, stateSize);
                    recurrent.execute();
                    recurrentOut.get(0, hp, 0, n * pixels * gateWidth);
                    gates(t, valid);
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
                    result[0] = Tensor.of(output, n, outRows(), outCols(), filters);
                }
                result[1] = Tensor.of(h, n, outRows(), outCols(), filters);
                result[2] = Tensor.of(c, n, outRows(), outCols(), filters);
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

        private int outRows() {
            return spec.outputRows(rows);
        }

        private int outCols() {
            return spec.outputCols(cols);
        }

        /** §2.6 gate arithmetic for every valid sample at input step {@code t}: i, f, c, o blocks per pixel. */
        private void gates(int t, boolean[] valid) {
            int f = filters;
            int gw = gateWidth;
            int block = pixels * gw;
            float[] row = this.row;
            float[] hp = this.hp;
            float[] h = this.h;
            float[] c = this.c;
            float[] tmp = this.tmp;
            for (int s = 0; s < batch; s++) {
                if (valid != null && !valid[s * steps + t]) {
                    continue;
                }
                long offset = inputConvPerStep ? (long) s * block : ((long) s * steps + t) * block;
                projected.get((int) offset, row, 0, block);
                int hpBase = s * block;
                for (int j = 0; j < block; j++) {
                    row[j] += hp[hpBase + j];
                }
                for (int p = 0; p < pixels; p++) {
                    int base = p * gw;
                    ComposedActivations.apply(sigma, row, base, base + 2 * f);
                    ComposedActivations.apply(phi, row, base + 2 * f, base + 3 * f);
                    ComposedActivations.apply(sigma, row, base + 3 * f, base + 4 * f);
                    int off = s * frame + p * f;
                    for (int j = 0; j < f; j++) {
                        float cj = row[base + f + j] * c[off + j] + row[base + j] * row[base + 2 * f + j];
                        c[off + j] = cj;
                        tmp[j] = cj;
                    }
                    ComposedActivations.apply(phi, tmp, 0, f);
                    for (int j = 0; j < f; j++) {
                        h[off + j] = row[base + 3 * f + j] * tmp[j];
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
    synchronized int plansCreated() {
        return plansCreated;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        List<Plan> open = new ArrayList<>(plans.values());
        plans.clear();
        for (Plan p : open) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        packed.clear();
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
