package io.jrnn.layers;

import io.jrnn.weights.CellType;

/**
 * Keras {@code SimpleRNNCell} (spec §2.2, §2.7): {@code h_t = φ(x_t·K + b + h_{t−1}·R)}; output
 * {@code h_t}, states {@code [h]}.
 */
public final class SimpleRNNCell extends StandardCell {
    private SimpleRNNCell(Builder b) {
        super(b, "simple_rnn_cell");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CellType cellType() {
        return CellType.SIMPLE_RNN;
    }

    @Override
    public String typeName() {
        return "SimpleRNNCell";
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        ensureWeights(features);
        int h = units();
        float[] pre = CellMath.matmul(x, batch, features, kernel, h);
        CellMath.addRowVector(pre, batch, h, bias, 0);
        CellMath.addInPlace(pre, CellMath.matmul(states[0], batch, h, recurrentKernel, h));
        float[] next = CellMath.actInPlace(activation(), pre);
        return new float[][] {next.clone(), next};
    }

    /** Builder with Keras defaults (activation tanh, use_bias). */
    public static final class Builder extends StandardCell.Builder<Builder, SimpleRNNCell> {
        @Override
        public SimpleRNNCell build() {
            return new SimpleRNNCell(this);
        }
    }
}
