package io.jrnn.layers;

import io.jrnn.Tensor;
import java.util.List;

/**
 * A recurrent cell: one time step (Keras cell protocol, spec §2.1/§2.7). {@code RNN(cell)} runs any
 * cell over time; built-in cells also map onto fused layers.
 */
public interface Cell extends AutoCloseable {

    /** The Keras class name, e.g. {@code "LSTMCell"}. */
    String typeName();

    /** Width of each state tensor, in Keras state order (LSTM: h, c). */
    int[] stateSizes();

    /** Width of the output (the first state's width for built-in cells). */
    int outputSize();

    /**
     * One step.
     *
     * @param x      {@code [N, C]}
     * @param states one {@code [N, width]} tensor per state
     * @return new tensors: the output {@code [N, O]} then the new states
     */
    Tensor[] step(Tensor x, List<Tensor> states);

    /** Zero states for a batch (new tensors). */
    default Tensor[] zeroState(int batch) {
        int[] sizes = stateSizes();
        Tensor[] s = new Tensor[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            s[i] = Tensor.zeros(batch, sizes[i]);
        }
        return s;
    }

    @Override
    void close();
}
