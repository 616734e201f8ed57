package io.jrnn.backend.cuda;

import io.jrnn.Device;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cuDNN backend: recurrent layers on an NVIDIA GPU. cuDNN's fused RNN forward runs what it can
 * express (LSTM, GRU with {@code reset_after=true}, SimpleRNN with tanh/relu, the standard
 * activations, right-padded masks through per-sample sequence lengths); everything else runs on
 * the GPU composed path (cuBLAS GEMMs plus jrnn's CUDA gate kernels). One instance per device and
 * precision; executors own their stream, handles and device memory.
 */
public final class CudaBackend implements Backend {
    private static final ConcurrentHashMap<String, CudaBackend> INSTANCES = new ConcurrentHashMap<>();

    private final Device device;
    private final Precision precision;

    private CudaBackend(Device device, Precision precision) {
        this.device = device;
        this.precision = precision;
    }

    /** The backend for CUDA device 0 in float32. */
    public static CudaBackend instance() {
        return instance(0, Precision.FP32);
    }

    /**
     * The backend for CUDA device {@code index} computing in {@code precision}.
     *
     * @throws UnsupportedConfigurationException when CUDA is not usable here (the message says why)
     *         or the device does not exist
     */
    public static CudaBackend instance(int index, Precision precision) {
        Objects.requireNonNull(precision, "precision");
        CudaStatus status = Cuda.status();
        if (!status.usable()) {
            throw new UnsupportedConfigurationException("Backend 'cuda' is not available: " + status.reason());
        }
        if (index < 0 || index >= status.deviceCount()) {
            throw new UnsupportedConfigurationException("CUDA device " + index + " does not exist: "
                    + status.deviceCount() + " device(s) found");
        }
        return INSTANCES.computeIfAbsent(index + "/" + precision,
                k -> new CudaBackend(Device.cuda(index), precision));
    }

    /**
     * An uninitialised float32 tensor in page-locked host memory ({@code cudaMallocHost}): jrnn's
     * GPU executors copy such an input to the device with one asynchronous DMA, with no staging
     * copy (under every {@link HostTransfers#PROPERTY transfer strategy} but {@code staged}). Closing
     * the tensor frees the memory (so does its garbage collection, later); page-locked memory is a
     * scarce system resource, so close these tensors and reuse them across calls.
     *
     * @throws UnsupportedConfigurationException when CUDA is not usable here (the message says why)
     * @throws CudaOutOfMemoryException when the driver cannot page-lock that much memory
     */
    public static Tensor pinnedTensor(int... shape) {
        CudaStatus status = Cuda.status();
        if (!status.usable()) {
            throw new UnsupportedConfigurationException("Pinned host tensors need CUDA, which is not available: "
                    + status.reason());
        }
        return PinnedHost.tensor(shape);
    }

    /**
     * Whether {@code t}'s memory is page-locked memory jrnn allocated: a live tensor from
     * {@link #pinnedTensor}, or an output of a GPU executor (pinned unless
     * {@code -Djrnn.cuda.pinnedOutputs=false} or a pool bound refused it), which the next GPU
     * layer then uploads without staging.
     */
    public static boolean isPinned(Tensor t) {
        return !t.isClosed() && PinnedHost.isPinned(t);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Precision precision() {
        return precision;
    }

    @Override
    public RecurrentExecutor compile(RecurrentSpec spec) {
        Objects.requireNonNull(spec, "spec");
        return CudaExecutors.compile(this, spec);
    }

    /**
     * ConvLSTM2D (spec §2.6) on cuDNN in float32 ({@link CudaConvLstmExecutor}); under another
     * precision it still runs in float32 and its execution path says so.
     *
     * @throws UnsupportedConfigurationException when cuDNN cannot express the layer (the layer then
     *         runs on the CPU and says why)
     */
    @Override
    public io.jrnn.backend.ConvLstmExecutor compileConvLstm(io.jrnn.backend.ConvLstmSpec spec) {
        Objects.requireNonNull(spec, "spec");
        CudaConvLstmExecutor fp32 = new CudaConvLstmExecutor(device.index(), spec);
        return precision == Precision.FP32 ? fp32 : new Fp32ConvLstm(fp32, precision);
    }

    /** ConvLSTM2D has no 16-bit GPU path: under another precision it runs in fp32 and says so. */
    private record Fp32ConvLstm(io.jrnn.backend.ConvLstmExecutor fp32, Precision requested)
            implements io.jrnn.backend.ConvLstmExecutor {
        @Override
        public Tensor[] run(Tensor input, Tensor[] initialStates, io.jrnn.Mask mask) {
            return fp32.run(input, initialStates, mask);
        }

        @Override
        public String executionPath() {
            return fp32.executionPath() + "; fp32: ConvLSTM2D has no " + requested + " GPU path (fp32 fallback)";
        }

        @Override
        public void close() {
            fp32.close();
        }
    }

    @Override
    public String describe() {
        return "cuDNN backend on " + device + " (" + precision + "); " + Cuda.status().describe().trim();
    }
}
