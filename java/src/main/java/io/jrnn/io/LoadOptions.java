package io.jrnn.io;

import io.jrnn.layers.HardSigmoid;
import java.nio.file.Path;

/**
 * Options for {@link KerasModels#load(java.nio.file.Path, LoadOptions)} and
 * {@link KerasModels#loadModel(java.nio.file.Path, LoadOptions)}.
 *
 * <pre>{@code
 * // A Keras 3 file whose hard_sigmoid should be read with the Keras 2 slope:
 * Sequential m = KerasModels.load(path, LoadOptions.defaults().withHardSigmoid(HardSigmoid.KERAS2));
 * // A Keras 1 save_weights() file whose architecture (model.to_json()) lives elsewhere:
 * Model k1 = KerasModels.loadModel(weights, LoadOptions.defaults().withConfig(Path.of("arch.json")));
 * }</pre>
 *
 * @param hardSigmoid the {@code hard_sigmoid} definition to use for every layer, or {@code null} to
 *                    pick it from the file's Keras version ({@link HardSigmoid#forKerasVersion})
 * @param config      a {@code model.to_json()} architecture file to use instead of the file's own
 *                    {@code model_config}, or {@code null}: then a weights-only file takes the
 *                    {@code .json} of the same base name beside it
 */
public record LoadOptions(HardSigmoid hardSigmoid, Path config) {
    /** Forces a {@code hard_sigmoid} variant; the architecture comes from the file. */
    public LoadOptions(HardSigmoid hardSigmoid) {
        this(hardSigmoid, null);
    }

    /** Everything from the file. */
    public static LoadOptions defaults() {
        return new LoadOptions(null, null);
    }

    /** A copy that forces {@code variant} (or, with {@code null}, takes it from the file again). */
    public LoadOptions withHardSigmoid(HardSigmoid variant) {
        return new LoadOptions(variant, config);
    }

    /** A copy that reads the architecture from {@code architectureJson} (or, with {@code null}, from the file again). */
    public LoadOptions withConfig(Path architectureJson) {
        return new LoadOptions(hardSigmoid, architectureJson);
    }
}
