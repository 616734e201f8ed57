package io.jrnn.backend.dnnl;

import io.jrnn.layers.Activation;
import java.nio.FloatBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The composed path's per-step work at small batches done in plain Java: the recurrent product
 * {@code h[N, H] · R[H, G·H]} and the gate pass fused into one pass per hidden-unit range, for
 * LSTM and GRU {@code reset_after=true} (fp32; SimpleRNN's 256 KiB step at H = 256 was faster as a
 * oneDNN matmul). At batch ≤ {@link #MAX_BATCH} a step is a
 * matrix-vector product bound by reading {@code R}: a oneDNN matmul call per step costs its call
 * overhead, the copies of {@code h} in and of the product out, and a separate gate pass; here the
 * product is a saxpy over rows of {@code R} (four rows per pass, one {@code float[]} per row so the
 * loads and the accumulator share one index, which C2 auto-vectorises with AVX-512), followed at
 * once by the gates of the same units. In a JVM started with {@code --add-modules
 * jdk.incubator.vector} ({@link #VECTOR}) the product runs on the Vector API instead
 * ({@link VectorProduct}: accumulators in registers, the panel in column blocks): 5.0 against
 * 7.4 µs for a 0.5 MiB half panel read from L2 (two threads at H = 256) in a probe. Both make the same fused multiply-adds;
 * on odd steps the scalar product takes its row groups in reverse (its cache trick), the vector one
 * its column blocks, so only the scalar one's sums change order from step to step.
 *
 * <p>Threads: the hidden units are split into {@link #chunks} ranges (multiples of 16 units); each
 * range owns its columns of {@code R} (all gate blocks of its units) as its own panel, so with two
 * threads each core reads only its half of the weights (its own L2). The caller runs range 0;
 * ranges 1.. run on worker threads owned by this object, started once and ended by {@link #close}.
 * Workers spin briefly between steps, then park; a range whose worker has not started by the time
 * the caller has finished its own is run by the caller ({@link PhaseWorker#claim}): a parked worker
 * woke up to 0.3 ms late at the first step of a call (after the input projection, on oneDNN's
 * threads). Only one call at a time uses the workers (a call
 * that finds them busy runs every range itself); per-call scratch is the caller's ({@link Scratch}).
 *
 * <p>Built with the input kernel ({@link #projects}; on the Vector API with two or more threads by
 * default), each range also computes its own columns of the input projection before the first step
 * ({@link #project}, {@link VectorProduct#project}), on the same threads, so a call runs no oneDNN
 * primitive and leaves no OpenMP thread spinning on a core a worker needs.
 *
 * <p>Holds no reference to its executor, so an unclosed executor can still be collected (its
 * cleaner closes this).
 */
final class JavaRecurrentStep implements AutoCloseable {
    /** The largest batch that runs its step in Java. */
    static final int MAX_BATCH = 4;
    /** Unit ranges are multiples of this (one AVX-512 vector of floats). */
    static final int GRAIN = 16;
    /** How long a worker spins for the next step before it parks, in ns. */
    private static final long SPIN_NANOS = 200_000;

    enum Kind {
        LSTM(4), GRU_RESET_AFTER(3);

        final int gates;

        Kind(int gates) {
            this.gates = gates;
        }
    }

    private final Kind kind;
    private final int hidden;
    private final Activation sigma;
    private final Activation phi;
    private final Chunk[] chunks;
    private final Worker[] workers;
    /** The input size {@code C} when this step also computes the input projection ({@link #projects}); else 0. */
    private final int inputSize;
    private final ReentrantLock workersLock = new ReentrantLock();
    /** The step the workers run next; written before {@link #phase}. */
    private Task current;
    private volatile int phase;
    private volatile boolean closed;
    /** Worker ranges the caller ran itself (written only by the call holding {@link #workersLock}). */
    private volatile long rangesTakenOver;
    /** Tests: while set, workers wait on it before they take a step, so the caller runs their ranges. */
    private volatile CountDownLatch holdWorkersForTests;

    /** One range of hidden units with its panel of {@code R} (and of the GRU recurrent bias). */
    private static final class Chunk {
        final int from;
        final int width;
        /** {@code [H][G·width]}: row i holds the columns of every gate block for these units; null on the Vector API. */
        final float[][] panel;
        /** On the Vector API: the same columns in {@link VectorProduct#pack blocks}; else null. */
        final float[] packed;
        /** The accumulators' length: {@code G·width}, rounded up to whole blocks on the Vector API. */
        final int accWidth;
        /** GRU reset_after: {@code b_h} for these columns; else null. */
        final float[] bias;
        /** With the {@link #projects input projection}: these columns of the input kernel, packed like {@link #packed}; else null. */
        final float[] inputPacked;
        /** With the input projection: the input bias of these columns, {@link #accWidth} long; else null. */
        final float[] inputBias;

        Chunk(int from, int width, float[][] panel, float[] packed, int accWidth, float[] bias, float[] inputPacked,
                float[] inputBias) {
            this.from = from;
            this.width = width;
            this.panel = panel;
            this.packed = packed;
            this.accWidth = accWidth;
            this.bias = bias;
            this.inputPacked = inputPacked;
            this.inputBias = inputBias;
        }
    }

    /** Per-call scratch for one unit range (owned by a shape plan, so concurrent calls never share it). */
    static final class Scratch {
        final float[][] acc;
        final float[][] x;
        final float[] tmp;
        /** With the input projection: this range's columns of it, {@code [N·T][gateWidth]}; else null. */
        final float[] projected;

        Scratch(int batch, int gateWidth, int width, int projectedRows) {
            this.acc = new float[batch][gateWidth];
            this.x = new float[batch][gateWidth];
            this.tmp = new float[width];
            this.projected = projectedRows > 0 ? new float[projectedRows * gateWidth] : null;
        }
    }

    /** The state of one call, read by every range; the caller fills it. */
    static final class Task {
        final Scratch[] scratch;
        final int batch;
        final int steps;
        /** With the input projection: the call's input {@code [N, T, C]}, which the caller fills; else null. */
        final float[] input;
        /** Set while {@link #project} runs: the ranges compute their projection instead of a step. */
        boolean projecting;
        /** Without the input projection: oneDNN's, {@code [N·T, G·H]}. */
        FloatBuffer projected;
        float[] h;
        float[] next;
        float[] c;
        boolean[] valid;
        int t;

        Task(JavaRecurrentStep owner, int batch, int steps) {
            this.batch = batch;
            this.steps = steps;
            this.scratch = new Scratch[owner.chunks.length];
            boolean projects = owner.projects();
            this.input = projects ? new float[batch * steps * owner.inputSize] : null;
            for (int i = 0; i < scratch.length; i++) {
                Chunk k = owner.chunks[i];
                scratch[i] = new Scratch(batch, k.accWidth, k.width, projects ? batch * steps : 0);
            }
        }
    }

    /**
     * @param recurrentKernel Keras's {@code [H, G·H]} row-major recurrent kernel
     * @param recurrentBias GRU reset_after: {@code b_h [3H]}; else null
     * @param threads unit ranges to split into (at most one per {@link #GRAIN} units)
     * @param vector the product on the Vector API ({@link VectorProduct}); only where {@link #VECTOR}
     */
    JavaRecurrentStep(Kind kind, int hidden, Activation sigma, Activation phi, float[] recurrentKernel,
            float[] recurrentBias, int threads, boolean vector, String threadName) {
        this(kind, hidden, sigma, phi, recurrentKernel, recurrentBias, null, null, 0, threads, vector, threadName);
    }

    /**
     * A step that also computes the input projection ({@link #project}) when {@code inputKernel} is
     * given: each unit range multiplies the input by its own columns of the kernel, on the Vector API.
     *
     * @param inputKernel Keras's {@code [C, G·H]} row-major kernel, or null: the caller supplies the
     *     projection ({@link Task#projected})
     * @param inputBias the input bias {@code [G·H]} (with {@code inputKernel})
     * @param inputSize {@code C} (with {@code inputKernel})
     */
    JavaRecurrentStep(Kind kind, int hidden, Activation sigma, Activation phi, float[] recurrentKernel,
            float[] recurrentBias, float[] inputKernel, float[] inputBias, int inputSize, int threads, boolean vector,
            String threadName) {
        if (inputKernel != null && !vector) {
            throw new IllegalArgumentException("the Java input projection runs on the Vector API only");
        }
        if (inputKernel != null && (inputSize < 1 || inputKernel.length != inputSize * kind.gates * hidden
                || inputBias == null || inputBias.length != kind.gates * hidden)) {
            throw new IllegalArgumentException("input kernel of " + inputKernel.length + " floats and bias of "
                    + (inputBias == null ? "none" : inputBias.length + " floats") + " do not fit C = " + inputSize
                    + ", " + kind.gates + " gates of " + hidden + " units");
        }
        this.inputSize = inputKernel != null ? inputSize : 0;
        if (vector && !VECTOR) {
            throw new IllegalArgumentException("the Vector API product needs a JVM started with --add-modules "
                    + "jdk.incubator.vector (and " + VECTOR_PROPERTY + " not false)");
        }
        this.kind = kind;
        this.hidden = hidden;
        this.sigma = sigma;
        this.phi = phi;
        int g = kind.gates;
        int width = Math.max(GRAIN, (hidden + threads - 1) / threads + GRAIN - 1) / GRAIN * GRAIN;
        int count = (hidden + width - 1) / width;
        this.chunks = new Chunk[count];
        int gh = g * hidden;
        for (int i = 0; i < count; i++) {
            int from = i * width;
            int w = Math.min(width, hidden - from);
            float[][] panel = null;
            float[] packed = null;
            int accWidth = g * w;
            if (vector) {
                packed = VectorProduct.pack(recurrentKernel, hidden, hidden, g, from, w);
                accWidth = VectorProduct.padded(g * w);
            } else {
                panel = new float[hidden][g * w];
                for (int r = 0; r < hidden; r++) {
                    for (int b = 0; b < g; b++) {
                        System.arraycopy(recurrentKernel, r * gh + b * hidden + from, panel[r], b * w, w);
                    }
                }
            }
            float[] bias = null;
            if (recurrentBias != null) {
                bias = new float[g * w];
                for (int b = 0; b < g; b++) {
                    System.arraycopy(recurrentBias, b * hidden + from, bias, b * w, w);
                }
            }
            float[] inputPacked = null;
            float[] inputColumns = null;
            if (inputKernel != null) {
                inputPacked = VectorProduct.pack(inputKernel, inputSize, hidden, g, from, w);
                inputColumns = new float[accWidth];
                for (int b = 0; b < g; b++) {
                    System.arraycopy(inputBias, b * hidden + from, inputColumns, b * w, w);
                }
            }
            chunks[i] = new Chunk(from, w, panel, packed, accWidth, bias, inputPacked, inputColumns);
        }
        this.workers = new Worker[count - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1, threadName + "-" + (i + 1));
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /** Whether the product runs on the Vector API. */
    boolean vector() {
        return chunks[0].packed != null;
    }

    /** Whether this step computes the input projection too ({@link #project}). */
    boolean projects() {
        return inputSize > 0;
    }

    /** Worker ranges the calling thread ran itself because their worker had not started the step. */
    long rangesTakenOver() {
        return rangesTakenOver;
    }

    /** Tests: workers wait on {@code latch} (null: no more) before they take a step. */
    void holdWorkersForTests(CountDownLatch latch) {
        holdWorkersForTests = latch;
    }

    /** Unit ranges (1: the caller does all). */
    int chunks() {
        return chunks.length;
    }

    /** Worker threads alive, for tests. */
    int liveWorkers() {
        int n = 0;
        for (Worker w : workers) {
            n += w.thread.isAlive() ? 1 : 0;
        }
        return n;
    }

    /** Worker threads, for tests. */
    Thread[] workerThreads() {
        Thread[] out = new Thread[workers.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = workers[i].thread;
        }
        return out;
    }

    Task task(int batch, int steps) {
        if (batch < 1 || batch > MAX_BATCH) {
            throw new IllegalArgumentException("Java recurrent step runs batch 1.." + MAX_BATCH + ", got " + batch);
        }
        return new Task(this, batch, steps);
    }

    /** Takes the workers for one call; false (run every range on the caller) when another call has them. */
    boolean acquireWorkers() {
        return workers.length > 0 && !closed && workersLock.tryLock();
    }

    void releaseWorkers() {
        current = null;
        workersLock.unlock();
    }

    /**
     * The input projection of every step, {@code x · K + b} from {@code task.input}: each unit range
     * computes its own columns on the thread that runs its steps, before the first step (only where
     * {@link #projects}). Then no oneDNN call runs in a Java-step call, so no OpenMP thread
     * spins on a core the step's workers need.
     */
    void project(Task task, boolean parallel) {
        if (!projects()) {
            throw new IllegalStateException("this Java step takes the input projection from its caller");
        }
        task.projecting = true;
        try {
            step(task, parallel);
        } finally {
            task.projecting = false;
        }
    }

    /** One step: {@code task.next} (and {@code task.c}) from {@code task.h} at input step {@code task.t}. */
    void step(Task task, boolean parallel) {
        if (!parallel) {
            for (int i = 0; i < chunks.length; i++) {
                run(chunks[i], task.scratch[i], task);
            }
            return;
        }
        current = task;
        int p = phase + 1;
        phase = p;
        for (Worker w : workers) {
            w.wake();
        }
        run(chunks[0], task.scratch[0], task);
        for (Worker w : workers) {
            if (w.claim(p)) {
                // The worker has not started this step (asleep, or not yet on a core): run its range here
                // rather than wait for it.
                run(chunks[w.index], task.scratch[w.index], task);
                rangesTakenOver++;
                continue;
            }
            Throwable failure = w.awaitDone(p);
            if (failure != null) {
                throw new IllegalStateException("Java recurrent step failed on " + w.thread.getName(), failure);
            }
        }
    }

    private void run(Chunk k, Scratch s, Task task) {
        int n = task.batch;
        int w = k.width;
        int gw = kind.gates * w;
        int from = k.from;
        int h = hidden;
        int pw = kind.gates * h;
        if (task.projecting) {
            VectorProduct.project(task.input, n * task.steps, inputSize, k.inputPacked, k.inputBias, k.accWidth,
                    s.projected);
            return;
        }
        FloatBuffer xp = task.projected;
        // Accumulators start at the input projection (LSTM) or at b_h (GRU: x kept apart).
        for (int b = 0; b < n; b++) {
            float[] dst = kind == Kind.GRU_RESET_AFTER ? s.x[b] : s.acc[b];
            if (s.projected != null) {
                // This range's own columns, already in the accumulators' order.
                System.arraycopy(s.projected, (b * task.steps + task.t) * k.accWidth, dst, 0, gw);
            } else {
                int base = (b * task.steps + task.t) * pw + from;
                for (int g = 0; g < kind.gates; g++) {
                    xp.get(base + g * h, dst, g * w, w);
                }
            }
            if (kind == Kind.GRU_RESET_AFTER) {
                System.arraycopy(k.bias, 0, s.acc[b], 0, gw);
            }
        }
        boolean backwards = (task.t & 1) != 0;
        if (k.packed != null) {
            VectorProduct.product(k.packed, h, k.accWidth, task.h, n, s.acc, backwards);
        } else {
            product(k.panel, task.h, s.acc, n, gw, backwards);
        }
        float[] state = task.h;
        float[] next = task.next;
        float[] tmp = s.tmp;
        boolean[] valid = task.valid;
        for (int b = 0; b < n; b++) {
            int off = b * h + from;
            if (valid != null && !valid[b * task.steps + task.t]) {
                System.arraycopy(state, off, next, off, w);
                continue;
            }
            float[] a = s.acc[b];
            switch (kind) {
                case LSTM -> ComposedActivations.lstmCell(sigma, phi, a, w, task.c, next, off, tmp);
                case GRU_RESET_AFTER -> ComposedActivations.gruResetAfterCell(sigma, phi, s.x[b], a, 0, null, w, state,
                        next, off, tmp);
            }
        }
    }

    /**
     * {@code acc[b][0..gw) += h[b, :] · panel}: four rows of the panel per pass over the accumulators,
     * as fused multiply-adds where the JVM has them ({@link #FMA}). Groups of rows go forwards on even steps and backwards on odd ones: a
     * panel about the size of the core's L2 read in the same order every step misses all of it (the
     * oldest rows, evicted, are the next needed); alternating, the rows read last are still there.
     */
    private void product(float[][] panel, float[] h, float[][] acc, int n, int gw, boolean backwards) {
        int rows = hidden;
        int groups = rows / 4;
        for (int q = 0; q < groups; q++) {
            int i = 4 * (backwards ? groups - 1 - q : q);
            float[] r0 = panel[i];
            float[] r1 = panel[i + 1];
            float[] r2 = panel[i + 2];
            float[] r3 = panel[i + 3];
            for (int b = 0; b < n; b++) {
                int hb = b * rows + i;
                if (FMA) {
                    rowGroupFma(acc[b], r0, r1, r2, r3, h[hb], h[hb + 1], h[hb + 2], h[hb + 3], gw);
                } else {
                    rowGroup(acc[b], r0, r1, r2, r3, h[hb], h[hb + 1], h[hb + 2], h[hb + 3], gw);
                }
            }
        }
        for (int i = 4 * groups; i < rows; i++) {
            float[] r = panel[i];
            for (int b = 0; b < n; b++) {
                float hi = h[b * rows + i];
                float[] a = acc[b];
                for (int j = 0; j < gw; j++) {
                    a[j] += hi * r[j];
                }
            }
        }
    }

    /**
     * Whether the JVM compiles {@link Math#fma} to the CPU's instruction ({@code -XX:+UseFMA}, the
     * default where the CPU has FMA3); without it {@code Math.fma} falls back to exact arithmetic in
     * software, hundreds of times slower than a multiply and an add.
     */
    static final boolean FMA = hotSpotFlag("UseFMA");

    /** The property that turns the {@link VectorProduct} off ({@code -Djrnn.composed.vectorProduct=false}). */
    static final String VECTOR_PROPERTY = DnnlBackend.VECTOR_PRODUCT_PROPERTY;

    /**
     * Whether the product runs on the Vector API ({@link VectorProduct}): the JVM was started with
     * {@code --add-modules jdk.incubator.vector} ({@code jrnn bench}'s child JVMs are; the {@code ./jrnn}
     * launcher adds it only through {@code JRNN_JAVA_OPTS}), has FMA, its
     * preferred vectors hold at least 8 floats, and {@link #VECTOR_PROPERTY} is not false.
     */
    static final boolean VECTOR = vectorAvailable();

    private static boolean vectorAvailable() {
        if (!FMA || "false".equalsIgnoreCase(System.getProperty(VECTOR_PROPERTY))
                || ModuleLayer.boot().findModule(DnnlBackend.VECTOR_MODULE).isEmpty()) {
            return false;
        }
        try {
            return VectorProduct.LANES >= 8;
        } catch (LinkageError e) {
            return false;
        }
    }

    static boolean hotSpotFlag(String name) {
        try {
            return Boolean.parseBoolean(java.lang.management.ManagementFactory
                    .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption(name).getValue());
        } catch (RuntimeException | LinkageError e) {
            return false; // not HotSpot, or no such flag on this platform: plain multiply-adds
        }
    }

    /** {@code a += h0·r0 + h1·r1 + h2·r2 + h3·r3} as fused multiply-adds. */
    static void rowGroupFma(float[] a, float[] r0, float[] r1, float[] r2, float[] r3, float h0, float h1,
            float h2, float h3, int gw) {
        for (int j = 0; j < gw; j++) {
            a[j] = Math.fma(h3, r3[j], Math.fma(h2, r2[j], Math.fma(h1, r1[j], Math.fma(h0, r0[j], a[j]))));
        }
    }

    /** {@code a += h0·r0 + h1·r1 + h2·r2 + h3·r3} with separate multiplies and adds (no FMA unit). */
    static void rowGroup(float[] a, float[] r0, float[] r1, float[] r2, float[] r3, float h0, float h1,
            float h2, float h3, int gw) {
        for (int j = 0; j < gw; j++) {
            a[j] += h0 * r0[j] + h1 * r1[j] + h2 * r2[j] + h3 * r3[j];
        }
    }

    /** Ends the worker threads (waits for them briefly); idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
        for (Worker w : workers) {
            if (w.thread != Thread.currentThread()) {
                try {
                    w.thread.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private final class Worker extends PhaseWorker {
        /** The index of this worker's unit range in {@link #chunks}. */
        final int index;

        Worker(int index, String name) {
            super(name, SPIN_NANOS);
            this.index = index;
        }

        @Override
        int phase() {
            return phase;
        }

        @Override
        boolean closed() {
            return closed;
        }

        @Override
        CountDownLatch hold() {
            return holdWorkersForTests;
        }

        @Override
        void work() {
            Task task = current;
            if (task != null) {
                JavaRecurrentStep.this.run(chunks[index], task.scratch[index], task);
            }
        }
    }
}
