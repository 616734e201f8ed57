package io.jrnn.layers;

import io.jrnn.weights.CellType;

/**
 * Keras {@code LSTM} (spec §2.4): gates i, f, c, o; states {@code [h, c]}.
 *
 * <pre>{@code
 * try (LSTM lstm = LSTM.builder().units(128).returnSequences(true).build();
 *      Tensor y = lstm.apply(x)) { ... }
 * }</pre>
 */
public final class LSTM extends RecurrentLayer {
    private LSTM(Builder b) {
        super(b, "lstm");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.LSTM;
    }

    @Override
    public String typeName() {
        return "LSTM";
    }

    /** Builder with Keras 2.3+/3 defaults: tanh, sigmoid, use_bias, unit_forget_bias. */
    public static final class Builder extends RecurrentLayer.Builder<Builder, LSTM> {
        @Override
        public LSTM build() {
            return new LSTM(this);
        }
    }
}
