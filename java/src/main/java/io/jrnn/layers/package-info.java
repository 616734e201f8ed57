/**
 * Layer objects (immutable configs built with builders, plus the weights and the per-layer
 * executor they own): LSTM, GRU, SimpleRNN, CuDNNLSTM/CuDNNGRU, the Bidirectional and TimeDistributed
 * wrappers, Dense, Embedding, Dropout, Activation and the small shape layers (RepeatVector, Flatten,
 * Reshape, SpatialDropout1D, GlobalPooling1D).
 * No native preset is imported here; execution goes through {@code io.jrnn.backend}.
 */
package io.jrnn.layers;
