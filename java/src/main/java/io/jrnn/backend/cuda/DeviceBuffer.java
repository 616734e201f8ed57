package io.jrnn.backend.cuda;

import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Device memory from plain {@code cudaMalloc} (never managed memory). Running out of device memory
 * is a {@link CudaOutOfMemoryException}.
 */
public final class DeviceBuffer extends CudaResource {
    private static final AtomicLong LIVE_BYTES = new AtomicLong();
    private static final AtomicLong LIVE_COUNT = new AtomicLong();

    private final Pointer pointer;
    private final long bytes;

    private DeviceBuffer(Pointer pointer, long bytes, String what) {
        super(what, () -> free(pointer, bytes));
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /**
     * Allocates {@code bytes} of device memory on the current device.
     *
     * @param what what it is for, named in errors (e.g. {@code "LSTM 'lstm' weight space"})
     */
    public static DeviceBuffer allocate(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException("Negative device allocation of " + bytes + " bytes for " + what);
        }
        long size = Math.max(bytes, 256); // cudaMalloc(0) returns null; keep every buffer a real address
        Pointer p = new Pointer();
        int st = cudart.cudaMalloc(p, size);
        if (st != cudart.cudaSuccess) {
            cudart.cudaGetLastError();
            if (st == cudart.cudaErrorMemoryAllocation) {
                throw new CudaOutOfMemoryException("cudaMalloc", st, CudaCheck.cudaText(st), size, what);
            }
            CudaCheck.cuda(st, "cudaMalloc of " + size + " bytes for " + what);
        }
        LIVE_BYTES.addAndGet(size);
        LIVE_COUNT.incrementAndGet();
        return new DeviceBuffer(p, size, "device buffer (" + size + " bytes) for " + what);
    }

    /** Allocates room for {@code count} floats. */
    public static DeviceBuffer floats(long count, String what) {
        return allocate(Math.multiplyExact(count, 4L), what);
    }

    /** The device address (not dereferenceable on the host). */
    public Pointer pointer() {
        ensureOpen();
        return pointer;
    }

    /** The device address as a float pointer starting at element {@code offset}. */
    public FloatPointer floatsAt(long offset) {
        ensureOpen();
        if (offset < 0 || offset * 4 > bytes) {
            throw new IndexOutOfBoundsException("float offset " + offset + " outside " + what());
        }
        return new FloatPointer(pointer).position(offset);
    }

    public long bytes() {
        return bytes;
    }

    /** Bytes of device memory held by open buffers in this JVM (leak tests). */
    public static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** Open buffers in this JVM (leak tests). */
    public static long liveCount() {
        return LIVE_COUNT.get();
    }

    /** The free action: holds the address and size, never the buffer. */
    private static void free(Pointer pointer, long bytes) {
        cudart.cudaFree(pointer);
        pointer.setNull();
        LIVE_BYTES.addAndGet(-bytes);
        LIVE_COUNT.decrementAndGet();
    }
}
