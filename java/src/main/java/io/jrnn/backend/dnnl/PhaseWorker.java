package io.jrnn.backend.dnnl;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A daemon worker thread that runs its share of each phase a caller publishes, for the batch-1
 * Java step ({@link JavaRecurrentStep}: a phase is a time step, a share a range of units) and the
 * batch split ({@link BatchSplit}: a phase is a call, a share a part of the batch).
 *
 * <p>The caller publishes phase {@code p} (its owner's counter, {@link #phase()}), {@link #wake}s
 * the worker, runs its own share, then for each worker either {@link #claim}s the worker's share and
 * runs it itself (the worker has not started: asleep, or not on a core yet) or waits for it
 * ({@link #awaitDone}). Both the worker and the caller claim, so a worker that wakes late never
 * holds a phase up and never runs a share twice. Between phases the worker spins for
 * {@code spinNanos}, then parks until woken.
 */
abstract class PhaseWorker implements Runnable {
    final Thread thread;
    /** The last phase whose share this worker finished. */
    volatile int done;
    /** The last phase whose share someone (this worker or the caller) took. */
    private final AtomicInteger claimed = new AtomicInteger();
    private volatile boolean parked;
    private volatile Throwable failure;
    private final long spinNanos;

    PhaseWorker(String name, long spinNanos) {
        this.spinNanos = spinNanos;
        this.thread = new Thread(this, name);
        thread.setDaemon(true);
    }

    /** The phase the owner published last (a volatile read). */
    abstract int phase();

    /** Whether the owner was closed: the worker ends. */
    abstract boolean closed();

    /** Tests: a latch the worker waits on before it takes a share, or {@code null}. */
    abstract CountDownLatch hold();

    /** Runs this worker's share of the current phase. */
    abstract void work();

    /** Runs once on the worker thread before the first phase. */
    void started() {
    }

    @Override
    public final void run() {
        started();
        // Phase 0 is the state at construction: a phase published before this thread first runs must
        // still be seen as new (reading phase() here instead lost that phase and deadlocked).
        int seen = 0;
        while (true) {
            int p = next(seen);
            if (p == seen) {
                return;
            }
            seen = p;
            CountDownLatch hold = hold();
            if (hold != null) {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (!claim(p)) {
                continue; // the caller ran this share
            }
            try {
                work();
            } catch (Throwable e) {
                failure = e;
            }
            done = p;
        }
    }

    /** Unparks the worker if it is parked (after the owner published a phase). */
    final void wake() {
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Takes this worker's share of phase {@code p}; false when it was taken for {@code p} (or a later
     * phase) already. Phases wrap around, so "later" is a signed difference.
     */
    final boolean claim(int p) {
        int c = claimed.get();
        return p - c > 0 && claimed.compareAndSet(c, p);
    }

    /**
     * Waits until the worker has finished phase {@code p} and returns what its share threw
     * ({@code null}: nothing), clearing it.
     *
     * @throws IllegalStateException when the owner is closed while waiting
     */
    final Throwable awaitDone(int p) {
        int spins = 0;
        while (done != p) {
            if (closed()) {
                throw new IllegalStateException(thread.getName() + ": closed during a call");
            }
            if (++spins < 4096) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        Throwable f = failure;
        failure = null;
        return f;
    }

    /** The next phase after {@code seen}, or {@code seen} once closed. */
    private int next(int seen) {
        long start = System.nanoTime();
        int spins = 0;
        while (true) {
            int p = phase();
            if (p != seen) {
                return p;
            }
            if (closed()) {
                return seen;
            }
            if ((++spins & 255) != 0 || System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
                continue;
            }
            parked = true;
            if (phase() == seen && !closed()) {
                LockSupport.park(this);
            }
            parked = false;
            start = System.nanoTime();
        }
    }
}
