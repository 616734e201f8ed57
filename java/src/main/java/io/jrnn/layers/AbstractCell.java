package io.jrnn.layers;

import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The base of jrnn's own cells: input and state validation, naming and closing, and a step over
 * plain arrays that {@link RNN} uses to avoid one native allocation per tensor per step. Cells are
 * pure Java (no native memory): closing only marks them closed, and any use after close throws
 * {@link IllegalStateException}. Other code implements {@link Cell} directly.
 */
public abstract class AbstractCell implements Cell {
    private static final Map<String, AtomicInteger> COUNTERS = new ConcurrentHashMap<>();

    private final String name;
    private boolean closed;

    AbstractCell(String name, String defaultPrefix) {
        this.name = name != null ? name
                : defaultPrefix + "_" + COUNTERS.computeIfAbsent(defaultPrefix, k -> new AtomicInteger()).incrementAndGet();
    }

    /** The cell's name (Keras's, when imported). */
    public String name() {
        return name;
    }

    @Override
    public final Tensor[] step(Tensor x, List<Tensor> states) {
        ensureOpen();
        if (x.rank() != 2) {
            throw new IllegalArgumentException(describe() + ": expected a step input of rank 2 [batch, features], got shape "
                    + Arrays.toString(x.shape()));
        }
        int batch = x.dim(0);
        float[][] s = stateArrays(states, batch);
        float[][] result = compute(x.toArray(), batch, x.dim(1), s);
        Tensor[] out = new Tensor[result.length];
        int[] sizes = stateSizes();
        out[0] = Tensor.of(result[0], batch, outputSize());
        for (int i = 1; i < result.length; i++) {
            out[i] = Tensor.of(result[i], batch, sizes[i - 1]);
        }
        return out;
    }

    /** Checks count and shapes of {@code states} ({@code [batch, width]} each) and copies them out. */
    final float[][] stateArrays(List<Tensor> states, int batch) {
        int[] sizes = stateSizes();
        if (states == null || states.size() != sizes.length) {
            throw new IllegalArgumentException(describe() + " has " + sizes.length + " state(s) but was passed "
                    + (states == null ? 0 : states.size()) + " state(s)");
        }
        float[][] s = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            int[] shape = states.get(i).shape();
            if (shape.length != 2 || shape[0] != batch || shape[1] != sizes[i]) {
                throw new IllegalArgumentException(describe() + ": state " + i + " must have shape [" + batch + ", "
                        + sizes[i] + "], got " + Arrays.toString(shape));
            }
            s[i] = states.get(i).toArray();
        }
        return s;
    }

    /**
     * One step over row-major arrays: {@code x [batch, features]}, one {@code [batch, width]} array
     * per state. Returns new arrays (the output, then the new states; the output array is never one
     * of the state arrays) and does not modify its arguments.
     */
    abstract float[][] compute(float[] x, int batch, int features, float[][] states);

    /**
     * The chain of built-in cells that computes this cell exactly over time on fused layers, or
     * {@code null} when there is none (see {@link RNN}).
     */
    List<StandardCell> fusedCells() {
        return null;
    }

    /** This cell's states ({@link #stateSizes()} order) → the fused chain's ({@code [h]} or {@code [h, c]} per cell, in chain order). */
    float[][] toFusedStates(float[][] states, int batch) {
        return states;
    }

    /** Inverse of {@link #toFusedStates}. */
    float[][] fromFusedStates(float[][] fused, int batch) {
        return fused;
    }

    /** Runs a step of any cell over arrays (jrnn cells directly, others through tensors). */
    static float[][] stepArrays(Cell cell, float[] x, int batch, int features, float[][] states) {
        if (cell instanceof AbstractCell own) {
            own.ensureOpen();
            return own.compute(x, batch, features, states);
        }
        int[] sizes = cell.stateSizes();
        Tensor[] in = new Tensor[states.length];
        Tensor xt = Tensor.of(x, batch, features);
        Tensor[] out = null;
        try {
            for (int i = 0; i < states.length; i++) {
                in[i] = Tensor.of(states[i], batch, sizes[i]);
            }
            out = cell.step(xt, List.of(in));
            if (out == null || out.length != sizes.length + 1) {
                throw new IllegalStateException(cell.typeName() + ": step returned " + (out == null ? 0 : out.length)
                        + " tensor(s), expected the output and " + sizes.length + " state(s)");
            }
            float[][] result = new float[out.length][];
            for (int i = 0; i < out.length; i++) {
                int width = i == 0 ? cell.outputSize() : sizes[i - 1];
                if (out[i].size() != (long) batch * width) {
                    throw new IllegalStateException(cell.typeName() + ": step returned " + Arrays.toString(out[i].shape())
                            + " as " + (i == 0 ? "output" : "state " + (i - 1)) + ", expected [" + batch + ", " + width + "]");
                }
                result[i] = out[i].toArray();
            }
            return result;
        } finally {
            xt.close();
            for (Tensor t : in) {
                if (t != null) {
                    t.close();
                }
            }
            if (out != null) {
                for (Tensor t : out) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
        }
    }

    /** Throws {@link IllegalStateException} when closed. */
    final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Marks the cell closed. Closing twice is harmless. */
    @Override
    public void close() {
        closed = true;
    }

    /** {@code "LSTMCell 'lstm_cell_1'"}, for messages. */
    String describe() {
        return typeName() + " '" + name + "'";
    }

    @Override
    public String toString() {
        return describe();
    }
}
