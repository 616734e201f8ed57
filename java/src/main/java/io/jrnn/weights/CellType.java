package io.jrnn.weights;

/** The three recurrent cell families and their gate counts. */
public enum CellType {
    SIMPLE_RNN(1), GRU(3), LSTM(4);

    private final int gateCount;

    CellType(int gateCount) {
        this.gateCount = gateCount;
    }

    public int gateCount() {
        return gateCount;
    }
}
