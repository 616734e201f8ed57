package io.jrnn.io;

import io.jrnn.layers.HardSigmoid;

/**
 * Options for {@link KerasModels#load(java.nio.file.Path, LoadOptions)}.
 *
 * <pre>{@code
 * // A Keras 3 file whose hard_sigmoid should be read with the Keras 2 slope:
 * Sequential m = KerasModels.load(path, LoadOptions.defaults().withHardSigmoid(HardSigmoid.KERAS2));
 * }</pre>
 *
 * @param hardSigmoid the {@code hard_sigmoid} definition to use for every layer, or {@code null} to
 *                    pick it from the file's Keras version ({@link HardSigmoid#forKerasVersion})
 */
public record LoadOptions(HardSigmoid hardSigmoid) {
    /** Everything from the file. */
    public static LoadOptions defaults() {
        return new LoadOptions(null);
    }

    /** A copy that forces {@code variant} (or, with {@code null}, takes it from the file again). */
    public LoadOptions withHardSigmoid(HardSigmoid variant) {
        return new LoadOptions(variant);
    }
}
