package io.jrnn.backend.cuda;

import io.jrnn.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One executor's pool of page-locked ({@code cudaMallocHost}) blocks for its output tensors: the
 * device → host copy of an output is then one DMA straight into the tensor, with no staging copy,
 * and the tensor is {@link CudaBackend#isPinned pinned} (the next GPU layer uploads it without
 * staging). Blocks are keyed by exact byte size. A tensor's block goes back to the pool when the
 * tensor is closed (or collected); its deallocator references only the pool, never the executor
 * or the tensor. Once the pool is closed (its executor closed), returned blocks are freed instead;
 * blocks still held by tensors stay valid until then.
 *
 * <p>Bounds: at most {@value #MAX_IDLE_PER_SIZE} idle blocks per size and {@link #MAX_IDLE_BYTES}
 * idle bytes per pool; no block above {@link #MAX_BLOCK_BYTES}; and at most
 * {@link #MAX_TOTAL_BYTES} of pinned-output memory JVM-wide (blocks held by tensors plus idle
 * ones). Where a bound or the driver refuses, {@link #tensor} returns null and the caller uses
 * ordinary pageable memory. Thread-safe (blocks come back from any thread, the cleaner's included).
 * Switch off with {@code -D}{@value #PROPERTY}{@code =false}.
 */
final class PinnedOutputPool implements AutoCloseable {
    /** System property: {@code true} (default) or {@code false}; read at every call. */
    static final String PROPERTY = "jrnn.cuda.pinnedOutputs";
    static final long MAX_BLOCK_BYTES = 64L << 20;
    static final int MAX_IDLE_PER_SIZE = 4;
    static final long MAX_IDLE_BYTES = 256L << 20;
    static final long MAX_TOTAL_BYTES = 1L << 30;

    /** Whether {@value #PROPERTY} asks for pinned outputs now (default true). */
    static boolean enabled() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return true;
        }
        if (value.trim().equalsIgnoreCase("true")) {
            return true;
        }
        if (value.trim().equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected true or false");
    }

    /** Page-locked memory: allocate returns the address, or 0 when it cannot (nothing to clean up then). */
    interface Allocator {
        long allocate(long bytes);

        void free(long address);
    }

    /** The CUDA allocator: {@code cudaMallocHost} / {@code cudaFreeHost}. */
    static final Allocator CUDA = new Allocator() {
        @Override
        public long allocate(long bytes) {
            Pointer p = new Pointer();
            int st = cudart.cudaMallocHost(p, bytes);
            if (st != cudart.cudaSuccess) {
                cudart.cudaGetLastError();
                return 0;
            }
            return p.address();
        }

        @Override
        public void free(long address) {
            cudart.cudaFreeHost(new Pointer() {
                {
                    this.address = address;
                }
            });
        }
    };

    /** A JVM-wide cap on allocated pinned-output bytes (tests use their own). */
    static final class Budget {
        private final long limit;
        private final AtomicLong allocated = new AtomicLong();

        Budget(long limit) {
            this.limit = limit;
        }

        boolean tryReserve(long bytes) {
            while (true) {
                long now = allocated.get();
                if (now + bytes > limit) {
                    return false;
                }
                if (allocated.compareAndSet(now, now + bytes)) {
                    return true;
                }
            }
        }

        void release(long bytes) {
            allocated.addAndGet(-bytes);
        }

        long allocated() {
            return allocated.get();
        }
    }

    static final Budget JVM_BUDGET = new Budget(MAX_TOTAL_BYTES);

    /** Pinned-output bytes allocated in this JVM (held by tensors or idle in pools; leak tests). */
    static long liveBytes() {
        return JVM_BUDGET.allocated();
    }

    private final Allocator allocator;
    private final Budget budget;
    private final boolean registerRanges;
    private final long maxBlockBytes;
    private final int maxIdlePerSize;
    private final long maxIdleBytes;
    private final Map<Long, ArrayDeque<Long>> idle = new HashMap<>();
    private long idleBytes;
    private int outstanding;
    private long outstandingBytes;
    private boolean closed;

    /** A pool on CUDA with the default bounds, its blocks registered as pinned host memory. */
    PinnedOutputPool() {
        this(CUDA, JVM_BUDGET, true, MAX_BLOCK_BYTES, MAX_IDLE_PER_SIZE, MAX_IDLE_BYTES);
    }

    PinnedOutputPool(Allocator allocator, Budget budget, boolean registerRanges, long maxBlockBytes,
            int maxIdlePerSize, long maxIdleBytes) {
        this.allocator = allocator;
        this.budget = budget;
        this.registerRanges = registerRanges;
        this.maxBlockBytes = maxBlockBytes;
        this.maxIdlePerSize = maxIdlePerSize;
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * A block of {@code bytes}, from the idle ones or newly allocated; 0 when bounds or the driver
     * refuse (use pageable memory then). Every non-zero block must be {@link #release released} once.
     */
    long acquire(long bytes) {
        if (bytes <= 0 || bytes > maxBlockBytes) {
            return 0;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("pinned output pool used after close");
            }
            ArrayDeque<Long> q = idle.get(bytes);
            if (q != null && !q.isEmpty()) {
                long address = q.pop();
                idleBytes -= bytes;
                outstanding++;
                outstandingBytes += bytes;
                return address;
            }
        }
        if (!budget.tryReserve(bytes)) {
            return 0;
        }
        long address;
        try {
            address = allocator.allocate(bytes);
        } catch (RuntimeException | Error e) {
            budget.release(bytes);
            throw e;
        }
        if (address == 0) {
            budget.release(bytes);
            return 0;
        }
        synchronized (this) {
            outstanding++;
            outstandingBytes += bytes;
        }
        return address;
    }

    /** Takes a block back: kept idle within the bounds while the pool is open, freed otherwise. */
    void release(long address, long bytes) {
        boolean keep;
        synchronized (this) {
            outstanding--;
            outstandingBytes -= bytes;
            ArrayDeque<Long> q = idle.get(bytes);
            int idleOfSize = q == null ? 0 : q.size();
            keep = !closed && idleOfSize < maxIdlePerSize && idleBytes + bytes <= maxIdleBytes;
            if (keep) {
                idle.computeIfAbsent(bytes, k -> new ArrayDeque<>()).push(address);
                idleBytes += bytes;
            }
        }
        if (!keep) {
            free(address, bytes);
        }
    }

    private void free(long address, long bytes) {
        try {
            allocator.free(address);
        } finally {
            budget.release(bytes);
        }
    }

    /** An uninitialised output tensor: a pooled pinned block when {@code pinned} and the pool can, else pageable. */
    Tensor tensorOrPageable(boolean pinned, int... shape) {
        Tensor t = pinned ? tensor(shape) : null;
        return t != null ? t : Tensor.uninitialized(shape);
    }

    /**
     * An uninitialised tensor of {@code shape} in a pooled block, or null where the pool cannot give
     * one (then the caller allocates pageable memory). Closing the tensor returns the block.
     */
    Tensor tensor(int... shape) {
        long count = 1;
        for (int d : shape) {
            count = Math.multiplyExact(count, d);
        }
        long bytes = Math.max(1, count) * Float.BYTES;
        long address = acquire(bytes);
        if (address == 0) {
            return null;
        }
        PooledFloats memory;
        try {
            memory = new PooledFloats(this, address, bytes);
        } catch (RuntimeException | Error e) {
            release(address, bytes);
            throw e;
        }
        try {
            return Tensor.adopt(memory, shape);
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    synchronized int idleBlocks() {
        int n = 0;
        for (ArrayDeque<Long> q : idle.values()) {
            n += q.size();
        }
        return n;
    }

    synchronized long idleBytes() {
        return idleBytes;
    }

    synchronized int outstandingBlocks() {
        return outstanding;
    }

    synchronized long outstandingBytes() {
        return outstandingBytes;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Frees the idle blocks; blocks held by tensors are freed when those come back. Twice is harmless. */
    @Override
    public void close() {
        List<long[]> toFree = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Map.Entry<Long, ArrayDeque<Long>> e : idle.entrySet()) {
                for (long address : e.getValue()) {
                    toFree.add(new long[] {address, e.getKey()});
                }
            }
            idle.clear();
            idleBytes = 0;
        }
        RuntimeException failure = null;
        for (long[] block : toFree) {
            try {
                free(block[0], block[1]);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Floats in a pooled block; closing gives the block back to the pool, once. No JavaCPP
     * deallocator is registered: registering one reads the process's resident set size
     * ({@code Pointer.physicalBytes()}) on every output tensor, several microseconds per call on a
     * GPU host. The tensor that adopts this pointer closes it, and its {@link io.jrnn.NativeResources}
     * registration does so if the tensor is collected unclosed; the close action holds only the pool.
     */
    private static final class PooledFloats extends FloatPointer {
        private final PinnedOutputPool pool;
        private final long start;
        private final long bytes;
        private final java.util.concurrent.atomic.AtomicBoolean returned = new java.util.concurrent.atomic.AtomicBoolean();

        PooledFloats(PinnedOutputPool pool, long start, long bytes) {
            this.pool = pool;
            this.start = start;
            this.bytes = bytes;
            this.address = start;
            this.capacity = bytes / Float.BYTES;
            this.limit = this.capacity;
            if (pool.registerRanges) {
                PinnedHost.register(start, bytes);
            }
        }

        @Override
        public void close() {
            deallocate();
        }

        @Override
        public void deallocate() {
            if (returned.compareAndSet(false, true)) {
                address = 0;
                if (pool.registerRanges) {
                    PinnedHost.unregister(start);
                }
                pool.release(start, bytes);
            }
        }
    }
}
