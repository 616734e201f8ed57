package io.jrnn.layers;

import io.jrnn.Tensor;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The common part of {@link SimpleRNNCell}, {@link GRUCell} and {@link LSTMCell} (spec §2.7): the
 * cell rows of the layer tables, weights in Keras standard layout ({@code kernel [C, G·H]},
 * {@code recurrent_kernel [H, G·H]}, {@code bias}), the same defaults and initialisers as the
 * layers. The input size is taken from the weights, or from the first step when none were set
 * (Keras default initialisers, seeded).
 */
public abstract class StandardCell extends AbstractCell {
    private final int units;
    private final Activation activation;
    private final Activation recurrentActivation;
    private final boolean useBias;
    private final boolean unitForgetBias;
    private final long seed;

    private KerasRnnWeights weights;
    /** Cached copies of the weight arrays for the step; bias zeros when use_bias=false. */
    float[] kernel;
    float[] recurrentKernel;
    float[] bias;
    private int version;

    StandardCell(Builder<?, ?> b, String defaultPrefix) {
        super(b.name, defaultPrefix);
        if (b.units <= 0) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "': units must be > 0, got " + b.units);
        }
        this.units = b.units;
        this.activation = requireElementwise(b.activation, "activation");
        this.recurrentActivation = requireElementwise(b.recurrentActivation, "recurrent_activation");
        this.useBias = b.useBias;
        this.unitForgetBias = b.unitForgetBias;
        this.seed = b.seed != null ? b.seed : new SplittableRandom().nextLong();
    }

    private Activation requireElementwise(Activation a, String key) {
        if (a == null || !a.isElementwise()) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "': " + key
                    + " must be an elementwise activation, got " + a);
        }
        return a;
    }

    /** The cell family. */
    public abstract CellType cellType();

    /** GRU only ({@code false} elsewhere). */
    public boolean resetAfter() {
        return false;
    }

    public int units() {
        return units;
    }

    public Activation activation() {
        return activation;
    }

    /** The gate activation (unused by SimpleRNNCell). */
    public Activation recurrentActivation() {
        return recurrentActivation;
    }

    public boolean useBias() {
        return useBias;
    }

    /** Initialisation only (LSTMCell): the forget-gate bias starts at one. */
    public boolean unitForgetBias() {
        return unitForgetBias;
    }

    @Override
    public int[] stateSizes() {
        return cellType() == CellType.LSTM ? new int[] {units, units} : new int[] {units};
    }

    @Override
    public int outputSize() {
        return units;
    }

    /** The weights in Keras standard layout, or {@code null} before they are set or initialised. */
    public KerasRnnWeights weights() {
        return weights;
    }

    /** Number of scalar weights (0 before they are set). */
    public long parameterCount() {
        if (weights == null) {
            return 0;
        }
        int gh = cellType().gateCount() * units;
        return (long) weights.inputSize() * gh + (long) units * gh + (useBias ? gh * (resetAfter() ? 2L : 1L) : 0L);
    }

    /** Sets the weights (Keras standard layout). The input size is taken from them. */
    public void setWeights(KerasRnnWeights newWeights) {
        ensureOpen();
        if (newWeights.type() != cellType()) {
            throw new IllegalArgumentException(describe() + ": weights are for " + newWeights.type() + ", expected " + cellType());
        }
        if (newWeights.hiddenSize() != units) {
            throw new IllegalArgumentException(describe() + ": weights have hidden size " + newWeights.hiddenSize()
                    + ", expected units=" + units);
        }
        if (cellType() == CellType.GRU && newWeights.resetAfter() != resetAfter()) {
            throw new IllegalArgumentException(describe() + ": weights are for reset_after=" + newWeights.resetAfter()
                    + ", the cell has reset_after=" + resetAfter()
                    + " (the two GRU variants are not convertible into each other)");
        }
        if (useBias != newWeights.hasBias()) {
            throw new IllegalArgumentException(describe() + ": use_bias=" + useBias + " but the weights "
                    + (newWeights.hasBias() ? "have a bias" : "have no bias"));
        }
        this.weights = newWeights;
        this.kernel = newWeights.kernel();
        this.recurrentKernel = newWeights.recurrentKernel();
        this.bias = newWeights.withZeroBiasIfAbsent().bias();
        version++;
    }

    /**
     * Sets the weights from Keras arrays: {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]}
     * and, with {@code use_bias}, {@code bias [G·H]} (GRU {@code reset_after}: {@code [2, 3H]}).
     */
    public void setWeights(float[] kernel, float[] recurrentKernel, float[] bias) {
        int gh = cellType().gateCount() * units;
        if (kernel.length == 0 || kernel.length % gh != 0) {
            throw new IllegalArgumentException(describe() + ": kernel must have C·" + gh + " values ([C, " + gh + "]), got "
                    + kernel.length);
        }
        if (recurrentKernel.length != units * gh) {
            throw new IllegalArgumentException(describe() + ": recurrent_kernel must be [" + units + ", " + gh + "] ("
                    + units * gh + " values), got " + recurrentKernel.length);
        }
        int biasLength = gh * (resetAfter() ? 2 : 1);
        if (bias != null && bias.length != biasLength) {
            throw new IllegalArgumentException(describe() + ": bias must have " + biasLength + " values"
                    + (resetAfter() ? " ([2, " + gh + "])" : "") + ", got " + bias.length);
        }
        setWeights(KerasRnnWeights.of(cellType(), resetAfter(), kernel.length / gh, units, kernel, recurrentKernel, bias));
    }

    /** Sets the weights from Keras arrays as tensors, in Keras order (kernel, recurrent_kernel[, bias]). */
    public void setWeights(Tensor... kerasArrays) {
        int expected = useBias ? 3 : 2;
        if (kerasArrays.length != expected) {
            throw new IllegalArgumentException(describe() + ": expected " + expected + " weight arrays (kernel, recurrent_kernel"
                    + (useBias ? ", bias" : "") + "), got " + kerasArrays.length);
        }
        setWeights(kerasArrays[0].toArray(), kerasArrays[1].toArray(), useBias ? kerasArrays[2].toArray() : null);
    }

    /** Draws Keras-default weights (glorot_uniform, orthogonal, zeros; forget bias one with unit_forget_bias). */
    public void initializeWeights(int inputSize) {
        SplittableRandom rng = new SplittableRandom(seed);
        int gh = cellType().gateCount() * units;
        float[] k = Initializers.glorotUniform(inputSize, gh, rng);
        float[] r = Initializers.orthogonal(units, gh, rng);
        float[] b = null;
        if (useBias) {
            b = new float[gh * (resetAfter() ? 2 : 1)];
            if (cellType() == CellType.LSTM && unitForgetBias) {
                Arrays.fill(b, units, 2 * units, 1f);
            }
        }
        setWeights(KerasRnnWeights.of(cellType(), resetAfter(), inputSize, units, k, r, b));
    }

    /** Initialises the weights for {@code features} inputs when none are set, else checks the input width. */
    final void ensureWeights(int features) {
        if (weights == null) {
            initializeWeights(features);
        } else if (features != weights.inputSize()) {
            throw new IllegalArgumentException(describe() + ": expected " + weights.inputSize()
                    + " input features, got " + features);
        }
    }

    /** Changes each time the weights are replaced (so a fused copy can be rebuilt). */
    final int weightsVersion() {
        return version;
    }

    @Override
    List<StandardCell> fusedCells() {
        return List.of(this);
    }

    /**
     * A layer computing this cell over a sequence with the same configuration and weights (returning
     * its states); the caller owns it. Weights must be set.
     */
    final RecurrentLayer toLayer(String layerName, boolean goBackwards, boolean returnSequences) {
        RecurrentLayer.Builder<?, ?> b = switch (cellType()) {
            case SIMPLE_RNN -> SimpleRNN.builder();
            case GRU -> GRU.builder().resetAfter(resetAfter());
            case LSTM -> LSTM.builder();
        };
        RecurrentLayer layer = b.name(layerName).units(units).activation(activation).recurrentActivation(recurrentActivation)
                .useBias(useBias).unitForgetBias(unitForgetBias).goBackwards(goBackwards).returnSequences(returnSequences)
                .returnState(true).build();
        layer.setWeights(weights);
        return layer;
    }

    /**
     * Builder shared by the cells; the same arguments and defaults as the layers' (Keras 2.3+/3:
     * tanh, sigmoid, use_bias).
     */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B, C>, C extends StandardCell> extends CellOptionsBuilder<B> {
        public abstract C build();
    }
}
