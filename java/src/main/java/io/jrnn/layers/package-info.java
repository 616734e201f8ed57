/**
 * Layer objects (immutable configs built with builders, plus the weights and the per-layer
 * executor they own): LSTM, GRU, SimpleRNN, Dense, Embedding, Dropout, Activation, Masking; the
 * wrappers (Bidirectional, TimeDistributed) and small shape layers; cells (Keras, TF1 basic,
 * Keras 0.x), StackedRNNCells and the generic RNN(cell) layer; the Merge layers of functional models.
 * No native preset is imported here; execution goes through {@code io.jrnn.backend}.
 */
package io.jrnn.layers;
