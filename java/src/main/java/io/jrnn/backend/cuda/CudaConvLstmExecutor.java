package io.jrnn.backend.cuda;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.cuda.CudaKernels.Kernel;
import io.jrnn.layers.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@code ConvLSTM2D} (spec §2.6) on an NVIDIA GPU, channels-last ({@code NHWC}) throughout, float32:
 * <ol>
 * <li>one cuDNN convolution for the input side of all {@code N·T} frames,
 * {@code XP = conv(x, K; strides, dilation, padding)} ({@code [N·T, R', Cc', 4F]});</li>
 * <li>per step one cuDNN convolution {@code HP = conv(h, R)} (stride 1, undilated, 'same') and one
 * gate kernel ({@code jrnn_convlstm_step}) that adds the bias, applies the activations, updates
 * {@code h} and {@code c}, applies the mask and writes the output.</li>
 * </ol>
 * TensorFlow's asymmetric 'same' padding is expressed as cuDNN's symmetric padding plus a zero
 * row/column at the bottom/right of the source frames ({@link ConvLstmGeometry}). Weights are
 * transposed once to cuDNN's {@code KRSC} filter layout and uploaded once; the convolutions use
 * FMA-only math (no TF32), so results match the CPU to float32 rounding. Per input shape the
 * executor keeps its descriptors, algorithms, workspace, buffers and kernel arguments in a small
 * LRU cache. Masks follow the canonical rule (spec §3.3); the layer applies the other rules.
 */
final class CudaConvLstmExecutor implements ConvLstmExecutor {
    static final String PATH = "cuDNN ConvLSTM2D (one cuDNN convolution over N·T frames + per step a cuDNN recurrent "
            + "convolution and a jrnn gate kernel, NHWC, fp32)";
    static final int SHAPE_CACHE_CAPACITY = 4;

    private record Shape(int batch, int steps, int rows, int cols) {
    }

    private final ConvLstmSpec spec;
    private final int filters;
    private final int channels;
    private final int recurrentActivation;
    private final int activation;
    private final String path;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final GpuStream stream;
    private final cudnnContext handle;
    private final CudaKernels kernels;
    private final FloatPointer one;
    private final FloatPointer zero;
    private final DeviceBuffer kernelWeights;
    private final DeviceBuffer recurrentWeights;
    private final DeviceBuffer bias;
    private final CudnnDescriptors.Filter kernelDesc;
    private final CudnnDescriptors.Filter recurrentDesc;
    private final LinkedHashMap<Shape, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private int plansCreated;
    private boolean closed;

    /**
     * @throws IllegalArgumentException          for a non-elementwise activation
     * @throws UnsupportedConfigurationException when CUDA is not usable, the build has no kernels, or
     *         cuDNN has no convolution algorithm for this layer's options (the message says which)
     */
    CudaConvLstmExecutor(int device, ConvLstmSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.filters = spec.filters();
        this.channels = spec.inputChannels();
        this.activation = activationCode(spec.activation(), "activation");
        this.recurrentActivation = activationCode(spec.recurrentActivation(), "recurrent_activation");
        this.path = PATH;
        CudaStatus status = Cuda.status();
        if (!status.usable()) {
            throw new UnsupportedConfigurationException(spec.describe() + " cannot run on cuDNN: CUDA is not usable: "
                    + status.reason());
        }
        if (!CudaKernels.imageAvailable()) {
            throw new UnsupportedConfigurationException(spec.describe() + " cannot run on cuDNN: "
                    + CudaKernels.BUILD_HINT);
        }
        int kr = spec.kernelRows();
        int kc = spec.kernelCols();
        int g4 = 4 * filters;
        try {
            this.stream = own(new GpuStream(device, spec.describe() + " (cuDNN ConvLSTM2D)"));
            this.kernels = CudaKernels.forDevice(device);
            stream.makeCurrent();
            this.handle = stream.cudnn();
            this.one = own(new FloatPointer(1f));
            this.zero = own(new FloatPointer(0f));
            String layer = spec.describe();
            this.kernelWeights = upload(ConvLstmGeometry.hwioToKrsc(spec.kernel(), kr, kc, channels, g4),
                    layer + " kernel (KRSC)");
            this.recurrentWeights = upload(ConvLstmGeometry.hwioToKrsc(spec.recurrentKernel(), kr, kc, filters, g4),
                    layer + " recurrent kernel (KRSC)");
            this.bias = upload(spec.bias(), layer + " bias");
            this.kernelDesc = own(new CudnnDescriptors.Filter(layer + " kernel")).krsc(g4, channels, kr, kc);
            this.recurrentDesc = own(new CudnnDescriptors.Filter(layer + " recurrent kernel")).krsc(g4, filters, kr, kc);
            probe();
        } catch (RuntimeException | Error e) {
            closeOwned(e);
            throw e;
        }
    }

