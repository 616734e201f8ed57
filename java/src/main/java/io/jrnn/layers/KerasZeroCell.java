package io.jrnn.layers;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The base of the Keras 0.x cells ({@link SimpleDeepRNNCell}, {@link JZSCell}; spec §2.10): weight
 * lists in the stored K0 order ({@code x·W} convention), seeded K0 initialisers, and the K0.1–0.2
 * masking rule used by {@link KerasZeroRecurrent}.
 */
public abstract class KerasZeroCell extends AbstractCell {
    /** What a weight array multiplies: the input ({@code [C, H]}), the state ({@code [H, H]}), or a bias ({@code [H]}). */
    enum Kind { INPUT, RECURRENT, BIAS, PROJECTION }

    private final int units;
    private final Activation activation;
    private final Activation innerActivation;
    private final long seed;
    private int inputSize = -1;
    /** The arrays in stored order. */
    float[][] arrays;

    KerasZeroCell(String name, String prefix, int units, Activation activation, Activation innerActivation, Long seed) {
        super(name, prefix);
        if (units <= 0) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "': output_dim must be > 0, got " + units);
        }
        this.units = units;
        this.activation = activation;
        this.innerActivation = innerActivation;
        this.seed = seed != null ? seed : new SplittableRandom().nextLong();
    }

    /** The K0 layer class name ({@code "SimpleDeepRNN"}, {@code "JZS1"}, …). */
    public abstract String layerTypeName();

    /** Names of the weight arrays, in stored order. */
    public abstract List<String> weightNames();

    abstract List<Kind> weightKinds();

    /**
     * The K0.1–0.2 mask rule after a step (spec §2.10): the next step sees the previous state
     * multiplied by this step's mask. {@code validNow[n]} is sample n's mask at this step.
     */
    abstract void applyKerasZeroMask(float[][] newStates, int batch, boolean[] validNow);

    /** Output width ({@code output_dim}). */
    public int units() {
        return units;
    }

    @Override
    public int outputSize() {
        return units;
    }

    /** {@code φ} ({@code activation}). */
    public Activation activation() {
        return activation;
    }

    /** {@code ψ} ({@code inner_activation}). */
    public Activation innerActivation() {
        return innerActivation;
    }

    /** {@code C}, or {@code -1} before weights are set. */
    public int inputSize() {
        return inputSize;
    }

    /** Copies of the weight arrays in stored order, or {@code null} before they are set. */
    public float[][] weights() {
        if (arrays == null) {
            return null;
        }
        float[][] copy = new float[arrays.length][];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = arrays[i].clone();
        }
        return copy;
    }

    /**
     * Sets the weights in the K0 stored order ({@link #weightNames()}); {@code C} follows from the
     * first array ({@code [C, H]}). Every shape is checked.
     */
    public void setWeights(float[]... stored) {
        ensureOpen();
        List<String> names = weightNames();
        List<Kind> kinds = weightKinds();
        if (stored.length != names.size()) {
            throw new IllegalArgumentException(describe() + ": expected " + names.size() + " weight arrays " + names
                    + ", got " + stored.length + missingWeightsHint(stored.length));
        }
        if (stored[0] == null || stored[0].length == 0 || stored[0].length % units != 0) {
            throw new IllegalArgumentException(describe() + ": " + names.get(0) + " must be [C, " + units + "], got "
                    + (stored[0] == null ? "null" : stored[0].length + " values"));
        }
        int c = stored[0].length / units;
        float[][] copy = new float[stored.length][];
        for (int i = 0; i < stored.length; i++) {
            int expected = switch (kinds.get(i)) {
                case INPUT, PROJECTION -> c * units;
                case RECURRENT -> units * units;
                case BIAS -> units;
            };
            String shape = switch (kinds.get(i)) {
                case INPUT, PROJECTION -> "[" + c + ", " + units + "]";
                case RECURRENT -> "[" + units + ", " + units + "]";
                case BIAS -> "[" + units + "]";
            };
            if (stored[i] == null || stored[i].length != expected) {
                throw new IllegalArgumentException(describe() + ": " + names.get(i) + " must be " + shape + " ("
                        + expected + " values), got " + (stored[i] == null ? "null" : stored[i].length + " values"));
            }
            copy[i] = stored[i].clone();
        }
        arrays = copy;
        inputSize = c;
    }

    /** Extra text for a wrong weight count (JZS1/JZS2 files from K0.1.2–0.1.3 lack {@code P}). */
    String missingWeightsHint(int count) {
        return "";
    }

    /** Draws K0-default weights: glorot_uniform W, orthogonal U, zero b; P identity when C = H, else random ±1/√C. */
    public void initializeWeights(int features) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Kind> kinds = weightKinds();
        float[][] w = new float[kinds.size()][];
        for (int i = 0; i < w.length; i++) {
            w[i] = switch (kinds.get(i)) {
                case INPUT -> Initializers.glorotUniform(features, units, rng);
                case RECURRENT -> Initializers.orthogonal(units, units, rng);
                case BIAS -> new float[units];
                case PROJECTION -> projection(features, rng);
            };
        }
        setWeights(w);
    }

    private float[] projection(int features, SplittableRandom rng) {
        float[] p = new float[features * units];
        if (features == units) {
            for (int i = 0; i < units; i++) {
                p[i * units + i] = 1f;
            }
        } else {
            float scale = (float) (1 / Math.sqrt(features));
            for (int i = 0; i < p.length; i++) {
                p[i] = rng.nextBoolean() ? scale : -scale;
            }
        }
        return p;
    }

    final void ensureWeights(int features) {
        if (arrays == null) {
            initializeWeights(features);
        } else if (features != inputSize) {
            throw new IllegalArgumentException(describe() + ": expected " + inputSize + " input features, got " + features);
        }
    }

    /** Number of scalar weights (0 before they are set). */
    public long parameterCount() {
        return arrays == null ? 0 : Arrays.stream(arrays).mapToLong(a -> a.length).sum();
    }

    /** {@code a [n, k] · w [k, H]}. */
    final float[] times(float[] a, int batch, int k, float[] w) {
        return CellMath.matmul(a, batch, k, w, units);
    }
}
