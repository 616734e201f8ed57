package io.jrnn.backend.cuda;

import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** Page-locked host memory ({@code cudaMallocHost}) for asynchronous transfers to and from the device. */
public final class PinnedBuffer extends CudaResource {
    private static final AtomicLong LIVE_BYTES = new AtomicLong();

    private final Pointer pointer;
    private final long bytes;

    private PinnedBuffer(Pointer pointer, long bytes, String what) {
        super(what, () -> free(pointer, bytes));
        this.pointer = pointer;
        this.bytes = bytes;
    }

    public static PinnedBuffer allocate(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException("Negative pinned allocation of " + bytes + " bytes for " + what);
        }
        long size = Math.max(bytes, 256);
        Pointer p = new Pointer();
        int st = cudart.cudaMallocHost(p, size);
        if (st != cudart.cudaSuccess) {
            cudart.cudaGetLastError();
            if (st == cudart.cudaErrorMemoryAllocation) {
                throw new CudaOutOfMemoryException("cudaMallocHost", st, CudaCheck.cudaText(st), size, what);
            }
            CudaCheck.cuda(st, "cudaMallocHost of " + size + " bytes for " + what);
        }
        LIVE_BYTES.addAndGet(size);
        return new PinnedBuffer(p, size, "pinned host buffer (" + size + " bytes) for " + what);
    }

    public static PinnedBuffer floats(long count, String what) {
        return allocate(Math.multiplyExact(count, 4L), what);
    }

    /** The whole buffer as floats (host-readable and -writable). */
    public FloatPointer floats() {
        ensureOpen();
        FloatPointer f = new FloatPointer(pointer);
        return f.capacity(bytes / 4).limit(bytes / 4);
    }

    public Pointer pointer() {
        ensureOpen();
        return pointer;
    }

    public long bytes() {
        return bytes;
    }

    /** Bytes of pinned host memory held by open buffers in this JVM (leak tests). */
    public static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** The free action: holds the address and size, never the buffer. */
    private static void free(Pointer pointer, long bytes) {
        cudart.cudaFreeHost(pointer);
        pointer.setNull();
        LIVE_BYTES.addAndGet(-bytes);
    }
}