    private int activationCode(Activation a, String which) {
        if (!a.isElementwise()) {
            throw new IllegalArgumentException(spec.describe() + ": " + which + " must be elementwise, got "
                    + a.kerasName());
        }
        return KernelCodes.activation(a);
    }

    /**
     * Plans the smallest input (one frame of the smallest size the kernel fits) once, so that an
     * option cuDNN has no algorithm for is refused at compile time and the layer falls back.
     */
    private void probe() {
        int rows = spec.samePadding() ? 1 : (spec.kernelRows() - 1) * spec.dilationRows() + 1;
        int cols = spec.samePadding() ? 1 : (spec.kernelCols() - 1) * spec.dilationCols() + 1;
        try {
            new Plan(new Shape(1, 1, rows, cols)).close();
        } catch (CudnnRefusedException e) {
            throw new UnsupportedConfigurationException(e.getMessage());
        } catch (CudaException e) {
            if ("cuDNN".equals(e.library()) && CudnnRefusedException.notSupported(e.status())) {
                throw new UnsupportedConfigurationException(spec.describe() + ": cuDNN cannot express it: "
                        + e.getMessage());
            }
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private void closeOwned(Throwable failure) {
        Closing.closeReversed(owned, failure);
    }

    /** Uploads float32 values (set-up data; waited for), owned by this executor. */
    private DeviceBuffer upload(float[] values, String what) {
        return own(stream.uploadFloats(values, what));
    }

    @Override
    public String executionPath() {
        return path;
    }

    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": cuDNN ConvLSTM2D executor is closed");
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
                Tensor state = Objects.requireNonNull(initialStates[i], "initial state " + i);
                if (!Arrays.equals(state.shape(), want)) {
                    throw new IllegalArgumentException(spec.describe() + ": initial state " + i + " must be "
                            + Arrays.toString(want) + ", got " + Arrays.toString(state.shape()));
                }
                if (state.isClosed()) {
                    throw new IllegalStateException(spec.describe() + ": initial state " + i + " is closed");
                }
            }
        }
        if (mask != null) {
            mask.checkShape(spec.describe(), s[0], s[1]);
        }
        stream.makeCurrent();
        Plan plan = plan(new Shape(s[0], s[1], s[2], s[3]));
        return plan.run(input, initialStates, mask == null || mask.allValid() ? null : mask.toArray());
    }

    private Plan plan(Shape shape) {
        Plan plan = plans.get(shape);
        if (plan != null) {
            return plan;
        }
        if (plans.size() >= SHAPE_CACHE_CAPACITY) {
            Iterator<Map.Entry<Shape, Plan>> eldest = plans.entrySet().iterator();
            Plan evicted = eldest.next().getValue();
            eldest.remove();
            evicted.close();
        }
        plan = new Plan(shape);
        plans.put(shape, plan);
        plansCreated++;
        return plan;
    }

    /** A chosen forward algorithm and its workspace size. */
    private record Algorithm(int algo, long workspaceBytes) {
    }

    /**
     * cuDNN's heuristic order of forward algorithms for this convolution, the first one that
     * reports success and answers a workspace size under the descriptor's FMA-only math.
     *
     * @throws CudnnRefusedException when none does
     */
    private Algorithm chooseAlgorithm(CudnnDescriptors.Tensor x, CudnnDescriptors.Filter w,
            CudnnDescriptors.Convolution conv, CudnnDescriptors.Tensor y, String what) {
        int count;
        try (IntPointer max = new IntPointer(1)) {
            CudaCheck.cudnn(cudnn.cudnnGetConvolutionForwardAlgorithmMaxCount(handle, max),
                    "cudnnGetConvolutionForwardAlgorithmMaxCount");
            count = Math.max(1, max.get(0));
        }
        List<String> refused = new ArrayList<>();
        try (IntPointer returned = new IntPointer(1);
                cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(count);
                SizeTPointer bytes = new SizeTPointer(1)) {
            CudaCheck.cudnn(cudnn.cudnnGetConvolutionForwardAlgorithm_v7(handle, x.get(), w.get(), conv.get(), y.get(),
                    count, returned, perf), "cudnnGetConvolutionForwardAlgorithm_v7 (" + what + ")");
            int n = Math.min(returned.get(0), count);
            for (int i = 0; i < n; i++) {
                cudnnConvolutionFwdAlgoPerf_t p = perf.getPointer(i);
                int algo = p.algo();
                if (p.status() != cudnn.CUDNN_STATUS_SUCCESS) {
                    refused.add("algo " + algo + ": status " + p.status());
                    continue;
                }
                int st = cudnn.cudnnGetConvolutionForwardWorkspaceSize(handle, x.get(), w.get(), conv.get(), y.get(),
                        algo, bytes);
                if (st != cudnn.CUDNN_STATUS_SUCCESS) {
                    refused.add("algo " + algo + ": workspace status " + st);
                    continue;
                }
                return new Algorithm(algo, bytes.get(0));
            }
        }
        throw new CudnnRefusedException(spec.describe() + ": cuDNN has no float32 forward convolution algorithm for the "
                + what + " (kernel " + spec.kernelRows() + "x" + spec.kernelCols() + ", strides " + spec.strideRows()
                + "x" + spec.strideCols() + ", dilation " + spec.dilationRows() + "x" + spec.dilationCols() + "): "
                + refused, null);
    }

    /** Checks that cuDNN computes the output size the geometry expects. */
    private static void checkOutputDims(CudnnDescriptors.Convolution conv, CudnnDescriptors.Tensor x,
            CudnnDescriptors.Filter w, int[] expected, String what) {
        int[] n = new int[1];
        int[] c = new int[1];
        int[] h = new int[1];
        int[] wd = new int[1];
        CudaCheck.cudnn(cudnn.cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), n, c, h, wd),
                "cudnnGetConvolution2dForwardOutputDim (" + what + ")");
        int[] actual = {n[0], c[0], h[0], wd[0]};
        if (!Arrays.equals(actual, expected)) {
            throw new IllegalStateException("cuDNN's " + what + " output " + Arrays.toString(actual)
                    + " differs from Keras's " + Arrays.toString(expected));
        }
    }

    /** Descriptors, algorithms, workspace, buffers and kernel arguments for one input shape. */
    private final class Plan implements AutoCloseable {
        final ConvLstmGeometry g;
        final List<AutoCloseable> planOwned = new ArrayList<>();
        final DeviceBuffer x;
        /** {@code x} with the extra bottom/right zeros, or null when the input convolution reads {@code x}. */
        final DeviceBuffer xPadded;
        final DeviceBuffer projected;
        final DeviceBuffer recurrentProduct;
        final DeviceBuffer h;
        final DeviceBuffer c;
        final DeviceBuffer previous;
        /** {@code h} with the extra bottom/right zeros, or null when the recurrent convolution reads {@code h}. */
        final DeviceBuffer hOperand;
        final DeviceBuffer sequence;
        final DeviceBuffer maskDevice;
        final DeviceBuffer workspace;
        final PinnedBuffer stagingIn;
        final PinnedBuffer maskIn;
        final PinnedBuffer stagingOut;
        final CudnnDescriptors.Tensor inputDesc;
        final CudnnDescriptors.Tensor projectedDesc;
        final CudnnDescriptors.Tensor operandDesc;
        final CudnnDescriptors.Tensor productDesc;
        final CudnnDescriptors.Convolution inputConv;
        final CudnnDescriptors.Convolution recurrentConv;
        final Algorithm inputAlgo;
        final Algorithm recurrentAlgo;
        final KernelArgs stepArgs;
        final KernelArgs padArgs;
        final int blocks;
        final long outputCount;

        Plan(Shape shape) {
            this.g = ConvLstmGeometry.of(spec, shape.batch(), shape.steps(), shape.rows(), shape.cols());
            this.blocks = LaunchGeometry.stepBlocks(g.batch(), g.frame());
            this.outputCount = spec.returnSequences() ? (long) g.images() * g.frame() : g.stateCount();
            String what = spec.describe() + " [" + g.batch() + ", " + g.steps() + ", " + g.rows() + ", " + g.cols()
                    + "]";
            try {
                this.inputDesc = owned(new CudnnDescriptors.Tensor(what + " input")).nhwc(g.inputSourceDims());
                this.projectedDesc = owned(new CudnnDescriptors.Tensor(what + " input projection"))
                        .nhwc(g.projectionDims());
                this.operandDesc = owned(new CudnnDescriptors.Tensor(what + " h")).nhwc(g.operandDims());
                this.productDesc = owned(new CudnnDescriptors.Tensor(what + " recurrent product"))
                        .nhwc(g.recurrentProductDims());
                this.inputConv = owned(new CudnnDescriptors.Convolution(what + " input convolution"))
                        .crossCorrelation(g.padTop(), g.padLeft(), spec.strideRows(), spec.strideCols(),
                                spec.dilationRows(), spec.dilationCols());
                this.recurrentConv = owned(new CudnnDescriptors.Convolution(what + " recurrent convolution"))
                        .crossCorrelation(g.recurrentPadTop(), g.recurrentPadLeft(), 1, 1, 1, 1);
                checkOutputDims(inputConv, inputDesc, kernelDesc, g.projectionDims(), "input convolution");
                checkOutputDims(recurrentConv, operandDesc, recurrentDesc, g.recurrentProductDims(),
                        "recurrent convolution");
                this.inputAlgo = chooseAlgorithm(inputDesc, kernelDesc, inputConv, projectedDesc, "input convolution");
                this.recurrentAlgo = chooseAlgorithm(operandDesc, recurrentDesc, recurrentConv, productDesc,
                        "recurrent convolution");
                this.workspace = owned(DeviceBuffer.allocate(Math.max(inputAlgo.workspaceBytes(),
                        recurrentAlgo.workspaceBytes()), what + " convolution workspace"));
                this.x = owned(DeviceBuffer.floats(g.inputCount(), what + " input"));
                this.xPadded = g.padsInput() ? owned(DeviceBuffer.floats(g.convSourceCount(), what + " padded input"))
                        : null;
                this.projected = owned(DeviceBuffer.floats(g.projectionCount(), what + " input projection"));
                this.recurrentProduct = owned(DeviceBuffer.floats(g.recurrentProductCount(),
                        what + " recurrent product"));
                this.h = owned(DeviceBuffer.floats(g.stateCount(), what + " h"));
                this.c = owned(DeviceBuffer.floats(g.stateCount(), what + " c"));
                this.previous = owned(DeviceBuffer.floats(g.stateCount(), what + " carried output"));
                this.hOperand = g.padsRecurrent() ? owned(DeviceBuffer.floats(g.operandCount(), what + " padded h"))
                        : null;
                this.sequence = spec.returnSequences() ? owned(DeviceBuffer.floats(outputCount, what + " output"))
                        : null;
                this.maskDevice = owned(DeviceBuffer.allocate(g.images(), what + " mask"));
                this.stagingIn = owned(PinnedBuffer.floats(g.inputCount() + 2 * g.stateCount(),
                        what + " input staging"));
                this.maskIn = owned(PinnedBuffer.allocate(g.images(), what + " mask staging"));
                this.stagingOut = owned(PinnedBuffer.floats(outputCount + 2 * g.stateCount(),
                        what + " output staging"));
                this.padArgs = owned(new KernelArgs(Kernel.PAD_FRAMES_F32, what));
                this.stepArgs = owned(new KernelArgs(Kernel.CONVLSTM_STEP, what));
                stepArgs.pointer("xp", DeviceAddress.of(projected))
                        .pointer("hp", DeviceAddress.of(recurrentProduct))
                        .pointer("bias", DeviceAddress.of(bias))
                        .pointer("h", DeviceAddress.of(h))
                        .pointer("c", DeviceAddress.of(c))
                        .pointer("prev", DeviceAddress.of(previous))
                        .pointer("y", sequence == null ? 0 : DeviceAddress.of(sequence))
                        .pointer("hOperand", hOperand == null ? 0 : DeviceAddress.of(hOperand))
                        .pointer("mask", 0)
                        .i32("batch", g.batch()).i32("rows", g.outRows()).i32("cols", g.outCols())
                        .i32("filters", filters).i32("steps", g.steps()).i32("t", 0).i32("k", 0)
                        .i32("operandRows", g.operandRows()).i32("operandCols", g.operandCols())
                        .i32("recurrentActivation", recurrentActivation).i32("activation", activation)
                        .i32("maskedOutput", KernelCodes.MASKED_CARRY);
            } catch (RuntimeException | Error e) {
                Closing.closeReversed(planOwned, e);
                throw e;
            }
        }

        private <T extends AutoCloseable> T owned(T resource) {
            planOwned.add(resource);
            return resource;
        }

        /** Queues {@code dst = src} framed into the top-left of larger zero-padded frames. */
        private void pad(long src, long dst, int images, int rows, int cols, int ch, int dstRows, int dstCols) {
            padArgs.pointer("src", src).pointer("dst", dst).i32("images", images).i32("rows", rows).i32("cols", cols)
                    .i32("channels", ch).i32("dstRows", dstRows).i32("dstCols", dstCols);
            long count = (long) images * dstRows * dstCols * ch;
            kernels.launch(Kernel.PAD_FRAMES_F32, LaunchGeometry.strideBlocks(count), stream, padArgs);
        }

        /** Queues {@code y = conv(x, w)} (alpha 1, beta 0). */
        private void convolve(CudnnDescriptors.Tensor xDesc, long xAddr, CudnnDescriptors.Filter wDesc, long wAddr,
                CudnnDescriptors.Convolution conv, Algorithm algo, CudnnDescriptors.Tensor yDesc, long yAddr,
                String what) {
            CudaCheck.cudnn(cudnn.cudnnConvolutionForward(handle, one, xDesc.get(), DeviceAddress.at(xAddr),
                    wDesc.get(), DeviceAddress.at(wAddr), conv.get(), algo.algo(),
                    DeviceAddress.at(DeviceAddress.of(workspace)), algo.workspaceBytes(), zero, yDesc.get(),
                    DeviceAddress.at(yAddr)), "cudnnConvolutionForward (" + what + ", algo " + algo.algo() + ")");
        }

        Tensor[] run(Tensor input, Tensor[] initialStates, boolean[] valid) {
            long stateBytes = g.stateCount() * Float.BYTES;
            long inputBytes = g.inputCount() * Float.BYTES;
            long in = DeviceAddress.of(stagingIn.pointer());
            // Host → pinned → device: the input, then the initial states (or zeros).
            Pointer.memcpy(DeviceAddress.at(in), DeviceAddress.at(DeviceAddress.of(input.pointer())), inputBytes);
            stream.upload(DeviceAddress.at(in), x.pointer(), inputBytes);
            DeviceBuffer[] states = {h, c};
            for (int s = 0; s < 2; s++) {
                if (initialStates != null) {
                    long at = in + inputBytes + s * stateBytes;
                    Pointer.memcpy(DeviceAddress.at(at), DeviceAddress.at(DeviceAddress.of(initialStates[s].pointer())),
                            stateBytes);
                    stream.upload(DeviceAddress.at(at), states[s].pointer(), stateBytes);
                } else {
                    stream.zero(states[s].pointer(), stateBytes);
                }
            }
            stream.zero(previous.pointer(), stateBytes);
            long maskAddress = 0;
            if (valid != null) {
                byte[] bytes = new byte[valid.length];
                for (int i = 0; i < valid.length; i++) {
                    bytes[i] = valid[i] ? (byte) 1 : (byte) 0;
                }
                new BytePointer(maskIn.pointer()).put(bytes, 0, bytes.length);
                stream.upload(maskIn.pointer(), maskDevice.pointer(), bytes.length);
                maskAddress = DeviceAddress.of(maskDevice);
            }
            stepArgs.pointer("mask", maskAddress);
            long source = DeviceAddress.of(x);
            if (xPadded != null) {
                pad(source, DeviceAddress.of(xPadded), g.images(), g.rows(), g.cols(), channels, g.convSourceRows(),
                        g.convSourceCols());
                source = DeviceAddress.of(xPadded);
            }
            long operand = DeviceAddress.of(h);
            if (hOperand != null) {
                pad(operand, DeviceAddress.of(hOperand), g.batch(), g.outRows(), g.outCols(), filters, g.operandRows(),
                        g.operandCols());
                operand = DeviceAddress.of(hOperand);
            }
            convolve(inputDesc, source, kernelDesc, DeviceAddress.of(kernelWeights), inputConv, inputAlgo,
                    projectedDesc, DeviceAddress.of(projected), "input convolution");
            long product = DeviceAddress.of(recurrentProduct);
            long u = DeviceAddress.of(recurrentWeights);
            for (int k = 0; k < g.steps(); k++) {
                // go_backwards consumes x[T-1-k] at processing step k; the output stays at k (spec §3.1).
                int t = spec.goBackwards() ? g.steps() - 1 - k : k;
                stepArgs.i32("t", t).i32("k", k);
                convolve(operandDesc, operand, recurrentDesc, u, recurrentConv, recurrentAlgo, productDesc, product,
                        "recurrent convolution");
                kernels.launch(Kernel.CONVLSTM_STEP, blocks, stream, stepArgs);
            }
            // Device → pinned: the output, then the final states; one synchronisation.
            long out = DeviceAddress.of(stagingOut.pointer());
            long outputBytes = outputCount * Float.BYTES;
            stream.download((sequence != null ? sequence : previous).pointer(), DeviceAddress.at(out), outputBytes);
            for (int s = 0; s < 2; s++) {
                stream.download(states[s].pointer(), DeviceAddress.at(out + outputBytes + s * stateBytes), stateBytes);
            }
            stream.sync();
            int n = g.batch();
            int r = g.outRows();
            int cc = g.outCols();
            Tensor[] result = new Tensor[3];
            boolean done = false;
            try {
                result[0] = spec.returnSequences() ? Tensor.uninitialized(n, g.steps(), r, cc, filters)
                        : Tensor.uninitialized(n, r, cc, filters);
                Pointer.memcpy(DeviceAddress.at(DeviceAddress.of(result[0].pointer())), DeviceAddress.at(out),
                        outputBytes);
                for (int s = 0; s < 2; s++) {
                    result[1 + s] = Tensor.uninitialized(n, r, cc, filters);
                    Pointer.memcpy(DeviceAddress.at(DeviceAddress.of(result[1 + s].pointer())),
                            DeviceAddress.at(out + outputBytes + s * stateBytes), stateBytes);
                }
                done = true;
                return result;
            } finally {
                if (!done) {
                    Closing.closeTensors(result);
                }
            }
        }

        @Override
        public void close() {
            Closing.closeReversed(planOwned, null);
        }
    }

    /** Shapes currently prepared (tests). */
    synchronized int cachedShapeCount() {
        return plans.size();
    }

    /** Shape plans created so far (tests). */
    synchronized int plansCreated() {
        return plansCreated;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Plans first (their buffers were used on this executor's stream), then weights, descriptors and the stream.
        List<AutoCloseable> all = new ArrayList<>(plans.values());
        plans.clear();
        try {
            Closing.closeReversed(all, null);
        } finally {
            closeOwned(null);
        }
    }
}
