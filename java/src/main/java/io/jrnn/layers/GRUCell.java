package io.jrnn.layers;

import io.jrnn.weights.CellType;

/**
 * Keras {@code GRUCell} (spec §2.3, §2.7): gates z, r, h; output {@code h_t}, states {@code [h]}.
 * {@code reset_after=true} (this builder's default, as Keras 3 and tf.keras) keeps a
 * {@code [2, 3H]} bias and applies the reset gate after the recurrent product.
 */
public final class GRUCell extends StandardCell {
    private final boolean resetAfter;

    private GRUCell(Builder b) {
        super(b, "gru_cell");
        this.resetAfter = b.resetAfter;
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
        return resetAfter;
    }

    @Override
    public String typeName() {
        return "GRUCell";
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        ensureWeights(features);
        int units = units();
        int width = 3 * units;
        float[] hPrev = states[0];
        float[] xg = CellMath.matmul(x, batch, features, kernel, width);
        CellMath.addRowVector(xg, batch, width, bias, 0);
        Activation sigma = recurrentActivation();
        Activation phi = activation();
        float[] h = new float[batch * units];
        if (resetAfter) {
            // b_h is the bias's second row; the reset gate multiplies (h·R_h + b_h[h]).
            float[] hg = CellMath.matmul(hPrev, batch, units, recurrentKernel, width);
            CellMath.addRowVector(hg, batch, width, bias, width);
            for (int n = 0; n < batch; n++) {
                int g = n * width;
                for (int j = 0; j < units; j++) {
                    float z = CellMath.act(sigma, xg[g + j] + hg[g + j]);
                    float r = CellMath.act(sigma, xg[g + units + j] + hg[g + units + j]);
                    float candidate = CellMath.act(phi, xg[g + 2 * units + j] + r * hg[g + 2 * units + j]);
                    float old = hPrev[n * units + j];
                    h[n * units + j] = z * old + (1 - z) * candidate;
                }
            }
        } else {
            // z and r use h·R[z, r]; the candidate uses (r ⊙ h)·R[h].
            float[] recurrentZr = CellMath.columns(recurrentKernel, units, width, 0, 2 * units);
            float[] recurrentH = CellMath.columns(recurrentKernel, units, width, 2 * units, units);
            float[] hzr = CellMath.matmul(hPrev, batch, units, recurrentZr, 2 * units);
            float[] z = new float[batch * units];
            float[] resetH = new float[batch * units];
            for (int n = 0; n < batch; n++) {
                for (int j = 0; j < units; j++) {
                    z[n * units + j] = CellMath.act(sigma, xg[n * width + j] + hzr[n * 2 * units + j]);
                    float r = CellMath.act(sigma, xg[n * width + units + j] + hzr[n * 2 * units + units + j]);
                    resetH[n * units + j] = r * hPrev[n * units + j];
                }
            }
            float[] hh = CellMath.matmul(resetH, batch, units, recurrentH, units);
            for (int n = 0; n < batch; n++) {
                for (int j = 0; j < units; j++) {
                    int k = n * units + j;
                    float candidate = CellMath.act(phi, xg[n * width + 2 * units + j] + hh[k]);
                    h[k] = z[k] * hPrev[k] + (1 - z[k]) * candidate;
                }
            }
        }
        return new float[][] {h.clone(), h};
    }

    /** Builder with Keras 3 defaults (tanh, sigmoid, use_bias, reset_after=true). */
    public static final class Builder extends StandardCell.Builder<Builder, GRUCell> {
        boolean resetAfter = true;

        public Builder resetAfter(boolean resetAfter) {
            this.resetAfter = resetAfter;
            return this;
        }

        @Override
        public GRUCell build() {
            return new GRUCell(this);
        }
    }
}
