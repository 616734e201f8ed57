package io.jrnn.backend.dnnl;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts an executor's calls in flight without a lock, so that {@link #close} can wait for them:
 * once closed, new calls are refused, and the release runs when the last call in flight leaves
 * (at once when none is). Calls never wait on each other here.
 */
final class CallGate {
    private static final int CLOSED = Integer.MIN_VALUE;

    /** Calls in flight, with the sign bit set once closed. */
    private final AtomicInteger state = new AtomicInteger();
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile Runnable release;

    /** Enters a call; throws {@link IllegalStateException} ({@code closedMessage}) once closed. */
    void enter(String closedMessage) {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(closedMessage);
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** Leaves a call; the last one out after {@link #close} runs the release. */
    void exit() {
        if (state.decrementAndGet() == CLOSED) {
            runRelease();
        }
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Refuses new calls and runs {@code release} now, or when the calls in flight have left. Idempotent. */
    void close(Runnable release) {
        this.release = release;
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    runRelease();
                }
                return;
            }
        }
    }

    private void runRelease() {
        if (released.compareAndSet(false, true)) {
            release.run();
        }
    }
}
