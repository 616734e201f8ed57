package io.jrnn.layers;

import io.jrnn.weights.CellType;
import io.jrnn.weights.TfBasicCellWeights;
import java.util.List;

/**
 * TensorFlow 1.x {@code tf.nn.rnn_cell.BasicRNNCell(num_units, activation=None)} (spec §2.11):
 * {@code h_t = act(x_t·kernel[:C] + h_{t−1}·kernel[C:] + bias)}, output = new state, state {@code [h]}.
 * Variables {@code kernel [C+H, H]} and {@code bias [H]}; they are converted exactly (a row split)
 * into a {@link SimpleRNNCell}, which computes the step and lets {@link RNN} run it fused.
 */
public final class BasicRNNCell extends AbstractCell {
    private final int numUnits;
    private final Activation activation;
    private final SimpleRNNCell delegate;
    private final TfBasicVariables tfVariables;

    private BasicRNNCell(Builder b) {
        super(b.name, "basic_rnn_cell");
        if (b.numUnits <= 0) {
            throw new IllegalArgumentException("BasicRNNCell '" + name() + "': num_units must be > 0, got " + b.numUnits);
        }
        this.numUnits = b.numUnits;
        this.activation = b.activation;
        SimpleRNNCell.Builder cb = SimpleRNNCell.builder().name(name()).units(numUnits).activation(activation);
        if (b.seed != null) {
            cb.seed(b.seed);
        }
        this.delegate = cb.build();
        this.tfVariables = new TfBasicVariables(delegate, CellType.SIMPLE_RNN, numUnits, 1, 0f);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "BasicRNNCell";
    }

    public int numUnits() {
        return numUnits;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public int[] stateSizes() {
        return new int[] {numUnits};
    }

    @Override
    public int outputSize() {
        return numUnits;
    }

    /**
     * Sets the TF variables {@code kernel [C+H, H]} and {@code bias [H]} ({@code C} follows from the
     * kernel's length).
     */
    public void setWeights(float[] kernel, float[] bias) {
        ensureOpen();
        tfVariables.set(describe(), kernel, bias);
    }

    /** The TF variables, or {@code null} before they are set or initialised (Keras-style defaults on first use). */
    public TfBasicCellWeights tfWeights() {
        return tfVariables.get();
    }

    /** The equivalent Keras cell (owned by this one: closing this cell closes it). */
    public SimpleRNNCell kerasCell() {
        return delegate;
    }

    @Override
    float[][] compute(float[] x, int batch, int features, float[][] states) {
        return delegate.compute(x, batch, features, states);
    }

    @Override
    List<StandardCell> fusedCells() {
        return List.of(delegate);
    }

    @Override
    public void close() {
        super.close();
        delegate.close();
    }

    /** Builder: {@code num_units}, {@code activation} (default tanh). */
    public static final class Builder {
        private String name;
        private int numUnits;
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

        /** TF's {@code activation}; {@code null} means tanh (TF's default). */
        public Builder activation(Activation activation) {
            this.activation = activation == null ? Activation.TANH : activation;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public BasicRNNCell build() {
            return new BasicRNNCell(this);
        }
    }
}
