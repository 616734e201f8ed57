package io.jrnn.layers;

import io.jrnn.weights.CellType;

/**
 * Keras {@code LSTMCell} (spec §2.4, §2.7): gates i, f, c, o; output {@code h_t}, states
 * {@code [h, c]}.
 */
public final class LSTMCell extends StandardCell {
    private LSTMCell(Builder b) {
        super(b, "lstm_cell");
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
        return "LSTMCell";
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        ensureWeights(features);
        int units = units();
        int width = 4 * units;
        float[] gates = CellMath.matmul(x, batch, features, kernel, width);
        CellMath.addInPlace(gates, CellMath.matmul(states[0], batch, units, recurrentKernel, width));
        CellMath.addRowVector(gates, batch, width, bias, 0);
        float[] h = new float[batch * units];
        float[] c = new float[batch * units];
        Activation sigma = recurrentActivation();
        Activation phi = activation();
        for (int n = 0; n < batch; n++) {
            int g = n * width;
            for (int j = 0; j < units; j++) {
                float i = CellMath.act(sigma, gates[g + j]);
                float f = CellMath.act(sigma, gates[g + units + j]);
                float candidate = CellMath.act(phi, gates[g + 2 * units + j]);
                float o = CellMath.act(sigma, gates[g + 3 * units + j]);
                float cell = f * states[1][n * units + j] + i * candidate;
                c[n * units + j] = cell;
                h[n * units + j] = o * CellMath.act(phi, cell);
            }
        }
        return new float[][] {h.clone(), h, c};
    }

    /** Builder with Keras 2.3+/3 defaults: tanh, sigmoid, use_bias, unit_forget_bias. */
    public static final class Builder extends StandardCell.Builder<Builder, LSTMCell> {
        @Override
        public LSTMCell build() {
            return new LSTMCell(this);
        }
    }
}
