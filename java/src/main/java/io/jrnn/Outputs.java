package io.jrnn;

import java.util.List;

/**
 * What a layer or model call returns, in Keras order: the output first, then the final states
 * when {@code return_state} is set (LSTM: {@code h}, {@code c}; GRU and SimpleRNN: {@code h}).
 * Closing it closes every tensor in it.
 */
public final class Outputs implements AutoCloseable {
    private final List<Tensor> tensors;

    public Outputs(List<Tensor> tensors) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("Outputs need at least one tensor");
        }
        this.tensors = List.copyOf(tensors);
    }

    /** The main output. */
    public Tensor output() {
        return tensors.get(0);
    }

    /** The final states (empty unless the layer returns them). */
    public List<Tensor> states() {
        return tensors.subList(1, tensors.size());
    }

    public Tensor get(int index) {
        return tensors.get(index);
    }

    public int size() {
        return tensors.size();
    }

    /** Every tensor, output first. */
    public List<Tensor> all() {
        return tensors;
    }

    @Override
    public void close() {
        for (Tensor t : tensors) {
            t.close();
        }
    }
}
