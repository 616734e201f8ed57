package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The user-side weights of a oneDNN RNN primitive for one layer and one direction (spec §4.2):
 * {@code weights_layer} in {@code ldigo} {@code [C, G, H]}, {@code weights_iter} in {@code ldigo}
 * {@code [H, G, H]}, {@code bias} in {@code ldgo} {@code [G', H]} (the leading {@code l, d} axes
 * of size 1 dropped).
 *
 * <p>Keras {@code [C, G·H]} row-major already <i>is</i> {@code ldigo}: the weights need neither
 * permutation nor transpose (Keras z, r, h = oneDNN u, r, o). Only the bias differs:
 * <ul>
 *   <li>VANILLA, LSTM, GRU (reset-before): the Keras bias as {@code [G, H]}.</li>
 *   <li>LBR_GRU (Keras {@code reset_after=True}): {@code [4, H] = [b_x,z + b_h,z; b_x,r + b_h,r;
 *       b_x,h; b_h,h]}. Back to Keras: {@code b_x = (B_u, B_r, B_o)}, {@code b_h = (0, 0, B_u′)}:
 *       the same function, not the same arrays.</li>
 * </ul>
 * oneDNN always needs a bias, so a Keras layer without one converts to zeros. The primitive
 * ({@link OneDnnCell#of}) and sizes live outside the arrays: {@link #toKeras} takes them and
 * checks every shape. Instances are immutable; the constructor and the accessors copy.
 *
 * <pre>{@code
 * OneDnnRnnWeights user = OneDnnRnnWeights.fromKeras(keras);
 * OneDnnCell cell = OneDnnCell.of(keras.type(), keras.resetAfter()); // picks the primitive
 * }</pre>
 */
public final class OneDnnRnnWeights {
    private final float[] weightsLayer;
    private final float[] weightsIter;
    private final float[] bias;

    /**
     * Copies the arrays. Their shapes are checked by {@link #toKeras}, which knows the cell and sizes.
     *
     * @param weightsLayer {@code ldigo [C, G, H]}
     * @param weightsIter  {@code ldigo [H, G, H]}
     * @param bias         {@code ldgo [G', H]}
     * @throws IllegalArgumentException if an array is missing
     */
    public OneDnnRnnWeights(float[] weightsLayer, float[] weightsIter, float[] bias) {
        if (weightsLayer == null || weightsIter == null || bias == null) {
            throw new IllegalArgumentException("oneDNN RNN weights: expected weights_layer, weights_iter and bias, got "
                    + (weightsLayer == null ? "weights_layer null, " : "weights_layer present, ")
                    + (weightsIter == null ? "weights_iter null, " : "weights_iter present, ")
                    + (bias == null ? "bias null" : "bias present"));
        }
        this.weightsLayer = weightsLayer.clone();
        this.weightsIter = weightsIter.clone();
        this.bias = bias.clone();
    }

    /**
     * Converts Keras standard weights for the primitive {@code OneDnnCell.of(keras.type(),
     * keras.resetAfter())}.
     */
    public static OneDnnRnnWeights fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        OneDnnCell cell = OneDnnCell.of(keras.type(), keras.resetAfter());
        int hiddenSize = keras.hiddenSize();
        float[] kerasBias = keras.withZeroBiasIfAbsent().biasView();
        float[] bias;
        if (cell == OneDnnCell.LBR_GRU) {
            // Keras [2, 3H] = [b_x(z, r, h); b_h(z, r, h)] → [b_x,z + b_h,z; b_x,r + b_h,r; b_x,h; b_h,h].
            int width = 3 * hiddenSize;
            float[] inputBias = Layouts.slice(kerasBias, 0, width);
            float[] recurrentBias = Layouts.slice(kerasBias, width, width);
            bias = Layouts.concat(
                    Layouts.add(Layouts.slice(inputBias, 0, 2 * hiddenSize),
                            Layouts.slice(recurrentBias, 0, 2 * hiddenSize)),
                    Layouts.slice(inputBias, 2 * hiddenSize, hiddenSize),
                    Layouts.slice(recurrentBias, 2 * hiddenSize, hiddenSize));
        } else {
            bias = kerasBias;
        }
        return new OneDnnRnnWeights(keras.kernelView(), keras.recurrentKernelView(), bias);
    }

    /**
     * Converts to Keras standard weights (always with a bias). For {@code LBR_GRU}:
     * {@code b_x = (B_u, B_r, B_o)}, {@code b_h = (0, 0, B_u′)}.
     *
     * @param cell       the primitive the arrays are laid out for
     * @param inputSize  {@code C}
     * @param hiddenSize {@code H}
     * @throws IllegalArgumentException if an array does not have the shape these sizes give
     */
    public KerasRnnWeights toKeras(OneDnnCell cell, int inputSize, int hiddenSize) {
        Objects.requireNonNull(cell, "cell");
        String primitive = "oneDNN " + cell;
        Layouts.requirePositive(primitive + " input size", inputSize);
        Layouts.requirePositive(primitive + " hidden size", hiddenSize);
        int width = cell.gateCount() * hiddenSize;
        Layouts.requireMatrix(primitive + " weights_layer (ldigo)", weightsLayer, "[C, G*H]", inputSize, width);
        Layouts.requireMatrix(primitive + " weights_iter (ldigo)", weightsIter, "[H, G*H]", hiddenSize, width);
        Layouts.requireMatrix(primitive + " bias (ldgo)", bias, "[G', H]", cell.biasGateCount(), hiddenSize);
        float[] kerasBias;
        if (cell == OneDnnCell.LBR_GRU) {
            float[] inputBias = Layouts.slice(bias, 0, 3 * hiddenSize);
            float[] recurrentBias = Layouts.concat(new float[2 * hiddenSize],
                    Layouts.slice(bias, 3 * hiddenSize, hiddenSize));
            kerasBias = Layouts.concat(inputBias, recurrentBias);
        } else {
            kerasBias = bias.clone();
        }
        return KerasRnnWeights.wrap(cell.cellType(), cell.resetAfter(), inputSize, hiddenSize, weightsLayer.clone(),
                weightsIter.clone(), kerasBias);
    }

    /** A copy of {@code weights_layer}, {@code ldigo [C, G, H]}. */
    public float[] weightsLayer() {
        return weightsLayer.clone();
    }

    /** A copy of {@code weights_iter}, {@code ldigo [H, G, H]}. */
    public float[] weightsIter() {
        return weightsIter.clone();
    }

    /** A copy of {@code bias}, {@code ldgo [G', H]}. */
    public float[] bias() {
        return bias.clone();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof OneDnnRnnWeights other)) {
            return false;
        }
        return Arrays.equals(weightsLayer, other.weightsLayer) && Arrays.equals(weightsIter, other.weightsIter)
                && Arrays.equals(bias, other.bias);
    }

    @Override
    public int hashCode() {
        int result = Arrays.hashCode(weightsLayer);
        result = 31 * result + Arrays.hashCode(weightsIter);
        result = 31 * result + Arrays.hashCode(bias);
        return result;
    }

    @Override
    public String toString() {
        return "OneDnnRnnWeights[weights_layer " + weightsLayer.length + " floats, weights_iter " + weightsIter.length
                + " floats, bias " + bias.length + " floats]";
    }
}
