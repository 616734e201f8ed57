package io.jrnn.layers;

import io.jrnn.weights.CellType;

/**
 * Keras {@code GRU} (spec §2.3): gates z, r, h; state {@code [h]}. {@code reset_after=true} (the
 * Keras 3 and tf.keras default, and this builder's) applies the reset gate after the recurrent
 * product and keeps a {@code [2, 3H]} bias; {@code false} is the Keras 2.0–2.3 formulation.
 */
public final class GRU extends RecurrentLayer {
    private final boolean resetAfter;

    private GRU(Builder b) {
        super(b, "gru");
        this.resetAfter = b.resetAfter;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.GRU;
    }

    @Override
    public boolean resetAfter() {
        return resetAfter;
    }

    @Override
    public String typeName() {
        return "GRU";
    }

    /** Builder with Keras 3 defaults (tanh, sigmoid, use_bias, reset_after=true). */
    public static final class Builder extends RecurrentLayer.Builder<Builder, GRU> {
        boolean resetAfter = true;

        public Builder resetAfter(boolean resetAfter) {
            this.resetAfter = resetAfter;
            return this;
        }

        @Override
        public GRU build() {
            return new GRU(this);
        }
    }
}
