package io.jrnn.layers;

import io.jrnn.weights.CellType;
import io.jrnn.weights.TfBasicCellWeights;

/**
 * The TF variables {@code kernel [C+H, G·H]} and {@code bias [G·H]} of a {@link BasicRNNCell} or
 * {@link BasicLSTMCell}, converted exactly into the Keras cell that computes the step (spec §2.11, §4.2).
 */
final class TfBasicVariables {
    private final StandardCell delegate;
    private final CellType type;
    private final int numUnits;
    private final int width;
    private final float forgetBias;
    private TfBasicCellWeights set;

    /** @param gates the kernel's column blocks ({@code G}): 1 for SimpleRNN, 4 for LSTM */
    TfBasicVariables(StandardCell delegate, CellType type, int numUnits, int gates, float forgetBias) {
        this.delegate = delegate;
        this.type = type;
        this.numUnits = numUnits;
        this.width = gates * numUnits;
        this.forgetBias = forgetBias;
    }

    /** Checks and converts the variables ({@code C} follows from the kernel's length); {@code who} names the cell. */
    void set(String who, float[] kernel, float[] bias) {
        if (kernel.length % width != 0 || kernel.length / width <= numUnits) {
            throw new IllegalArgumentException(who + ": kernel must be [C+" + numUnits + ", " + width
                    + "] with C > 0, got " + kernel.length + " values");
        }
        TfBasicCellWeights w = new TfBasicCellWeights(kernel, bias, forgetBias);
        delegate.setWeights(w.toKeras(type, kernel.length / width - numUnits, numUnits));
        set = w;
    }

    /** The variables, or {@code null} before they are set or initialised (Keras-style defaults on first use). */
    TfBasicCellWeights get() {
        if (set == null && delegate.weights() != null) {
            return TfBasicCellWeights.fromKeras(delegate.weights(), forgetBias);
        }
        return set;
    }
}
