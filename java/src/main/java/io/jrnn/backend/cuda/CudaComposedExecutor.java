package io.jrnn.backend.cuda;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.cuda.CudaKernels.Kernel;
import io.jrnn.weights.CellType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One recurrent layer on the <em>GPU composed path</em>: what cuDNN's fused RNN cannot express
 * (every elementwise Keras activation incl. both {@code hard_sigmoid}s, GRU {@code reset_after=false},
 * masks of any pattern, every masked-output rule) as cuBLAS GEMMs plus jrnn's gate kernels
 * ({@code native/kernels/jrnn_kernels.cu}):
 * <ol>
 * <li>one GEMM for the input projection of all {@code N·T} steps, {@code XP[N·T, G·H] = X[N·T, C] · W[C, G·H]};</li>
 * <li>per step one GEMM {@code HP[N, G·H] = h[N, H] · U[H, G·H]} and one gate kernel that adds the
 * biases, applies the activations, updates {@code h} (and {@code c}) in place, applies the mask
 * and the masked-output rule and writes the output; GRU {@code reset_after=false} splits the step:
 * GEMM on the {@code z, r} columns, a kernel for {@code z, r ⊙ h}, GEMM {@code (r ⊙ h) · U_h}, a
 * kernel for the candidate and the update.</li>
 * </ol>
 * Weights keep Keras's layout and gate order ({@link ComposedWeights}) and are uploaded once. Per
 * input shape {@code (N, T)} the executor keeps its device buffers, host transfers and kernel
 * argument blocks in a small LRU cache. A run moves the input, initial states and outputs by the
 * {@link HostTransfers} strategy (pinned tensors by one DMA each), uploads the mask from pinned
 * memory, queues everything on the executor's own stream and synchronises once.
 *
 * <p>Precision: {@code fp32} is cuBLAS's default math (no TF32), {@code tf32} lets the GEMMs use
 * TF32 tensor cores, {@code fp16}/{@code bf16} keep {@code X}, {@code W}, {@code U} and the GEMM's
 * copy of {@code h} in 16 bits with float32 accumulation; the gate math and the states are always
 * float32.
 */
final class CudaComposedExecutor implements RecurrentExecutor {
    /** The start of every execution path of this executor. */
    static final String PATH_PREFIX = "GPU composed path (cuBLAS GEMMs + jrnn gate kernels)";
    /** Input shapes kept prepared per executor. */
    static final int SHAPE_CACHE_CAPACITY = 4;

    private enum Kind {
        SIMPLE_RNN, LSTM, GRU, GRU_RESET_AFTER
    }

    private record Shape(int batch, int steps) {
    }

    private final RecurrentSpec spec;
    private final Precision precision;
    private final Kind kind;
    private final ComposedWeights packed;
    private final int inputSize;
    private final int hiddenSize;
    private final int stateCount;
    private final int recurrentActivation;
    private final int activation;
    private final int maskedOutput;
    private final int operandType;
    private final int operandBytes;
    /** {@code cudaDataType} of the GEMM inputs. */
    private final int gemmInputType;
    private final int computeType;
    private final String path;
    /** Everything the executor owns, closed in reverse order. */
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final GpuStream stream;
    private final cublasContext blas;
    private final CudaKernels kernels;
    private final FloatPointer one;
    private final FloatPointer zero;
    private final DeviceBuffer kernelWeights;
    private final DeviceBuffer recurrentWeights;
    private final DeviceBuffer inputBias;
    private final DeviceBuffer recurrentBias;
    private final LinkedHashMap<Shape, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private int plansCreated;
    private boolean closed;
    /** Page-locked blocks for output tensors (outlive this executor while tensors hold them). */
    private final PinnedOutputPool outputPool = new PinnedOutputPool();

