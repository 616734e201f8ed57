package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasCudnnWeights;

/**
 * Keras 2 {@code CuDNNLSTM} (spec §2.5), run on any backend: it is {@code LSTM} with
 * {@code activation=tanh}, {@code recurrent_activation=sigmoid} and a bias, whose stored arrays are
 * in cuDNN's layout ({@code bias [8H] = b_W ‖ b_R}). {@link #setCudnnWeights} converts them with
 * {@link KerasCudnnWeights}; {@link #setWeights(float[], float[], float[])} takes standard LSTM
 * arrays. Like Keras, it refuses any mask ("Masking is not supported for CuDNN RNNs").
 */
public final class CuDNNLSTM extends RecurrentLayer {
    private CuDNNLSTM(Builder b) {
        super(b, "cu_dnnlstm");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.LSTM;
    }

    @Override
    public String typeName() {
        return "CuDNNLSTM";
    }

    /** Sets the weights from the arrays a Keras {@code CuDNNLSTM} stores (cuDNN layout). */
    public void setCudnnWeights(KerasCudnnWeights stored) {
        setWeights(CudnnLayers.toStandard(this, stored, CellType.LSTM));
    }

    /** As Keras counts it: the stored bias has {@code 8H} values ({@code b_W ‖ b_R}). */
    @Override
    public long parameterCount() {
        return weights() == null ? 0 : super.parameterCount() + 4L * units();
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        CudnnLayers.refuseMask(this, mask);
        return super.forward(x, (Mask) null, initialStates);
    }

    /** Builder: units and the {@code RNN} options; the activations and the bias are fixed. */
    public static final class Builder extends RecurrentLayer.Builder<Builder, CuDNNLSTM> {
        @Override
        public CuDNNLSTM build() {
            CudnnLayers.checkFixed("CuDNNLSTM", name, units, activation, recurrentActivation, useBias);
            return new CuDNNLSTM(this);
        }
    }
}
