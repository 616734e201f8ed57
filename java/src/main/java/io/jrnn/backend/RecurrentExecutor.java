package io.jrnn.backend;

import io.jrnn.Tensor;

/**
 * One recurrent layer compiled for a backend. It owns whatever native state the backend built for
 * it (primitives, packed weights, scratch memory) and caches it per input shape.
 */
public interface RecurrentExecutor extends AutoCloseable {

    /**
     * Runs the layer.
     *
     * @param input         {@code [N, T, C]}, batch-major, already validated by the layer
     * @param initialStates {@code null} for zeros, else one {@code [N, H]} tensor per state (LSTM: h, c)
     * @return new tensors: the output ({@code [N, T, H]} or {@code [N, H]}) followed by the final states
     */
    Tensor[] run(Tensor input, Tensor[] initialStates);

    /** Which path runs this layer and why, e.g. {@code "oneDNN lstm_forward (brgemm, blocked weights)"}. */
    String executionPath();

    /** Releases native state. Closing twice is harmless. */
    @Override
    void close();
}
