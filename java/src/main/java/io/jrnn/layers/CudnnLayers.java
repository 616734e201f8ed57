package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasCudnnWeights;
import io.jrnn.weights.KerasRnnWeights;

/** What {@link CuDNNLSTM} and {@link CuDNNGRU} share: fixed settings, the mask refusal, the weight conversion. */
final class CudnnLayers {
    private CudnnLayers() {
    }

    static void checkFixed(String type, String name, int units, Activation activation, Activation recurrentActivation,
            boolean useBias) {
        String who = type + (name == null ? "" : " '" + name + "'");
        if (units <= 0) {
            throw new IllegalArgumentException(who + ": units must be > 0, got " + units);
        }
        if (activation != Activation.TANH || recurrentActivation != Activation.SIGMOID || !useBias) {
            throw new IllegalArgumentException(who + ": the cuDNN layers are fixed to activation=tanh,"
                    + " recurrent_activation=sigmoid, use_bias=true; got activation=" + activation
                    + ", recurrent_activation=" + recurrentActivation + ", use_bias=" + useBias);
        }
    }

    /** Keras raises for any mask reaching a CuDNN layer, whatever its values. */
    static void refuseMask(RecurrentLayer layer, Mask mask) {
        if (mask != null) {
            throw new UnsupportedConfigurationException(layer.describe() + ": Masking is not supported for CuDNN RNNs"
                    + " (Keras refuses any mask here; use LSTM/GRU with tanh/sigmoid for masked input)");
        }
    }

    static KerasRnnWeights toStandard(RecurrentLayer layer, KerasCudnnWeights stored, CellType expected) {
        if (stored.type() != expected) {
            throw new IllegalArgumentException(layer.describe() + ": weights are for a CuDNN " + stored.type()
                    + " layer, expected " + expected);
        }
        return stored.toKeras();
    }
}
