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
 * its calls (CUDA executors are per stream and may simply synchronise {@code run}). Freed by the
 * cleaner, with a warning, when garbage-collected without close.
 */
public final class GpuStream extends CudaResource {
    private final int device;
    private final Handles handles;

    /**
     * The native handles, apart from the stream object so that the cleaner can free them without it:
     * the free action is this holder, so it also sees the cuDNN and cuBLAS handles created lazily
     * after construction. Once it has run no handle is created any more.
     */
    private static final class Handles implements Runnable {
        CUstream_st stream;
        cudnnContext cudnnHandle;
        cublasContext cublasHandle;
        boolean released;

        /** Refuses to create a handle after the release (a close racing with a first use). */
        void checkNotReleased(String what) {
            if (released) {
                throw new IllegalStateException("The " + what + " was used after it was closed");
            }
        }

        @Override
        public synchronized void run() {
            released = true;
            if (cublasHandle != null) {
                cublas.cublasDestroy_v2(cublasHandle);
                cublasHandle = null;
            }
            if (cudnnHandle != null) {
                cudnn.cudnnDestroy(cudnnHandle);
                cudnnHandle = null;
            }
            if (stream != null) {
                cudart.cudaStreamDestroy(stream);
                stream = null;
            }
        }
    }

    /** Creates a stream on CUDA device {@code device} (which becomes this thread's current device). */
    public GpuStream(int device, String what) {
        this(device, what, new Handles());
    }

    private GpuStream(int device, String what, Handles handles) {
        super("CUDA stream for " + what, handles);
        this.device = device;
        this.handles = handles;
        try {
            CudaCheck.cuda(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
            CUstream_st s = new CUstream_st();
            CudaCheck.cuda(cudart.cudaStreamCreateWithFlags(s, cudart.cudaStreamNonBlocking),
                    "cudaStreamCreateWithFlags");
            handles.stream = s;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
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
        return handles.stream;
    }

    /** The cuDNN handle bound to this stream (created on first use). */
    public cudnnContext cudnn() {
        ensureOpen();
        synchronized (handles) {
            handles.checkNotReleased(what());
            if (handles.cudnnHandle == null) {
                cudnnContext h = new cudnnContext();
                CudaCheck.cudnn(cudnn.cudnnCreate(h), "cudnnCreate");
                handles.cudnnHandle = h;
                CudaCheck.cudnn(cudnn.cudnnSetStream(h, handles.stream), "cudnnSetStream");
            }
            return handles.cudnnHandle;
        }
    }

    /** The cuBLAS handle bound to this stream (created on first use), tensor-op math allowed. */
    public cublasContext cublas() {
        ensureOpen();
        synchronized (handles) {
            handles.checkNotReleased(what());
            if (handles.cublasHandle == null) {
                cublasContext h = new cublasContext();
                CudaCheck.cublas(cublas.cublasCreate_v2(h), "cublasCreate");
                handles.cublasHandle = h;
                CudaCheck.cublas(cublas.cublasSetStream_v2(h, handles.stream), "cublasSetStream");
            }
            return handles.cublasHandle;
        }
    }

    /** Host → device copy of {@code bytes} on this stream (asynchronous when {@code host} is pinned). */
    public void upload(Pointer host, Pointer deviceDst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(deviceDst, host, bytes, cudart.cudaMemcpyHostToDevice, stream()),
                "cudaMemcpyAsync(host to device, " + bytes + " bytes)");
    }

    /**
     * A new device buffer holding {@code values} (float32), uploaded and waited for, so the host copy
     * can go at once; for weights and other set-up data. The caller owns the buffer.
     */
    public DeviceBuffer uploadFloats(float[] values, String what) {
        ensureOpen();
        DeviceBuffer buffer = DeviceBuffer.floats(values.length, what);
        try (org.bytedeco.javacpp.FloatPointer host = new org.bytedeco.javacpp.FloatPointer(values)) {
            upload(host, buffer.pointer(), (long) values.length * Float.BYTES);
            sync();
        } catch (RuntimeException | Error e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    /** Device → host copy of {@code bytes} on this stream. */
    public void download(Pointer deviceSrc, Pointer host, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(host, deviceSrc, bytes, cudart.cudaMemcpyDeviceToHost, stream()),
                "cudaMemcpyAsync(device to host, " + bytes + " bytes)");
    }

    /** Device → device copy of {@code bytes} on this stream. */
    public void copy(Pointer src, Pointer dst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemcpyAsync(dst, src, bytes, cudart.cudaMemcpyDeviceToDevice, stream()),
                "cudaMemcpyAsync(device to device, " + bytes + " bytes)");
    }

    /** Fills {@code bytes} of device memory with zero bytes on this stream. */
    public void zero(Pointer deviceDst, long bytes) {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaMemsetAsync(deviceDst, 0, bytes, stream()), "cudaMemsetAsync(" + bytes + " bytes)");
    }

    /** Waits for everything queued on this stream; a kernel fault surfaces here as a {@link CudaException}. */
    public void sync() {
        ensureOpen();
        CudaCheck.cuda(cudart.cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
    }

}
