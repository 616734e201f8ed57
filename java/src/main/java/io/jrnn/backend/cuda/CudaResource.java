package io.jrnn.backend.cuda;

/**
 * Base of every CUDA-side handle jrnn owns (device memory, pinned memory, a stream and its
 * handles): exactly one owner, {@link #close()} releases it once and a second close is harmless,
 * and use after close throws {@link IllegalStateException} naming what was used.
 */
abstract class CudaResource implements AutoCloseable {
    private final String what;
    private volatile boolean closed;

    CudaResource(String what) {
        this.what = what;
    }

    /** What this resource holds, for messages, e.g. {@code "device buffer (4096 bytes) for LSTM 'lstm' weights"}. */
    public String what() {
        return what;
    }

    final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("The " + what + " was used after it was closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Frees the native handle; called at most once. */
    abstract void release();

    @Override
    public final synchronized void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }
}
