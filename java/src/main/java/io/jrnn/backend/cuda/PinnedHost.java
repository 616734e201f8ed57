package io.jrnn.backend.cuda;

import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked ({@code cudaMallocHost}) host memory handed out as {@link Tensor}s, and the registry
 * of such allocations: a transfer from or to a registered range is a plain asynchronous DMA with no
 * staging copy. The registry is a lookup by address (no driver call), so it is cheap per call.
 */
final class PinnedHost {
    /** Start address → end address (exclusive) of every live pinned tensor allocation. */
    private static final ConcurrentSkipListMap<Long, Long> RANGES = new ConcurrentSkipListMap<>();
    private static final AtomicLong LIVE_BYTES = new AtomicLong();
    private static final AtomicLong LIVE_COUNT = new AtomicLong();

    private PinnedHost() {
    }

    /** Whether {@code [address, address + bytes)} lies inside one live pinned allocation made here. */
    static boolean covers(long address, long bytes) {
        if (address == 0) {
            return false;
        }
        Map.Entry<Long, Long> e = RANGES.floorEntry(address);
        return e != null && address + bytes <= e.getValue();
    }

    /** Registers page-locked memory allocated elsewhere (pooled outputs) as pinned: DMA without staging. */
    static void register(long address, long bytes) {
        RANGES.put(address, address + bytes);
    }

    /** Removes a range {@link #register registered} before; its memory is no longer a tensor's. */
    static void unregister(long address) {
        RANGES.remove(address);
    }

    /** Whether the whole of {@code t}'s memory is pinned memory from {@link #tensor} or a pooled output. */
    static boolean isPinned(Tensor t) {
        return covers(t.pointer().address(), t.size() * Float.BYTES);
    }

    /** Bytes of live pinned tensors (leak tests). */
    static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** Live pinned tensors (leak tests). */
    static long liveCount() {
        return LIVE_COUNT.get();
    }

    /**
     * An uninitialised tensor in page-locked memory; closing it (or its garbage collection) frees
     * the memory with {@code cudaFreeHost}.
     */
    static Tensor tensor(int... shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Tensor shape must not be negative, got " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        long bytes = Math.max(1, count) * Float.BYTES;
        Pointer p = new Pointer();
        int st = cudart.cudaMallocHost(p, bytes);
        if (st != cudart.cudaSuccess) {
            cudart.cudaGetLastError();
            String what = "pinned tensor " + Arrays.toString(shape);
            if (st == cudart.cudaErrorMemoryAllocation) {
                throw new CudaOutOfMemoryException("cudaMallocHost", st, CudaCheck.cudaText(st), bytes, what);
            }
            CudaCheck.cuda(st, "cudaMallocHost of " + bytes + " bytes for " + what);
        }
        PinnedFloats memory = new PinnedFloats(p.address(), bytes);
        try {
            return Tensor.adopt(memory, shape);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** Frees one allocation (the deallocator; runs once, on close or after garbage collection). */
    private static void free(long address, long bytes) {
        RANGES.remove(address);
        LIVE_BYTES.addAndGet(-bytes);
        LIVE_COUNT.decrementAndGet();
        cudart.cudaFreeHost(new Pointer() {
            {
                this.address = address;
            }
        });
    }

    /** Floats in pinned memory whose JavaCPP deallocator is {@code cudaFreeHost}. */
    private static final class PinnedFloats extends FloatPointer {
        PinnedFloats(long start, long bytes) {
            this.address = start;
            this.capacity = bytes / Float.BYTES;
            this.limit = this.capacity;
            RANGES.put(start, start + bytes);
            LIVE_BYTES.addAndGet(bytes);
            LIVE_COUNT.incrementAndGet();
            deallocator(new Free(start, bytes));
        }

        /** Holds only the address (a deallocator must not reference its pointer). */
        private record Free(long address, long bytes) implements Deallocator {
            @Override
            public void deallocate() {
                PinnedHost.free(address, bytes);
            }
        }
    }
}
