package io.jrnn.backend.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Pointer;

/**
 * A non-blocking CUDA stream with a cuDNN handle and a cuBLAS handle bound to it, owned by one
 * executor (so one model's calls never wait on another's). Not thread-safe: the owner serialises
 * its calls.
 */
public final class GpuStream extends CudaResource {
    private final int device;
    private final CUstream_st stream;
    private cudnnContext cudnnHandle;
    private cublasContext cublasHandle;

    /** Creates a stream on CUDA device {@code device} (which becomes this thread's current device). */
    public GpuStream(int device, String what) {
        super("CUDA stream for " + what);
        this.device = device;
        CudaCheck.cuda(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        CUstream_st s = new CUstream_st();
        CudaCheck.cuda(cudart.cudaStreamCreateWithFlags(s, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        this.stream = s;
    }

    /** Makes this stream's device current on the calling thread (cheap; call at the start of each run). */
    public void makeCurrent() {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }

    public int device() {
        return device;
    }

    public CUstream_st stream() {
        ensureOpen();
        return stream;
    }

    /** The cuDNN handle bound to this stream (created on first use). */
    public cudnnContext cudnn() {
        ensureOpen();
        if (cudnnHandle == null) {
            cudnnContext h = new cudnnContext();
            CudaCheck.cudnn(cudnn.cudnnCreate(h), "cudnnCreate");
            CudaCheck.cudnn(cudnn.cudnnSetStream(h, stream), "cudnnSetStream");
            cudnnHandle = h;
        }
        return cudnnHandle;
    }

    /** The cuBLAS handle bound to this stream (created on first use), tensor-op math allowed. */
    public cublasContext cublas() {
        ensureOpen();
        if (cublasHandle == null) {
            cublasContext h = new cublasContext();
            CudaCheck.cublas(cublas.cublasCreate_v2(h), "cublasCreate");
            CudaCheck.cublas(cublas.cublasSetStream_v2(h, stream), "cublasSetStream");
            cublasHandle = h;
        }
        return cublasHandle;
    }

    /** Host → device copy of {@code bytes} on this stream (asynchronous when {@code host} is pinned). */
    public void upload(Pointer host, Pointer deviceDst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(deviceDst, host, bytes, cudart.cudaMemcpyHostToDevice, stream),
                "cudaMemcpyAsync(host to device, " + bytes + " bytes)");
    }

    /** Device → host copy of {@code bytes} on this stream. */
    public void download(Pointer deviceSrc, Pointer host, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(host, deviceSrc, bytes, cudart.cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync(device to host, " + bytes + " bytes)");
    }

    /** Device → device copy of {@code bytes} on this stream. */
    public void copy(Pointer src, Pointer dst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(dst, src, bytes, cudart.cudaMemcpyDeviceToDevice, stream),
                "cudaMemcpyAsync(device to device, " + bytes + " bytes)");
    }

    /** Fills {@code bytes} of device memory with zero bytes on this stream. */
    public void zero(Pointer deviceDst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemsetAsync(deviceDst, 0, bytes, stream), "cudaMemsetAsync(" + bytes + " bytes)");
    }

    /** Waits for everything queued on this stream; a kernel fault surfaces here as a {@link CudaException}. */
    public void sync() {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    @Override
    void release() {
        if (cublasHandle != null) {
            cublas.cublasDestroy_v2(cublasHandle);
            cublasHandle = null;
        }
        if (cudnnHandle != null) {
            cudnn.cudnnDestroy(cudnnHandle);
            cudnnHandle = null;
        }
        cudart.cudaStreamDestroy(stream);
    }
}
