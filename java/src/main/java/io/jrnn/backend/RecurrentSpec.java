package io.jrnn.backend;

import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;

/**
 * Everything a backend needs to run one recurrent layer: the cell, its activations, the weights
 * in Keras standard layout (bias materialised: zeros when the layer has {@code use_bias=false}),
 * and the time options. Time-major input and stateful storage are handled by the layer, not here.
 *
 * @param layerName       for messages and logs
 * @param resetAfter      GRU only: reset gate after the recurrent product (Keras {@code reset_after})
 * @param goBackwards     consume time in reverse; outputs stay in processing order (spec §3.1)
 * @param returnSequences the output is {@code [N, T, H]} instead of {@code [N, H]}
 * @param zeroOutputForMask masked steps output zeros (Keras {@code zero_output_for_mask}, spec §3.3)
 * @param maskedOutput    what a masked step outputs otherwise (spec §3.3)
 */
public record RecurrentSpec(
        String layerName,
        CellType cellType,
        Activation activation,
        Activation recurrentActivation,
        boolean useBias,
        boolean resetAfter,
        boolean goBackwards,
        boolean returnSequences,
        KerasRnnWeights weights,
        boolean zeroOutputForMask,
        MaskedOutput maskedOutput) {

    public RecurrentSpec {
        java.util.Objects.requireNonNull(maskedOutput, "maskedOutput");
    }

    /** A spec with the default mask options (carried outputs, {@link MaskedOutput#CANONICAL}). */
    public RecurrentSpec(String layerName, CellType cellType, Activation activation, Activation recurrentActivation,
            boolean useBias, boolean resetAfter, boolean goBackwards, boolean returnSequences, KerasRnnWeights weights) {
        this(layerName, cellType, activation, recurrentActivation, useBias, resetAfter, goBackwards, returnSequences,
                weights, false, MaskedOutput.CANONICAL);
    }

    public int units() {
        return weights.hiddenSize();
    }

    public int inputSize() {
        return weights.inputSize();
    }

    /** Number of state tensors: 2 for LSTM ({@code h, c}), else 1. */
    public int stateCount() {
        return cellType == CellType.LSTM ? 2 : 1;
    }

    /**
     * Whether a fused native relu RNN primitive would turn a NaN into 0 for this layer (a relu
     * SimpleRNN: {@code max(x, 0)}), so that calls whose input holds NaN or an infinity must run on a
     * path that keeps Keras's NaN (the single-layer executors do this themselves; Bidirectional
     * pairs and stacks on one primitive fall back to per-layer executors for such calls).
     */
    public boolean fusedReluZeroesNaN() {
        return cellType == CellType.SIMPLE_RNN && activation == Activation.RELU;
    }

    /** A short description of the layer type for messages, e.g. {@code "LSTM 'lstm_1'"}. */
    public String describe() {
        String type = switch (cellType) {
            case LSTM -> "LSTM";
            case GRU -> "GRU";
            case SIMPLE_RNN -> "SimpleRNN";
        };
        return type + " '" + layerName + "'";
    }
}
