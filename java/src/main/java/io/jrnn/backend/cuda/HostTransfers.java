package io.jrnn.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * Moves a call's host tensors to and from the device on one executor's stream, by the strategy of
 * system property {@value #PROPERTY} (read at every call, so it can be switched at run time):
 *
 * <ul>
 *   <li>{@code staged}: copy into a pinned staging buffer, then one asynchronous DMA (and back:
 *       DMA into staging, wait, copy out). Pinned tensors are staged too (the old behaviour).
 *   <li>{@code chunked}: the same through staging, in chunks of {@value #CHUNK_PROPERTY} bytes
 *       (default 1 MiB) so the host copy of one chunk overlaps the DMA of the previous one.
 *   <li>{@code direct}: {@code cudaMemcpyAsync} straight from/to the tensor's pageable memory; the
 *       driver pipelines it through its own staging buffers.
 *   <li>{@code auto} (default): like {@code chunked} for pageable memory.
 * </ul>
 *
 * Under every strategy but {@code staged}, a tensor in page-locked memory from
 * {@link CudaBackend#pinnedTensor} is moved with one DMA and no copy. Not thread-safe: its executor
 * serialises calls; every call is {@link #begin}, uploads and downloads, {@link #finish}.
 */
final class HostTransfers implements AutoCloseable {
    /** System property naming the strategy. */
    static final String PROPERTY = "jrnn.cuda.transfer";
    /** System property: chunk size of {@code chunked} (and {@code auto}) transfers, in bytes. */
    static final String CHUNK_PROPERTY = "jrnn.cuda.transfer.chunkBytes";
    static final long DEFAULT_CHUNK_BYTES = 1L << 20;
    /** Smallest allowed chunk. */
    static final long MIN_CHUNK_BYTES = 4096;

    /** How the host side of a call's transfers is done. */
    enum Strategy {
        STAGED, CHUNKED, DIRECT, AUTO;

        final String label = name().toLowerCase(Locale.ROOT);

        /** Parses {@code staged|chunked|direct|auto} (case-insensitive, blank = auto). */
        static Strategy parse(String value) {
            if (value == null || value.isBlank()) {
                return AUTO;
            }
            for (Strategy s : values()) {
                if (s.label.equalsIgnoreCase(value.trim())) {
                    return s;
                }
            }
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a transfer strategy; expected "
                    + "one of staged, chunked, direct, auto");
        }
    }

    /** How one transfer goes. */
    enum Route {
        /** The host side is page-locked: one asynchronous DMA. */
        PINNED_DMA,
        /** Through the staging buffer in one piece. */
        STAGED,
        /** Through the staging buffer in chunks, copies overlapping DMAs. */
        CHUNKED,
        /** {@code cudaMemcpyAsync} on pageable memory (the driver stages it). */
        PAGEABLE
    }

    private static volatile String cachedValue;
    private static volatile Strategy cachedStrategy = Strategy.AUTO;

    /** The strategy {@value #PROPERTY} names now. */
    static Strategy current() {
        String value = System.getProperty(PROPERTY);
        if (value == null) {
            return Strategy.AUTO;
        }
        if (!value.equals(cachedValue)) {
            Strategy s = Strategy.parse(value);
            cachedStrategy = s;
            cachedValue = value;
            return s;
        }
        return cachedStrategy;
    }

    /** The chunk size {@value #CHUNK_PROPERTY} names (default 1 MiB, at least 4 KiB). */
    static long chunkBytes() {
        String value = System.getProperty(CHUNK_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_CHUNK_BYTES;
        }
        long bytes;
        try {
            bytes = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + CHUNK_PROPERTY + "=" + value + " is not a byte count", e);
        }
        if (bytes < MIN_CHUNK_BYTES) {
            throw new IllegalArgumentException("-D" + CHUNK_PROPERTY + "=" + value + ": expected at least "
                    + MIN_CHUNK_BYTES + " bytes");
        }
        return bytes;
    }

    /** The route of one transfer of {@code bytes} whose host side is ({@code pinned}) or is not page-locked. */
    static Route route(Strategy strategy, boolean pinned, long bytes, long chunkBytes) {
        if (strategy == Strategy.STAGED) {
            return Route.STAGED;
        }
        if (pinned) {
            return Route.PINNED_DMA;
        }
        return switch (strategy) {
            case DIRECT -> Route.PAGEABLE;
            case CHUNKED, AUTO -> bytes > chunkBytes ? Route.CHUNKED : Route.STAGED;
            default -> throw new IllegalStateException(strategy.label);
        };
    }

    /** The number of pieces a staged transfer of {@code bytes} is cut into (at least 1). */
    static int chunkCount(Route route, long bytes, long chunkBytes) {
        if (route != Route.CHUNKED || bytes <= chunkBytes) {
            return 1;
        }
        return Math.toIntExact((bytes + chunkBytes - 1) / chunkBytes);
    }

    private final GpuStream stream;
    private final String what;
    private final long inCapacity;
    private final long outCapacity;
    private PinnedBuffer stagingIn;
    private PinnedBuffer stagingOut;
    private final List<CUevent_st> events = new ArrayList<>();
    private int eventsUsed;
    /** Pending staged downloads of this call: event index, staging address, host address, bytes. */
    private int[] pendingEvent = new int[8];
    private long[] pendingFrom = new long[8];
    private long[] pendingTo = new long[8];
    private long[] pendingBytes = new long[8];
    private int pending;
    private Strategy strategy = Strategy.AUTO;
    private long chunk = DEFAULT_CHUNK_BYTES;
    private boolean open = true;
    /** Reused address holders: no JavaCPP object per transfer. */
    private final Address a = new Address();
    private final Address b = new Address();

    /** Nothing is allocated until a staged transfer needs its staging buffer. */
    HostTransfers(GpuStream stream, String what, long inCapacity, long outCapacity) {
        this.stream = stream;
        this.what = what;
        this.inCapacity = inCapacity;
        this.outCapacity = outCapacity;
    }

    /** Starts a call under {@code s}; the previous call must have {@link #finish finished}. */
    void begin(Strategy s) {
        ensureOpen();
        strategy = s;
        chunk = s == Strategy.CHUNKED || s == Strategy.AUTO ? chunkBytes() : DEFAULT_CHUNK_BYTES;
        eventsUsed = 0;
        pending = 0;
    }

    Strategy strategy() {
        return strategy;
    }

    /**
     * Queues host → device: {@code bytes} at host address {@code host} to device address
     * {@code device}; {@code stagingOffset} is where it sits in the input staging buffer (regions of
     * one call must not overlap). The host memory may be reused once this returns, except for a
     * {@link Route#PINNED_DMA}, which reads it until {@link #finish}.
     */
    Route upload(long host, long device, long bytes, long stagingOffset) {
        Route r = route(strategy, PinnedHost.covers(host, bytes), bytes, chunk);
        switch (r) {
            case PINNED_DMA, PAGEABLE -> stream.upload(a.at(host), b.at(device), bytes);
            case STAGED, CHUNKED -> {
                long staging = DeviceAddress.of(stagingIn().pointer()) + checkRegion(stagingOffset, bytes, inCapacity);
                long piece = r == Route.CHUNKED ? chunk : bytes;
                for (long done = 0; done < bytes; done += piece) {
                    long n = Math.min(piece, bytes - done);
                    Pointer.memcpy(a.at(staging + done), b.at(host + done), n);
                    stream.upload(a.at(staging + done), b.at(device + done), n);
                }
            }
            default -> throw new IllegalStateException(r.name());
        }
        return r;
    }

    /**
     * Queues device → host: {@code bytes} at {@code device} into host address {@code host}, which
     * holds them after {@link #finish}; {@code stagingOffset} as for {@link #upload}.
     */
    Route download(long device, long host, long bytes, long stagingOffset) {
        Route r = route(strategy, PinnedHost.covers(host, bytes), bytes, chunk);
        switch (r) {
            case PINNED_DMA, PAGEABLE -> stream.download(a.at(device), b.at(host), bytes);
            case STAGED, CHUNKED -> {
                long staging = DeviceAddress.of(stagingOut().pointer()) + checkRegion(stagingOffset, bytes, outCapacity);
                long piece = r == Route.CHUNKED ? chunk : bytes;
                for (long done = 0; done < bytes; done += piece) {
                    long n = Math.min(piece, bytes - done);
                    stream.download(a.at(device + done), b.at(staging + done), n);
                    int ev = recordEvent();
                    addPending(ev, staging + done, host + done, n);
                }
            }
            default -> throw new IllegalStateException(r.name());
        }
        return r;
    }

    /**
     * Waits for the call's work: each staged piece is copied out as soon as its DMA is done (while
     * later pieces are still in flight), then the stream is synchronised once.
     */
    void finish() {
        for (int i = 0; i < pending; i++) {
            CudaCheck.cuda(cudart.cudaEventSynchronize(events.get(pendingEvent[i])), "cudaEventSynchronize (" + what
                    + " download)");
            Pointer.memcpy(a.at(pendingTo[i]), b.at(pendingFrom[i]), pendingBytes[i]);
        }
        pending = 0;
        stream.sync();
    }

    /** Waits for everything queued, ignoring failures (after an error: nothing may still read user memory). */
    void drain() {
        pending = 0;
        try {
            if (!stream.isClosed()) {
                cudart.cudaStreamSynchronize(stream.stream());
            }
        } catch (RuntimeException ignored) {
            // best effort
        }
    }

    private static long checkRegion(long offset, long bytes, long capacity) {
        if (offset < 0 || bytes < 0 || offset + bytes > capacity) {
            throw new IllegalArgumentException("staging region [" + offset + ", " + (offset + bytes)
                    + ") outside a " + capacity + "-byte staging buffer");
        }
        return offset;
    }

    private PinnedBuffer stagingIn() {
        if (stagingIn == null) {
            stagingIn = PinnedBuffer.allocate(inCapacity, what + " input staging");
        }
        return stagingIn;
    }

    private PinnedBuffer stagingOut() {
        if (stagingOut == null) {
            stagingOut = PinnedBuffer.allocate(outCapacity, what + " output staging");
        }
        return stagingOut;
    }

    private int recordEvent() {
        if (eventsUsed == events.size()) {
            CUevent_st e = new CUevent_st();
            CudaCheck.cuda(cudart.cudaEventCreateWithFlags(e, cudart.cudaEventDisableTiming),
                    "cudaEventCreateWithFlags(" + what + ")");
            events.add(e);
        }
        int index = eventsUsed++;
        CudaCheck.cuda(cudart.cudaEventRecord(events.get(index), stream.stream()), "cudaEventRecord(" + what + ")");
        return index;
    }

    private void addPending(int event, long from, long to, long bytes) {
        if (pending == pendingEvent.length) {
            int n = pending * 2;
            pendingEvent = Arrays.copyOf(pendingEvent, n);
            pendingFrom = Arrays.copyOf(pendingFrom, n);
            pendingTo = Arrays.copyOf(pendingTo, n);
            pendingBytes = Arrays.copyOf(pendingBytes, n);
        }
        pendingEvent[pending] = event;
        pendingFrom[pending] = from;
        pendingTo[pending] = to;
        pendingBytes[pending] = bytes;
        pending++;
    }

    private void ensureOpen() {
        if (!open) {
            throw new IllegalStateException("The host transfers of " + what + " were used after close");
        }
    }

    /** Frees the staging buffers and events; closing twice is harmless. */
    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        for (CUevent_st e : events) {
            cudart.cudaEventDestroy(e);
        }
        events.clear();
        if (stagingIn != null) {
            stagingIn.close();
        }
        if (stagingOut != null) {
            stagingOut.close();
        }
    }

    /** A {@code void*} whose address is set per use (position 0, owns nothing). */
    private static final class Address extends Pointer {
        Address at(long target) {
            this.address = target;
            return this;
        }
    }
}
