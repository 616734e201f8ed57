package io.jrnn.backend.dnnl;

import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.javacpp.Pointer;

/**
 * Owns native resources and releases them in reverse order of acquisition. Closing keeps going
 * after a failure (later failures are added as suppressed) and closing twice is harmless.
 */
final class NativeScope implements AutoCloseable {
    private final Deque<Runnable> releases = new ArrayDeque<>();

    /** Registers a JavaCPP pointer (its memory is freed on close). */
    <P extends Pointer> P own(P pointer) {
        releases.push(pointer::close);
        return pointer;
    }

    /** Registers a release action (a {@code dnnl_*_destroy} call). */
    void defer(Runnable release) {
        releases.push(release);
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        while (!releases.isEmpty()) {
            try {
                releases.pop().run();
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

    /** Closes after {@code cause} was thrown, attaching any release failure to it. */
    void closeAfter(Throwable cause) {
        try {
            close();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
