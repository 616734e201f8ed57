package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.List;

/** Keras {@code Activation} layer: applies one activation (softmax over the last axis). */
public final class ActivationLayer extends Layer {
    private final Activation activation;

    public ActivationLayer(String name, Activation activation) {
        super(name, "activation");
        this.activation = activation;
    }

    public ActivationLayer(Activation activation) {
        this(null, activation);
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public String typeName() {
        return "Activation";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        float[] v = x.toArray();
        Activations.apply(activation, v, x.rank() == 0 ? 1 : Math.max(1, x.dim(x.rank() - 1)));
        return new Outputs(List.of(Tensor.of(v, x.shape())));
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
