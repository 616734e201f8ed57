package io.jrnn.backend.dnnl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;

/**
 * Runs a batch as parts on separate Java threads, each part on one OpenMP thread
 * ({@link OpenMpThreads}), instead of one oneDNN call whose OpenMP threads share every time step.
 * The rows of a batch never interact, so each part is the same computation on fewer rows; a part
 * reads its rows of the caller's input and states and writes its rows of the outputs in place.
 *
 * <p>Used by {@link DnnlRecurrentExecutor} (one layer, or a stack on one primitive: every layer's
 * weights count), {@link DnnlBidirectionalExecutor} (both directions in one primitive: both
 * directions' weights count) and {@link RowSplitExecutor} (the composed path, by copying rows).
 *
 * <p>Why: with small weights a step's matrix products are short, and an OpenMP primitive meets its
 * threads at a barrier several times a step. Measured with two threads (2-vCPU Zen 4, probe with
 * interleaved blocks, one-primitive time ÷ split time, median of 21 rounds):
 * <pre>
 * (H, N, T, C)          lstm        lbr_gru     vanilla     gru_forward
 * (128, 16, 50, 64)     1.15        1.11        1.34
 * (128, 32, 50, 64)     1.08–1.12   1.20–1.97   1.80–2.34   1.22
 * (128, 64, 50, 64)     1.34        1.29
 * (256, 32, 50, 256)    1.03        1.09
 * (256, 64, 25, 256)                                        1.02
 * (512, 32, 25, 512)    1.03        1.02        1.04
 * (512, 64, 25, 512)    1.02        0.99        1.06
 * (1024, 64, 25, 1024)  0.99        0.79
 * bf16 (128, 32, 50, 64) 1.22       1.03        1.42
 * </pre>
 * (The first rows were measured with a probe that set the OpenMP counts itself; the (128, 32) ranges
 * include this class's own runs. Where the whole batch runs lbr_gru or vanilla with {@code ldigo}
 * weights, oneDNN's reference implementation, its parts of fewer than
 * {@link WeightFormat#PLAIN_FROM_BATCH} rows run {@code any} weights and brgemm, which is part of
 * the gain.)
 * Each part reads all the weights, so large weights lose (both threads stream them from memory); the
 * rule ({@link #parts}) splits only up to {@link #MAX_WEIGHT_BYTES}. Only two threads were measured
 * (this project's machines have two cores); with more, a batch splits into one part per thread as
 * long as every part keeps {@link #MIN_PART_ROWS} rows.
 *
 * <p>One process-wide set of worker threads (the OpenMP thread count minus one, daemon threads that
 * set their own OpenMP count to 1 once): a call takes them with {@link #tryAcquire} (a call that
 * finds them busy runs unsplit), runs part 0 on the calling thread (its OpenMP count set to 1 for
 * the call, then restored) and the others on workers; a part whose worker has not started by the
 * time the caller has finished its own runs on the caller instead ({@link PhaseWorker#claim}). Workers
 * spin for {@link #SPIN_NANOS} after a part, then park.
 *
 * <p>Off: {@code -Djrnn.dnnl.batchSplit=false}; also off where {@link OpenMpThreads} is unavailable
 * or idle OpenMP threads spin long ({@link OpenMpWaiting#idleThreadsSleepSoon()}: they would take
 * the cores the parts need).
 */
final class BatchSplit {
    /** {@code -Djrnn.dnnl.batchSplit=false} turns the split off. */
    static final String PROPERTY = "jrnn.dnnl.batchSplit";
    /** Both weight matrices in fp32 ({@code G·H·(C + H)·4} bytes) up to this split. */
    static final long MAX_WEIGHT_BYTES = 2L << 20;
    /** Every part has at least this many rows. */
    static final int MIN_PART_ROWS = 4;
    /** How long a worker spins for the next part before it parks, in ns (about GOMP_SPINCOUNT=10000). */
    private static final long SPIN_NANOS = 100_000;

    private static volatile BatchSplit shared;

    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    /** The parts of the current call; written before {@link #phase}. */
    private Runnable[] current;
    private volatile int phase;
    /** Parts the caller ran itself because their worker had not started (for tests). */
    private final AtomicInteger partsTakenOver = new AtomicInteger();
    /** Tests: while set, workers wait on it before they take a part, so the caller runs their parts. */
    private volatile CountDownLatch holdWorkersForTests;

