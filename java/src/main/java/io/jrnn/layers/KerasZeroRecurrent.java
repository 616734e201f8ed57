package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A Keras 0.x recurrent layer over a {@link KerasZeroCell}: {@code SimpleDeepRNN}, {@code JZS1},
 * {@code JZS2}, {@code JZS3} (spec §2.10; {@link #typeName()} is the K0 class name). Keras 0.2's
 * arguments: {@code return_sequences} only — no {@code go_backwards}, {@code stateful} or initial
 * states; input {@code [N, T, C]}, zero initial state, Java step loop.
 *
 * <p>Masks follow Keras 0.1–0.2, not §3.3: outputs at masked steps are computed normally, and the
 * step after a masked one sees its recurrent input zeroed (JZS: {@code h' = m_{t−1}·h_{t−1}};
 * SimpleDeepRNN: the term {@code ψ(h_{t−k}·U_k)} is multiplied by {@code m_{t−k}}). The last output
 * is the last step's, masked or not. The same cells inside {@link RNN} use §3.3 instead. Owns its
 * cell.
 *
 * <pre>{@code
 * try (KerasZeroRecurrent jzs = KerasZeroRecurrent.builder(JZSCell.builder(1).units(8).build()).build()) {
 *     jzs.cell().setWeights(wz, bz, wr, ur, br, uh, bh, p);
 *     Tensor y = jzs.apply(x);
 * }
 * }</pre>
 */
public final class KerasZeroRecurrent extends Layer {
    private final KerasZeroCell cell;
    private final boolean returnSequences;

    private KerasZeroRecurrent(Builder b) {
        super(b.name, b.cell == null ? "k0" : b.cell.layerTypeName().toLowerCase(java.util.Locale.ROOT));
        if (b.cell == null) {
            throw new IllegalArgumentException("Keras 0.x layer '" + name() + "': expected a cell, got none");
        }
        this.cell = b.cell;
        this.returnSequences = b.returnSequences;
    }

    public static Builder builder(KerasZeroCell cell) {
        return new Builder(cell);
    }

    @Override
    public String typeName() {
        return cell.layerTypeName();
    }

    public KerasZeroCell cell() {
        return cell;
    }

    public boolean returnSequences() {
        return returnSequences;
    }

    /** Sets the weights in the K0 stored order (see the cell's {@code weightNames()}). */
    public void setWeights(float[]... stored) {
        ensureOpen();
        cell.setWeights(stored);
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return forward(x, null, initialStates);
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + ": Keras 0.x layers take no initial states, got "
                    + initialStates.length);
        }
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 3 [batch, time, features], got shape "
                    + Arrays.toString(x.shape()));
        }
        int batch = x.dim(0);
        int steps = x.dim(1);
        int features = x.dim(2);
        if (batch == 0 || steps == 0) {
            throw new IllegalArgumentException(describe() + ": " + (batch == 0 ? "empty batch" : "no time steps")
                    + " (input shape " + Arrays.toString(x.shape()) + "); expected at least one");
        }
        if (mask != null && (mask.batch() != batch || mask.steps() != steps)) {
            throw new IllegalArgumentException(describe() + ": mask must be [" + batch + ", " + steps + "], got ["
                    + mask.batch() + ", " + mask.steps() + "]");
        }
        cell.ensureOpen();
        int units = cell.units();
        float[] input = x.toArray();
        float[][] states = new float[cell.stateSizes().length][];
        int[] sizes = cell.stateSizes();
        for (int i = 0; i < states.length; i++) {
            states[i] = new float[batch * sizes[i]];
        }
        float[] sequence = returnSequences ? new float[batch * steps * units] : null;
        float[] last = null;
        float[] xt = new float[batch * features];
        boolean[] validNow = new boolean[batch];
        for (int t = 0; t < steps; t++) {
            for (int n = 0; n < batch; n++) {
                System.arraycopy(input, (n * steps + t) * features, xt, n * features, features);
            }
            float[][] r = cell.compute(xt, batch, features, states);
            float[][] next = Arrays.copyOfRange(r, 1, r.length);
            if (mask != null) {
                for (int n = 0; n < batch; n++) {
                    validNow[n] = mask.valid(n, t);
                }
                cell.applyKerasZeroMask(next, batch, validNow);
            }
            last = r[0];
            if (sequence != null) {
                for (int n = 0; n < batch; n++) {
                    System.arraycopy(last, n * units, sequence, (n * steps + t) * units, units);
                }
            }
            states = next;
        }
        return new Outputs(List.of(sequence != null ? Tensor.of(sequence, batch, steps, units) : Tensor.of(last, batch, units)));
    }

    /** Keras 0.2: the mask passes on when sequences are returned. */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return returnSequences ? inputMask : null;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int steps = inputShape.length > 0 ? inputShape[0] : -1;
        return returnSequences ? new int[] {steps, cell.units()} : new int[] {cell.units()};
    }

    @Override
    public String executionPath() {
        return "java step loop (" + cell.typeName() + ")";
    }

    @Override
    public long parameterCount() {
        return cell.parameterCount();
    }

    @Override
    protected void release() {
        cell.close();
    }

    /** Builder: the cell and {@code return_sequences}. */
    public static final class Builder {
        private final KerasZeroCell cell;
        private String name;
        private boolean returnSequences;

        private Builder(KerasZeroCell cell) {
            this.cell = cell;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder returnSequences(boolean returnSequences) {
            this.returnSequences = returnSequences;
            return this;
        }

        public KerasZeroRecurrent build() {
            return new KerasZeroRecurrent(this);
        }
    }
}
