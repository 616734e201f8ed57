package io.jrnn.layers;

import io.jrnn.weights.CellType;

/** Keras {@code SimpleRNN} (spec §2.2): {@code h_t = φ(x_t·K + b + h_{t−1}·R)}; state {@code [h]}. */
public final class SimpleRNN extends RecurrentLayer {
    private SimpleRNN(Builder b) {
        super(b, "simple_rnn");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.SIMPLE_RNN;
    }

    @Override
    public String typeName() {
        return "SimpleRNN";
    }

    /** Builder with Keras defaults (activation tanh, use_bias). */
    public static final class Builder extends RecurrentLayer.Builder<Builder, SimpleRNN> {
        @Override
        public SimpleRNN build() {
            return new SimpleRNN(this);
        }
    }
}
