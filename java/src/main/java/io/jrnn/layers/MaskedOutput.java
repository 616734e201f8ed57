package io.jrnn.layers;

/**
 * What a recurrent layer outputs at a masked step when {@code zero_output_for_mask} is false
 * (spec §3.3). The two choices differ only at masked steps that come before any valid step of a
 * sample (left padding, or the padded head of a {@code go_backwards} pass over right-padded data),
 * and only when the initial state is not zero (an explicit initial state, or a stateful layer).
 */
public enum MaskedOutput {
    /**
     * The output of the previous processed step, zeros before the first step: Keras 3 (TF and torch
     * backends), tf.keras, Keras ≥ 2.2.5 on TF, Keras 1/2 on Theano, and every unrolled loop. The default.
     */
    CANONICAL,
    /**
     * The first state ({@code h}) before the step, i.e. the initial {@code h} before the first valid
     * step: Keras 1.2–2.2.4 on TF with {@code unroll=False} ({@code while_loop}), Keras 3 JAX and
     * NumPy with {@code unroll=False}.
     */
    PREVIOUS_STATE
}
