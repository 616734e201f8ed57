package io.jrnn.io;

import io.jrnn.Sequential;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasArchive.StoredArray;
import io.jrnn.io.KerasConfig.KerasVersion;
import io.jrnn.io.KerasConfig.LayerPlan;
import io.jrnn.io.KerasConfig.LayerSpec;
import io.jrnn.io.KerasConfig.ModelSpec;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.Layer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Imports Keras models: legacy HDF5 {@code .h5} files written by {@code model.save()} in Keras
 * 1.x–2.3, tf.keras 2.x and Keras 3, and Keras 3 {@code .keras} zips. The format is recognised
 * from the file's content, not its extension.
 *
 * <p>Loadable: a {@code Sequential} model, or a functional model that is a plain chain (one input,
 * each layer fed by the previous one), made of {@code InputLayer}, {@code Embedding}, {@code Masking},
 * {@code SimpleRNN}, {@code GRU}, {@code LSTM}, {@code Dense}, {@code Dropout} and
 * {@code Activation}. Anything else fails with {@link UnsupportedConfigurationException} naming the
 * file, the layer, its class and the key; malformed files and weights that disagree with the config
 * fail with {@link IllegalArgumentException}. {@code hard_sigmoid} follows the file's Keras version
 * (spec §2.0) unless {@link LoadOptions} forces a variant.
 *
 * <pre>{@code
 * try (Sequential model = KerasModels.load(Path.of("model.h5"));
 *      Tensor y = model.forward(x)) {
 *     ...
 * }
 * System.out.println(KerasModels.inspect(Path.of("model.h5")).describe());
 * }</pre>
 */
public final class KerasModels {
    private KerasModels() {
    }

    /** Loads a model with the settings recorded in the file. The caller owns (and closes) the result. */
    public static Sequential load(Path file) {
        return load(file, LoadOptions.defaults());
    }

