package io.jrnn.backend.dnnl;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import java.util.Arrays;

/**
 * The batch split ({@link BatchSplit}) for an executor that cannot write rows of a larger batch in
 * place: the composed path of layers no fused primitive expresses (hard_sigmoid gates, other
 * activations). Each part gets a copy of its rows of the input and initial states, runs the inner
 * executor's ordinary call on its own thread (one OpenMP thread), and its outputs are copied into
 * the whole batch's. The copies cost little next to the call: at (128, 32, 50, 64) they move 1.2 MB
 * against a call of about 2.5 ms.
 *
 * <p>Measured (2 threads, hard_sigmoid, probe with pre-sliced inputs, one call ÷ two halves,
 * median of 21 interleaved rounds): LSTM 1.32 at (128, 32, 50, 64), 1.35 at (128, 16, 50, 64),
 * 1.26 at (128, 64, 25, 128); GRU reset_before 1.42 at (128, 32, 50, 64).
 *
 * <p>Masked calls (other than all-valid masks) run whole. Thread safety and closing are the inner
 * executor's.
 */
final class RowSplitExecutor implements RecurrentExecutor {
    private final RecurrentExecutor inner;
    /** The weights the inner executor reads per call, in fp32 bytes. */
    private final long weightBytes;
    /** The batch split's workers for this executor's calls. */
    private final BatchSplit.Choice splits = new BatchSplit.Choice();
    private volatile String executionPath;
    private volatile boolean closed;

    RowSplitExecutor(RecurrentExecutor inner, long weightBytes) {
        this.inner = inner;
        this.weightBytes = weightBytes;
        this.executionPath = inner.executionPath();
    }

    /** The executor whose calls the parts run. */
    RecurrentExecutor inner() {
        return inner;
    }

    /** How many parts a call of {@code batch} rows runs as with {@code threads} threads. */
    int splitParts(int batch, int threads) {
        return BatchSplit.parts(weightBytes, batch, threads);
    }

    /** Tests: split batches over {@code split}'s workers whatever this process's settings; {@code null}: never split. */
    void batchSplitForTests(BatchSplit split) {
        splits.overrideForTests(split);
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        BatchSplit split = splits.workers();
        int n = input.shape().length == 3 ? input.shape()[0] : 0;
        int parts = split != null && !closed && rowsAgree(initialStates, n) ? splitParts(n, split.workers() + 1) : 1;
        if (parts < 2 || !split.tryAcquire()) {
            Tensor[] out = inner.run(input, initialStates);
            executionPath = inner.executionPath();
            return out;
        }
        try {
            return runSplit(split, parts, input, initialStates, n);
        } finally {
            split.release();
        }
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (mask == null || mask.allValid()) {
            return run(input, initialStates);
        }
        Tensor[] out = inner.run(input, initialStates, mask);
        executionPath = inner.executionPath();
        return out;
    }

    private Tensor[] runSplit(BatchSplit split, int parts, Tensor input, Tensor[] initialStates, int n) {
        Tensor[][] partInputs = new Tensor[parts][];
        Tensor[][] partOutputs = new Tensor[parts][];
        Tensor[] result = null;
        boolean done = false;
        try {
            Runnable[] tasks = new Runnable[parts];
            for (int i = 0; i < parts; i++) {
                int first = BatchSplit.firstRow(n, parts, i);
                int rows = BatchSplit.rows(n, parts, i);
                Tensor[] in = new Tensor[1 + (initialStates == null ? 0 : initialStates.length)];
                partInputs[i] = in;
                in[0] = rows(input, first, rows);
                for (int s = 1; s < in.length; s++) {
                    in[s] = rows(initialStates[s - 1], first, rows);
                }
                int part = i;
                tasks[i] = () -> partOutputs[part] = inner.run(in[0],
                        initialStates == null ? null : Arrays.copyOfRange(in, 1, in.length));
            }
            split.run(tasks);
            Tensor[] first = partOutputs[0];
            result = new Tensor[first.length];
            for (int o = 0; o < first.length; o++) {
                int[] shape = first[o].shape().clone();
                shape[0] = n;
                result[o] = Tensor.uninitialized(shape);
                int rowSize = Arrays.stream(shape).skip(1).reduce(1, (a, b) -> a * b);
                for (int i = 0; i < parts; i++) {
                    result[o].view().put(BatchSplit.firstRow(n, parts, i) * rowSize, partOutputs[i][o].view(), 0,
                            BatchSplit.rows(n, parts, i) * rowSize);
                }
            }
            executionPath = inner.executionPath() + BatchSplit.pathSuffix(n, parts);
            done = true;
            return result;
        } finally {
            for (Tensor[] group : partInputs) {
                Dnnl.closeAll(group);
            }
            for (Tensor[] group : partOutputs) {
                Dnnl.closeAll(group);
            }
            if (!done) {
                Dnnl.closeAll(result);
            }
        }
    }

    /** Whether every initial state has {@code n} rows (else the inner executor's call names the error). */
    private static boolean rowsAgree(Tensor[] initialStates, int n) {
        if (initialStates == null) {
            return true;
        }
        for (Tensor s : initialStates) {
            if (s == null || s.shape().length != 2 || s.shape()[0] != n) {
                return false;
            }
        }
        return true;
    }

    /** A copy of rows {@code first … first + count − 1} of {@code t} (first axis). */
    private static Tensor rows(Tensor t, int first, int count) {
        int[] shape = t.shape().clone();
        int rowSize = Arrays.stream(shape).skip(1).reduce(1, (a, b) -> a * b);
        shape[0] = count;
        Tensor part = Tensor.uninitialized(shape);
        part.view().put(0, t.view(), first * rowSize, count * rowSize);
        return part;
    }

    @Override
    public String executionPath() {
        return executionPath;
    }

    @Override
    public void close() {
        closed = true;
        inner.close();
    }
}
