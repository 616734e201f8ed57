package io.jrnn.layers;

import java.util.List;

/**
 * Keras 0.x {@code JZS1}, {@code JZS2}, {@code JZS3} (Jozefowicz et al. 2015, MUT1–3) as a cell
 * (spec §2.10), {@code h'} the previous state, {@code ψ} = inner_activation (sigmoid),
 * {@code φ} = activation (tanh); the {@code tanh} in JZS1's input path and JZS3's {@code z} is fixed:
 * <pre>
 * JZS1  z = ψ(x·W_z + b_z);            r = ψ(x·W_r + b_r + h'·U_r);  ĥ = φ(tanh(x·P) + b_h + (r ⊙ h')·U_h)
 * JZS2  z = ψ(x·W_z + b_z + h'·U_z);   r = ψ(x·P + b_r + h'·U_r);    ĥ = φ(x·W_h + b_h + (r ⊙ h')·U_h)
 * JZS3  z = ψ(x·W_z + b_z + tanh(h')·U_z); r = ψ(x·W_r + b_r + h'·U_r); ĥ = φ(x·W_h + b_h + (r ⊙ h')·U_h)
 *       h_t = ĥ ⊙ z + h' ⊙ (1 − z)      (z weights the candidate, unlike GRU)
 * </pre>
 * Weights, stored order: JZS1 {@code W_z, b_z, W_r, U_r, b_r, U_h, b_h, P} (8); JZS2
 * {@code W_z, U_z, b_z, U_r, b_r, W_h, U_h, b_h, P} (9); JZS3
 * {@code W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h} (9). {@code P [C, H]} must be given: files of
 * Keras 0.1.2–0.1.3, which did not save it, are refused. State {@code [h]}.
 */
public final class JZSCell extends KerasZeroCell {
    private static final List<String> JZS1_NAMES = List.of("W_z", "b_z", "W_r", "U_r", "b_r", "U_h", "b_h", "P");
    private static final List<String> JZS2_NAMES = List.of("W_z", "U_z", "b_z", "U_r", "b_r", "W_h", "U_h", "b_h", "P");
    private static final List<String> JZS3_NAMES = List.of("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h");

    private final int variant;

    private JZSCell(Builder b) {
        super(b.name, "jzs" + b.variant + "_cell", b.units, b.activation, b.innerActivation, b.seed);
        this.variant = b.variant;
    }

    /** A builder for JZS{@code variant} (1, 2 or 3). */
    public static Builder builder(int variant) {
        if (variant < 1 || variant > 3) {
            throw new IllegalArgumentException("JZS variant must be 1, 2 or 3, got " + variant);
        }
        return new Builder(variant);
    }

    /** 1, 2 or 3 (MUT1–3). */
    public int variant() {
        return variant;
    }

    @Override
    public String typeName() {
        return "JZS" + variant + "Cell";
    }

    @Override
    public String layerTypeName() {
        return "JZS" + variant;
    }

    @Override
    public int[] stateSizes() {
        return new int[] {units()};
    }

    @Override
    public List<String> weightNames() {
        return switch (variant) {
            case 1 -> JZS1_NAMES;
            case 2 -> JZS2_NAMES;
            default -> JZS3_NAMES;
        };
    }

    @Override
    List<Kind> weightKinds() {
        return weightNames().stream().map(n -> switch (n.charAt(0)) {
            case 'W' -> Kind.INPUT;
            case 'U' -> Kind.RECURRENT;
            case 'b' -> Kind.BIAS;
            default -> Kind.PROJECTION;
        }).toList();
    }

    @Override
    String missingWeightsHint(int count) {
        if (variant != 3 && count == weightNames().size() - 1) {
            return " (no projection P: files written by Keras 0.1.2–0.1.3 did not save it, so their JZS"
                    + variant + " cannot be reproduced; re-save with Keras 0.2)";
        }
        return "";
    }

    private float[] w(String name) {
        return arrays[weightNames().indexOf(name)];
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        ensureWeights(features);
        int units = units();
        float[] hPrev = states[0];
        Activation psi = innerActivation();
        float[] zPre = times(x, batch, features, w("W_z"));
        CellMath.addRowVector(zPre, batch, units, w("b_z"), 0);
        float[] rPre = times(x, batch, features, w(variant == 2 ? "P" : "W_r"));
        CellMath.addRowVector(rPre, batch, units, w("b_r"), 0);
        CellMath.addInPlace(rPre, times(hPrev, batch, units, w("U_r")));
        if (variant == 2) {
            CellMath.addInPlace(zPre, times(hPrev, batch, units, w("U_z")));
        } else if (variant == 3) {
            float[] tanhH = CellMath.actInPlace(Activation.TANH, hPrev.clone());
            CellMath.addInPlace(zPre, times(tanhH, batch, units, w("U_z")));
        }
        float[] z = CellMath.actInPlace(psi, zPre);
        float[] r = CellMath.actInPlace(psi, rPre);
        float[] candidatePre = variant == 1
                ? CellMath.actInPlace(Activation.TANH, times(x, batch, features, w("P")))
                : times(x, batch, features, w("W_h"));
        CellMath.addRowVector(candidatePre, batch, units, w("b_h"), 0);
        float[] resetH = new float[batch * units];
        for (int i = 0; i < resetH.length; i++) {
            resetH[i] = r[i] * hPrev[i];
        }
        CellMath.addInPlace(candidatePre, times(resetH, batch, units, w("U_h")));
        float[] candidate = CellMath.actInPlace(activation(), candidatePre);
        float[] h = new float[batch * units];
        for (int i = 0; i < h.length; i++) {
            h[i] = candidate[i] * z[i] + hPrev[i] * (1 - z[i]);
        }
        return new float[][] {h.clone(), h};
    }

    @Override
    void applyKerasZeroMask(float[][] newStates, int batch, boolean[] validNow) {
        int units = units();
        for (int n = 0; n < batch; n++) {
            if (!validNow[n]) {
                java.util.Arrays.fill(newStates[0], n * units, (n + 1) * units, 0f);
            }
        }
    }

    /** Builder with K0.2 defaults (tanh, sigmoid). */
    public static final class Builder {
        private final int variant;
        private String name;
        private int units;
        private Activation activation = Activation.TANH;
        private Activation innerActivation = Activation.SIGMOID;
        private Long seed;

        private Builder(int variant) {
            this.variant = variant;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** {@code output_dim}. */
        public Builder units(int units) {
            this.units = units;
            return this;
        }

        public Builder activation(Activation activation) {
            this.activation = activation;
            return this;
        }

        public Builder innerActivation(Activation innerActivation) {
            this.innerActivation = innerActivation;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public JZSCell build() {
            return new JZSCell(this);
        }
    }
}
