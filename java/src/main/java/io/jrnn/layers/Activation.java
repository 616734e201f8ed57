package io.jrnn.layers;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Keras activation functions by name. {@code hard_sigmoid} has two definitions (spec §2.0); pick one
 * with {@link #fromKeras(String, HardSigmoid)}.
 */
public enum Activation {
    LINEAR("linear"),
    TANH("tanh"),
    SIGMOID("sigmoid"),
    /** {@code clip(0.2·x + 0.5, 0, 1)} — Keras 0.x–2.x, tf.keras, TensorFlow.js. */
    HARD_SIGMOID_KERAS2("hard_sigmoid"),
    /** {@code clip(x/6 + 0.5, 0, 1)} — Keras 3. */
    HARD_SIGMOID_KERAS3("hard_sigmoid"),
    RELU("relu"),
    RELU6("relu6"),
    ELU("elu"),
    SELU("selu"),
    SOFTSIGN("softsign"),
    SOFTPLUS("softplus"),
    EXPONENTIAL("exponential"),
    SILU("silu"),
    /** Row-wise softmax over the last axis (Dense/Activation layers only; not a recurrent activation). */
    SOFTMAX("softmax");

    private final String kerasName;

    Activation(String kerasName) {
        this.kerasName = kerasName;
    }

    /** The name Keras uses in configs. */
    public String kerasName() {
        return kerasName;
    }

    /** Whether this is applied element by element (all but softmax). */
    public boolean isElementwise() {
        return this != SOFTMAX;
    }

    /**
     * Parses a Keras activation name ({@code null} or {@code "None"} mean linear, as in Keras 2+;
     * {@code "swish"} is {@code silu}).
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static Activation fromKeras(String name, HardSigmoid hardSigmoid) {
        if (name == null) {
            return LINEAR;
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "none", "linear" -> {
                return LINEAR;
            }
            case "hard_sigmoid" -> {
                return hardSigmoid == HardSigmoid.KERAS3 ? HARD_SIGMOID_KERAS3 : HARD_SIGMOID_KERAS2;
            }
            case "swish" -> {
                return SILU;
            }
            default -> {
                for (Activation a : values()) {
                    if (a.kerasName.equals(n)) {
                        return a;
                    }
                }
            }
        }
        throw new IllegalArgumentException("Unknown activation '" + name + "'; known: " + knownNames());
    }

    /** Parses a name, resolving {@code hard_sigmoid} to the Keras 3 definition. */
    public static Activation fromKeras(String name) {
        return fromKeras(name, HardSigmoid.KERAS3);
    }

    static String knownNames() {
        return Arrays.stream(values()).map(Activation::kerasName).distinct().collect(Collectors.joining(", "))
                + ", None, swish";
    }
}