    private BatchSplit(int workerCount) {
        workers = new Worker[workerCount];
        for (int i = 0; i < workerCount; i++) {
            workers[i] = new Worker(i + 1);
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /** Whether {@code -Djrnn.dnnl.batchSplit} leaves the split on (anything but {@code false}). */
    static boolean enabledByProperty() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /** Both weight matrices of one direction in fp32: {@code G·H·(C + H)·4} bytes. */
    static long weightBytes(RnnPrimitive kind, int inputSize, int units) {
        return (long) kind.gateCount * units * ((long) inputSize + units) * Float.BYTES;
    }

    /**
     * How many parts a call of {@code batch} rows runs as with {@code threads} OpenMP threads, for
     * a primitive (or composed layer) that reads {@code weightBytes} of weights, counted in fp32 also
     * for bf16 ({@link #weightBytes}; times the layers of a stack or the two directions of a
     * bidirectional primitive): 1 (no split) unless they are at most {@link #MAX_WEIGHT_BYTES} and at
     * least two parts of {@link #MIN_PART_ROWS} rows fit; then {@code min(threads, batch / MIN_PART_ROWS)}.
     * bf16 takes the same rule (measured 1.03–1.42 at (128, 32, 50, 64)).
     */
    static int parts(long weightBytes, int batch, int threads) {
        if (threads < 2 || weightBytes > MAX_WEIGHT_BYTES) {
            return 1;
        }
        return Math.max(1, Math.min(threads, batch / MIN_PART_ROWS));
    }

    /** Rows of part {@code i} of {@code parts} over {@code batch} rows: the first {@code batch % parts} parts take one more. */
    static int rows(int batch, int parts, int i) {
        return batch / parts + (i < batch % parts ? 1 : 0);
    }

    /** The first row of part {@code i}. */
    static int firstRow(int batch, int parts, int i) {
        return i * (batch / parts) + Math.min(i, batch % parts);
    }

    /** Why this process does not split batches ({@link #offReason(boolean, int, boolean, String)}), or {@code null}. */
    private static final String OFF_REASON = offReason(enabledByProperty(), WeightFormat.THREADS,
            OpenMpWaiting.idleThreadsSleepSoon(), OpenMpThreads.unavailableReason());

    /** Why this process does not split batches, or {@code null} when it does (for {@code describe()}). */
    static String offReason() {
        return OFF_REASON;
    }

    /**
     * Why batches do not split with these settings, or {@code null} when they do.
     *
     * @param enabled            {@code -Djrnn.dnnl.batchSplit} is not {@code false}
     * @param threads            the OpenMP thread count
     * @param idleThreadsSleepSoon idle OpenMP threads sleep within about 0.1 ms ({@link OpenMpWaiting})
     * @param openMpUnavailable  {@link OpenMpThreads#unavailableReason()}
     */
    static String offReason(boolean enabled, int threads, boolean idleThreadsSleepSoon, String openMpUnavailable) {
        if (!enabled) {
            return "-D" + PROPERTY + "=false";
        }
        if (threads < 2) {
            return "one OpenMP thread";
        }
        if (!idleThreadsSleepSoon) {
            return "idle OpenMP threads spin over " + OpenMpWaiting.BRIEF_SPINS
                    + " times (OMP_WAIT_POLICY, GOMP_SPINCOUNT) and would hold the cores the parts need";
        }
        return openMpUnavailable;
    }

    /** For {@code describe()}: whether and when batches split here. */
    static String describe() {
        return OFF_REASON == null
                ? "batch split on (layers, fused or composed, stack and bidirectional primitives with at most "
                        + (MAX_WEIGHT_BYTES >> 20) + " MiB of fp32 weights: one part of at least " + MIN_PART_ROWS
                        + " rows per thread, one OpenMP thread each)"
                : "batch split off (" + OFF_REASON + ")";
    }

    /** The process's workers, created on first use; {@code null} when {@link #offReason()} says why not. */
    static BatchSplit shared() {
        BatchSplit s = shared;
        if (s != null || OFF_REASON != null) {
            return s;
        }
        synchronized (BatchSplit.class) {
            if (shared == null) {
                shared = new BatchSplit(WeightFormat.THREADS - 1);
            }
            return shared;
        }
    }

    /**
     * Which workers an executor's calls split over: the process's ({@link #shared()}), unless a test
     * chose others or none ({@link #overrideForTests}).
     */
    static final class Choice {
        private volatile BatchSplit override;
        private volatile boolean overridden;

        /** The workers for the next call, or {@code null}: run whole. */
        BatchSplit workers() {
            return overridden ? override : shared();
        }

        /** Tests: {@code split}'s workers whatever this process's settings; {@code null}: never split. */
        void overrideForTests(BatchSplit split) {
            override = split;
            overridden = true;
        }
    }

    /** Tests: a set of {@code workers} workers of its own, whatever this process's settings (needs {@link OpenMpThreads}). */
    static BatchSplit forTests(int workers) {
        if (!OpenMpThreads.available()) {
            throw new IllegalStateException(OpenMpThreads.unavailableReason());
        }
        return new BatchSplit(workers);
    }

    /** What an execution path adds for a split call: {@code ", batch split: 2 parts of 16 rows on 2 threads, …"}. */
    static String pathSuffix(int batch, int parts) {
        int least = rows(batch, parts, parts - 1);
        return ", batch split: " + parts + " parts of " + least + (batch % parts == 0 ? "" : "-" + rows(batch, parts, 0))
                + " rows on " + parts + " threads, one OpenMP thread each";
    }

    /**
     * Runs a {@code batch}-row call as {@code parts} parts ({@link #run}; the caller holds the workers),
     * each on a plan of its own checked out of {@code plans} under {@code keyOfRows.apply(rows)}:
     * {@code body.accept(plan, firstRow)} runs part's rows in place. The plans go back to the pool
     * afterwards, also on failure. Returns the execution path: part 0's plan's ({@code path}) with
     * {@link #pathSuffix}.
     */
    <K, P extends ShapeCache.Plan> String runOnPlans(ShapeCache<K, P> plans, IntFunction<K> keyOfRows,
            Function<P, String> path, int batch, int parts, ObjIntConsumer<P> body) {
        List<ShapeCache<K, P>.Lease> leases = new ArrayList<>(parts);
        try {
            Runnable[] tasks = new Runnable[parts];
            for (int i = 0; i < parts; i++) {
                ShapeCache<K, P>.Lease lease = plans.acquire(keyOfRows.apply(rows(batch, parts, i)));
                leases.add(lease);
                P plan = lease.plan();
                int firstRow = firstRow(batch, parts, i);
                tasks[i] = () -> body.accept(plan, firstRow);
            }
            run(tasks);
            return path.apply(leases.get(0).plan()) + pathSuffix(batch, parts);
        } finally {
            for (ShapeCache<K, P>.Lease lease : leases) {
                lease.close();
            }
        }
    }

    /** Takes the workers for one call; false when another call has them (that call then runs unsplit). */
    boolean tryAcquire() {
        return lock.tryLock();
    }

    void release() {
        current = null;
        lock.unlock();
    }

    /** Worker threads. */
    int workers() {
        return workers.length;
    }

    /** Tests: workers wait on {@code latch} (null: no more) before they take a part. */
    void holdWorkersForTests(CountDownLatch latch) {
        holdWorkersForTests = latch;
    }

    /** Parts the caller ran itself because their worker had not started. */
    int partsTakenOver() {
        return partsTakenOver.get();
    }

    /**
     * Runs {@code parts} (at most {@link #workers()} + 1; the caller holds the workers through
     * {@link #tryAcquire}): part 0 on this thread with its OpenMP count set to 1 for the call, the
     * others on workers. Returns once every part has finished, also when one failed; the first
     * failure is then rethrown (wrapped when it came from a worker).
     */
    void run(Runnable[] parts) {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("BatchSplit.run without tryAcquire");
        }
        if (parts.length < 1 || parts.length > workers.length + 1) {
            throw new IllegalArgumentException("BatchSplit runs 1.." + (workers.length + 1) + " parts, got " + parts.length);
        }
        int previous = OpenMpThreads.set(1);
        Throwable failure = null;
        try {
            current = parts;
            int p = phase + 1;
            phase = p;
            for (int i = 1; i < parts.length; i++) {
                workers[i - 1].wake();
            }
            try {
                parts[0].run();
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            for (int i = 1; i < parts.length; i++) {
                Worker w = workers[i - 1];
                if (w.claim(p)) {
                    // Its worker has not started (asleep, or not on a core yet): run the part here.
                    partsTakenOver.incrementAndGet();
                    try {
                        parts[i].run();
                    } catch (RuntimeException | Error e) {
                        failure = failure != null ? failure : e;
                    }
                    continue;
                }
                Throwable f = w.awaitDone(p);
                if (f != null && failure == null) {
                    failure = new IllegalStateException("batch part " + i + " failed on " + w.thread.getName(), f);
                }
            }
        } finally {
            OpenMpThreads.set(previous);
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    private final class Worker extends PhaseWorker {
        /** The part this worker runs. */
        final int index;

        Worker(int index) {
            super("jrnn-batch-split-" + index, SPIN_NANOS);
            this.index = index;
        }

        @Override
        void started() {
            OpenMpThreads.set(1);
        }

        @Override
        int phase() {
            return phase;
        }

        @Override
        boolean closed() {
            return false; // the process's workers live as long as the process
        }

        @Override
        CountDownLatch hold() {
            return holdWorkersForTests;
        }

        @Override
        void work() {
            Runnable[] parts = current;
            if (parts != null && index < parts.length) {
                parts[index].run();
            }
        }
    }
}
