package io.jrnn.backend.cuda;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.RightPaddedOutputs;
import io.jrnn.backend.cuda.CudaKernels.Kernel;
import io.jrnn.weights.CellType;
import io.jrnn.weights.CudnnRnnWeights;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * One recurrent layer on cuDNN's fused RNN forward ({@code cudnnRNNForward}, inference mode).
 *
 * <p>Built once: the RNN descriptor ({@code cudnnSetRNNDescriptor_v8}: double bias, linear input,
 * unidirectional, padded IO, data type and math from {@link CudnnPlan.Numerics}) and the weight
 * space, packed once by the shared converter ({@link CudnnRnnWeights}, {@link CudnnRnnLayout}) at
 * the addresses {@code cudnnGetRNNWeightParams} reports (they are compared with the documented
 * layout; a difference is logged once and packing follows cuDNN). Per input shape {@code (N, T)},
 * in a small LRU cache: RNN data descriptors ({@code BATCH_MAJOR_UNPACKED}, so Keras's
 * {@code [N, T, C]} needs no transpose), the {@code [1, N, H]} state descriptor, the workspace, the
 * device buffers and the pinned staging buffers. A call stages the input (time reversed for
 * go_backwards, converted for 16-bit data), copies it up with one asynchronous copy, runs the
 * forward, copies the states (and the sequence when it is returned) down, and synchronises once.
 *
 * <p>Masks: a right-padded mask of a forward layer runs on per-sample sequence lengths, and the
 * padded outputs are filled on the host (spec §3.3, {@link RightPaddedOutputs}); other masks run on
 * the GPU composed path. Everything native is owned here and freed by {@link #close()}.
 */
final class CudnnRecurrentExecutor implements RecurrentExecutor {
    /** Input shapes kept compiled per executor. */
    static final int SHAPE_CACHE_CAPACITY = 8;
    /** Alignment of the regions inside one device or pinned buffer. */
    private static final long ALIGN = 256;
    private static final System.Logger LOG = System.getLogger("io.jrnn.backend.cuda");
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    private final CudaBackend backend;
    private final RecurrentSpec spec;
    private final CudnnPlan.Mode mode;
    private final CudnnPlan.Numerics numerics;
    private final CudnnPlan.AlgoChoice algoChoice;
    private final int inputSize;
    private final int hiddenSize;
    private final boolean lstm;
    private final CudnnRnnWeights weights;
    /** Resources the executor itself owns, closed in reverse order. */
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final GpuStream stream;
    /** A zero of any data type, for {@code paddingFill}. */
    private final DoublePointer zeroFill;
    private final Config standard;
    /** Persistent static, when asked for and accepted; {@code null} otherwise. */
    private Config persist;
    /** Why persistent static is not used although asked for; {@code null} when it is or was not asked for. */
    private String persistRefusal;
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
    /** Runs the masks cuDNN cannot express; created on first use. */
    private RecurrentExecutor maskExecutor;
    /** Runs everything once cuDNN refused the configuration at run time. */
    private RecurrentExecutor fallback;
    private String executionPath;
    private boolean closed;
    /** Page-locked blocks for the lean path's output tensors (outlive this executor while tensors hold them). */
    private final PinnedOutputPool outputPool = new PinnedOutputPool();
    private boolean kernelsTried;
    private CudaKernels kernels;
    private KernelArgs toTypedArgs;
    private KernelArgs fromTypedArgs;
    private KernelArgs reverseArgs;

    private record Shape(int batch, int steps) {
    }

    /**
     * Builds the descriptor and packs the weights.
     *
     * @throws CudnnRefusedException when cuDNN answers NOT_SUPPORTED for this configuration or
     *         reports a weight layout jrnn cannot pack (the caller runs the composed path)
     */
    CudnnRecurrentExecutor(CudaBackend backend, RecurrentSpec spec, CudnnPlan plan, CudnnPlan.AlgoChoice algoChoice) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.spec = Objects.requireNonNull(spec, "spec");
        if (!plan.fused()) {
            throw new IllegalArgumentException(spec.describe() + ": cuDNN cannot run it fused: " + plan.reason());
        }
        this.mode = plan.mode();
        this.numerics = plan.numerics();
        this.algoChoice = Objects.requireNonNull(algoChoice, "algoChoice");
        this.inputSize = spec.inputSize();
        this.hiddenSize = spec.units();
        this.lstm = spec.cellType() == CellType.LSTM;
        this.weights = CudnnRnnWeights.fromKeras(spec.weights());
        try {
            this.stream = own(new GpuStream(backend.device().index(), spec.describe()));
            this.zeroFill = own(new DoublePointer(1).put(0.0));
            this.standard = own(buildConfig(CudnnPlan.Algo.STANDARD, null));
            if (algoChoice != CudnnPlan.AlgoChoice.STANDARD) {
                try {
                    this.persist = own(buildConfig(CudnnPlan.Algo.PERSIST_STATIC, standard));
                } catch (CudnnRefusedException | CudaException e) {
                    refusePersist("cudnnSetRNNDescriptor_v8 or the weight layout: " + e.getMessage());
                }
            }
            this.executionPath = describe(algoChoice == CudnnPlan.AlgoChoice.PERSIST_STATIC && persist != null
                    ? persist : standard, null);
        } catch (RuntimeException | Error e) {
            closeOwned(e);
            throw e;
        }
    }

    /** jrnn's kernels for the lean path's conversions and reversal; null when this build has none or they fail to load. */
    private CudaKernels leanKernels() {
        if (!kernelsTried) {
            kernelsTried = true;
            if (!CudaKernels.imageAvailable()) {
                logOnce(spec.describe() + ": " + CudaKernels.BUILD_HINT + "; 16-bit data is converted and go_backwards"
                        + " reversed on the host");
            } else {
                try {
                    CudaKernels k = CudaKernels.forDevice(backend.device().index());
                    Kernel to = numerics.bfloat16() ? Kernel.F32_TO_BF16 : Kernel.F32_TO_F16;
                    Kernel from = numerics.bfloat16() ? Kernel.BF16_TO_F32 : Kernel.F16_TO_F32;
                    toTypedArgs = own(new KernelArgs(to, spec.describe() + " input conversion"));
                    fromTypedArgs = own(new KernelArgs(from, spec.describe() + " output conversion"));
                    reverseArgs = own(new KernelArgs(Kernel.REVERSE_TIME_F32, spec.describe() + " time reversal"));
                    kernels = k;
                } catch (RuntimeException e) {
                    logOnce(spec.describe() + ": jrnn's CUDA kernels did not load (" + e.getMessage() + "); 16-bit data"
                            + " is converted and go_backwards reversed on the host");
                }
            }
        }
        return kernels;
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    private void closeOwned(Throwable failure) {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (failure != null) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    private void refusePersist(String why) {
        persistRefusal = "CUDNN_RNN_ALGO_PERSIST_STATIC refused (" + why + "), standard algorithm used";
        logOnce(spec.describe() + ": " + persistRefusal);
    }

    private static void logOnce(String message) {
        if (LOGGED.add(message)) {
            LOG.log(System.Logger.Level.INFO, "jrnn: " + message);
        }
    }

    // ---------------------------------------------------------------- descriptor and weight space

    /** An RNN descriptor for one algorithm and the weight space packed for it. */
    private final class Config implements AutoCloseable {
        final CudnnPlan.Algo algo;
        final CudnnDescriptors.Rnn rnn;
        final CudnnRnnLayout layout;
        final long weightBytes;
        final DeviceBuffer weightSpace;
        /** Whether {@link #weightSpace} belongs to this config (else it is shared with the standard one). */
        final boolean ownsWeights;
        /** Empty, or how cuDNN's reported layout differs from the documented one. */
        final String layoutNote;

        Config(CudnnPlan.Algo algo, CudnnDescriptors.Rnn rnn, CudnnRnnLayout layout, long weightBytes,
                DeviceBuffer weightSpace, boolean ownsWeights, String layoutNote) {
            this.algo = algo;
            this.rnn = rnn;
            this.layout = layout;
            this.weightBytes = weightBytes;
            this.weightSpace = weightSpace;
            this.ownsWeights = ownsWeights;
            this.layoutNote = layoutNote;
        }

        @Override
        public void close() {
            try {
                if (ownsWeights) {
                    weightSpace.close();
                }
            } finally {
                rnn.close();
            }
        }
    }

    private Config buildConfig(CudnnPlan.Algo algo, Config shareWith) {
        String what = spec.describe() + " (" + algo.label + ")";
        CudnnDescriptors.Rnn rnn = new CudnnDescriptors.Rnn(what);
        DeviceBuffer space = null;
        try {
            cudnnRefusable(cudnn.cudnnSetRNNDescriptor_v8(rnn.get(), algo.cudnnValue, mode.cudnnValue,
                    cudnn.CUDNN_RNN_DOUBLE_BIAS, cudnn.CUDNN_UNIDIRECTIONAL, cudnn.CUDNN_LINEAR_INPUT,
                    numerics.dataType(), numerics.mathPrecision(), numerics.mathType(), inputSize, hiddenSize,
                    hiddenSize, 1, null, cudnn.CUDNN_RNN_PADDED_IO_ENABLED),
                    "cudnnSetRNNDescriptor_v8(" + algo.label + ", " + mode.label + ", " + numerics.label() + ", C="
                            + inputSize + ", H=" + hiddenSize + ")");
            long bytes;
            try (SizeTPointer size = new SizeTPointer(1)) {
                cudnnRefusable(cudnn.cudnnGetRNNWeightSpaceSize(stream.cudnn(), rnn.get(), size),
                        "cudnnGetRNNWeightSpaceSize");
                bytes = size.get();
            }
            if (shareWith != null && shareWith.weightBytes == bytes) {
                CudnnRnnLayout layout = queryLayout(rnn, shareWith.weightSpace, bytes);
                if (layout.equals(shareWith.layout)) {
                    return new Config(algo, rnn, layout, bytes, shareWith.weightSpace, false, shareWith.layoutNote);
                }
            }
            space = DeviceBuffer.allocate(bytes, what + " weight space");
            CudnnRnnLayout layout = queryLayout(rnn, space, bytes);
            CudnnRnnLayout documented = CudnnRnnLayout.canonical(mode.cellType(), inputSize, hiddenSize, 1, 1,
                    numerics.elementBytes());
            String note = documented.differences(layout);
            if (!note.isEmpty()) {
                logOnce(what + ": cuDNN's weight layout differs from the documented one (documented vs reported: "
                        + note + "); packing at cuDNN's addresses");
            }
            uploadWeights(layout.pack(List.of(weights)), space, bytes);
            return new Config(algo, rnn, layout, bytes, space, true, note);
        } catch (RuntimeException | Error e) {
            if (space != null) {
                space.close();
            }
            rnn.close();
            throw e;
        }
    }

    /** {@link CudaCheck#cudnn}, except that NOT_SUPPORTED becomes a {@link CudnnRefusedException}. */
    private void cudnnRefusable(int status, String function) {
        if (CudnnRefusedException.notSupported(status)) {
            try {
                CudaCheck.cudnn(status, function);
            } catch (CudaException e) {
                throw new CudnnRefusedException("cuDNN refused " + mode.label + " with " + numerics.label() + ": "
                        + e.getMessage(), e);
            }
        }
        CudaCheck.cudnn(status, function);
    }

    /**
     * Asks {@code cudnnGetRNNWeightParams} where every matrix and bias of pseudo-layer 0 lives and
     * checks the shapes and data type it reports against what the converter packs.
     */
    private CudnnRnnLayout queryLayout(CudnnDescriptors.Rnn rnn, DeviceBuffer space, long bytes) {
        int ids = mode.linLayerCount();
        long[][] matrixOffsets = new long[1][ids];
        long[][] biasOffsets = new long[1][ids];
        int elementBytes = numerics.elementBytes();
        long base = space.pointer().address();
        List<String> problems = new ArrayList<>();
        try (CudnnDescriptors.Tensor matrixDesc = new CudnnDescriptors.Tensor("a weight matrix");
                CudnnDescriptors.Tensor biasDesc = new CudnnDescriptors.Tensor("a bias");
                PointerPointer<Pointer> matrixAddress = new PointerPointer<>(1);
                PointerPointer<Pointer> biasAddress = new PointerPointer<>(1)) {
            for (int id = 0; id < ids; id++) {
                CudaCheck.cudnn(cudnn.cudnnGetRNNWeightParams(stream.cudnn(), rnn.get(), 0, bytes, space.pointer(), id,
                        matrixDesc.get(), matrixAddress, biasDesc.get(), biasAddress),
                        "cudnnGetRNNWeightParams(pseudoLayer 0, linLayerID " + id + ")");
                int[] shape = CudnnRnnWeights.matrixShape(mode.cellType(), inputSize, hiddenSize, id);
                matrixOffsets[0][id] = elementOffset(matrixAddress.get(0), base, bytes, elementBytes,
                        "matrix of linLayerID " + id, problems);
                biasOffsets[0][id] = elementOffset(biasAddress.get(0), base, bytes, elementBytes,
                        "bias of linLayerID " + id, problems);
                checkShape(matrixDesc, shape[0], shape[1], "matrix of linLayerID " + id, problems);
                checkShape(biasDesc, 1, hiddenSize, "bias of linLayerID " + id, problems);
            }
        }
        if (!problems.isEmpty()) {
            String message = spec.describe() + ": cuDNN's weight space is not what jrnn packs: "
                    + String.join("; ", problems);
            logOnce(message);
            throw new CudnnRefusedException(message, null);
        }
        return CudnnRnnLayout.reported(mode.cellType(), inputSize, hiddenSize, 1, 1, elementBytes, matrixOffsets,
                biasOffsets, bytes / elementBytes);
    }

    private static long elementOffset(Pointer address, long base, long bytes, int elementBytes, String what,
            List<String> problems) {
        long offset = (address == null ? 0 : address.address()) - base;
        if (address == null || address.isNull() || offset < 0 || offset >= bytes || offset % elementBytes != 0) {
            problems.add(what + " at byte offset " + offset + " of a " + bytes + "-byte space");
            return 0;
        }
        return offset / elementBytes;
    }

    /**
     * Checks that a reported descriptor holds a row-major {@code rows × columns} block of our data
     * type. cuDNN pads matrices and biases to 3-d descriptors with unit dimensions (e.g.
     * {@code [1, H, C]}), so only the dimensions other than 1 are compared, in order, with their strides.
     */
    private void checkShape(CudnnDescriptors.Tensor desc, int rows, int columns, String what, List<String> problems) {
        int[] dataType = new int[1];
        int[] rank = new int[1];
        int[] dims = new int[8];
        int[] strides = new int[8];
        CudaCheck.cudnn(cudnn.cudnnGetTensorNdDescriptor(desc.get(), 8, dataType, rank, dims, strides),
                "cudnnGetTensorNdDescriptor(" + what + ")");
        int n = Math.min(Math.max(rank[0], 0), 8);
        if (dataType[0] != numerics.dataType() || !rowMajorBlock(Arrays.copyOf(dims, n), Arrays.copyOf(strides, n),
                rows, columns)) {
            problems.add(what + " is data type " + dataType[0] + ", dims " + Arrays.toString(Arrays.copyOf(dims, n))
                    + ", strides " + Arrays.toString(Arrays.copyOf(strides, n)) + " (expected data type "
                    + numerics.dataType() + ", [" + rows + ", " + columns + "] row-major)");
        }
    }

    /**
     * Whether {@code dims}/{@code strides} describe a dense row-major {@code rows × columns} block,
     * ignoring unit dimensions.
     */
    static boolean rowMajorBlock(int[] dims, int[] strides, int rows, int columns) {
        List<int[]> kept = new ArrayList<>();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != 1) {
                kept.add(new int[] {dims[i], strides[i]});
            }
        }
        List<Integer> expected = new ArrayList<>();
        if (rows != 1) {
            expected.add(rows);
        }
        if (columns != 1) {
            expected.add(columns);
        }
        if (kept.size() != expected.size()) {
            return false;
        }
        for (int i = 0; i < kept.size(); i++) {
            if (kept.get(i)[0] != expected.get(i)) {
                return false;
            }
        }
        // The last kept dimension is contiguous; a row dimension before it steps over whole rows.
        return kept.isEmpty() || (kept.get(kept.size() - 1)[1] == 1
                && (kept.size() == 1 || kept.get(0)[1] == columns));
    }

    /** Host → pinned (converted for 16-bit data) → device, once; waits for the copy. */
    private void uploadWeights(float[] packed, DeviceBuffer space, long bytes) {
        try (PinnedBuffer staging = PinnedBuffer.allocate(bytes, spec.describe() + " weight staging")) {
            HostView view = new HostView(staging, numerics);
            view.put(0, FloatBuffer.wrap(packed), 0, packed.length);
            stream.upload(staging.pointer(), space.pointer(), bytes);
            stream.sync();
        }
    }

    // ---------------------------------------------------------------- running

    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates) {
        ensureOpen();
        if (fallback != null) {
            return fallback.run(input, initialStates);
        }
        Shape shape = validate(input, initialStates);
        return runFused(shape, input, initialStates, null);
    }

    /**
     * Runs under a mask (spec §3.3): all-valid masks as without one; right-padded masks of a
     * forward layer on per-sample sequence lengths; every other mask on the composed path.
     */
    @Override
    public synchronized Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (mask == null || mask.allValid()) {
            return run(input, initialStates);
        }
        ensureOpen();
        if (fallback != null) {
            return fallback.run(input, initialStates, mask);
        }
        Shape shape = validate(input, initialStates);
        mask.checkShape(spec.describe(), shape.batch(), shape.steps());
        CudnnPlan.SequenceLengths lengths = CudnnPlan.sequenceLengths(mask, spec.goBackwards());
        if (!lengths.nativeLengths()) {
            if (maskExecutor == null) {
                maskExecutor = CudaExecutors.composed(backend, spec, lengths.composedReason());
            }
            executionPath = maskExecutor.executionPath();
            return maskExecutor.run(input, initialStates, mask);
        }
        return runFused(shape, input, initialStates, lengths);
    }

    private Tensor[] runFused(Shape shape, Tensor input, Tensor[] initialStates, CudnnPlan.SequenceLengths lengths) {
        try {
            ShapePlan plan = plans.get(shape);
            if (plan == null) {
                plan = new ShapePlan(shape);
                plans.put(shape, plan);
                plansCreated++;
            }
            return plan.run(input, initialStates, lengths);
        } catch (CudnnRefusedException e) {
            // cuDNN compiled the descriptor but will not run it (e.g. bf16 on this GPU): the composed path runs from now on.
            logOnce(spec.describe() + ": " + e.getMessage() + "; the layer runs on the GPU composed path");
            fallback = CudaExecutors.composed(backend, spec, e.getMessage());
            executionPath = fallback.executionPath();
            return lengths == null ? fallback.run(input, initialStates)
                    : fallback.run(input, initialStates, Mask.fromLengths(lengths.lengths(), shape.steps()));
        }
    }

    private String describe(Config config, CudnnPlan.SequenceLengths lengths) {
        return "cuDNN " + mode.label + " fused forward (" + config.algo.label + ", " + numerics.label()
                + (config.layoutNote.isEmpty() ? "" : ", weights packed at cuDNN-reported offsets")
                + (persistRefusal != null && config.algo == CudnnPlan.Algo.STANDARD ? "; " + persistRefusal : "")
                + ")" + (lengths != null ? ", right-padded mask on per-sample sequence lengths" : "");
    }

    /** The config to run a batch with: the asked-for algorithm when it is available, else standard. */
    private Config configFor(int batch, boolean masked) {
        if (persist == null || masked) {
            return standard; // per-sample lengths: the standard algorithm supports them everywhere
        }
        return algoChoice.forBatch(batch) == CudnnPlan.Algo.PERSIST_STATIC ? persist : standard;
    }

    /** Everything for one input shape {@code (N, T)}. */
    private final class ShapePlan implements AutoCloseable {
        final int batch;
        final int steps;
        final Deque<AutoCloseable> planOwned = new ArrayDeque<>();
        final CudnnDescriptors.RnnData xDesc;
        final CudnnDescriptors.RnnData yDesc;
        final CudnnDescriptors.Tensor hDesc;
        /** Byte offsets in {@link #deviceIn} / {@link #pinnedIn}: x, hx, cx, sequence lengths. */
        final long xAt;
        final long hxAt;
        final long cxAt;
        final long lengthsAt;
        final long inBytes;
        /** Byte offsets in {@link #deviceOut} / {@link #pinnedOut}: hy, cy, y; the states come first. */
        final long hyAt;
        final long cyAt;
        final long yAt;
        /** Bytes of hy and cy (all that comes back without return_sequences). */
        final long statesBytes;
        /** Bytes of the device output buffer: cuDNN always writes the whole sequence y. */
        final long outBytes;
        /** Bytes copied back: the states, plus y with return_sequences. */
        final long downloadBytes;
        final DeviceBuffer deviceIn;
        final DeviceBuffer deviceOut;
        final PinnedBuffer pinnedIn;
        final PinnedBuffer pinnedOut;
        final HostView hostIn;
        final HostView hostOut;
        DeviceBuffer workspace;
        long workspaceBytes;
        /** The lean path (device conversion and time reversal, strategy transfers); null on the host path. */
        final Lean lean;
        /** The sequence lengths the data descriptors hold. */
        int[] describedLengths;
        /** The algorithm unmasked calls use. */
        Config config;

        ShapePlan(Shape shape) {
            this.batch = shape.batch();
            this.steps = shape.steps();
            String what = spec.describe() + " [N=" + batch + ", T=" + steps + "]";
            try {
                long e = numerics.elementBytes();
                long stateBytes = (long) batch * hiddenSize * e;
                xAt = 0;
                hxAt = align(xAt + (long) batch * steps * inputSize * e);
                cxAt = align(hxAt + stateBytes);
                lengthsAt = align(cxAt + (lstm ? stateBytes : 0));
                inBytes = lengthsAt + 4L * batch;
                hyAt = 0;
                cyAt = align(hyAt + stateBytes);
                yAt = align(cyAt + (lstm ? stateBytes : 0));
                statesBytes = yAt;
                outBytes = yAt + (long) batch * steps * hiddenSize * e;
                downloadBytes = spec.returnSequences() ? outBytes : statesBytes;
                xDesc = planOwn(new CudnnDescriptors.RnnData(what + " input"));
                yDesc = planOwn(new CudnnDescriptors.RnnData(what + " output"));
                hDesc = planOwn(new CudnnDescriptors.Tensor(what + " states"))
                        .packed3d(numerics.dataType(), 1, batch, hiddenSize);
                if (leanKernels() != null || !(numerics.sixteenBit() || spec.goBackwards())) {
                    lean = planOwn(new Lean(what));
                    deviceIn = null;
                    deviceOut = null;
                    pinnedIn = null;
                    pinnedOut = null;
                    hostIn = null;
                    hostOut = null;
                } else {
                    // No kernels in this build: staged through pinned buffers, converted and reversed on the host.
                    lean = null;
                    deviceIn = planOwn(DeviceBuffer.allocate(inBytes, what + " input, initial states, lengths"));
                    deviceOut = planOwn(DeviceBuffer.allocate(outBytes, what + " final states, output"));
                    pinnedIn = planOwn(PinnedBuffer.allocate(inBytes, what + " input staging"));
                    pinnedOut = planOwn(PinnedBuffer.allocate(downloadBytes, what + " output staging"));
                    hostIn = new HostView(pinnedIn, numerics);
                    hostOut = new HostView(pinnedOut, numerics);
                }
                int[] full = new int[batch];
                Arrays.fill(full, steps);
                setLengths(full);
                config = configFor(batch, false);
                if (config != standard) {
                    long persistBytes = tempSpace(config, true);
                    if (persistBytes < 0) {
                        config = standard;
                    }
                }
                ensureWorkspace(tempSpace(standard, false));
                if (config != standard) {
                    ensureWorkspace(tempSpace(config, false));
                }
            } catch (RuntimeException | Error e) {
                close(e);
                throw e;
            }
        }

        private <T extends AutoCloseable> T planOwn(T resource) {
            planOwned.push(resource);
            return resource;
        }

        /** Sets both data descriptors to these per-sample lengths. */
        private void setLengths(int[] lengths) {
            cudnnRefusable(cudnn.cudnnSetRNNDataDescriptor(xDesc.get(), numerics.dataType(),
                    cudnn.CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, steps, batch, inputSize, lengths, zeroFill),
                    "cudnnSetRNNDataDescriptor(input [N=" + batch + ", T=" + steps + ", C=" + inputSize + "])");
            cudnnRefusable(cudnn.cudnnSetRNNDataDescriptor(yDesc.get(), numerics.dataType(),
                    cudnn.CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, steps, batch, hiddenSize, lengths, zeroFill),
                    "cudnnSetRNNDataDescriptor(output [N=" + batch + ", T=" + steps + ", H=" + hiddenSize + "])");
            describedLengths = lengths.clone();
        }

        /**
         * The inference workspace bytes for {@code c} with the current descriptors, or −1 when
         * {@code mayRefuse} and cuDNN refuses (persistent static on this shape).
         */
        private long tempSpace(Config c, boolean mayRefuse) {
            try (SizeTPointer work = new SizeTPointer(1); SizeTPointer reserve = new SizeTPointer(1)) {
                int status = cudnn.cudnnGetRNNTempSpaceSizes(stream.cudnn(), c.rnn.get(),
                        cudnn.CUDNN_FWD_MODE_INFERENCE, xDesc.get(), work, reserve);
                if (status != cudnn.CUDNN_STATUS_SUCCESS && mayRefuse) {
                    logOnce(spec.describe() + ": cudnnGetRNNTempSpaceSizes refused " + c.algo.label + " for N=" + batch
                            + ", T=" + steps + " (status " + status + "); this shape runs the standard algorithm");
                    return -1;
                }
                cudnnRefusable(status, "cudnnGetRNNTempSpaceSizes(" + c.algo.label + ", N=" + batch + ", T=" + steps
                        + ")");
                return work.get();
            }
        }

        /** Grows the workspace to at least {@code bytes} (nothing is in flight between calls). */
        private void ensureWorkspace(long bytes) {
            if (workspace == null || workspaceBytes < bytes) {
                DeviceBuffer grown = DeviceBuffer.allocate(bytes, spec.describe() + " [N=" + batch + ", T=" + steps
                        + "] cuDNN workspace");
                if (workspace != null) {
                    planOwned.remove(workspace);
                    workspace.close();
                }
                workspace = planOwn(grown);
                workspaceBytes = bytes;
            }
        }

        Tensor[] run(Tensor input, Tensor[] initialStates, CudnnPlan.SequenceLengths lengths) {
            stream.makeCurrent();
            int[] cudnnLengths = lengths != null ? lengths.cudnnLengths() : null;
            if (cudnnLengths == null) {
                cudnnLengths = new int[batch];
                Arrays.fill(cudnnLengths, steps);
            }
            Config c = lengths != null ? standard : config;
            if (!Arrays.equals(cudnnLengths, describedLengths)) {
                setLengths(cudnnLengths);
                ensureWorkspace(tempSpace(c, false));
            }
            if (lean != null) {
                return lean.run(input, initialStates, lengths, c, cudnnLengths);
            }
            stage(input, initialStates, cudnnLengths);
            stream.upload(pinnedIn.pointer(), deviceIn.pointer(), inBytes);
            int status = forward(c);
            if (status != cudnn.CUDNN_STATUS_SUCCESS && c.algo == CudnnPlan.Algo.PERSIST_STATIC) {
                // Persistent static accepted at build time but not for this call: standard from now on.
                refusePersist("cudnnRNNForward status " + status + " for N=" + batch + ", T=" + steps);
                config = standard;
                c = standard;
                ensureWorkspace(tempSpace(c, false));
                status = forward(c);
            }
            cudnnRefusable(status, "cudnnRNNForward(" + c.algo.label + ", " + mode.label + ", N=" + batch + ", T="
                    + steps + ")");
            stream.download(deviceOut.pointer(), pinnedOut.pointer(), downloadBytes);
            stream.sync();
            executionPath = CudnnRecurrentExecutor.this.describe(c, lengths);
            return unstage(initialStates, lengths);
        }

        private int forward(Config c) {
            Pointer in = deviceIn.pointer();
            Pointer out = deviceOut.pointer();
            try (IntPointer deviceLengths = new IntPointer(at(in, lengthsAt))) {
                return cudnn.cudnnRNNForward(stream.cudnn(), c.rnn.get(), cudnn.CUDNN_FWD_MODE_INFERENCE,
                        deviceLengths, xDesc.get(), at(in, xAt), yDesc.get(), at(out, yAt), hDesc.get(),
                        at(in, hxAt), at(out, hyAt), hDesc.get(), lstm ? at(in, cxAt) : null,
                        lstm ? at(out, cyAt) : null, c.weightBytes, c.weightSpace.pointer(), workspaceBytes,
                        workspace.pointer(), 0, null);
            }
        }


        /**
         * The lean per-call path: float32 moves between the host tensors and the device by the
         * {@link HostTransfers} strategy (no Java conversion loops, no staging copy for pinned
         * tensors); 16-bit data is converted and go_backwards reversed by jrnn's kernels on the
         * stream; absent initial states are passed to cuDNN as null (zeros); the lengths go up only
         * when they change; the result tensors are allocated while the GPU runs; one wait per call.
         *
         * <p>Float32 layouts (bytes): in {@code x | hx | cx}, out {@code hy | cy | y}, regions
         * 256-aligned; the 16-bit cuDNN buffers use the same layout at half the offsets.
         */
        final class Lean implements AutoCloseable {
            final long x32;
            final long hx32;
            final long cx32;
            final long in32Bytes;
            final long hy32;
            final long cy32;
            final long y32;
            final long out32Bytes;
            final long stateBytes32;
            final long xBytes32;
            final long yBytes32;
            /** Float32 device buffers: the cuDNN buffers themselves in fp32, separate ones for 16-bit data. */
            final long in32;
            final long out32;
            /** Where the input goes up: {@link #in32} + x, or a scratch buffer reversed from there. */
            final long xUpload;
            final long devIn;
            final long devOut;
            final DeviceBuffer lengthsDevice;
            final PinnedBuffer lengthsHost;
            final HostTransfers transfers;
            /** Non-owning views of the lengths buffers. */
            final IntPointer lengthsView;
            final IntPointer lengthsHostView;
            int[] uploadedLengths;
            final List<AutoCloseable> leanOwned = new ArrayList<>();

            Lean(String what) {
                int ratio = 4 / numerics.elementBytes();
                stateBytes32 = (long) batch * hiddenSize * 4;
                xBytes32 = (long) batch * steps * inputSize * 4;
                yBytes32 = (long) batch * steps * hiddenSize * 4;
                x32 = 0;
                hx32 = align(xBytes32);
                cx32 = align(hx32 + stateBytes32);
                in32Bytes = cx32 + (lstm ? stateBytes32 : 0);
                hy32 = 0;
                cy32 = align(stateBytes32);
                y32 = align(cy32 + (lstm ? stateBytes32 : 0));
                out32Bytes = y32 + yBytes32;
                try {
                    DeviceBuffer cudnnIn = lean(DeviceBuffer.allocate(in32Bytes / ratio, what + " cuDNN input"));
                    DeviceBuffer cudnnOut = lean(DeviceBuffer.allocate(out32Bytes / ratio, what + " cuDNN output"));
                    devIn = DeviceAddress.of(cudnnIn);
                    devOut = DeviceAddress.of(cudnnOut);
                    if (ratio == 1) {
                        in32 = devIn;
                        out32 = devOut;
                    } else {
                        in32 = DeviceAddress.of(lean(DeviceBuffer.allocate(in32Bytes, what + " float32 input")));
                        out32 = DeviceAddress.of(lean(DeviceBuffer.allocate(out32Bytes, what + " float32 output")));
                    }
                    xUpload = spec.goBackwards()
                            ? DeviceAddress.of(lean(DeviceBuffer.allocate(xBytes32, what + " input before reversal")))
                            : in32 + x32;
                    lengthsDevice = lean(DeviceBuffer.allocate(4L * batch, what + " sequence lengths"));
                    lengthsHost = lean(PinnedBuffer.allocate(4L * batch, what + " sequence lengths staging"));
                    transfers = lean(new HostTransfers(stream, what, in32Bytes, out32Bytes));
                    lengthsView = new IntPointer(lengthsDevice.pointer());
                    lengthsHostView = new IntPointer(lengthsHost.pointer());
                } catch (RuntimeException | Error e) {
                    close();
                    throw e;
                }
            }

            private <T extends AutoCloseable> T lean(T r) {
                leanOwned.add(r);
                return r;
            }

            Tensor[] run(Tensor input, Tensor[] initialStates, CudnnPlan.SequenceLengths lengths, Config c,
                    int[] cudnnLengths) {
                CudaKernels k = numerics.sixteenBit() || spec.goBackwards() ? leanKernels() : null;
                Tensor[] result = new Tensor[1 + spec.stateCount()];
                boolean done = false;
                transfers.begin(HostTransfers.current());
                try {
                    if (!Arrays.equals(cudnnLengths, uploadedLengths)) {
                        // The previous call waited for everything, so the pinned lengths are free to rewrite.
                        lengthsHostView.put(cudnnLengths, 0, cudnnLengths.length);
                        stream.upload(lengthsHost.pointer(), lengthsDevice.pointer(), 4L * batch);
                        uploadedLengths = cudnnLengths.clone();
                    }
                    transfers.upload(input.pointer().address(), xUpload, xBytes32, x32);
                    if (spec.goBackwards()) {
                        reverseArgs.pointer("src", xUpload).pointer("dst", in32 + x32).i32("batch", batch)
                                .i32("steps", steps).i32("width", inputSize);
                        k.launch(Kernel.REVERSE_TIME_F32, LaunchGeometry.strideBlocks(xBytes32 / 4), stream,
                                reverseArgs);
                    }
                    if (numerics.sixteenBit()) {
                        toTyped(k, x32, xBytes32);
                    }
                    boolean states = initialStates != null;
                    long[] stateAt = {hx32, cx32};
                    for (int s = 0; states && s < spec.stateCount(); s++) {
                        transfers.upload(initialStates[s].pointer().address(), in32 + stateAt[s], stateBytes32,
                                stateAt[s]);
                        if (numerics.sixteenBit()) {
                            toTyped(k, stateAt[s], stateBytes32);
                        }
                    }
                    int status = forward(c, states);
                    if (status != cudnn.CUDNN_STATUS_SUCCESS && c.algo == CudnnPlan.Algo.PERSIST_STATIC) {
                        refusePersist("cudnnRNNForward status " + status + " for N=" + batch + ", T=" + steps);
                        config = standard;
                        c = standard;
                        ensureWorkspace(tempSpace(c, false));
                        status = forward(c, states);
                    }
                    cudnnRefusable(status, "cudnnRNNForward(" + c.algo.label + ", " + mode.label + ", N=" + batch
                            + ", T=" + steps + ")");
                    long back = spec.returnSequences() ? out32Bytes : y32;
                    if (numerics.sixteenBit()) {
                        // One conversion over hy | cy (| y); the alignment gaps convert garbage nobody reads.
                        fromTypedArgs.pointer("src", devOut).pointer("dst", out32).i64("count", back / 4);
                        k.launch(fromTypedArgs.kernel(), LaunchGeometry.strideBlocks(back / 4), stream, fromTypedArgs);
                    }
                    // Allocated while the GPU works; pinned blocks take the DMA with no staging copy.
                    boolean pinned = transfers.strategy() != HostTransfers.Strategy.STAGED
                            && PinnedOutputPool.enabled();
                    for (int s = 0; s < spec.stateCount(); s++) {
                        result[1 + s] = outputPool.tensorOrPageable(pinned, batch, hiddenSize);
                    }
                    if (spec.returnSequences()) {
                        result[0] = outputPool.tensorOrPageable(pinned, batch, steps, hiddenSize);
                    }
                    long[] outAt = {hy32, cy32};
                    for (int s = 0; s < spec.stateCount(); s++) {
                        transfers.download(out32 + outAt[s], result[1 + s].pointer().address(), stateBytes32,
                                outAt[s]);
                    }
                    if (spec.returnSequences()) {
                        transfers.download(out32 + y32, result[0].pointer().address(), yBytes32, y32);
                    }
                    transfers.finish();
                    executionPath = CudnnRecurrentExecutor.this.describe(c, lengths);
                    if (lengths == null) {
                        if (result[0] == null) {
                            // The output is the last step's h.
                            result[0] = outputPool.tensorOrPageable(pinned, batch, hiddenSize);
                            Pointer.memcpy(result[0].pointer(), result[1].pointer(), stateBytes32);
                        }
                    } else {
                        fixMasked(result, initialStates, lengths.lengths());
                    }
                    done = true;
                    return result;
                } finally {
                    if (!done) {
                        transfers.drain(); // nothing may still read or write the tensors
                        Closing.closeTensors(result);
                    }
                }
            }

            /** Queues float32 → data type of {@code bytes32} float32 bytes at float32 offset {@code at}. */
            private void toTyped(CudaKernels k, long at, long bytes32) {
                int ratio = 4 / numerics.elementBytes();
                toTypedArgs.pointer("src", in32 + at).pointer("dst", devIn + at / ratio).i64("count", bytes32 / 4);
                k.launch(toTypedArgs.kernel(), LaunchGeometry.strideBlocks(bytes32 / 4), stream, toTypedArgs);
            }

            private int forward(Config c, boolean states) {
                int ratio = 4 / numerics.elementBytes();
                return cudnn.cudnnRNNForward(stream.cudnn(), c.rnn.get(), cudnn.CUDNN_FWD_MODE_INFERENCE,
                        lengthsView, xDesc.get(), DeviceAddress.at(devIn + x32 / ratio), yDesc.get(),
                        DeviceAddress.at(devOut + y32 / ratio), hDesc.get(),
                        states ? DeviceAddress.at(devIn + hx32 / ratio) : null,
                        DeviceAddress.at(devOut + hy32 / ratio), hDesc.get(),
                        lstm && states ? DeviceAddress.at(devIn + cx32 / ratio) : null,
                        lstm ? DeviceAddress.at(devOut + cy32 / ratio) : null, c.weightBytes,
                        c.weightSpace.pointer(), workspaceBytes, workspace.pointer(), 0, null);
            }

            @Override
            public void close() {
                RuntimeException failure = null;
                for (int i = leanOwned.size() - 1; i >= 0; i--) {
                    try {
                        leanOwned.get(i).close();
                    } catch (Exception e) {
                        if (failure == null) {
                            failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                        } else {
                            failure.addSuppressed(e);
                        }
                    }
                }
                leanOwned.clear();
                if (failure != null) {
                    throw failure;
                }
            }
        }

        /** Input (time reversed for go_backwards), initial states (or zeros) and lengths into the pinned buffer. */
        private void stage(Tensor input, Tensor[] initialStates, int[] cudnnLengths) {
            int e = numerics.elementBytes();
            FloatBuffer x = input.view();
            long xElement = xAt / e;
            if (!spec.goBackwards()) {
                hostIn.put(xElement, x, 0, batch * steps * inputSize);
            } else {
                for (int sample = 0; sample < batch; sample++) {
                    for (int k = 0; k < steps; k++) {
                        hostIn.put(xElement + (long) (sample * steps + k) * inputSize, x,
                                (sample * steps + (steps - 1 - k)) * inputSize, inputSize);
                    }
                }
            }
            int stateFloats = batch * hiddenSize;
            long[] stateAt = {hxAt, cxAt};
            for (int s = 0; s < spec.stateCount(); s++) {
                if (initialStates != null) {
                    hostIn.put(stateAt[s] / e, initialStates[s].view(), 0, stateFloats);
                } else {
                    Pointer.memset(at(pinnedIn.pointer(), stateAt[s]), 0, (long) stateFloats * e);
                }
            }
            try (IntPointer hostLengths = new IntPointer(at(pinnedIn.pointer(), lengthsAt))) {
                hostLengths.put(cudnnLengths, 0, cudnnLengths.length);
            }
        }

        /** New tensors from the pinned output; padded outputs and empty samples fixed per spec §3.3. */
        private Tensor[] unstage(Tensor[] initialStates, CudnnPlan.SequenceLengths lengths) {
            int e = numerics.elementBytes();
            int h = hiddenSize;
            Tensor[] result = new Tensor[1 + spec.stateCount()];
            boolean done = false;
            try {
                long[] stateAt = {hyAt, cyAt};
                for (int s = 0; s < spec.stateCount(); s++) {
                    result[1 + s] = Tensor.uninitialized(batch, h);
                    hostOut.get(stateAt[s] / e, result[1 + s].view(), 0, batch * h);
                }
                if (spec.returnSequences()) {
                    result[0] = Tensor.uninitialized(batch, steps, h);
                    hostOut.get(yAt / e, result[0].view(), 0, batch * steps * h);
                }
                if (lengths == null) {
                    if (result[0] == null) {
                        result[0] = result[1].copy(); // the output is the last step's h
                    }
                } else {
                    fixMasked(result, initialStates, lengths.lengths());
                }
                done = true;
                return result;
            } finally {
                if (!done) {
                    Closing.closeTensors(result);
                }
            }
        }

        /**
         * Zeros every padded step of the sequence (cuDNN's padding fill, and the one step a
         * zero-length sample ran), gives zero-length samples their initial states back, then fills
         * the padded outputs per spec §3.3.
         */
        private void fixMasked(Tensor[] result, Tensor[] initialStates, int[] lengths) {
            int h = hiddenSize;
            FloatBuffer sequence = result[0] != null ? result[0].view() : null;
            for (int sample = 0; sample < batch; sample++) {
                int len = lengths[sample];
                if (sequence != null && len < steps) {
                    for (int i = (sample * steps + len) * h; i < (sample + 1) * steps * h; i++) {
                        sequence.put(i, 0f);
                    }
                }
                if (len == 0) {
                    for (int s = 0; s < spec.stateCount(); s++) {
                        FloatBuffer state = result[1 + s].view();
                        if (initialStates != null) {
                            state.put(sample * h, initialStates[s].view(), sample * h, h);
                        } else {
                            for (int j = 0; j < h; j++) {
                                state.put(sample * h + j, 0f);
                            }
                        }
                    }
                }
            }
            RightPaddedOutputs.fill(spec, result, initialStates, lengths, steps);
        }

        @Override
        public void close() {
            close(null);
        }

        private void close(Throwable failure) {
            while (!planOwned.isEmpty()) {
                try {
                    planOwned.pop().close();
                } catch (Exception e) {
                    if (failure != null) {
                        failure.addSuppressed(e);
                    } else {
                        throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
                    }
                }
            }
        }
    }

    private static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** A pointer {@code byteOffset} bytes into {@code base} (a device or pinned allocation at position 0). */
    static Pointer at(Pointer base, long byteOffset) {
        if (base.position() != 0) {
            throw new IllegalArgumentException("expected an allocation at position 0, got position " + base.position());
        }
        long target = base.address() + byteOffset; // not named "address": the field would shadow it
        return new Pointer() {
            {
                address = target;
            }
        };
    }

    /**
     * A pinned buffer seen as elements of the data type: float32 copied as is, 16-bit converted
     * (round to nearest even) on the way in and widened on the way out.
     */
    static final class HostView {
        private final FloatBuffer floats;
        private final ShortBuffer shorts;
        private final boolean bfloat16;

        HostView(PinnedBuffer buffer, CudnnPlan.Numerics numerics) {
            this(buffer.pointer(), buffer.bytes(), numerics);
        }

        /** A view of {@code bytes} of host memory at {@code memory} (position 0). */
        HostView(Pointer memory, long bytes, CudnnPlan.Numerics numerics) {
            if (numerics.sixteenBit()) {
                long count = bytes / 2;
                this.shorts = new ShortPointer(memory).capacity(count).limit(count).asBuffer();
                this.floats = null;
            } else {
                long count = bytes / 4;
                this.floats = new FloatPointer(memory).capacity(count).limit(count).asBuffer();
                this.shorts = null;
            }
            this.bfloat16 = numerics.bfloat16();
        }

        /** Writes {@code count} floats of {@code src} from {@code srcIndex} at element {@code element}. */
        void put(long element, FloatBuffer src, int srcIndex, int count) {
            int at = Math.toIntExact(element);
            if (floats != null) {
                floats.put(at, src, srcIndex, count);
            } else if (bfloat16) {
                for (int i = 0; i < count; i++) {
                    shorts.put(at + i, HalfFloats.toBfloat16(src.get(srcIndex + i)));
                }
            } else {
                for (int i = 0; i < count; i++) {
                    shorts.put(at + i, HalfFloats.toHalf(src.get(srcIndex + i)));
                }
            }
        }

        /** Reads {@code count} elements from element {@code element} into {@code dst} from {@code dstIndex}. */
        void get(long element, FloatBuffer dst, int dstIndex, int count) {
            int at = Math.toIntExact(element);
            if (floats != null) {
                dst.put(dstIndex, floats, at, count);
            } else if (bfloat16) {
                for (int i = 0; i < count; i++) {
                    dst.put(dstIndex + i, HalfFloats.fromBfloat16(shorts.get(at + i)));
                }
            } else {
                for (int i = 0; i < count; i++) {
                    dst.put(dstIndex + i, HalfFloats.fromHalf(shorts.get(at + i)));
                }
            }
        }
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
                    throw new IllegalArgumentException(spec.describe() + ": initial state " + i + " must be [" + s[0]
                            + ", " + hiddenSize + "], got " + Arrays.toString(ss));
                }
                if (state.isClosed()) {
                    throw new IllegalStateException(spec.describe() + ": initial state " + i + " is closed");
                }
            }
        }
        return new Shape(s[0], s[1]);
    }

    @Override
    public synchronized String executionPath() {
        return executionPath;
    }

    /**
     * The device memory cuDNN reads and writes for unmasked calls of the cached shape
     * {@code (batch, steps)}, as addresses in the cuDNN data type: the weight space, the
     * workspace, the input x, the final states hy and cy (0 for GRU and SimpleRNN) and the output
     * y. For the GPU benchmark, whose direct cuDNN path runs on this same memory so that the two
     * differ only in host code (identical cuDNN calls on different allocations differed by up to
     * 10 % on an H100). Null when the shape is not cached or has no device-side plan.
     */
    synchronized DeviceMemory deviceMemory(int batch, int steps) {
        ensureOpen();
        ShapePlan p = plans.get(new Shape(batch, steps));
        if (p == null || p.lean == null) {
            return null;
        }
        int ratio = 4 / numerics.elementBytes();
        ShapePlan.Lean l = p.lean;
        return new DeviceMemory(DeviceAddress.of(p.config.weightSpace), p.config.weightBytes,
                DeviceAddress.of(p.workspace), p.workspaceBytes, l.devIn + l.x32 / ratio, l.devOut + l.hy32 / ratio,
                lstm ? l.devOut + l.cy32 / ratio : 0, l.devOut + l.y32 / ratio);
    }

    /** See {@link #deviceMemory}. */
    record DeviceMemory(long weights, long weightBytes, long workspace, long workspaceBytes, long x, long hy, long cy,
            long y) {
    }

    /** Shapes currently compiled, for tests. */
    synchronized int cachedShapeCount() {
        return plans.size();
    }

    /** Shape plans created so far, for tests (a cache hit creates none). */
    synchronized int plansCreated() {
        return plansCreated;
    }

    /** The weight layout cuDNN reported for the standard algorithm, for tests. */
    synchronized CudnnRnnLayout reportedLayout() {
        ensureOpen();
        return standard.layout;
    }

    /** The output pool (tests). */
    PinnedOutputPool outputPool() {
        return outputPool;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": cuDNN executor is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        List<AutoCloseable> first = new ArrayList<>(plans.values());
        plans.clear();
        if (maskExecutor != null) {
            first.add(maskExecutor);
            maskExecutor = null;
        }
        if (fallback != null) {
            first.add(fallback);
            fallback = null;
        }
        for (AutoCloseable c : first) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        // The persistent config shares or owns weights; it sits on the owned stack above the standard one.
        closeOwned(failure);
        // Idle blocks freed; blocks held by output tensors stay valid and are freed when those close.
        outputPool.close();
        if (failure != null) {
            throw failure;
        }
    }
}
