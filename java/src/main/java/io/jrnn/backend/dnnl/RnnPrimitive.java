package io.jrnn.backend.dnnl;

/** The four oneDNN RNN primitives jrnn uses, with their gate and bias-gate counts (the {@code G} of {@code ldigo}/{@code ldgo}). */
enum RnnPrimitive {
    /** Keras SimpleRNN. */
    VANILLA_RNN("vanilla_rnn_forward", 1, 1),
    /** Keras LSTM: gates i, f, c, o. */
    LSTM("lstm_forward", 4, 4),
    /** Keras GRU reset_after=false: gates z, r, h (oneDNN u, r, o). */
    GRU("gru_forward", 3, 3),
    /** Keras GRU reset_after=true: gates z, r, h; bias u, r, o, u′ (the recurrent candidate bias). */
    LBR_GRU("lbr_gru_forward", 3, 4);

    final String primitiveName;
    final int gateCount;
    final int biasGateCount;

    RnnPrimitive(String primitiveName, int gateCount, int biasGateCount) {
        this.primitiveName = primitiveName;
        this.gateCount = gateCount;
        this.biasGateCount = biasGateCount;
    }
}
