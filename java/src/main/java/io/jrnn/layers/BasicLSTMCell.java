package io.jrnn.layers;

import io.jrnn.weights.CellType;
import io.jrnn.weights.TfBasicCellWeights;
import java.util.List;

/**
 * TensorFlow 1.x {@code tf.nn.rnn_cell.BasicLSTMCell(num_units, forget_bias=1.0,
 * state_is_tuple=True, activation=None)} (spec §2.11):
 * <pre>
 * [i, j, f, o] = split(x_t·kernel[:C] + h_{t−1}·kernel[C:] + bias, 4)
 * c_t = c_{t−1} ⊙ sigmoid(f + forget_bias) + sigmoid(i) ⊙ act(j)
 * h_t = act(c_t) ⊙ sigmoid(o)            output h_t
 * </pre>
 * The state is TF's {@code LSTMStateTuple(c, h)}: <b>c first</b>, two {@code [N, H]} states; with
 * {@code state_is_tuple=false} one {@code [N, 2H]} state {@code concat([c, h], 1)}.
 *
 * <p>Variables {@code kernel [C+H, 4H]} and {@code bias [4H]} convert to an {@link LSTMCell} (spec
 * §4.2: gates reordered i, j, f, o → i, f, c, o, {@code forget_bias} folded into {@code b_f},
 * recurrent_activation sigmoid), which computes the step and lets {@link RNN} run it fused. The fold
 * is exact in real arithmetic; in float32 the forget pre-activation is rounded once differently
 * ({@code (z + b_f) + forget_bias} in TF, {@code z + (b_f + forget_bias)} here).
 */
public final class BasicLSTMCell extends AbstractCell {
    private final int numUnits;
    private final float forgetBias;
    private final boolean stateIsTuple;
    private final Activation activation;
    private final LSTMCell delegate;
    private final TfBasicVariables tfVariables;

    private BasicLSTMCell(Builder b) {
        super(b.name, "basic_lstm_cell");
        if (b.numUnits <= 0) {
            throw new IllegalArgumentException("BasicLSTMCell '" + name() + "': num_units must be > 0, got " + b.numUnits);
        }
        if (!Float.isFinite(b.forgetBias)) {
            throw new IllegalArgumentException("BasicLSTMCell '" + name() + "': forget_bias must be finite, got " + b.forgetBias);
        }
        this.numUnits = b.numUnits;
        this.forgetBias = b.forgetBias;
        this.stateIsTuple = b.stateIsTuple;
        this.activation = b.activation;
        LSTMCell.Builder cb = LSTMCell.builder().name(name()).units(numUnits).activation(activation)
                .recurrentActivation(Activation.SIGMOID).unitForgetBias(false);
        if (b.seed != null) {
            cb.seed(b.seed);
        }
        this.delegate = cb.build();
        this.tfVariables = new TfBasicVariables(delegate, CellType.LSTM, numUnits, 4, forgetBias);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "BasicLSTMCell";
    }

    public int numUnits() {
        return numUnits;
    }

    /** Added to the forget pre-activation on every step (not stored with the variables). */
    public float forgetBias() {
        return forgetBias;
    }

    /** Two states {@code (c, h)} when true; one {@code [N, 2H]} state {@code [c, h]} when false. */
    public boolean stateIsTuple() {
        return stateIsTuple;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public int[] stateSizes() {
        return stateIsTuple ? new int[] {numUnits, numUnits} : new int[] {2 * numUnits};
    }

    @Override
    public int outputSize() {
        return numUnits;
    }

    /** Sets the TF variables {@code kernel [C+H, 4H]} and {@code bias [4H]} ({@code C} follows from the kernel). */
    public void setWeights(float[] kernel, float[] bias) {
        ensureOpen();
        tfVariables.set(describe(), kernel, bias);
    }

    /** The TF variables, or {@code null} before they are set or initialised (Keras-style defaults on first use). */
    public TfBasicCellWeights tfWeights() {
        return tfVariables.get();
    }

    /** The equivalent Keras cell (owned by this one: closing this cell closes it); its states are {@code [h, c]}. */
    public LSTMCell kerasCell() {
        return delegate;
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        float[][] keras = toFusedStates(states, batch);
        float[][] r = delegate.compute(x, batch, features, keras);
        float[][] own = fromFusedStates(new float[][] {r[1], r[2]}, batch);
        float[][] out = new float[own.length + 1][];
        out[0] = r[0];
        System.arraycopy(own, 0, out, 1, own.length);
        return out;
    }

    @Override
    List<StandardCell> fusedCells() {
        return List.of(delegate);
    }

    /** {@code (c, h)} or {@code [c, h]} → Keras {@code [h, c]}. */
    @Override
    float[][] toFusedStates(float[][] states, int batch) {
        if (stateIsTuple) {
            return new float[][] {states[1], states[0]};
        }
        float[] c = new float[batch * numUnits];
        float[] h = new float[batch * numUnits];
        for (int n = 0; n < batch; n++) {
            System.arraycopy(states[0], n * 2 * numUnits, c, n * numUnits, numUnits);
            System.arraycopy(states[0], n * 2 * numUnits + numUnits, h, n * numUnits, numUnits);
        }
        return new float[][] {h, c};
    }

    /** Keras {@code [h, c]} → {@code (c, h)} or {@code [c, h]}. */
    @Override
    float[][] fromFusedStates(float[][] fused, int batch) {
        if (stateIsTuple) {
            return new float[][] {fused[1], fused[0]};
        }
        float[] both = new float[batch * 2 * numUnits];
        for (int n = 0; n < batch; n++) {
            System.arraycopy(fused[1], n * numUnits, both, n * 2 * numUnits, numUnits);
            System.arraycopy(fused[0], n * numUnits, both, n * 2 * numUnits + numUnits, numUnits);
        }
        return new float[][] {both};
    }

    @Override
    public void close() {
        super.close();
        delegate.close();
    }

    /** Builder: TF's arguments and defaults ({@code forget_bias=1.0}, {@code state_is_tuple=True}, tanh). */
    public static final class Builder {
        private String name;
        private int numUnits;
        private float forgetBias = TfBasicCellWeights.DEFAULT_FORGET_BIAS;
        private boolean stateIsTuple = true;
        private Activation activation = Activation.TANH;
        private Long seed;

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder numUnits(int numUnits) {
            this.numUnits = numUnits;
            return this;
        }

        public Builder forgetBias(float forgetBias) {
            this.forgetBias = forgetBias;
            return this;
        }

        public Builder stateIsTuple(boolean stateIsTuple) {
            this.stateIsTuple = stateIsTuple;
            return this;
        }

        /** TF's {@code activation}; {@code null} means tanh (TF's default). */
        public Builder activation(Activation activation) {
            this.activation = activation == null ? Activation.TANH : activation;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public BasicLSTMCell build() {
            return new BasicLSTMCell(this);
        }
    }
}
