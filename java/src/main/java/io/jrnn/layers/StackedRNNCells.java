package io.jrnn.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras {@code StackedRNNCells} (spec §2.8): cells applied in list order inside each time step
 * ({@code x → c1 → c2 → …}); the output is the last cell's output. Owns its cells: closing the
 * stack closes them.
 *
 * <p>The flat state list is the cells' states concatenated in cell order, each cell's own order
 * kept: for two LSTMCells {@code [h1, c1, h2, c2]}. That is Keras 2.2.3+ and tf.keras with
 * {@code reverse_state_order=False} (their default), and Keras 3's nested
 * {@code [[h1, c1], [h2, c2]]} flattened. With {@link Builder#reverseStateOrder(boolean)} the cells
 * are listed last first, each cell's own order kept: {@code [h2, c2, h1, c1]}, the Keras
 * 2.1.0–2.2.2 order (and Keras 2.2.3+'s {@code reverse_state_order=True}). Initial states and
 * returned states of an {@link RNN} over the stack use the same order; {@link #stateIndex} maps a
 * (cell, state) pair to its flat position.
 */
public final class StackedRNNCells extends AbstractCell {
    private final List<Cell> cells;
    private final boolean reverseStateOrder;

    private StackedRNNCells(Builder b) {
        super(b.name, "stacked_rnn_cells");
        if (b.cells.isEmpty()) {
            throw new IllegalArgumentException("StackedRNNCells: expected at least one cell, got none");
        }
        for (int i = 0; i < b.cells.size(); i++) {
            if (b.cells.get(i) == null) {
                throw new IllegalArgumentException("StackedRNNCells: cell " + i + " is null");
            }
        }
        this.cells = List.copyOf(b.cells);
        this.reverseStateOrder = b.reverseStateOrder;
    }

    /** A stack with the natural (Keras 2.2.3+, tf.keras, Keras 3) state order. */
    public static StackedRNNCells of(Cell... cells) {
        Builder b = builder();
        for (Cell c : cells) {
            b.add(c);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "StackedRNNCells";
    }

    /** The cells, in application order. */
    public List<Cell> cells() {
        return cells;
    }

    /** Whether the flat state list lists the cells last first (Keras 2.1.0–2.2.2). */
    public boolean reverseStateOrder() {
        return reverseStateOrder;
    }

    /** Cell indices in the order their states appear in the flat list. */
    private int[] stateCellOrder() {
        int[] order = new int[cells.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = reverseStateOrder ? order.length - 1 - i : i;
        }
        return order;
    }

    /** Flat position of state {@code state} (in that cell's own order) of cell {@code cell}. */
    public int stateIndex(int cell, int state) {
        if (cell < 0 || cell >= cells.size()) {
            throw new IndexOutOfBoundsException(describe() + ": cell " + cell + " outside [0, " + cells.size() + ")");
        }
        int count = cells.get(cell).stateSizes().length;
        if (state < 0 || state >= count) {
            throw new IndexOutOfBoundsException(describe() + ": cell " + cell + " has " + count + " state(s), asked for " + state);
        }
        return stateIndex0(cell) + state;
    }

    @Override
    public int[] stateSizes() {
        List<Integer> sizes = new ArrayList<>();
        for (int k : stateCellOrder()) {
            for (int s : cells.get(k).stateSizes()) {
                sizes.add(s);
            }
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int outputSize() {
        return cells.get(cells.size() - 1).outputSize();
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        float[][] next = new float[states.length][];
        float[] input = x;
        int width = features;
        float[] output = null;
        for (int k = 0; k < cells.size(); k++) {
            Cell cell = cells.get(k);
            int count = cell.stateSizes().length;
            int first = stateIndex0(k);
            float[][] own = new float[count][];
            System.arraycopy(states, first, own, 0, count);
            float[][] result = stepArrays(cell, input, batch, width, own);
            System.arraycopy(result, 1, next, first, count);
            output = result[0];
            input = output;
            width = cell.outputSize();
        }
        // The last cell's output array may be one of its states in foreign cells; keep them distinct.
        return prepend(output.clone(), next);
    }

    private int stateIndex0(int cell) {
        int position = 0;
        for (int k : stateCellOrder()) {
            if (k == cell) {
                return position;
            }
            position += cells.get(k).stateSizes().length;
        }
        throw new AssertionError();
    }

    private static float[][] prepend(float[] first, float[][] rest) {
        float[][] out = new float[rest.length + 1][];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    @Override
    List<StandardCell> fusedCells() {
        List<StandardCell> chain = new ArrayList<>();
        for (Cell c : cells) {
            if (!(c instanceof AbstractCell own)) {
                return null;
            }
            List<StandardCell> part = own.fusedCells();
            if (part == null) {
                return null;
            }
            chain.addAll(part);
        }
        return chain;
    }

    @Override
    float[][] toFusedStates(float[][] states, int batch) {
        List<float[]> fused = new ArrayList<>();
        for (int k = 0; k < cells.size(); k++) {
            int count = cells.get(k).stateSizes().length;
            float[][] own = new float[count][];
            System.arraycopy(states, stateIndex0(k), own, 0, count);
            for (float[] s : ((AbstractCell) cells.get(k)).toFusedStates(own, batch)) {
                fused.add(s);
            }
        }
        return fused.toArray(new float[0][]);
    }

    @Override
    float[][] fromFusedStates(float[][] fused, int batch) {
        float[][] states = new float[stateSizes().length][];
        int position = 0;
        for (int k = 0; k < cells.size(); k++) {
            AbstractCell own = (AbstractCell) cells.get(k);
            int fusedCount = 0;
            for (StandardCell s : own.fusedCells()) {
                fusedCount += s.stateSizes().length;
            }
            float[][] part = new float[fusedCount][];
            System.arraycopy(fused, position, part, 0, fusedCount);
            position += fusedCount;
            float[][] cellStates = own.fromFusedStates(part, batch);
            System.arraycopy(cellStates, 0, states, stateIndex0(k), cellStates.length);
        }
        return states;
    }

    /** Closes every cell (closing twice is harmless). */
    @Override
    public void close() {
        if (!isClosed()) {
            super.close();
            for (Cell c : cells) {
                c.close();
            }
        }
    }

    /** Builder: cells in application order, and the state order. */
    public static final class Builder {
        private final List<Cell> cells = new ArrayList<>();
        private String name;
        private boolean reverseStateOrder;

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder add(Cell cell) {
            cells.add(cell);
            return this;
        }

        public Builder cells(List<? extends Cell> list) {
            cells.addAll(list);
            return this;
        }

        /** List the cells' states last cell first (Keras 2.1.0–2.2.2; Keras 2.2.3+ {@code reverse_state_order=True}). */
        public Builder reverseStateOrder(boolean reverse) {
            this.reverseStateOrder = reverse;
            return this;
        }

        public StackedRNNCells build() {
            return new StackedRNNCells(this);
        }
    }
}
