package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.List;

/** Keras {@code Dropout}: the identity at inference (the rate is kept for reporting). */
public final class Dropout extends Layer {
    private final double rate;

    public Dropout(String name, double rate) {
        super(name, "dropout");
        this.rate = rate;
    }

    public Dropout(double rate) {
        this(null, rate);
    }

    public double rate() {
        return rate;
    }

    @Override
    public String typeName() {
        return "Dropout";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        return new Outputs(List.of(x.copy()));
    }

    /** Elementwise, so a mask passes through unchanged (Keras {@code supports_masking}). */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return forward(x, initialStates);
    }

    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return inputMask;
    }
}