    /**
     * Loads a model.
     *
     * @throws UnsupportedConfigurationException for a layer, key or graph jrnn cannot run
     * @throws IllegalArgumentException          for an unreadable file or weights that disagree with the config
     */
    public static Sequential load(Path file, LoadOptions options) {
        try (KerasArchive archive = KerasArchive.open(file)) {
            String source = archive.source();
            ModelSpec model = requireModel(archive);
            if (model.problem() != null) {
                throw new UnsupportedConfigurationException(model.problem());
            }
            if (model.layers().isEmpty()) {
                throw new IllegalArgumentException(source + ": the model has no layers besides its input");
            }
            KerasConfig config = new KerasConfig(source, version(archive), hardSigmoid(archive, options));
            // Map every layer before reading any weights, so an unsupported layer is reported first.
            List<LayerPlan> plans = new ArrayList<>();
            for (LayerSpec spec : model.layers()) {
                plans.add(config.resolve(spec));
            }
            List<Layer> built = new ArrayList<>();
            try {
                int features = initialFeatures(model);
                int batch = model.batchSize() == null ? -1 : model.batchSize();
                for (int i = 0; i < plans.size(); i++) {
                    LayerSpec spec = model.layers().get(i);
                    Layer layer;
                    try {
                        layer = plans.get(i).build(batch);
                    } catch (IllegalArgumentException e) {
                        throw withSource(source, spec, e);
                    }
                    built.add(layer);
                    List<StoredArray> arrays = archive.weights(model.layers(), i);
                    try {
                        features = KerasWeights.assign(source, layer, arrays, features);
                    } catch (IllegalArgumentException e) {
                        throw withSource(source, spec, e);
                    }
                }
                String name = model.name() != null ? model.name() : stem(file);
                return new Sequential(name, model.inputShape(), built);
            } catch (RuntimeException e) {
                for (Layer l : built) {
                    try {
                        l.close();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
    }

    /** Reports what the file holds and what jrnn makes of each layer, without building the model. */
    public static ModelInfo inspect(Path file) {
        return inspect(file, LoadOptions.defaults());
    }

    /**
     * Reports what the file holds and what jrnn makes of each layer. Unsupported layers are listed
     * with the reason rather than thrown; an unreadable file still throws
     * {@link IllegalArgumentException}.
     */
    public static ModelInfo inspect(Path file, LoadOptions options) {
        try (KerasArchive archive = KerasArchive.open(file)) {
            String source = archive.source();
            HardSigmoid hardSigmoid = hardSigmoid(archive, options);
            String hardSigmoidSource = options.hardSigmoid() != null ? "forced by LoadOptions"
                    : "from Keras version " + version(archive);
            String format = archive.format().label;
            if (archive.modelConfig() == null) {
                List<ModelInfo.LayerInfo> layers = archive.storedLayerNames().stream()
                        .map(n -> new ModelInfo.LayerInfo(n, "?", "", null, null)).toList();
                return new ModelInfo(file, format, archive.kerasVersion(), archive.backend(), null, null, null, null,
                        hardSigmoid, hardSigmoidSource, layers, weightsOnlyMessage(source));
            }
            ModelSpec model = KerasConfig.parseModel(archive.modelConfig(), source);
            KerasConfig config = new KerasConfig(source, version(archive), hardSigmoid);
            List<ModelInfo.LayerInfo> layers = new ArrayList<>();
            for (int i = 0; i < model.layers().size(); i++) {
                LayerSpec spec = model.layers().get(i);
                String summary = "";
                String problem = null;
                try {
                    summary = config.resolve(spec).summary();
                } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
                    problem = e.getMessage();
                }
                String weights;
                try {
                    weights = archive.weights(model.layers(), i).stream().map(StoredArray::toString)
                            .collect(Collectors.joining(" ", "[", "]"));
                } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
                    weights = "unreadable: " + e.getMessage();
                }
                layers.add(new ModelInfo.LayerInfo(spec.name(), spec.className(), summary, weights, problem));
            }
            return new ModelInfo(file, format, archive.kerasVersion(), archive.backend(), model.className(), model.name(),
                    model.inputShape(), model.batchSize(), hardSigmoid, hardSigmoidSource, layers, model.problem());
        }
    }

    private static ModelSpec requireModel(KerasArchive archive) {
        if (archive.modelConfig() == null) {
            throw new UnsupportedConfigurationException(weightsOnlyMessage(archive.source()));
        }
        return KerasConfig.parseModel(archive.modelConfig(), archive.source());
    }

    private static String weightsOnlyMessage(String source) {
        return source + ": no model_config attribute: a weights-only file (Keras save_weights(), e.g. Keras 1);"
                + " jrnn needs the architecture stored with model.save()";
    }

    /** The file's Keras version; a {@code .keras} zip without one was written by Keras 3. */
    private static KerasVersion version(KerasArchive archive) {
        KerasVersion v = KerasVersion.parse(archive.kerasVersion());
        if (!v.known() && archive.format() == KerasArchive.Format.KERAS) {
            return new KerasVersion("3 (assumed for .keras)", 3, 0, 0);
        }
        return v;
    }

    private static HardSigmoid hardSigmoid(KerasArchive archive, LoadOptions options) {
        if (options.hardSigmoid() != null) {
            return options.hardSigmoid();
        }
        KerasVersion v = version(archive);
        return HardSigmoid.forKerasVersion(v.known() ? Integer.toString(v.major()) : null);
    }

    private static int initialFeatures(ModelSpec model) {
        int[] shape = model.inputShape();
        if (shape == null || shape.length == 0 || model.layers().get(0).className().equals("Embedding")) {
            return -1;
        }
        return shape[shape.length - 1];
    }

    /** Adds the file and layer to a message from the layer classes, which do not know either. */
    private static IllegalArgumentException withSource(String source, LayerSpec spec, IllegalArgumentException e) {
        if (e.getMessage() != null && e.getMessage().startsWith(source)) {
            return e;
        }
        return new IllegalArgumentException(source + ": " + spec.describe() + ": " + e.getMessage(), e);
    }

    private static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
