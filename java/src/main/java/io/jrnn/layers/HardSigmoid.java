package io.jrnn.layers;

/**
 * The two definitions of Keras's {@code hard_sigmoid} (spec §2.0). A file's Keras version decides
 * which one it meant.
 */
public enum HardSigmoid {
    /** Keras 0.x–2.x, tf.keras 2.x, TensorFlow.js: {@code clip(0.2·x + 0.5, 0, 1)}. */
    KERAS2,
    /** Keras 3.x: {@code clip(x/6 + 0.5, 0, 1)}. */
    KERAS3;

    /** The variant a file written by this Keras version used ({@code null}/unknown → KERAS2 for 0.x–2.x, KERAS3 for 3.x). */
    public static HardSigmoid forKerasVersion(String kerasVersion) {
        if (kerasVersion == null || kerasVersion.isBlank()) {
            return KERAS2;
        }
        String major = kerasVersion.trim().split("[.]")[0];
        try {
            return Integer.parseInt(major) >= 3 ? KERAS3 : KERAS2;
        } catch (NumberFormatException e) {
            return KERAS2;
        }
    }
}