    /**
     * @param device    CUDA device index
     * @param precision the GEMM precision (gate math is float32 in every case)
     * @param reason    why cuDNN's fused forward does not run this layer, shown in the execution path
     * @throws IllegalArgumentException          for a non-elementwise activation
     * @throws UnsupportedConfigurationException when CUDA is not usable or the build has no kernels
     */
    CudaComposedExecutor(int device, Precision precision, RecurrentSpec spec, String reason) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.precision = Objects.requireNonNull(precision, "precision");
        this.kind = switch (spec.cellType()) {
            case SIMPLE_RNN -> Kind.SIMPLE_RNN;
            case LSTM -> Kind.LSTM;
            case GRU -> spec.resetAfter() ? Kind.GRU_RESET_AFTER : Kind.GRU;
        };
        this.activation = activationCode(spec, spec.activation(), "activation");
        this.recurrentActivation = spec.cellType() == CellType.SIMPLE_RNN ? KernelCodes.activation(
                io.jrnn.layers.Activation.LINEAR) : activationCode(spec, spec.recurrentActivation(), "recurrent_activation");
        this.maskedOutput = KernelCodes.maskedOutput(spec.zeroOutputForMask(), spec.maskedOutput());
        this.operandType = KernelCodes.operandType(precision);
        this.operandBytes = KernelCodes.operandBytes(operandType);
        this.gemmInputType = switch (precision) {
            case FP32, TF32 -> cudart.CUDA_R_32F;
            case FP16 -> cudart.CUDA_R_16F;
            case BF16 -> cudart.CUDA_R_16BF;
        };
        this.computeType = precision == Precision.TF32 ? cublas.CUBLAS_COMPUTE_32F_FAST_TF32 : cublas.CUBLAS_COMPUTE_32F;
        this.inputSize = spec.inputSize();
        this.hiddenSize = spec.units();
        this.stateCount = spec.stateCount();
        this.path = PATH_PREFIX + ", " + precision + ": " + reason;
        CudaStatus status = Cuda.status();
        if (!status.usable()) {
            throw new UnsupportedConfigurationException(spec.describe() + " cannot run on the " + PATH_PREFIX
                    + ": CUDA is not usable: " + status.reason());
        }
        if (!CudaKernels.imageAvailable()) {
            throw new UnsupportedConfigurationException(spec.describe() + " cannot run on the " + PATH_PREFIX + ": "
                    + CudaKernels.BUILD_HINT);
        }
        this.packed = ComposedWeights.of(spec);
        try {
            this.stream = own(new GpuStream(device, spec.describe() + " (GPU composed path)"));
            this.kernels = CudaKernels.forDevice(device);
            stream.makeCurrent();
            this.blas = stream.cublas();
            CudaCheck.cublas(cublas.cublasSetMathMode(blas, precision == Precision.TF32
                    ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
            this.one = own(new FloatPointer(1f));
            this.zero = own(new FloatPointer(0f));
            String layer = spec.describe();
            this.kernelWeights = uploadOperand(packed.kernel(), layer + " kernel");
            this.recurrentWeights = uploadOperand(packed.recurrentKernel(), layer + " recurrent kernel");
            this.inputBias = uploadFloats(packed.inputBias(), layer + " bias");
            this.recurrentBias = uploadFloats(packed.recurrentBias(), layer + " recurrent bias");
            stream.sync();
        } catch (RuntimeException | Error e) {
            closeOwned(e);
            throw e;
        }
    }

    private static int activationCode(RecurrentSpec spec, io.jrnn.layers.Activation a, String which) {
        if (!a.isElementwise()) {
            throw new IllegalArgumentException(spec.describe() + ": " + which + " must be elementwise, got "
                    + a.kerasName());
        }
        return KernelCodes.activation(a);
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private void closeOwned(Throwable failure) {
        Closing.closeReversed(owned, failure);
    }

    /** Uploads float32 values (set-up data; waited for), owned by this executor. */
    private DeviceBuffer uploadFloats(float[] values, String what) {
        return own(stream.uploadFloats(values, what));
    }

    /** Uploads a GEMM operand in the operand type: float32 as is, 16-bit through the conversion kernel. */
    private DeviceBuffer uploadOperand(float[] values, String what) {
        if (operandType == KernelCodes.OPERAND_FP32) {
            return uploadFloats(values, what);
        }
        DeviceBuffer converted = own(DeviceBuffer.allocate((long) values.length * operandBytes, what + " (" + precision
                + ")"));
        try (DeviceBuffer staging = DeviceBuffer.floats(values.length, what + " (float32 staging)");
                FloatPointer host = new FloatPointer(values);
                KernelArgs args = new KernelArgs(conversionKernel(), what)) {
            stream.upload(host, staging.pointer(), (long) values.length * Float.BYTES);
            convert(args, DeviceAddress.of(staging), DeviceAddress.of(converted), values.length);
            stream.sync();
        }
        return converted;
    }

    /** The float32 → 16-bit conversion kernel of this precision. */
    private Kernel conversionKernel() {
        return operandType == KernelCodes.OPERAND_FP16 ? Kernel.F32_TO_F16 : Kernel.F32_TO_BF16;
    }

    /** Queues float32 → operand-type conversion of {@code count} elements. */
    private void convert(KernelArgs args, long src, long dst, long count) {
        args.pointer("src", src).pointer("dst", dst).i64("count", count);
        kernels.launch(args.kernel(), LaunchGeometry.strideBlocks(count), stream, args);
    }

    /** Queues the row-major GEMM {@code C = A · B} ({@link RowMajorGemm}); A, B in the operand type, C float32. */
    private void gemm(RowMajorGemm g, long a, long b, long c, String what) {
        CudaCheck.cublas(cublas.cublasGemmEx(blas, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N,
                g.cublasM(), g.cublasN(), g.cublasK(), one,
                DeviceAddress.at(b), gemmInputType, g.ldb(),
                DeviceAddress.at(a), gemmInputType, g.lda(),
                zero, DeviceAddress.at(c), cudart.CUDA_R_32F, g.ldc(),
                computeType, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx (" + what + ", " + g + ")");
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
        stream.makeCurrent();
        Plan plan = plan(shape);
        return plan.run(input, initialStates, mask == null || mask.allValid() ? null : mask.toArray());
    }

    private Shape validate(Tensor input, Tensor[] initialStates, Mask mask) {
        String who = spec.describe();
        Objects.requireNonNull(input, "input");
        int[] s = input.shape();
        if (input.isClosed()) {
            throw new IllegalStateException(who + ": input tensor " + Arrays.toString(s) + " is closed");
        }
        if (s.length != 3 || s[0] < 1 || s[1] < 1 || s[2] != inputSize) {
            throw new IllegalArgumentException(who + ": expected input [N, T, " + inputSize + "] with N, T >= 1, got "
                    + Arrays.toString(s));
        }
        if (initialStates != null) {
            if (initialStates.length != stateCount) {
                throw new IllegalArgumentException(who + " has " + stateCount + " state(s) but was passed "
                        + initialStates.length);
            }
            for (int i = 0; i < initialStates.length; i++) {
                Tensor state = Objects.requireNonNull(initialStates[i], "initial state " + i);
                int[] ss = state.shape();
                if (ss.length != 2 || ss[0] != s[0] || ss[1] != hiddenSize) {
                    throw new IllegalArgumentException(who + ": initial state " + i + " must be [" + s[0] + ", "
                            + hiddenSize + "], got " + Arrays.toString(ss));
                }
                if (state.isClosed()) {
                    throw new IllegalStateException(who + ": initial state " + i + " is closed");
                }
            }
        }
        if (mask != null && (mask.batch() != s[0] || mask.steps() != s[1])) {
            throw new IllegalArgumentException(who + ": mask must be [" + s[0] + ", " + s[1] + "], got ["
                    + mask.batch() + ", " + mask.steps() + "]");
        }
        return new Shape(s[0], s[1]);
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

    /** Device buffers, host transfers, GEMM shapes and kernel arguments for one input shape. */
    private final class Plan implements AutoCloseable {
        final int batch;
        final int steps;
        final long inputCount;
        final long stateCountElements;
        final long outputCount;
        final List<AutoCloseable> planOwned = new ArrayList<>();
        final DeviceBuffer x;
        /** 16-bit copy of {@code x}, or null in float32. */
        final DeviceBuffer xOperand;
        final DeviceBuffer projected;
        final DeviceBuffer recurrentProduct;
        final DeviceBuffer h;
        final DeviceBuffer c;
        final DeviceBuffer previous;
        /** 16-bit copy of {@code h} for the recurrent GEMM, or null in float32. */
        final DeviceBuffer hOperand;
        /** GRU reset_after=false: {@code r ⊙ h} in the operand type; else null. */
        final DeviceBuffer resetHidden;
        final DeviceBuffer sequence;
        final DeviceBuffer maskDevice;
        /** Input {@code x | h0 | c0} and output {@code y | h | c} float32 regions, by the transfer strategy. */
        final HostTransfers transfers;
        final PinnedBuffer maskIn;
        final RowMajorGemm projection;
        final RowMajorGemm recurrent;
        final RowMajorGemm candidate;
        final KernelArgs stepArgs;
        final KernelArgs candidateArgs;
        final KernelArgs convertArgs;
        final int blocks;

        Plan(Shape shape) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            int n = batch;
            int hs = hiddenSize;
            long rows = (long) n * steps;
            if (rows > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(spec.describe() + ": N*T = " + rows + " rows exceed a GEMM's "
                        + Integer.MAX_VALUE);
            }
            this.inputCount = rows * inputSize;
            this.stateCountElements = (long) n * hs;
            this.outputCount = spec.returnSequences() ? rows * hs : stateCountElements;
            this.blocks = LaunchGeometry.stepBlocks(n, hs);
            this.projection = packed.projection((int) rows);
            this.recurrent = packed.recurrent(n);
            this.candidate = kind == Kind.GRU ? packed.candidate(n) : null;
            String what = spec.describe() + " [" + n + ", " + steps + "]";
            try {
                boolean low = operandType != KernelCodes.OPERAND_FP32;
                this.x = owned(DeviceBuffer.floats(inputCount, what + " input"));
                this.xOperand = low ? owned(DeviceBuffer.allocate(inputCount * operandBytes, what + " input operand"))
                        : null;
                this.projected = owned(DeviceBuffer.floats(rows * packed.gateWidth(), what + " input projection"));
                this.recurrentProduct = owned(DeviceBuffer.floats((long) n * packed.gateWidth(),
                        what + " recurrent product"));
                this.h = owned(DeviceBuffer.floats(stateCountElements, what + " h"));
                this.c = kind == Kind.LSTM ? owned(DeviceBuffer.floats(stateCountElements, what + " c")) : null;
                this.previous = owned(DeviceBuffer.floats(stateCountElements, what + " carried output"));
                this.hOperand = low ? owned(DeviceBuffer.allocate(stateCountElements * operandBytes,
                        what + " h operand")) : null;
                this.resetHidden = kind == Kind.GRU ? owned(DeviceBuffer.allocate(stateCountElements * operandBytes,
                        what + " r*h")) : null;
                this.sequence = spec.returnSequences() ? owned(DeviceBuffer.floats(outputCount, what + " output"))
                        : null;
                this.maskDevice = owned(DeviceBuffer.allocate(rows, what + " mask"));
                this.transfers = owned(new HostTransfers(stream, what,
                        (inputCount + stateCount * stateCountElements) * Float.BYTES,
                        (outputCount + stateCount * stateCountElements) * Float.BYTES));
                this.maskIn = owned(PinnedBuffer.allocate(rows, what + " mask staging"));
                this.convertArgs = low ? owned(new KernelArgs(conversionKernel(), what)) : null;
                this.stepArgs = owned(new KernelArgs(stepKernel(), what));
                this.candidateArgs = kind == Kind.GRU ? owned(new KernelArgs(Kernel.GRU_CANDIDATE, what)) : null;
                bindArguments();
            } catch (RuntimeException | Error e) {
                closePlan(e);
                throw e;
            }
        }

        private <T extends AutoCloseable> T owned(T resource) {
            planOwned.add(resource);
            return resource;
        }

        private Kernel stepKernel() {
            return switch (kind) {
                case LSTM -> Kernel.LSTM_STEP;
                case GRU_RESET_AFTER -> Kernel.GRU_STEP;
                case GRU -> Kernel.GRU_RESET_GATES;
                case SIMPLE_RNN -> Kernel.SIMPLE_RNN_STEP;
            };
        }

        /** The arguments that stay the same for every step (the mask pointer, t and k are set per run/step). */
        private void bindArguments() {
            for (KernelArgs a : candidateArgs == null ? List.of(stepArgs) : List.of(stepArgs, candidateArgs)) {
                List<String> p = a.kernel().parameters();
                a.pointer("xp", DeviceAddress.of(projected)).pointer("hp", DeviceAddress.of(recurrentProduct))
                        .pointer("bias", DeviceAddress.of(inputBias)).pointer("h", DeviceAddress.of(h))
                        .pointer("mask", 0).i32("batch", batch).i32("units", hiddenSize).i32("steps", steps)
                        .i32("t", 0).i32("operandType", operandType);
                if (p.contains("prev")) {
                    // The kernels that finish a step: output, carried output, masked-output rule, h operand.
                    a.pointer("prev", DeviceAddress.of(previous))
                            .pointer("y", sequence == null ? 0 : DeviceAddress.of(sequence))
                            .pointer("hOperand", hOperand == null ? 0 : DeviceAddress.of(hOperand))
                            .i32("k", 0).i32("activation", activation).i32("maskedOutput", maskedOutput);
                }
                if (p.contains("recurrentActivation")) {
                    a.i32("recurrentActivation", recurrentActivation);
                }
                if (p.contains("c")) {
                    a.pointer("c", DeviceAddress.of(c));
                }
                if (p.contains("recurrentBias")) {
                    a.pointer("recurrentBias", DeviceAddress.of(recurrentBias));
                }
                if (p.contains("resetHidden")) {
                    a.pointer("resetHidden", DeviceAddress.of(resetHidden));
                }
            }
        }

        /** Sets the mask pointer of the step kernels (0: every step valid). */
        private void setMask(long maskAddress) {
            stepArgs.pointer("mask", maskAddress);
            if (candidateArgs != null) {
                candidateArgs.pointer("mask", maskAddress);
            }
        }

        /** Sets the input step {@code t} and the output step {@code k} of the step kernels. */
        private void setStep(int t, int k) {
            for (KernelArgs a : candidateArgs == null ? List.of(stepArgs) : List.of(stepArgs, candidateArgs)) {
                a.i32("t", t);
                if (a.kernel().parameters().contains("k")) {
                    a.i32("k", k);
                }
            }
        }

        Tensor[] run(Tensor input, Tensor[] initialStates, boolean[] valid) {
            int n = batch;
            int hs = hiddenSize;
            long stateBytes = stateCountElements * Float.BYTES;
            long inputBytes = inputCount * Float.BYTES;
            long outputBytes = outputCount * Float.BYTES;
            DeviceBuffer[] states = c == null ? new DeviceBuffer[] {h} : new DeviceBuffer[] {h, c};
            Tensor[] result = new Tensor[1 + states.length];
            boolean done = false;
            transfers.begin(HostTransfers.current());
            try {
                // Host → device: the input, then the initial states (or zeros).
                transfers.upload(DeviceAddress.of(input.pointer()), DeviceAddress.of(x), inputBytes, 0);
                for (int s = 0; s < states.length; s++) {
                    if (initialStates != null) {
                        transfers.upload(DeviceAddress.of(initialStates[s].pointer()), DeviceAddress.of(states[s]),
                                stateBytes, inputBytes + s * stateBytes);
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
                    // The previous call waited for everything, so the pinned mask is free to rewrite.
                    new BytePointer(maskIn.pointer()).put(bytes, 0, bytes.length);
                    stream.upload(maskIn.pointer(), maskDevice.pointer(), bytes.length);
                    maskAddress = DeviceAddress.of(maskDevice);
                }
                setMask(maskAddress);
                long xIn = DeviceAddress.of(x);
                long hIn = DeviceAddress.of(h);
                if (xOperand != null) {
                    convert(convertArgs, xIn, DeviceAddress.of(xOperand), inputCount);
                    convert(convertArgs, hIn, DeviceAddress.of(hOperand), stateCountElements);
                    xIn = DeviceAddress.of(xOperand);
                    hIn = DeviceAddress.of(hOperand);
                }
                long hp = DeviceAddress.of(recurrentProduct);
                long u = DeviceAddress.of(recurrentWeights);
                gemm(projection, xIn, DeviceAddress.of(kernelWeights), DeviceAddress.of(projected), "input projection");
                for (int k = 0; k < steps; k++) {
                    // go_backwards consumes x[T-1-k] at processing step k; the output stays at k (spec §3.1).
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    setStep(t, k);
                    gemm(recurrent, hIn, u, hp, "recurrent product");
                    kernels.launch(stepKernel(), blocks, stream, stepArgs);
                    if (kind == Kind.GRU) {
                        int col = packed.candidateColumn();
                        gemm(candidate, DeviceAddress.of(resetHidden), u + (long) col * operandBytes,
                                hp + (long) col * Float.BYTES, "candidate product");
                        kernels.launch(Kernel.GRU_CANDIDATE, blocks, stream, candidateArgs);
                    }
                }
                // Device → host (result tensors allocated while the GPU works): the output, then the final
                // states; one wait.
                // Pinned blocks take the DMA with no staging copy.
                boolean pinned = transfers.strategy() != HostTransfers.Strategy.STAGED && PinnedOutputPool.enabled();
                result[0] = spec.returnSequences()
                        ? outputPool.tensorOrPageable(pinned, n, steps, hs)
                        : outputPool.tensorOrPageable(pinned, n, hs);
                for (int s = 0; s < states.length; s++) {
                    result[1 + s] = outputPool.tensorOrPageable(pinned, n, hs);
                }
                transfers.download(DeviceAddress.of(sequence != null ? sequence : previous),
                        DeviceAddress.of(result[0].pointer()), outputBytes, 0);
                for (int s = 0; s < states.length; s++) {
                    transfers.download(DeviceAddress.of(states[s]), DeviceAddress.of(result[1 + s].pointer()),
                            stateBytes, outputBytes + s * stateBytes);
                }
                transfers.finish();
                done = true;
                return result;
            } finally {
                if (!done) {
                    transfers.drain(); // nothing may still read or write the tensors
                    Closing.closeTensors(result);
                }
            }
        }

        /** Closes everything in reverse order, going on after a failure; adds later failures to {@code failure}. */
        private void closePlan(Throwable failure) {
            Closing.closeReversed(planOwned, failure);
        }

        @Override
        public void close() {
            closePlan(null);
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

    Precision precision() {
        return precision;
    }

    /** The output pool (tests). */
    PinnedOutputPool outputPool() {
        return outputPool;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": GPU composed executor is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Plans first (their buffers were used on this executor's stream), then weights, handles and the stream.
        for (Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
        closeOwned(null);
        // Idle blocks freed; blocks held by output tensors stay valid and are freed when those close.
        outputPool.close();
    }
}
