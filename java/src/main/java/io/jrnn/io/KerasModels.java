package io.jrnn.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.jrnn.Model;
import io.jrnn.Sequential;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasArchive.StoredArray;
import io.jrnn.io.KerasConfig.GraphSpec;
import io.jrnn.io.KerasConfig.InputSpec;
import io.jrnn.io.KerasConfig.KerasVersion;
import io.jrnn.io.KerasConfig.LayerPlan;
import io.jrnn.io.KerasConfig.LayerSpec;
import io.jrnn.io.KerasConfig.ModelSpec;
import io.jrnn.io.KerasConfig.NodeSpec;
import io.jrnn.io.KerasConfig.TensorRef;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Merge;
import io.jrnn.layers.RNN;
import io.jrnn.layers.RecurrentLayer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Imports Keras models: legacy HDF5 {@code .h5} files written by {@code model.save()} in Keras
 * 1.x–2.3, tf.keras 2.x and Keras 3, Keras 3 {@code .keras} zips, and Keras 1 weights-only files
 * ({@code save_weights()}) with their {@code model.to_json()} architecture beside them (same base
 * name, {@code .json}) or named by {@link LoadOptions#withConfig}. The format is recognised from
 * the file's content, not its extension.
 *
 * <p>{@link #loadModel} returns a {@link Model} for any supported graph: several inputs and
 * outputs, the merges {@code Concatenate}, {@code Add}, {@code Subtract}, {@code Multiply},
 * {@code Average}, {@code Maximum}, {@code Minimum}, recurrent layers called with
 * {@code initial_state} and {@code return_state} outputs read by other layers. {@link #load}
 * returns a {@link Sequential} for chains (Sequential models and one-input functional chains).
 * Layers: {@code InputLayer}, {@code Embedding}, {@code Masking}, {@code SimpleRNN}, {@code GRU},
 * {@code LSTM} (Keras 2/3 weights, or Keras 1 per-gate / fused lists, spec §2.9), {@code CuDNNLSTM},
 * {@code CuDNNGRU} (weights converted from cuDNN layout), {@code RNN} with an {@code LSTMCell},
 * {@code GRUCell}, {@code SimpleRNNCell} or a {@code StackedRNNCells} of them (state order per Keras
 * version, spec §2.8), {@code Bidirectional} (also over {@code RNN(cell)}),
 * {@code TimeDistributed}, {@code Dense}, {@code Dropout}, {@code SpatialDropout1D},
 * {@code Activation}, {@code RepeatVector}, {@code Flatten}, {@code Reshape},
 * {@code GlobalMaxPooling1D} and {@code GlobalAveragePooling1D}. Anything else fails with
 * {@link UnsupportedConfigurationException} naming the file, the layer, its class and the key;
 * malformed files and weights that disagree with the config fail with
 * {@link IllegalArgumentException}. {@code hard_sigmoid} follows the file's Keras version
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
        return guarded(file, () -> loadChain(file, options));
    }

    /**
     * Runs an import so that only jrnn's documented exceptions leave it: any other failure of the
     * readers or layer code (index errors, negative sizes, {@link StackOverflowError} from nesting,
     * {@link OutOfMemoryError} from a declared size) becomes a {@link ModelFormatException} naming the file.
     */
    private static <T> T guarded(Path file, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (IllegalArgumentException | UnsupportedConfigurationException | UncheckedIOException | io.jrnn.NativeException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw ModelFormatException.wrap(String.valueOf(file), "cannot import the model", e);
        }
    }

    private static Sequential loadChain(Path file, LoadOptions options) {
        try (KerasArchive archive = KerasArchive.open(file, options)) {
            String source = archive.source();
            Architecture arch = architecture(archive, file, options);
            ModelSpec model = KerasConfig.parseModel(arch.json(), source);
            if (model.problem() != null) {
                boolean functional = !model.className().equals("Sequential");
                throw new UnsupportedConfigurationException(model.problem()
                        + (functional ? "; KerasModels.loadModel loads it as a Model" : ""));
            }
            if (model.layers().isEmpty()) {
                throw new IllegalArgumentException(source + ": the model has no layers besides its input");
            }
            KerasConfig config = new KerasConfig(source, arch.version(), hardSigmoid(arch.version(), options));
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
                        features = KerasWeights.assign(source, layer, arrays, features, "theano".equals(archive.backend()));
                    } catch (IllegalArgumentException e) {
                        throw withSource(source, spec, e);
                    }
                }
                String name = model.name() != null ? model.name() : stem(file);
                return new Sequential(name, model.inputShape(), built);
            } catch (RuntimeException | Error e) {
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
        return guarded(file, () -> inspectUnguarded(file, options));
    }

    private static ModelInfo inspectUnguarded(Path file, LoadOptions options) {
        try (KerasArchive archive = KerasArchive.open(file, options)) {
            String source = archive.source();
            String format = archive.format().label;
            Architecture arch;
            try {
                arch = architecture(archive, file, options);
            } catch (UnsupportedConfigurationException weightsOnly) {
                KerasVersion v = version(archive, null);
                List<ModelInfo.LayerInfo> layers = archive.storedLayerNames().stream()
                        .map(n -> new ModelInfo.LayerInfo(n, "?", "", null, null)).toList();
                return new ModelInfo(file, format, archive.kerasVersion(), archive.backend(), null, null, null, null,
                        hardSigmoid(v, options), hardSigmoidSource(v, options), layers, weightsOnly.getMessage());
            }
            HardSigmoid hardSigmoid = hardSigmoid(arch.version(), options);
            ModelSpec model = KerasConfig.parseModel(arch.json(), source);
            String problem = model.problem();
            if (problem != null && !model.className().equals("Sequential")) {
                // Not a chain, but maybe a graph that loadModel runs.
                try {
                    KerasConfig.parseGraph(arch.json(), source);
                    problem = null;
                } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
                    problem = e.getMessage();
                }
            }
            KerasConfig config = new KerasConfig(source, arch.version(), hardSigmoid);
            List<ModelInfo.LayerInfo> layers = new ArrayList<>();
            for (int i = 0; i < model.layers().size(); i++) {
                LayerSpec spec = model.layers().get(i);
                String summary = "";
                String layerProblem = null;
                try {
                    summary = config.resolve(spec).summary();
                } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
                    layerProblem = e.getMessage();
                }
                String weights;
                try {
                    weights = archive.weights(model.layers(), i).stream().map(StoredArray::toString)
                            .collect(Collectors.joining(" ", "[", "]"));
                } catch (UnsupportedConfigurationException | IllegalArgumentException e) {
                    weights = "unreadable: " + e.getMessage();
                }
                layers.add(new ModelInfo.LayerInfo(spec.name(), spec.className(), summary, weights, layerProblem));
            }
            String version = archive.kerasVersion() != null ? archive.kerasVersion() : arch.version().text();
            return new ModelInfo(file, format, version, archive.backend(), model.className(), model.name(),
                    model.inputShape(), model.batchSize(), hardSigmoid, hardSigmoidSource(arch.version(), options), layers, problem);
        }
    }

    /**
     * Loads any supported model as a graph: functional models with several inputs and outputs,
     * merges, initial-state wiring and {@code return_state} outputs; a Sequential model becomes a
     * one-input chain. The caller owns (and closes) the result.
     *
     * <pre>{@code
     * try (Model m = KerasModels.loadModel(Path.of("seq2seq.h5"))) {
     *     Map<String, Tensor> y = m.forward(Map.of("encoder_input", xEnc, "decoder_input", xDec));
     * }
     * }</pre>
     */
    public static Model loadModel(Path file) {
        return loadModel(file, LoadOptions.defaults());
    }

    /**
     * Loads any supported model as a graph.
     *
     * @throws UnsupportedConfigurationException for a layer, key or graph feature jrnn cannot run
     * @throws IllegalArgumentException          for an unreadable file or weights that disagree with the config
     */
    public static Model loadModel(Path file, LoadOptions options) {
        return guarded(file, () -> loadGraph(file, options));
    }

    private static Model loadGraph(Path file, LoadOptions options) {
        try (KerasArchive archive = KerasArchive.open(file, options)) {
            String source = archive.source();
            Architecture arch = architecture(archive, file, options);
            GraphSpec graph = KerasConfig.parseGraph(arch.json(), source);
            KerasConfig config = new KerasConfig(source, arch.version(), hardSigmoid(arch.version(), options));
            Set<String> used = new HashSet<>();
            for (NodeSpec n : graph.nodes()) {
                used.add(n.layer().name());
            }
            // Map every layer before reading any weights, so an unsupported layer is reported first.
            Map<String, LayerPlan> plans = new LinkedHashMap<>();
            for (LayerSpec spec : graph.layers()) {
                if (used.contains(spec.name())) {
                    plans.put(spec.name(), config.resolve(spec));
                }
            }
            Map<String, Layer> built = new LinkedHashMap<>();
            try {
                return buildGraph(archive, graph, plans, built, file);
            } catch (RuntimeException | Error e) {
                for (Layer l : built.values()) {
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

    private static Model buildGraph(KerasArchive archive, GraphSpec graph, Map<String, LayerPlan> plans, Map<String, Layer> built,
            Path file) {
        String source = archive.source();
        Integer batch = graph.inputs().stream().map(InputSpec::batchSize).filter(b -> b != null).findFirst().orElse(null);
        Model.Builder b = Model.builder(graph.name() != null ? graph.name() : stem(file));
        // Keras tensor (layer, node, tensor) → the builder's reference, and the size of its last axis (−1 unknown).
        Map<TensorRef, Model.Ref> refs = new HashMap<>();
        Map<TensorRef, Integer> features = new HashMap<>();
        for (InputSpec in : graph.inputs()) {
            TensorRef r = new TensorRef(in.name(), 0, 0);
            refs.put(r, b.input(in.name(), in.shape() == null ? new int[0] : in.shape()));
            int[] s = in.shape();
            features.put(r, s == null || s.length == 0 ? -1 : s[s.length - 1]);
        }
        Map<String, Integer> outFeaturesByLayer = new HashMap<>();
        for (NodeSpec node : graph.nodes()) {
            LayerSpec spec = node.layer();
            Layer layer = built.get(spec.name());
            if (layer == null) {
                try {
                    layer = plans.get(spec.name()).build(batch == null ? -1 : batch);
                } catch (IllegalArgumentException e) {
                    throw withSource(source, spec, e);
                }
                built.put(spec.name(), layer);
            }
            boolean merge = layer instanceof Merge;
            // Keras 2 records initial_state tensors as extra positional inputs of the recurrent layer.
            List<TensorRef> args = merge ? node.args() : node.args().subList(0, 1);
            List<TensorRef> states = new ArrayList<>(merge ? List.of() : node.args().subList(1, node.args().size()));
            states.addAll(node.initialStates());
            List<Model.Ref> argRefs = new ArrayList<>();
            for (TensorRef r : args) {
                argRefs.add(resolveRef(refs, r, source, spec));
            }
            List<Model.Ref> stateRefs = new ArrayList<>();
            for (TensorRef r : states) {
                stateRefs.add(resolveRef(refs, r, source, spec));
            }
            int inFeatures = features.getOrDefault(args.get(0), -1);
            if (!outFeaturesByLayer.containsKey(spec.name())) {
                List<StoredArray> arrays = archive.weights(graph.layers(), graph.layers().indexOf(spec));
                int out;
                try {
                    out = KerasWeights.assign(source, layer, arrays, inFeatures, "theano".equals(archive.backend()));
                } catch (IllegalArgumentException e) {
                    throw withSource(source, spec, e);
                }
                outFeaturesByLayer.put(spec.name(), out);
            }
            int outFeatures = outFeaturesByLayer.get(spec.name());
            if (layer instanceof Merge m && m.mode() == Merge.Mode.CONCATENATE && m.axis() == -1) {
                outFeatures = 0;
                for (TensorRef r : args) {
                    int f = features.getOrDefault(r, -1);
                    outFeatures = f < 0 || outFeatures < 0 ? -1 : outFeatures + f;
                }
            } else if (layer instanceof Merge) {
                outFeatures = inFeatures;
            }
            Model.Ref out = b.call(layer, argRefs, stateRefs);
            TensorRef main = new TensorRef(spec.name(), node.call(), 0);
            refs.put(main, out);
            features.put(main, outFeatures);
            if (layer instanceof RecurrentLayer r && r.returnState()) {
                for (int i = 1; i <= r.stateCount(); i++) {
                    TensorRef state = new TensorRef(spec.name(), node.call(), i);
                    refs.put(state, out.output(i));
                    features.put(state, r.units());
                }
            }
            if (layer instanceof RNN rnn && rnn.returnState()) {
                // The cell's flat state order (spec §2.8; Keras 3's nested list flattened).
                int[] sizes = rnn.cell().stateSizes();
                for (int i = 1; i <= sizes.length; i++) {
                    TensorRef state = new TensorRef(spec.name(), node.call(), i);
                    refs.put(state, out.output(i));
                    features.put(state, sizes[i - 1]);
                }
            }
        }
        List<Model.Ref> outputs = new ArrayList<>();
        for (TensorRef r : graph.outputs()) {
            outputs.add(resolveRef(refs, r, source, null));
        }
        return b.build(outputs);
    }

    private static Model.Ref resolveRef(Map<TensorRef, Model.Ref> refs, TensorRef r, String source, LayerSpec reader) {
        Model.Ref ref = refs.get(r);
        if (ref == null) {
            String who = reader == null ? "the model's outputs" : reader.describe();
            throw new IllegalArgumentException(source + ": " + who + " reads tensor " + r + ", which its producer does not return"
                    + (r.tensor() > 0 ? " (states are returned only with return_state=true)" : ""));
        }
        return ref;
    }

    /** The model config a load uses, where it came from, and the Keras version that wrote the file. */
    private record Architecture(String json, Path jsonFile, KerasVersion version) {
    }

    /**
     * The file's own {@code model_config}; or the JSON named by {@link LoadOptions#config()}; or, for
     * a weights-only file, the {@code .json} of the same base name beside it.
     *
     * @throws UnsupportedConfigurationException for a weights-only file with no architecture to be found
     */
    private static Architecture architecture(KerasArchive archive, Path file, LoadOptions options) {
        Path jsonFile = options.config();
        if (jsonFile == null && archive.modelConfig() != null) {
            return new Architecture(archive.modelConfig(), null, version(archive, null));
        }
        if (jsonFile == null) {
            Path sibling = file.resolveSibling(stem(file) + ".json");
            if (!Files.isRegularFile(sibling)) {
                throw new UnsupportedConfigurationException(weightsOnlyMessage(archive.source(), sibling));
            }
            jsonFile = sibling;
        }
        String json;
        try {
            json = Files.readString(jsonFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(archive.source() + ": the architecture file " + jsonFile + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException(archive.source() + ": cannot read the architecture file " + jsonFile + ": " + e.getMessage(), e);
        }
        return new Architecture(json, jsonFile, version(archive, json));
    }

    private static String weightsOnlyMessage(String source, Path sibling) {
        return source + ": no model_config attribute: a weights-only file (Keras save_weights(), e.g. Keras 1) and no"
                + " architecture beside it (" + sibling + "); give the model.to_json() architecture as that file, with"
                + " --config FILE.json, or with LoadOptions.withConfig";
    }

    /**
     * The Keras version that wrote the file: its {@code keras_version}, else the one in the
     * architecture JSON ({@code model.to_json()} records it); a {@code .keras} zip without one was
     * written by Keras 3.
     */
    private static KerasVersion version(KerasArchive archive, String architectureJson) {
        KerasVersion v = KerasVersion.parse(archive.kerasVersion());
        if (!v.known() && architectureJson != null) {
            try {
                JsonNode root = KerasConfig.JSON.readTree(architectureJson);
                if (root != null && root.path("keras_version").isTextual()) {
                    v = KerasVersion.parse(root.get("keras_version").asText());
                }
            } catch (IOException e) {
                // Reported with the file name when the config itself is parsed.
            }
        }
        if (!v.known() && archive.format() == KerasArchive.Format.KERAS) {
            return new KerasVersion("3 (assumed for .keras)", 3, 0, 0);
        }
        return v;
    }

    private static HardSigmoid hardSigmoid(KerasVersion v, LoadOptions options) {
        if (options.hardSigmoid() != null) {
            return options.hardSigmoid();
        }
        return HardSigmoid.forKerasVersion(v.known() ? Integer.toString(v.major()) : null);
    }

    private static String hardSigmoidSource(KerasVersion v, LoadOptions options) {
        return options.hardSigmoid() != null ? "forced by LoadOptions" : "from Keras version " + v;
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
