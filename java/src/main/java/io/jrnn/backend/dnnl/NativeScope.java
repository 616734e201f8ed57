package io.jrnn.backend.dnnl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * Owns native resources and releases them in reverse order of acquisition. Closing keeps going
 * after a failure (later failures are added as suppressed) and closing twice is harmless.
 *
 * <p>Thread-safe: registering and closing may happen from several threads (plans are compiled
 * concurrently); no lock is held while releases run. A {@link #child() child} scope (a shape
 * plan's) is closed with its parent unless it was closed first, in which case it leaves its parent.
 * Release actions never reference the executor that owns the scope, so a scope can be the
 * {@link io.jrnn.NativeResources} cleaning action of that executor.
 */
final class NativeScope implements AutoCloseable {
    private final Deque<Runnable> releases = new ArrayDeque<>();
    private final NativeScope parent;
    /** This scope's entry in its parent (closes this scope when the parent closes first). */
    private final Runnable closeFromParent;

    NativeScope() {
        this(null);
    }

    private NativeScope(NativeScope parent) {
        this.parent = parent;
        this.closeFromParent = this::close;
    }

    /** A scope closed with this one (first) unless it is closed before; then it leaves this scope. */
    NativeScope child() {
        NativeScope child = new NativeScope(this);
        defer(child.closeFromParent);
        return child;
    }

    /** Registers a JavaCPP pointer (its memory is freed on close). */
    <P extends Pointer> P own(P pointer) {
        defer(pointer::close);
        return pointer;
    }

    /** Registers a release action (a {@code dnnl_*_destroy} call). */
    synchronized void defer(Runnable release) {
        releases.push(release);
    }

    private synchronized void forget(Runnable release) {
        releases.removeFirstOccurrence(release);
    }

    @Override
    public void close() {
        List<Runnable> pending;
        synchronized (this) {
            pending = new ArrayList<>(releases);
            releases.clear();
        }
        RuntimeException failure = null;
        for (Runnable release : pending) {
            try {
                release.run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (parent != null) {
            parent.forget(closeFromParent);
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
