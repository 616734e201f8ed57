package io.jrnn.weights;

/** The three recurrent cell families and their gate counts. */
public enum CellType {
    /** Keras {@code SimpleRNN}: one gate. */
    SIMPLE_RNN(1),
    /** Keras {@code GRU}: update (z), reset (r), candidate (h). */
    GRU(3),
    /** Keras {@code LSTM}: input (i), forget (f), cell (c), output (o). */
    LSTM(4);

    private final int gateCount;

    CellType(int gateCount) {
        this.gateCount = gateCount;
    }

    /** The number of gate blocks {@code G} in a fused weight matrix of this cell. */
    public int gateCount() {
        return gateCount;
    }

    /** The Keras class name, for messages: {@code SimpleRNN}, {@code GRU} or {@code LSTM}. */
    public String kerasName() {
        return switch (this) {
            case SIMPLE_RNN -> "SimpleRNN";
            case GRU -> "GRU";
            case LSTM -> "LSTM";
        };
    }
}
