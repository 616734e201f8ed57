package io.jrnn.backend.cuda;

import io.jrnn.NativeResources;

/**
 * Base of every CUDA-side handle jrnn owns (device memory, pinned memory, a stream and its
 * handles): exactly one owner, {@link #close()} releases it once and a second close is harmless,
 * and use after close throws {@link IllegalStateException} naming what was used. A resource
 * garbage-collected without close is freed by {@link NativeResources}' cleaner, with a warning: the
 * free action given to the constructor must not reference the resource itself. Closing is
 * thread-safe; using one resource from several threads at once is up to its owner (executors are
 * per stream and serialise their calls).
 */
abstract class CudaResource implements AutoCloseable {
    private final String what;
    private volatile boolean closed;
    private final NativeResources.Registration registration;

    /** {@code free} releases the native handle (once); it must not reference this resource. */
    CudaResource(String what, Runnable free) {
        this.what = what;
        this.registration = NativeResources.register(this, free);
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

    @Override
    public final synchronized void close() {
        if (!closed) {
            closed = true;
            registration.close();
        }
    }
}
