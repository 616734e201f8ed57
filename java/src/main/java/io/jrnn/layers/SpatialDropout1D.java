package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.List;

/** Keras {@code SpatialDropout1D}: the identity at inference (the rate is kept for reporting); a mask passes through. */
public final class SpatialDropout1D extends Layer {
    private final double rate;

    public SpatialDropout1D(String name, double rate) {
        super(name, "spatial_dropout1d");
        this.rate = rate;
    }

    public double rate() {
        return rate;
    }

    @Override
    public String typeName() {
        return "SpatialDropout1D";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        return new Outputs(List.of(x.copy()));
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return forward(x, initialStates);
    }

    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return inputMask;
    }
}
