package io.jrnn.bench;

import java.util.Locale;

/**
 * One benchmarked cell: a recurrent layer kind at one shape. {@code H} units, batch {@code N},
 * {@code T} steps, {@code C} input features; {@code return_sequences=true}, fp32, zero initial state.
 *
 * @param kind        the layer
 * @param hardSigmoid LSTM with {@code recurrent_activation=hard_sigmoid} (Keras 2 definition,
 *                    {@code clip(0.2x + 0.5, 0, 1)}), which jrnn runs on its composed path
 */
public record BenchCell(Kind kind, boolean hardSigmoid, int h, int n, int t, int c) {

    /** The layer kinds. */
    public enum Kind {
        LSTM(4, "LSTM"), GRU(3, "GRU"), RNN(1, "SimpleRNN");

        /** {@code G}, the gate count. */
        public final int gates;
        /** Keras's name. */
        public final String kerasName;

        Kind(int gates, String kerasName) {
            this.gates = gates;
            this.kerasName = kerasName;
        }
    }

    public BenchCell {
        if (kind == null) {
            throw new IllegalArgumentException("cell kind: expected lstm, gru or rnn, got null");
        }
        if (hardSigmoid && kind != Kind.LSTM) {
            throw new IllegalArgumentException("hard_sigmoid cell: expected LSTM, got " + kind);
        }
        if (h <= 0 || n <= 0 || t <= 0 || c <= 0) {
            throw new IllegalArgumentException("shape (H,N,T,C): expected positive sizes, got (" + h + "," + n + ","
                    + t + "," + c + ")");
        }
    }

    /** Multiply-add FLOPs of one forward: {@code 2·T·N·(C+H)·G·H} (the gate matrix products; element-wise work left out). */
    public double flops() {
        return 2.0 * t * n * (double) (c + h) * kind.gates * h;
    }

    /** {@code LSTM}, {@code LSTM hard_sigmoid}, {@code GRU}, {@code SimpleRNN}. */
    public String name() {
        return kind.kerasName + (hardSigmoid ? " hard_sigmoid" : "");
    }

    /** {@code (H, N, T, C)}. */
    public String shapeLabel() {
        return "(" + h + ", " + n + ", " + t + ", " + c + ")";
    }

    /** A file-name-safe id, e.g. {@code lstm-hs_512x64x25x512}. */
    public String id() {
        return kind.name().toLowerCase(Locale.ROOT) + (hardSigmoid ? "-hs" : "") + "_" + h + "x" + n + "x" + t + "x" + c;
    }

    @Override
    public String toString() {
        return name() + " " + shapeLabel();
    }
}
