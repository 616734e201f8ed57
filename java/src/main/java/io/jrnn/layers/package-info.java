/**
 * Layer objects (immutable configs built with builders, plus the weights and the per-layer
 * executor they own): LSTM, GRU, SimpleRNN, Dense, Embedding, Dropout, Activation, and the
 * multi-input Merge layers (Concatenate, Add, …) of functional models.
 * No native preset is imported here; execution goes through {@code io.jrnn.backend}.
 */
package io.jrnn.layers;
