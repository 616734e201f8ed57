package io.jrnn.backend;

import io.jrnn.Mask;
import io.jrnn.Tensor;

/**
 * One {@code ConvLSTM2D} layer compiled for a backend (see {@link ConvLstmSpec}); owns its native
 * state. Thread safety as {@link RecurrentExecutor}.
 */
public interface ConvLstmExecutor extends AutoCloseable {

    /**
     * Runs the layer, channels-last.
     *
     * @param input         {@code [N, T, R, Cc, C]}
     * @param initialStates {@code null} for zeros, else {@code [h, c]}, each {@code [N, R', Cc', F]}
     * @param mask          {@code null} or {@code [N, T]} (true = valid step), canonical Keras rule (spec §3.3):
     *                      at a masked step h and c are carried and the output is the previous processed output
     *                      (zeros before the first)
     * @return new tensors: the output ({@code [N, T, R', Cc', F]} or {@code [N, R', Cc', F]}), then h, c
     */
    Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask);

    /** Which path runs this layer and why. */
    String executionPath();

    /** Releases native state. Closing twice is harmless. */
    @Override
    void close();
}
