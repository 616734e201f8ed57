package io.jrnn.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras 0.x {@code SimpleDeepRNN(output_dim, depth=3)} as a cell (spec §2.10):
 * <pre>
 * h_t = φ(x_t·W + b + Σ_{k=1..depth} m_{t−k} · ψ(h_{t−k}·U_k)),   m_j = 0 for j &lt; 0
 * </pre>
 * with {@code φ = sigmoid}, {@code ψ = hard_sigmoid} (0.2·x + 0.5) by default. The mask multiplies
 * {@code ψ(…)}, so the first step has no recurrent term, and {@code depth=1} is <b>not</b> SimpleRNN
 * (spec §6 item 9). Weights, stored order: {@code W [C,H], U_1 … U_depth [H,H], b [H]}.
 *
 * <p>States: {@code h_{t−1} … h_{t−depth}} ({@code [N, H]} each), then one {@code [N, depth]}
 * state whose column {@code k−1} is {@code m_{t−k}} (1 when that step exists and was valid). Zero
 * states therefore mean "no history", as in Keras 0.x.
 */
public final class SimpleDeepRNNCell extends KerasZeroCell {
    private final int depth;

    private SimpleDeepRNNCell(Builder b) {
        super(b.name, "simple_deep_rnn_cell", b.units, b.activation, b.innerActivation, b.seed);
        if (b.depth < 1) {
            throw new IllegalArgumentException("SimpleDeepRNNCell '" + name() + "': depth must be >= 1, got " + b.depth);
        }
        this.depth = b.depth;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "SimpleDeepRNNCell";
    }

    @Override
    public String layerTypeName() {
        return "SimpleDeepRNN";
    }

    public int depth() {
        return depth;
    }

    @Override
    public int[] stateSizes() {
        int[] sizes = new int[depth + 1];
        java.util.Arrays.fill(sizes, 0, depth, units());
        sizes[depth] = depth;
        return sizes;
    }

    @Override
    public List<String> weightNames() {
        List<String> names = new ArrayList<>();
        names.add("W");
        for (int k = 1; k <= depth; k++) {
            names.add("U_" + k);
        }
        names.add("b");
        return names;
    }

    @Override
    List<Kind> weightKinds() {
        List<Kind> kinds = new ArrayList<>();
        kinds.add(Kind.INPUT);
        for (int k = 1; k <= depth; k++) {
            kinds.add(Kind.RECURRENT);
        }
        kinds.add(Kind.BIAS);
        return kinds;
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        ensureWeights(features);
        int units = units();
        float[] flags = states[depth];
        float[] pre = times(x, batch, features, arrays[0]);
        CellMath.addRowVector(pre, batch, units, arrays[depth + 1], 0);
        for (int k = 1; k <= depth; k++) {
            float[] term = CellMath.actInPlace(innerActivation(), times(states[k - 1], batch, units, arrays[k]));
            for (int n = 0; n < batch; n++) {
                float m = flags[n * depth + k - 1];
                for (int j = 0; j < units; j++) {
                    pre[n * units + j] += m * term[n * units + j];
                }
            }
        }
        float[] h = CellMath.actInPlace(activation(), pre);
        float[][] out = new float[depth + 2][];
        out[0] = h.clone();
        out[1] = h;
        for (int k = 1; k < depth; k++) {
            out[k + 1] = states[k - 1].clone();
        }
        // The new step exists and is valid (the K0 layer overwrites it with the mask).
        float[] nextFlags = new float[batch * depth];
        for (int n = 0; n < batch; n++) {
            nextFlags[n * depth] = 1f;
            System.arraycopy(flags, n * depth, nextFlags, n * depth + 1, depth - 1);
        }
        out[depth + 1] = nextFlags;
        return out;
    }

    @Override
    void applyKerasZeroMask(float[][] newStates, int batch, boolean[] validNow) {
        float[] flags = newStates[depth];
        for (int n = 0; n < batch; n++) {
            flags[n * depth] = validNow[n] ? 1f : 0f;
        }
    }

    /** Builder with K0.2 defaults: depth 3, sigmoid, hard_sigmoid (0.2·x + 0.5). */
    public static final class Builder {
        private String name;
        private int units;
        private int depth = 3;
        private Activation activation = Activation.SIGMOID;
        private Activation innerActivation = Activation.HARD_SIGMOID_KERAS2;
        private Long seed;

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** {@code output_dim}. */
        public Builder units(int units) {
            this.units = units;
            return this;
        }

        public Builder depth(int depth) {
            this.depth = depth;
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

        public SimpleDeepRNNCell build() {
            return new SimpleDeepRNNCell(this);
        }
    }
}
