package io.jrnn.backend;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;

/**
 * One recurrent layer compiled for a backend. It owns whatever native state the backend built for
 * it (primitives, packed weights, scratch memory) and caches it per input shape.
 *
 * <p>Thread safety: CPU executors (oneDNN, reference) run concurrent calls in parallel without a
 * lock around the call; {@link #close()} refuses new calls and releases once the calls in flight
 * have left. GPU executors are per CUDA stream and may serialise their calls. An executor
 * garbage-collected without close is released by {@link io.jrnn.NativeResources} (with a warning).
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

    /**
     * Runs the layer under a mask ({@code [N, T]}, true = valid step) with Keras's semantics
     * (spec §3.3, the spec's {@code zeroOutputForMask} and {@code maskedOutput}): at a masked step
     * every state is carried, the output is the previous processed output, zeros, or {@code h} before
     * the step; the mask is reversed with the input under go_backwards. {@code null} or an all-valid
     * mask is the same as no mask. Executors that cannot apply masks refuse rather than ignore them.
     */
    default Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (mask == null || mask.allValid()) {
            return run(input, initialStates);
        }
        throw new UnsupportedConfigurationException(executionPath() + " cannot apply a mask");
    }

    /** Which path runs this layer and why, e.g. {@code "oneDNN lstm_forward (brgemm, blocked weights)"}. */
    String executionPath();

    /** Releases native state. Closing twice is harmless. */
    @Override
    void close();
}
