package io.jrnn.layers;

import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * TensorFlow 1.x {@code tf.nn.dynamic_rnn(cell, inputs, sequence_length, initial_state,
 * time_major)} over a recurrent layer's cell (spec §2.11). Unlike Keras masks, steps past a
 * sample's length output <b>zeros</b>, and the final state is the state after step
 * {@code sequence_length[n] − 1} (the initial state when the length is 0):
 * <pre>
 * s = initial_state
 * for t in 0..T−1:
 *     (y, s_new) = cell(x_t, s)
 *     for each n with t ≥ L[n]:  y[n] = 0;  s_new[n] = s[n]
 *     out[:, t] = y;  s = s_new
 * </pre>
 * The layer's {@code return_sequences} and {@code return_state} flags do not matter here (the
 * result always holds the whole sequence and the states); layers with {@code go_backwards} or
 * {@code stateful} are refused, since {@code dynamic_rnn} has neither.
 *
 * <pre>{@code
 * try (DynamicRnn.Result r = DynamicRnn.run(lstm, x, new int[] {5, 2, 0}, false)) {
 *     Tensor outputs = r.outputs();        // [N, T, H], zeros past each length
 *     Tensor h = r.states().get(0);        // [N, H] at each length
 * }
 * }</pre>
 */
public final class DynamicRnn {
    private DynamicRnn() {
    }

    /**
     * Runs {@code layer}'s cell over {@code inputs}.
     *
     * @param layer          the cell (LSTM, GRU or SimpleRNN weights and activations)
     * @param inputs         {@code [N, T, C]}, or {@code [T, N, C]} when {@code timeMajor}
     * @param sequenceLength one length per sample, each in {@code [0, T]}; {@code null} runs every step
     * @param timeMajor      layout of {@code inputs} and of the output sequence
     * @param initialState   one {@code [N, H]} tensor per state in Keras order (LSTM: {@code h, c} —
     *                       TF's {@code LSTMStateTuple} is {@code (c, h)}); none for zeros
     * @return the outputs ({@code [N, T, H]} or {@code [T, N, H]}) and the final states {@code [N, H]}
     */
    public static Result run(RecurrentLayer layer, Tensor inputs, int[] sequenceLength, boolean timeMajor,
            Tensor... initialState) {
        Tensor[] r = layer.runDynamic(inputs, sequenceLength, timeMajor, initialState);
        return new Result(r[0], List.of(Arrays.copyOfRange(r, 1, r.length)));
    }

    /** What {@code dynamic_rnn} returns: {@code (outputs, state)}. Closing it closes every tensor. */
    public record Result(Tensor outputs, List<Tensor> states) implements AutoCloseable {
        @Override
        public void close() {
            outputs.close();
            for (Tensor s : states) {
                s.close();
            }
        }
    }
}
