package io.jrnn.weights;

/**
 * The oneDNN RNN primitive a set of weights is laid out for, with its gate and bias counts
 * (spec §4.1): {@code vanilla_rnn_forward}, {@code lstm_forward}, {@code gru_forward} (reset-before)
 * and {@code lbr_gru_forward} (linear-before-reset, i.e. Keras {@code reset_after=True}).
 */
public enum OneDnnCell {
    /** {@code vanilla_rnn_forward}: one gate, bias {@code [1, H]}. */
    VANILLA(CellType.SIMPLE_RNN, 1),
    /** {@code lstm_forward}: gates i, f, c̃, o; bias {@code [4, H]}. */
    LSTM(CellType.LSTM, 4),
    /** {@code gru_forward}: gates u, r, o (Keras z, r, h), reset-before; bias {@code [3, H]}. */
    GRU(CellType.GRU, 3),
    /** {@code lbr_gru_forward}: gates u, r, o; bias {@code [4, H]} = u, r, o, u′ (u′ inside {@code r⊙}). */
    LBR_GRU(CellType.GRU, 4);

    private final CellType cellType;
    private final int biasGateCount;

    OneDnnCell(CellType cellType, int biasGateCount) {
        this.cellType = cellType;
        this.biasGateCount = biasGateCount;
    }

    /** The Keras cell family. */
    public CellType cellType() {
        return cellType;
    }

    /** {@code G}, the gate axis of {@code weights_layer} and {@code weights_iter}. */
    public int gateCount() {
        return cellType.gateCount();
    }

    /** {@code G'}, the gate axis of the {@code ldgo} bias: {@code G}, or 4 for {@code LBR_GRU}. */
    public int biasGateCount() {
        return biasGateCount;
    }

    /** Whether it corresponds to Keras {@code reset_after=True}. */
    public boolean resetAfter() {
        return this == LBR_GRU;
    }

    /** The oneDNN primitive for a Keras variant. */
    public static OneDnnCell of(CellType cellType, boolean resetAfter) {
        return switch (cellType) {
            case SIMPLE_RNN -> VANILLA;
            case LSTM -> LSTM;
            case GRU -> resetAfter ? LBR_GRU : GRU;
        };
    }
}
