package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasCudnnWeights;

/**
 * Keras 2 {@code CuDNNGRU} (spec §2.5), run on any backend: it is {@code GRU(reset_after=true)}
 * with {@code activation=tanh}, {@code recurrent_activation=sigmoid} and a bias, whose stored arrays
 * are in cuDNN's layout ({@code bias [6H] = b_x ‖ b_h}). {@link #setCudnnWeights} converts them with
 * {@link KerasCudnnWeights}. Like Keras, it refuses any mask.
 */
public final class CuDNNGRU extends RecurrentLayer {
    private CuDNNGRU(Builder b) {
        super(b, "cu_dnngru");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.GRU;
    }

    @Override
    public boolean resetAfter() {
        return true;
    }

    @Override
    public String typeName() {
        return "CuDNNGRU";
    }

    /** Sets the weights from the arrays a Keras {@code CuDNNGRU} stores (cuDNN layout). */
    public void setCudnnWeights(KerasCudnnWeights stored) {
        setWeights(CudnnLayers.toStandard(this, stored, CellType.GRU));
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        CudnnLayers.refuseMask(this, mask);
        return super.forward(x, (Mask) null, initialStates);
    }

    /** Builder: units and the {@code RNN} options; the activations and the bias are fixed. */
    public static final class Builder extends RecurrentLayer.Builder<Builder, CuDNNGRU> {
        @Override
        public CuDNNGRU build() {
            CudnnLayers.checkFixed("CuDNNGRU", name, units, activation, recurrentActivation, useBias);
            return new CuDNNGRU(this);
        }
    }
}
