package io.jrnn.backend.cuda;

import io.jrnn.UnsupportedConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * jrnn's own CUDA kernels ({@code native/kernels/jrnn_kernels.cu}), loaded from the fatbin the
 * build puts inside the jar ({@value #RESOURCE} next to this class) through the CUDA driver API:
 * once per device, into the CUDA runtime's primary context, for the life of the JVM.
 *
 * <p>{@code -Djrnn.cuda.debugSync=true} synchronises the stream after every launch, so a faulting
 * kernel is named in the exception instead of surfacing at the next synchronisation.
 */
final class CudaKernels {
    /** The fatbin's resource name, relative to this class. */
    static final String RESOURCE = "jrnn_kernels.fatbin";
    /** System property: synchronise and check after every kernel launch. */
    static final String DEBUG_SYNC_PROPERTY = "jrnn.cuda.debugSync";
    /** How to get a build with the kernels, for messages. */
    static final String BUILD_HINT = "this jrnn build has no CUDA kernels (resource io/jrnn/backend/cuda/" + RESOURCE
            + " is missing): it was built without nvcc. Rebuild jrnn with the CUDA toolkit installed (nvcc on PATH"
            + " or -Djrnn.cuda.home=/usr/local/cuda, and cmake on PATH), e.g. `mvn package`; the Maven build then"
            + " compiles native/ with CMake into the jar";

    /**
     * Every kernel in the fatbin with its parameter names in order (a test checks them against the
     * .cu source, so arguments are set by name and cannot drift).
     */
    enum Kernel {
        LSTM_STEP("jrnn_lstm_step", "xp", "hp", "bias", "h", "c", "prev", "y", "hOperand", "mask",
                "batch", "units", "steps", "t", "k", "recurrentActivation", "activation", "maskedOutput", "operandType"),
        GRU_STEP("jrnn_gru_step", "xp", "hp", "bias", "recurrentBias", "h", "prev", "y", "hOperand", "mask",
                "batch", "units", "steps", "t", "k", "recurrentActivation", "activation", "maskedOutput", "operandType"),
        GRU_RESET_GATES("jrnn_gru_reset_gates", "xp", "hp", "bias", "h", "resetHidden", "mask",
                "batch", "units", "steps", "t", "recurrentActivation", "operandType"),
        GRU_CANDIDATE("jrnn_gru_candidate", "xp", "hp", "bias", "h", "prev", "y", "hOperand", "mask",
                "batch", "units", "steps", "t", "k", "activation", "maskedOutput", "operandType"),
        SIMPLE_RNN_STEP("jrnn_simple_rnn_step", "xp", "hp", "bias", "h", "prev", "y", "hOperand", "mask",
                "batch", "units", "steps", "t", "k", "activation", "maskedOutput", "operandType"),
        CONVLSTM_STEP("jrnn_convlstm_step", "xp", "hp", "bias", "h", "c", "prev", "y", "hOperand", "mask",
                "batch", "rows", "cols", "filters", "steps", "t", "k", "operandRows", "operandCols",
                "recurrentActivation", "activation", "maskedOutput"),
        FILL_F32("jrnn_fill_f32", "dst", "value", "count"),
        REVERSE_TIME_F32("jrnn_reverse_time_f32", "src", "dst", "batch", "steps", "width"),
        PAD_FRAMES_F32("jrnn_pad_frames_f32", "src", "dst", "images", "rows", "cols", "channels", "dstRows",
                "dstCols"),
        F32_TO_F16("jrnn_f32_to_f16", "src", "dst", "count"),
        F16_TO_F32("jrnn_f16_to_f32", "src", "dst", "count"),
        F32_TO_BF16("jrnn_f32_to_bf16", "src", "dst", "count"),
        BF16_TO_F32("jrnn_bf16_to_f32", "src", "dst", "count");

        final String symbol;
        private final List<String> parameters;

        Kernel(String symbol, String... parameters) {
            this.symbol = symbol;
            this.parameters = List.of(parameters);
        }

        /** The parameter names, in order. */
        List<String> parameters() {
            return parameters;
        }

        int parameterCount() {
            return parameters.size();
        }

        /** The position of parameter {@code name}. */
        int index(String name) {
            int i = parameters.indexOf(name);
            if (i < 0) {
                throw new IllegalArgumentException(symbol + " has no parameter '" + name + "'; it has " + parameters);
            }
            return i;
        }
    }

    private static final Map<Integer, CudaKernels> LOADED = new ConcurrentHashMap<>();
    private static volatile byte[] image;

    private final int device;
    /** Kept for the life of the module. */
    private final BytePointer imageMemory;
    private final CUmod_st module;
    private final Map<Kernel, CUfunc_st> functions = new EnumMap<>(Kernel.class);
    private final boolean debugSync;

    private CudaKernels(int device, byte[] bytes) {
        this.device = device;
        this.debugSync = Boolean.getBoolean(DEBUG_SYNC_PROPERTY);
        // The driver API loads into the current context: make the runtime's primary context current first.
        CudaCheck.cuda(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        CudaCheck.cuda(cudart.cudaFree(null), "cudaFree(0) (creating the primary context of device " + device + ")");
        CudaCheck.driver(cudart.cuInit(0), "cuInit");
        this.imageMemory = new BytePointer(bytes.length);
        imageMemory.put(bytes, 0, bytes.length);
        CUmod_st m = new CUmod_st();
        CudaCheck.driver(cudart.cuModuleLoadData(m, imageMemory),
                "cuModuleLoadData(" + RESOURCE + ", " + bytes.length + " bytes) on device " + device
                        + " (built for sm_75, sm_80, sm_86, sm_89, sm_90 and compute_90 PTX)");
        this.module = m;
        for (Kernel k : Kernel.values()) {
            CUfunc_st f = new CUfunc_st();
            CudaCheck.driver(cudart.cuModuleGetFunction(f, module, k.symbol), "cuModuleGetFunction(" + k.symbol + ")");
            functions.put(k, f);
        }
    }

    /** Whether the fatbin is in this build (it is absent when jrnn was built without nvcc). */
    static boolean imageAvailable() {
        return CudaKernels.class.getResource(RESOURCE) != null;
    }

    /**
     * The fatbin's bytes.
     *
     * @throws UnsupportedConfigurationException when the build has no kernels, saying how to build them
     */
    static byte[] image() {
        byte[] bytes = image;
        if (bytes == null) {
            bytes = readImage(RESOURCE);
            image = bytes;
        }
        return bytes;
    }

    /** Reads resource {@code name} next to this class; a missing one is an {@link UnsupportedConfigurationException}. */
    static byte[] readImage(String name) {
        try (InputStream in = CudaKernels.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new UnsupportedConfigurationException("The GPU composed path is unavailable: "
                        + BUILD_HINT.replace(RESOURCE, name));
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UnsupportedConfigurationException("The GPU composed path is unavailable: reading "
                    + name + " failed: " + e);
        }
    }

    /** The kernels loaded on CUDA device {@code device} (loaded on first use, then shared). */
    static CudaKernels forDevice(int device) {
        byte[] bytes = image();
        CudaKernels k = LOADED.get(device);
        if (k == null) {
            synchronized (LOADED) {
                k = LOADED.get(device);
                if (k == null) {
                    k = new CudaKernels(device, bytes);
                    LOADED.put(device, k);
                }
            }
        }
        return k;
    }

    int device() {
        return device;
    }

    /**
     * Queues {@code kernel} on {@code stream} with {@code blocks} blocks of {@link LaunchGeometry#BLOCK}
     * threads. Launch errors (bad configuration, missing image for this GPU) throw at once; faults
     * inside the kernel surface at the next synchronisation, or here under {@value #DEBUG_SYNC_PROPERTY}.
     */
    void launch(Kernel kernel, int blocks, GpuStream stream, KernelArgs args) {
        if (args.kernel() != kernel) {
            throw new IllegalArgumentException("arguments for " + args.kernel().symbol + " passed to " + kernel.symbol);
        }
        if (blocks < 1) {
            throw new IllegalArgumentException(kernel.symbol + ": grid of " + blocks + " blocks");
        }
        CudaCheck.driver(cudart.cuLaunchKernel(functions.get(kernel), blocks, 1, 1, LaunchGeometry.BLOCK, 1, 1, 0,
                stream.stream(), args.kernelParams(), (PointerPointer<?>) null), "cuLaunchKernel(" + kernel.symbol + ")");
        if (debugSync) {
            CudaCheck.cuda(cudart.cudaStreamSynchronize(stream.stream()),
                    "cudaStreamSynchronize after " + kernel.symbol + " (-D" + DEBUG_SYNC_PROPERTY + "=true)");
            CudaCheck.cuda(cudart.cudaGetLastError(), "cudaGetLastError after " + kernel.symbol);
        }
    }
}
