package io.jrnn.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.layers.Activation;
import io.jrnn.layers.ActivationLayer;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.Cell;
import io.jrnn.layers.GRUCell;
import io.jrnn.layers.LSTMCell;
import io.jrnn.layers.RNN;
import io.jrnn.layers.SimpleRNNCell;
import io.jrnn.layers.StackedRNNCells;
import io.jrnn.layers.StandardCell;
import io.jrnn.layers.CuDNNGRU;
import io.jrnn.layers.CuDNNLSTM;
import io.jrnn.layers.Flatten;
import io.jrnn.layers.GlobalPooling1D;
import io.jrnn.layers.RepeatVector;
import io.jrnn.layers.Reshape;
import io.jrnn.layers.SpatialDropout1D;
import io.jrnn.layers.TimeDistributed;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Dropout;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.HardSigmoid;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Merge;
import io.jrnn.layers.Masking;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.RecurrentLayer.TrainingOptions;
import io.jrnn.layers.SimpleRNN;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The pure-JSON half of the Keras importer: reads a Keras {@code model_config} (Keras 1.x–3.x
 * dialects) into a chain of {@link LayerSpec}s and maps each one onto a jrnn layer. It never touches
 * HDF5 or zip files ({@link KerasArchive} does) and never reads weights ({@link KerasWeights} does).
 *
 * <p>Dialects handled: the Sequential config as a bare list (Keras ≤ 2.2) or as
 * {@code {"name", "layers"}}; functional {@code Model}/{@code Functional} configs, as a chain
 * ({@link #parseModel}) or as a graph of layer calls ({@link #parseGraph}); Keras 3's {@code module}/{@code registered_name}/{@code build_config} and dtype-policy
 * dicts; {@code InputLayer} with {@code batch_input_shape} or {@code batch_shape}; Keras 1 key
 * names (spec §2.1), renamed to Keras 2 names on the way in.
 */
final class KerasConfig {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final KerasVersion version;
    private final HardSigmoid hardSigmoid;

    /**
     * @param source      the file, for messages
     * @param version     the Keras version that wrote the file (decides defaults of absent keys)
     * @param hardSigmoid the {@code hard_sigmoid} definition to use
     */
    KerasConfig(String source, KerasVersion version, HardSigmoid hardSigmoid) {
        this.source = source;
        this.version = version;
        this.hardSigmoid = hardSigmoid;
    }

    // ---------------------------------------------------------------------------------------------
    // Versions

    /** A Keras version string as written in a file ({@code "2.2.4-tf"}, {@code "3.13.2"}); major −1 when unknown. */
    record KerasVersion(String text, int major, int minor, int patch) {
        private static final Pattern NUMBERS = Pattern.compile("^\\s*(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?");

        static KerasVersion parse(String text) {
            if (text == null) {
                return new KerasVersion(null, -1, 0, 0);
            }
            Matcher m = NUMBERS.matcher(text);
            if (!m.find()) {
                return new KerasVersion(text, -1, 0, 0);
            }
            return new KerasVersion(text, Integer.parseInt(m.group(1)),
                    m.group(2) == null ? 0 : Integer.parseInt(m.group(2)),
                    m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
        }

        boolean known() {
            return major >= 0;
        }

        /** Whether this is a known version strictly before {@code major.minor.patch}. */
        boolean before(int ma, int mi, int pa) {
            if (!known()) {
                return false;
            }
            if (major != ma) {
                return major < ma;
            }
            if (minor != mi) {
                return minor < mi;
            }
            return patch < pa;
        }

        @Override
        public String toString() {
            return text == null ? "unknown" : text;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Model structure

    /** One layer entry: Keras class, layer name, and its config with Keras 1 keys renamed. */
    record LayerSpec(String className, String name, ObjectNode config, JsonNode entry) {
        /** {@code "layer 'lstm_1' (LSTM)"}, for messages. */
        String describe() {
            return "layer '" + name + "' (" + className + ")";
        }
    }

    /**
     * A model config as a chain.
     *
     * @param className  {@code Sequential}, {@code Model} or {@code Functional}
     * @param name       the model's name (may be {@code null} in Keras ≤ 2.2 list configs)
     * @param inputShape the input shape without the batch axis ({@code -1} where free), or {@code null}
     * @param batchSize  the fixed batch size of {@code batch_input_shape}/{@code batch_shape}, or {@code null}
     * @param inputs     the {@code InputLayer} entries
     * @param layers     the other layers, in the order data flows through them
     * @param problem    why the graph is not a chain jrnn can run, or {@code null}
     */
    record ModelSpec(String className, String name, int[] inputShape, Integer batchSize, List<LayerSpec> inputs,
            List<LayerSpec> layers, String problem) {
    }

    /** Parses a {@code model_config} / {@code config.json} document. */
    static ModelSpec parseModel(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": the model config is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("class_name").isTextual()) {
            throw new IllegalArgumentException(source + ": the model config has no 'class_name' (got "
                    + abbreviate(String.valueOf(root)) + ")");
        }
        String modelClass = root.get("class_name").asText();
        JsonNode config = root.get("config");
        switch (modelClass) {
            case "Sequential" -> {
                return parseSequential(root, config, source);
            }
            case "Model", "Functional" -> {
                return parseFunctional(modelClass, config, source);
            }
            default -> throw new UnsupportedConfigurationException(source + ": model class '" + modelClass
                    + "' is not supported; jrnn loads Sequential models and single-input functional chains");
        }
    }

    private static ModelSpec parseSequential(JsonNode root, JsonNode config, String source) {
        JsonNode layerList;
        String name = null;
        if (config != null && config.isArray()) {
            // Keras ≤ 2.2: "config" is the bare list of layers.
            layerList = config;
        } else if (config != null && config.isObject() && config.path("layers").isArray()) {
            layerList = config.get("layers");
            name = textOrNull(config.get("name"));
        } else {
            throw new IllegalArgumentException(source + ": Sequential config has no layer list (expected \"config\": [...] or"
                    + " \"config\": {\"layers\": [...]}), got " + abbreviate(String.valueOf(config)));
        }
        List<LayerSpec> inputs = new ArrayList<>();
        List<LayerSpec> layers = new ArrayList<>();
        for (JsonNode entry : layerList) {
            LayerSpec spec = layerSpec(entry, source);
            if (spec.className().equals("InputLayer")) {
                if (!layers.isEmpty()) {
                    throw new UnsupportedConfigurationException(source + ": " + spec.describe()
                            + " appears after other layers in a Sequential model");
                }
                inputs.add(spec);
            } else {
                layers.add(spec);
            }
        }
        if (inputs.size() > 1) {
            throw new UnsupportedConfigurationException(source + ": Sequential model has " + inputs.size() + " InputLayers");
        }
        ShapeAndBatch shape = inputShape(inputs, layers);
        if (shape == null) {
            // Keras 3 / tf.keras keep the build shape on the model when no layer carries one.
            JsonNode build = config.isObject() ? config.get("build_input_shape") : null;
            if (build == null || build.isNull()) {
                build = root.path("build_config").get("input_shape");
            }
            shape = fromBatchShape(build);
        }
        return new ModelSpec("Sequential", name, shape == null ? null : shape.shape, shape == null ? null : shape.batch,
                inputs, layers, null);
    }

    /** A functional config loads when it is a chain: one input, one output, each layer fed by the one before. */
    private static ModelSpec parseFunctional(String modelClass, JsonNode config, String source) {
        if (config == null || !config.isObject() || !config.path("layers").isArray()) {
            throw new IllegalArgumentException(source + ": " + modelClass + " config has no 'layers' list");
        }
        String name = textOrNull(config.get("name"));
        String label = source + ": functional model '" + name + "' (" + modelClass + ")";
        Map<String, LayerSpec> byName = new LinkedHashMap<>();
        List<LayerSpec> inputs = new ArrayList<>();
        List<LayerSpec> all = new ArrayList<>();
        for (JsonNode entry : config.get("layers")) {
            LayerSpec spec = layerSpec(entry, source);
            byName.put(spec.name(), spec);
            if (spec.className().equals("InputLayer")) {
                inputs.add(spec);
            } else {
                all.add(spec);
            }
        }
        List<String> inputNames = tensorRefs(config.get("input_layers"));
        List<String> outputNames = tensorRefs(config.get("output_layers"));
        ShapeAndBatch shape = inputShape(inputs, all);
        Integer batch = shape == null ? null : shape.batch;
        int[] inShape = shape == null ? null : shape.shape;
        if (inputNames.size() != 1 || inputs.size() != 1) {
            List<String> names = inputNames.size() >= inputs.size() ? inputNames : inputs.stream().map(LayerSpec::name).toList();
            return new ModelSpec(modelClass, name, inShape, batch, inputs, all, label + " has " + names.size()
                    + " inputs " + names + "; only single-input chains load as Sequential");
        }
        if (outputNames.size() != 1) {
            return new ModelSpec(modelClass, name, inShape, batch, inputs, all, label + " has " + outputNames.size()
                    + " outputs " + outputNames + "; only single-output chains load as Sequential");
        }
        // Walk back from the output to the input; every step must have exactly one inbound tensor.
        List<LayerSpec> chain = new ArrayList<>();
        String current = outputNames.get(0);
        while (true) {
            LayerSpec spec = byName.get(current);
            if (spec == null) {
                throw new IllegalArgumentException(label + " refers to layer '" + current + "', which is not in its layer list");
            }
            if (spec.className().equals("InputLayer")) {
                if (!current.equals(inputNames.get(0))) {
                    return new ModelSpec(modelClass, name, inShape, batch, inputs, all, label + " reaches InputLayer '"
                            + current + "', which is not its declared input");
                }
                break;
            }
            if (chain.size() > byName.size()) {
                throw new IllegalArgumentException(label + " has a cycle through " + spec.describe());
            }
            InboundResult inbound = inbound(spec);
            if (inbound.problem != null) {
                return new ModelSpec(modelClass, name, inShape, batch, inputs, all, label + ": " + spec.describe()
                        + " " + inbound.problem + "; only plain chains load as Sequential");
            }
            chain.add(0, spec);
            current = inbound.layer;
        }
        if (chain.size() != all.size()) {
            List<String> off = all.stream().filter(s -> !chain.contains(s)).map(LayerSpec::describe).toList();
            return new ModelSpec(modelClass, name, inShape, batch, inputs, all, label + " is not a chain: " + off
                    + " not on the path from input to output");
        }
        return new ModelSpec(modelClass, name, inShape, batch, inputs, chain, null);
    }

    // ---------------------------------------------------------------------------------------------
    // Graphs (functional models with several inputs, outputs, merges and initial states)

    /** A tensor reference of a functional config: {@code [layer, node_index, tensor_index]}. */
    record TensorRef(String layer, int node, int tensor) {
        @Override
        public String toString() {
            return "['" + layer + "', " + node + ", " + tensor + "]";
        }
    }

    /** One model input: the InputLayer's name and shape without the batch axis ({@code null} when unknown). */
    record InputSpec(String name, int[] shape, Integer batchSize) {
    }

    /**
     * One call of a layer.
     *
     * @param layer         the layer
     * @param call          which of the layer's inbound nodes (0 unless the layer is shared)
     * @param args          the positional tensors (for a recurrent layer in Keras 2: the input, then its initial states)
     * @param initialStates tensors given as the {@code initial_state} keyword (Keras 3)
     */
    record NodeSpec(LayerSpec layer, int call, List<TensorRef> args, List<TensorRef> initialStates) {
        /** The node's name in a {@link io.jrnn.Model}: the layer's name, {@code name#k} for call k ≥ 1. */
        String nodeName() {
            return call == 0 ? layer.name() : layer.name() + "#" + call;
        }
    }

    /**
     * A model config as a graph.
     *
     * @param className Sequential, Model or Functional
     * @param name      the model's name (may be {@code null})
     * @param inputs    the inputs in {@code input_layers} order
     * @param layers    every layer except InputLayers, in config order (the {@code .keras} store numbers them in this order)
     * @param nodes     the layer calls the outputs depend on, in execution order
     * @param outputs   the outputs in {@code output_layers} order
     */
    record GraphSpec(String className, String name, List<InputSpec> inputs, List<LayerSpec> layers, List<NodeSpec> nodes,
            List<TensorRef> outputs) {
    }

    /**
     * Parses a {@code model_config} as a graph: a Sequential model becomes a one-input chain (its
     * input named after the InputLayer, else {@code <first layer>_input} as Keras 2 does), a
     * functional config keeps its inputs, outputs, merges and initial-state wiring.
     *
     * @throws UnsupportedConfigurationException for graph features jrnn does not run (tensor keyword
     *                                           arguments other than {@code initial_state}, nested models)
     * @throws IllegalArgumentException          for a malformed graph (unknown layer, cycle)
     */
    static GraphSpec parseGraph(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": the model config is not valid JSON: " + e.getOriginalMessage(), e);
        }
        String modelClass = root == null ? "" : root.path("class_name").asText("");
        if (!modelClass.equals("Model") && !modelClass.equals("Functional")) {
            ModelSpec chain = parseModel(json, source);
            if (chain.problem() != null) {
                throw new UnsupportedConfigurationException(chain.problem());
            }
            if (chain.layers().isEmpty()) {
                throw new IllegalArgumentException(source + ": the model has no layers besides its input");
            }
            String inputName = chain.inputs().isEmpty() ? chain.layers().get(0).name() + "_input" : chain.inputs().get(0).name();
            List<NodeSpec> nodes = new ArrayList<>();
            TensorRef previous = new TensorRef(inputName, 0, 0);
            for (LayerSpec l : chain.layers()) {
                nodes.add(new NodeSpec(l, 0, List.of(previous), List.of()));
                previous = new TensorRef(l.name(), 0, 0);
            }
            return new GraphSpec(chain.className(), chain.name(),
                    List.of(new InputSpec(inputName, chain.inputShape(), chain.batchSize())), chain.layers(), nodes, List.of(previous));
        }
        JsonNode config = root.get("config");
        if (config == null || !config.isObject() || !config.path("layers").isArray()) {
            throw new IllegalArgumentException(source + ": " + modelClass + " config has no 'layers' list");
        }
        String name = textOrNull(config.get("name"));
        String label = source + ": functional model '" + name + "' (" + modelClass + ")";
        Map<String, InputSpec> inputsByName = new LinkedHashMap<>();
        List<LayerSpec> layers = new ArrayList<>();
        Map<String, List<NodeSpec>> callsByLayer = new HashMap<>();
        for (JsonNode entry : config.get("layers")) {
            LayerSpec spec = layerSpec(entry, source);
            if (inputsByName.containsKey(spec.name()) || callsByLayer.containsKey(spec.name())) {
                throw new IllegalArgumentException(label + " has two layers named '" + spec.name() + "'");
            }
            if (spec.className().equals("InputLayer")) {
                ShapeAndBatch s = inputShape(List.of(spec), List.of());
                inputsByName.put(spec.name(), new InputSpec(spec.name(), s == null ? null : s.shape, s == null ? null : s.batch));
                continue;
            }
            layers.add(spec);
            List<NodeSpec> calls = new ArrayList<>();
            JsonNode nodes = entry.get("inbound_nodes");
            if (nodes != null && nodes.isArray()) {
                for (int k = 0; k < nodes.size(); k++) {
                    calls.add(nodeSpec(spec, k, nodes.get(k), label));
                }
            }
            callsByLayer.put(spec.name(), calls);
        }
        List<TensorRef> inputRefs = refs(config.get("input_layers"), label, "input_layers");
        List<TensorRef> outputRefs = refs(config.get("output_layers"), label, "output_layers");
        List<InputSpec> inputs = new ArrayList<>();
        for (TensorRef r : inputRefs) {
            InputSpec in = inputsByName.get(r.layer());
            if (in == null) {
                throw new UnsupportedConfigurationException(label + ": input " + r + " is not an InputLayer of the model"
                        + (callsByLayer.containsKey(r.layer()) ? " (nested models are not supported)" : ""));
            }
            inputs.add(in);
        }
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException(label + " has no 'input_layers'");
        }
        if (outputRefs.isEmpty()) {
            throw new IllegalArgumentException(label + " has no 'output_layers'");
        }
        // Depth-first from the outputs: every node the outputs need, each after the nodes it reads.
        List<NodeSpec> order = new ArrayList<>();
        Set<NodeSpec> done = new java.util.HashSet<>();
        Set<NodeSpec> visiting = new java.util.HashSet<>();
        for (TensorRef out : outputRefs) {
            visit(out, label, inputsByName, inputRefs, callsByLayer, order, done, visiting);
        }
        return new GraphSpec(modelClass, name, inputs, layers, order, outputRefs);
    }

    private static void visit(TensorRef ref, String label, Map<String, InputSpec> inputs, List<TensorRef> inputRefs,
            Map<String, List<NodeSpec>> callsByLayer, List<NodeSpec> order, Set<NodeSpec> done, Set<NodeSpec> visiting) {
        if (inputs.containsKey(ref.layer())) {
            if (inputRefs.stream().noneMatch(r -> r.layer().equals(ref.layer()))) {
                throw new UnsupportedConfigurationException(label + " reads InputLayer '" + ref.layer()
                        + "', which is not one of its input_layers " + inputRefs);
            }
            return;
        }
        List<NodeSpec> calls = callsByLayer.get(ref.layer());
        if (calls == null) {
            throw new IllegalArgumentException(label + " refers to layer '" + ref.layer() + "', which is not in its layer list");
        }
        if (ref.node() < 0 || ref.node() >= calls.size()) {
            throw new IllegalArgumentException(label + " refers to call " + ref.node() + " of layer '" + ref.layer()
                    + "', which has " + calls.size() + " inbound node(s)");
        }
        NodeSpec node = calls.get(ref.node());
        if (done.contains(node)) {
            return;
        }
        if (!visiting.add(node)) {
            throw new IllegalArgumentException(label + " has a cycle through " + node.layer().describe());
        }
        for (TensorRef r : node.args()) {
            visit(r, label, inputs, inputRefs, callsByLayer, order, done, visiting);
        }
        for (TensorRef r : node.initialStates()) {
            visit(r, label, inputs, inputRefs, callsByLayer, order, done, visiting);
        }
        visiting.remove(node);
        done.add(node);
        order.add(node);
    }

    /** One inbound node: Keras 1/2 list form {@code [[layer, node, tensor(, kwargs)], …]} or Keras 3 {@code {args, kwargs}}. */
    private static NodeSpec nodeSpec(LayerSpec spec, int call, JsonNode node, String label) {
        List<TensorRef> args = new ArrayList<>();
        List<TensorRef> initialStates = new ArrayList<>();
        String where = label + ": " + spec.describe() + (call == 0 ? "" : " (call " + call + ")");
        if (node.isArray()) {
            for (JsonNode t : node) {
                args.add(ref(t, where));
                JsonNode kwargs = t.size() > 3 ? t.get(3) : null;
                if (kwargs != null && kwargs.isObject()) {
                    for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> kw = it.next();
                        JsonNode v = kw.getValue();
                        if (kw.getKey().equals("training") || v.isNull()) {
                            continue;
                        }
                        if (kw.getKey().equals("initial_state") && t == node.get(0)) {
                            // tf.keras may record the state tensors here as [layer, node, tensor] triples.
                            for (JsonNode s : v.isArray() && v.size() > 0 && v.get(0).isArray() ? v : JSON.createArrayNode().add(v)) {
                                initialStates.add(ref(s, where));
                            }
                            continue;
                        }
                        throw new UnsupportedConfigurationException(where + " is called with keyword argument '" + kw.getKey()
                                + "' = " + abbreviate(v.toString()) + ", which jrnn does not support");
                    }
                }
            }
        } else if (node.isObject()) {
            List<JsonNode> history = new ArrayList<>();
            collectKerasTensors(node.get("args"), history);
            for (JsonNode h : history) {
                args.add(ref(h, where));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.path("kwargs").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> kw = it.next();
                List<JsonNode> tensors = new ArrayList<>();
                collectKerasTensors(kw.getValue(), tensors);
                if (tensors.isEmpty()) {
                    continue;
                }
                if (!kw.getKey().equals("initial_state")) {
                    throw new UnsupportedConfigurationException(where + " is called with tensor keyword argument '" + kw.getKey()
                            + "', which jrnn does not support");
                }
                for (JsonNode h : tensors) {
                    initialStates.add(ref(h, where));
                }
            }
        } else {
            throw new IllegalArgumentException(where + " has an unreadable inbound node " + abbreviate(node.toString()));
        }
        if (args.isEmpty()) {
            throw new IllegalArgumentException(where + " has an inbound node without input tensors: " + abbreviate(node.toString()));
        }
        return new NodeSpec(spec, call, args, initialStates);
    }

    private static TensorRef ref(JsonNode t, String where) {
        if (t == null || !t.isArray() || t.size() < 3 || !t.get(0).isTextual() || !t.get(1).canConvertToInt()
                || !t.get(2).canConvertToInt()) {
            throw new IllegalArgumentException(where + " has an unreadable tensor reference " + abbreviate(String.valueOf(t))
                    + "; expected [layer, node_index, tensor_index]");
        }
        return new TensorRef(t.get(0).asText(), t.get(1).asInt(), t.get(2).asInt());
    }

    /** {@code input_layers}/{@code output_layers}: a list of triples, or one bare triple (Keras 3 single input/output). */
    private static List<TensorRef> refs(JsonNode refs, String label, String key) {
        List<TensorRef> out = new ArrayList<>();
        if (refs == null || !refs.isArray() || refs.isEmpty()) {
            return out;
        }
        if (refs.get(0).isTextual()) {
            out.add(ref(refs, label + " " + key));
            return out;
        }
        for (JsonNode r : refs) {
            out.add(ref(r, label + " " + key));
        }
        return out;
    }

    private record InboundResult(String layer, String problem) {
    }

    /** The single inbound layer of a functional layer entry (Keras 1/2 list nodes or Keras 3 dict nodes). */
    private static InboundResult inbound(LayerSpec spec) {
        JsonNode nodes = spec.entry().get("inbound_nodes");
        if (nodes == null || !nodes.isArray() || nodes.isEmpty()) {
            return new InboundResult(null, "has no inbound node");
        }
        if (nodes.size() != 1) {
            return new InboundResult(null, "is called " + nodes.size() + " times (shared layer)");
        }
        JsonNode node = nodes.get(0);
        List<JsonNode> history = new ArrayList<>();
        if (node.isArray()) {
            // Keras 1/2: [[layer, node_index, tensor_index(, kwargs)], ...]
            for (JsonNode t : node) {
                history.add(t);
                JsonNode kwargs = t.size() > 3 ? t.get(3) : null;
                String bad = tensorKwargs(kwargs);
                if (bad != null) {
                    return new InboundResult(null, "is called with " + bad);
                }
            }
        } else if (node.isObject()) {
            // Keras 3: {"args": [keras tensors], "kwargs": {...}}
            collectKerasTensors(node.get("args"), history);
            for (Iterator<Map.Entry<String, JsonNode>> it = node.path("kwargs").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> kw = it.next();
                List<JsonNode> tensors = new ArrayList<>();
                collectKerasTensors(kw.getValue(), tensors);
                if (!tensors.isEmpty()) {
                    return new InboundResult(null, "is called with tensor keyword argument '" + kw.getKey() + "'");
                }
            }
        }
        if (history.size() != 1) {
            return new InboundResult(null, "has " + history.size() + " inbound tensors");
        }
        JsonNode h = history.get(0);
        if (h.size() < 3 || !h.get(0).isTextual()) {
            return new InboundResult(null, "has an unreadable inbound node " + abbreviate(h.toString()));
        }
        if (h.get(1).asInt() != 0 || h.get(2).asInt() != 0) {
            return new InboundResult(null, "reads output " + h.get(2).asInt() + " of call " + h.get(1).asInt() + " of '"
                    + h.get(0).asText() + "' (not its main output)");
        }
        return new InboundResult(h.get(0).asText(), null);
    }

    /** Keras 2 call kwargs that change the computation (initial_state, mask, constants). */
    private static String tensorKwargs(JsonNode kwargs) {
        if (kwargs == null || !kwargs.isObject()) {
            return null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("training") && !e.getValue().isNull()) {
                return "keyword argument '" + e.getKey() + "' = " + abbreviate(e.getValue().toString());
            }
        }
        return null;
    }

    private static void collectKerasTensors(JsonNode n, List<JsonNode> out) {
        if (n == null) {
            return;
        }
        if (n.isObject() && "__keras_tensor__".equals(n.path("class_name").asText())) {
            out.add(n.path("config").path("keras_history"));
        } else if (n.isContainerNode()) {
            for (JsonNode c : n) {
                collectKerasTensors(c, out);
            }
        }
    }

    /** {@code input_layers}/{@code output_layers}: a list of [name, node, tensor] triples, or one bare triple. */
    private static List<String> tensorRefs(JsonNode refs) {
        List<String> names = new ArrayList<>();
        if (refs == null || !refs.isArray() || refs.isEmpty()) {
            return names;
        }
        if (refs.get(0).isTextual()) {
            names.add(refs.get(0).asText());
            return names;
        }
        for (JsonNode r : refs) {
            if (r.isArray() && !r.isEmpty()) {
                names.add(r.get(0).asText());
            }
        }
        return names;
    }

    private record ShapeAndBatch(int[] shape, Integer batch) {
    }

    /** From the InputLayer, else from the first layer's {@code batch_input_shape}/{@code input_shape}/{@code build_config}. */
    private static ShapeAndBatch inputShape(List<LayerSpec> inputs, List<LayerSpec> layers) {
        if (!inputs.isEmpty()) {
            ObjectNode c = inputs.get(0).config();
            ShapeAndBatch s = fromBatchShape(firstPresent(c, "batch_shape", "batch_input_shape"));
            if (s == null && c.hasNonNull("input_shape")) {
                s = new ShapeAndBatch(dims(c.get("input_shape")), null);
            }
            if (s != null && c.hasNonNull("batch_size")) {
                s = new ShapeAndBatch(s.shape, c.get("batch_size").asInt());
            }
            if (s != null) {
                return s;
            }
        }
        if (layers.isEmpty()) {
            return null;
        }
        LayerSpec first = layers.get(0);
        ObjectNode c = first.config();
        ShapeAndBatch s = fromBatchShape(firstPresent(c, "batch_input_shape", "batch_shape"));
        if (s != null) {
            return s;
        }
        if (c.hasNonNull("input_shape")) {
            return new ShapeAndBatch(dims(c.get("input_shape")), c.hasNonNull("batch_size") ? c.get("batch_size").asInt() : null);
        }
        if (c.hasNonNull("input_dim") && !first.className().equals("Embedding")) {
            // Keras 1/2 legacy: input_dim (+ input_length) on the first layer.
            int length = c.hasNonNull("input_length") ? c.get("input_length").asInt() : -1;
            boolean recurrent = Set.of("LSTM", "GRU", "SimpleRNN").contains(first.className());
            return new ShapeAndBatch(recurrent ? new int[] {length, c.get("input_dim").asInt()}
                    : new int[] {c.get("input_dim").asInt()}, null);
        }
        return fromBatchShape(first.entry().path("build_config").get("input_shape"));
    }

    private static JsonNode firstPresent(ObjectNode c, String... keys) {
        for (String k : keys) {
            if (c.hasNonNull(k)) {
                return c.get(k);
            }
        }
        return null;
    }

    private static ShapeAndBatch fromBatchShape(JsonNode batchShape) {
        if (batchShape == null || !batchShape.isArray() || batchShape.isEmpty()) {
            return null;
        }
        int[] all = dims(batchShape);
        int[] shape = new int[all.length - 1];
        System.arraycopy(all, 1, shape, 0, shape.length);
        return new ShapeAndBatch(shape, all[0] >= 0 ? all[0] : null);
    }

    private static int[] dims(JsonNode array) {
        int[] d = new int[array.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = array.get(i).isNull() ? -1 : array.get(i).asInt();
        }
        return d;
    }

    private static LayerSpec layerSpec(JsonNode entry, String source) {
        if (entry == null || !entry.isObject() || !entry.path("class_name").isTextual()) {
            throw new IllegalArgumentException(source + ": layer entry without 'class_name': " + abbreviate(String.valueOf(entry)));
        }
        String className = entry.get("class_name").asText();
        JsonNode config = entry.get("config");
        if (config == null || !config.isObject()) {
            throw new IllegalArgumentException(source + ": layer entry of class " + className + " has no 'config' object: "
                    + abbreviate(entry.toString()));
        }
        String name = textOrNull(config.get("name"));
        if (name == null) {
            name = textOrNull(entry.get("name"));
        }
        if (name == null) {
            name = "?";
        }
        return new LayerSpec(className, name, renameKeras1Keys(className, (ObjectNode) config), entry);
    }

    /** Keras 1 argument names → Keras 2 names (spec §2.1; K2 {@code legacy/interfaces.py}). New names win when both are present. */
    static ObjectNode renameKeras1Keys(String className, ObjectNode config) {
        ObjectNode c = config.deepCopy();
        boolean embedding = className.equals("Embedding");
        if (!embedding) {
            rename(c, "output_dim", "units");
        }
        rename(c, "init", embedding ? "embeddings_initializer" : "kernel_initializer");
        rename(c, "W_regularizer", embedding ? "embeddings_regularizer" : "kernel_regularizer");
        rename(c, "W_constraint", embedding ? "embeddings_constraint" : "kernel_constraint");
        rename(c, "inner_init", "recurrent_initializer");
        rename(c, "inner_activation", "recurrent_activation");
        rename(c, "U_regularizer", "recurrent_regularizer");
        rename(c, "b_regularizer", "bias_regularizer");
        rename(c, "U_constraint", "recurrent_constraint");
        rename(c, "b_constraint", "bias_constraint");
        rename(c, "dropout_W", "dropout");
        rename(c, "dropout_U", "recurrent_dropout");
        if (className.equals("Dense")) {
            rename(c, "bias", "use_bias");
        }
        if (className.equals("Dropout")) {
            rename(c, "p", "rate");
        }
        if (c.has("consume_less")) {
            JsonNode v = c.remove("consume_less");
            if (!c.has("implementation")) {
                int impl = switch (v.asText()) {
                    case "mem" -> 1;
                    case "gpu" -> 2;
                    default -> 0;
                };
                c.put("implementation", impl);
            }
        }
        if (className.equals("ConvLSTM2D")) {
            // K2 legacy/interfaces.py convlstm2d_args_preprocessor: nb_filter, (nb_row, nb_col), border_mode,
            // subsample, dim_ordering ('th' → channels_first, 'tf'/'default' → channels_last).
            rename(c, "nb_filter", "filters");
            if (c.has("nb_row") && c.has("nb_col") && !c.has("kernel_size")) {
                c.putArray("kernel_size").add(c.get("nb_row")).add(c.get("nb_col"));
            }
            c.remove("nb_row");
            c.remove("nb_col");
            rename(c, "border_mode", "padding");
            rename(c, "subsample", "strides");
            if (c.has("dim_ordering")) {
                JsonNode v = c.remove("dim_ordering");
                if (!c.has("data_format")) {
                    c.put("data_format", "th".equals(v.asText()) ? "channels_first" : "channels_last");
                }
            }
        }
        if (c.has("forget_bias_init")) {
            JsonNode v = c.remove("forget_bias_init");
            if (!c.has("unit_forget_bias")) {
                c.put("unit_forget_bias", "one".equals(v.asText()));
            }
        }
        return c;
    }

    private static void rename(ObjectNode c, String from, String to) {
        if (c.has(from)) {
            JsonNode v = c.remove(from);
            if (!c.has(to)) {
                c.set(to, v);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Layer mapping

    /** What a layer entry becomes: its resolved settings (for reports) and a factory for the jrnn layer. */
    record LayerPlan(LayerSpec spec, Map<String, String> settings, IntFunction<Layer> factory) {
        /** Builds the layer; {@code batchSize} ≤ 0 means unknown. */
        Layer build(int batchSize) {
            return factory.apply(batchSize);
        }

        String summary() {
            return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
        }
    }

    private static final Set<String> COMMON_KEYS = Set.of("name", "trainable", "dtype", "batch_input_shape", "batch_shape",
            "input_shape", "batch_size", "input_dtype", "input_length", "input_dim");
    private static final Set<String> RECURRENT_KEYS = Set.of("units", "activation", "recurrent_activation", "use_bias",
            "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "time_major", "zero_output_for_mask",
            "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
            "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
            "dropout", "recurrent_dropout", "implementation", "seed", "use_cudnn");
    private static final Set<String> DENSE_KEYS = Set.of("units", "activation", "use_bias", "kernel_initializer",
            "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
            "bias_constraint", "lora_rank", "lora_alpha", "quantization_config");
    private static final Set<String> EMBEDDING_KEYS = Set.of("output_dim", "mask_zero", "embeddings_initializer",
            "embeddings_regularizer", "activity_regularizer", "embeddings_constraint", "sparse", "lora_rank", "lora_alpha",
            "quantization_config", "dropout");
    private static final Set<String> DROPOUT_KEYS = Set.of("rate", "noise_shape", "seed");
    private static final Set<String> ACTIVATION_KEYS = Set.of("activation");
    private static final Set<String> MERGE_KEYS = Set.of("axis");
    private static final Set<String> MASKING_KEYS = Set.of("mask_value");

    /**
     * Maps one layer entry. Throws {@link UnsupportedConfigurationException} for a class or value
     * jrnn cannot run, {@link IllegalArgumentException} for a malformed config; both name the file,
     * the layer, its class and the key.
     */
    LayerPlan resolve(LayerSpec spec) {
        String registered = textOrNull(spec.entry().get("registered_name"));
        if (registered != null && !registered.equals(spec.className())) {
            throw unsupported(spec, "is a custom registered class '" + registered + "'");
        }
        return switch (spec.className()) {
            case "LSTM", "GRU", "SimpleRNN" -> recurrent(spec);
            case "Dense" -> dense(spec);
            case "Embedding" -> embedding(spec);
            case "Dropout" -> dropout(spec);
            case "Activation" -> activationLayer(spec);
            case "Masking" -> masking(spec);
            case "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum" -> merge(spec);
            case "CuDNNLSTM", "CuDNNGRU" -> cudnn(spec);
            case "Bidirectional" -> bidirectional(spec);
            case "RNN" -> rnn(spec);
            case "TimeDistributed" -> timeDistributed(spec);
            case "ConvLSTM2D" -> convLstm2d(spec);
            case "MaxPooling3D" -> maxPooling3d(spec);
            case "RepeatVector", "Flatten", "Reshape", "SpatialDropout1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D" ->
                    smallLayer(spec);
            default -> throw unsupported(spec, "is not supported" + wrapped(spec) + "; jrnn imports " + SUPPORTED);
        };
    }

    private static final String SUPPORTED = "InputLayer, Embedding, Masking, SimpleRNN, GRU, LSTM, CuDNNLSTM, CuDNNGRU,"
            + " RNN (LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells), Bidirectional, TimeDistributed, Dense, Dropout, SpatialDropout1D, Activation, RepeatVector, Flatten, Reshape,"
            + " GlobalMaxPooling1D, GlobalAveragePooling1D and the merges Concatenate, Add, Subtract, Multiply, Average,"
            + " Maximum, Minimum, ConvLSTM2D, MaxPooling3D";
    private static final Set<String> RECURRENT_CLASSES = Set.of("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "RNN");
    private static final Set<String> CUDNN_KEYS = Set.of("units", "return_sequences", "return_state", "go_backwards",
            "stateful", "time_major", "kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias",
            "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
            "recurrent_constraint", "bias_constraint");
    private static final Set<String> BIDIRECTIONAL_KEYS = Set.of("layer", "merge_mode", "backward_layer");

    /**
     * Keras 2 {@code CuDNNLSTM}/{@code CuDNNGRU} (spec §2.5): LSTM, or GRU with {@code reset_after},
     * fixed to tanh/sigmoid; the weights are converted from cuDNN layout when they are assigned.
     */
    private LayerPlan cudnn(LayerSpec spec) {
        checkKeys(spec, CUDNN_KEYS, Set.of());
        boolean lstm = spec.className().equals("CuDNNLSTM");
        int units = positiveInt(spec, "units");
        boolean returnSequences = bool(spec, "return_sequences", false);
        boolean returnState = bool(spec, "return_state", false);
        boolean goBackwards = bool(spec, "go_backwards", false);
        boolean stateful = bool(spec, "stateful", false);
        if (bool(spec, "time_major", false)) {
            throw unsupported(spec, "has key 'time_major' = true; time-major Keras layers are not imported"
                    + " (the model's batch axis would not be axis 0)");
        }
        boolean unitForgetBias = lstm && bool(spec, "unit_forget_bias", true);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("units", Integer.toString(units));
        settings.put("runs as", lstm ? "LSTM(tanh, sigmoid)" : "GRU(reset_after=true, tanh, sigmoid)");
        settings.put("weights", "converted from cuDNN layout");
        putRecurrentOptions(settings, returnSequences, returnState, goBackwards, stateful, false);
        putDtype(spec, settings);
        TrainingOptions training = trainingOptions(spec);
        return new LayerPlan(spec, settings, batchSize -> {
            RecurrentLayer.Builder<?, ?> b = lstm ? CuDNNLSTM.builder().unitForgetBias(unitForgetBias) : CuDNNGRU.builder();
            b.name(spec.name()).units(units).returnSequences(returnSequences).returnState(returnState)
                    .goBackwards(goBackwards).stateful(stateful).trainingOptions(training);
            if (stateful && batchSize > 0) {
                b.batchSize(batchSize);
            }
            return b.build();
        });
    }

    /**
     * {@code Bidirectional} (Keras 1 ≥ 1.0.8, 2, tf.keras, 3; spec §3.7). Without {@code backward_layer}
     * the backward layer is the wrapped config with {@code go_backwards} negated (Keras 1/2, tf.keras)
     * or set to true (Keras 3, which refuses a forward layer that already goes backwards). Masked positions of a
     * returned sequence are zeroed in both halves for tf.keras and Keras 3 files, carried for
     * standalone Keras 1/2 files.
     */
    private LayerPlan bidirectional(LayerSpec spec) {
        checkKeys(spec, BIDIRECTIONAL_KEYS, Set.of());
        ObjectNode c = spec.config();
        JsonNode layerEntry = c.get("layer");
        if (layerEntry == null || !layerEntry.isObject()) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has no key 'layer' (the wrapped RNN)");
        }
        Bidirectional.MergeMode mergeMode;
        JsonNode mm = c.get("merge_mode");
        try {
            mergeMode = mm == null ? Bidirectional.MergeMode.CONCAT
                    : mm.isNull() ? Bidirectional.MergeMode.NONE : Bidirectional.MergeMode.fromKeras(mm.asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has key 'merge_mode' = " + mm
                    + "; valid values are \"concat\", \"sum\", \"mul\", \"ave\" and null", e);
        }
        LayerSpec forwardSpec = innerSpec(spec, layerEntry);
        JsonNode backwardEntry = c.get("backward_layer");
        LayerSpec backwardSpec;
        if (backwardEntry != null && backwardEntry.isObject()) {
            backwardSpec = innerSpec(spec, backwardEntry);
        } else {
            // Keras 1/2 and tf.keras: the same config with go_backwards negated, named forward_/backward_<name>.
            // Keras 3 sets go_backwards=True on the copy and refuses a forward layer that already goes backwards.
            boolean forwardGoesBackwards = bool(forwardSpec, "go_backwards", false);
            if (version.major() >= 3 && forwardGoesBackwards) {
                throw new IllegalArgumentException(source + ": " + spec.describe() + " wraps " + forwardSpec.className() + " '"
                        + forwardSpec.name() + "' with go_backwards=true and has no 'backward_layer'; Keras " + version
                        + " builds the backward copy with go_backwards=true, so both directions would go backwards"
                        + " (Keras 3 refuses this model)");
            }
            ObjectNode backwardConfig = forwardSpec.config().deepCopy();
            backwardConfig.put("go_backwards", version.major() >= 3 || !forwardGoesBackwards);
            backwardSpec = new LayerSpec(forwardSpec.className(), "backward_" + forwardSpec.name(), backwardConfig,
                    forwardSpec.entry());
            forwardSpec = new LayerSpec(forwardSpec.className(), "forward_" + forwardSpec.name(), forwardSpec.config(),
                    forwardSpec.entry());
        }
        LayerPlan forwardPlan = innerPlan(spec, forwardSpec);
        LayerPlan backwardPlan = innerPlan(spec, backwardSpec);
        boolean zeroOutputForMask = zeroesMaskedBidirectionalOutput();
        boolean returnSequences = bool(forwardSpec, "return_sequences", false);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("merge_mode", mergeMode.toString());
        if ("RNN".equals(layerEntry.path("class_name").asText())) {
            settings.put("wrapped", "RNN(" + forwardSpec.className() + "Cell), run as the equivalent " + forwardSpec.className()
                    + " layer (spec §2.7)");
        }
        if (returnSequences) {
            settings.put("masked outputs", zeroOutputForMask ? "zero (tf.keras/Keras 3)" : "carried (Keras " + version + ")");
        }
        settings.put("forward", forwardSpec.className() + " '" + forwardSpec.name() + "' {" + forwardPlan.summary() + "}");
        settings.put("backward", backwardSpec.className() + " '" + backwardSpec.name() + "' {" + backwardPlan.summary() + "}");
        putDtype(spec, settings);
        return new LayerPlan(spec, settings, batchSize -> {
            Layer forward = forwardPlan.build(batchSize);
            Layer backward = backwardPlan.build(batchSize);
            try {
                return Bidirectional.builder().name(spec.name()).layer((RecurrentLayer) forward)
                        .backwardLayer((RecurrentLayer) backward).mergeMode(mergeMode).zeroOutputForMask(zeroOutputForMask)
                        .build();
            } catch (IllegalArgumentException e) {
                forward.close();
                backward.close();
                throw e;
            }
        });
    }

    /** tf.keras (2.2.4-tf, 2.4+) and Keras 3 force zero_output_for_mask on both halves; standalone Keras 1/2 do not. */
    private boolean zeroesMaskedBidirectionalOutput() {
        if (!version.known()) {
            return true;
        }
        return version.major() >= 3 || (version.text() != null && version.text().contains("-tf"))
                || (version.major() == 2 && version.minor() >= 4);
    }

    private LayerSpec innerSpec(LayerSpec outer, JsonNode entry) {
        LayerSpec inner;
        try {
            inner = layerSpec(entry, source);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + outer.describe() + " wraps an unreadable layer: "
                    + abbreviate(entry.toString()), e);
        }
        if (outer.className().equals("Bidirectional") && !RECURRENT_CLASSES.contains(inner.className())) {
            throw unsupported(outer, "wraps " + inner.className() + " '" + inner.name()
                    + "'; jrnn's Bidirectional takes LSTM, GRU, SimpleRNN, CuDNNLSTM, CuDNNGRU or RNN(LSTMCell|GRUCell|SimpleRNNCell)");
        }
        if (outer.className().equals("Bidirectional") && inner.className().equals("RNN")) {
            return rnnAsLayer(outer, inner);
        }
        return inner;
    }

    private LayerPlan innerPlan(LayerSpec outer, LayerSpec inner) {
        try {
            return resolve(inner);
        } catch (UnsupportedConfigurationException e) {
            throw unsupported(outer, "wraps a layer jrnn cannot run: " + withoutSource(e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + outer.describe() + " wraps a malformed layer: "
                    + withoutSource(e.getMessage()), e);
        }
    }

    private String withoutSource(String message) {
        String prefix = source + ": ";
        return message != null && message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }

    private static final Set<String> RNN_KEYS = Set.of("cell", "return_sequences", "return_state", "go_backwards", "stateful",
            "unroll", "time_major", "zero_output_for_mask", "implementation", "activity_regularizer");
    private static final Set<String> CELL_KEYS = Set.of("units", "activation", "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "implementation",
            "seed");
    private static final Set<String> STANDARD_CELLS = Set.of("LSTMCell", "GRUCell", "SimpleRNNCell");

    /** A cell config mapped: what it is (for reports), and a factory for a new cell each build. */
    private record CellPlan(String summary, java.util.function.Supplier<Cell> factory) {
    }

    /**
     * Keras {@code RNN(cell)} (spec §2.1, §2.7, §2.8): a {@code LSTMCell}, {@code GRUCell},
     * {@code SimpleRNNCell}, or a {@code StackedRNNCells} (or bare list) of them. A stack's flat state
     * list is in reversed cell order for Keras 2.1.0–2.2.2 files (or with {@code reverse_state_order}),
     * in natural order otherwise (Keras 2.2.3+, tf.keras, Keras 3's nested list flattened).
     */
    private LayerPlan rnn(LayerSpec spec) {
        checkKeys(spec, RNN_KEYS, Set.of());
        JsonNode cellNode = spec.config().get("cell");
        if (cellNode == null || cellNode.isNull()) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has no key 'cell'");
        }
        CellPlan cell = cellPlan(spec, cellNode);
        boolean returnSequences = bool(spec, "return_sequences", false);
        boolean returnState = bool(spec, "return_state", false);
        boolean goBackwards = bool(spec, "go_backwards", false);
        boolean stateful = bool(spec, "stateful", false);
        boolean zeroOutputForMask = bool(spec, "zero_output_for_mask", false);
        if (bool(spec, "time_major", false)) {
            throw unsupported(spec, "has key 'time_major' = true; time-major Keras layers are not imported"
                    + " (the model's batch axis would not be axis 0)");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("cell", cell.summary());
        putRecurrentOptions(settings, returnSequences, returnState, goBackwards, stateful, zeroOutputForMask);
        putDtype(spec, settings);
        return new LayerPlan(spec, settings, batchSize -> {
            RNN.Builder b = RNN.builder(cell.factory().get()).name(spec.name()).returnSequences(returnSequences)
                    .returnState(returnState).goBackwards(goBackwards).stateful(stateful).zeroOutputForMask(zeroOutputForMask);
            if (stateful && batchSize > 0) {
                b.batchSize(batchSize);
            }
            return b.build();
        });
    }

    private CellPlan cellPlan(LayerSpec owner, JsonNode node) {
        if (node.isArray()) {
            // A bare list of cells (RNN([c1, c2])): a StackedRNNCells.
            return stackPlan(owner, node, null);
        }
        if (!node.isObject() || !node.path("class_name").isTextual() || !node.path("config").isObject()) {
            throw new IllegalArgumentException(source + ": " + owner.describe() + " has key 'cell' = "
                    + abbreviate(node.toString()) + "; expected a cell config {\"class_name\": ..., \"config\": {...}}");
        }
        String cls = node.get("class_name").asText();
        String registered = textOrNull(node.get("registered_name"));
        if (registered != null && !registered.equals(cls)) {
            throw unsupported(owner, "has cell of custom registered class '" + registered + "'");
        }
        ObjectNode config = (ObjectNode) node.get("config");
        if (cls.equals("StackedRNNCells")) {
            JsonNode cells = config.get("cells");
            if (cells == null || !cells.isArray()) {
                throw new IllegalArgumentException(source + ": " + owner.describe() + " has a StackedRNNCells cell without a"
                        + " 'cells' list: " + abbreviate(config.toString()));
            }
            JsonNode reverse = config.get("reverse_state_order");
            return stackPlan(owner, cells, reverse == null || reverse.isNull() ? null : reverse.asBoolean());
        }
        if (!STANDARD_CELLS.contains(cls)) {
            throw unsupported(owner, "has cell " + cls + " '" + config.path("name").asText("?") + "'; jrnn imports RNN with"
                    + " LSTMCell, GRUCell, SimpleRNNCell and StackedRNNCells of them");
        }
        return standardCellPlan(owner, new LayerSpec(cls, config.path("name").asText("?"), renameKeras1Keys(cls, config), node));
    }

    private CellPlan stackPlan(LayerSpec owner, JsonNode cells, Boolean reverseKey) {
        if (cells.isEmpty()) {
            throw new IllegalArgumentException(source + ": " + owner.describe() + " has an empty list of cells");
        }
        List<CellPlan> plans = new ArrayList<>();
        for (JsonNode c : cells) {
            plans.add(cellPlan(owner, c));
        }
        // Keras 2.1.0–2.2.2 list the cells' states last cell first (spec §2.8).
        boolean reverse = reverseKey != null ? reverseKey
                : version.major() == 2 && !version.before(2, 1, 0) && version.before(2, 2, 3);
        String order = reverse ? "reversed (last cell's states first" + (reverseKey != null ? ", reverse_state_order" : ", Keras "
                + version) + ")" : "natural (first cell's states first)";
        String summary = "StackedRNNCells[" + plans.stream().map(CellPlan::summary).collect(Collectors.joining("; "))
                + "] state order " + order;
        return new CellPlan(summary, () -> {
            List<Cell> built = new ArrayList<>();
            for (CellPlan p : plans) {
                built.add(p.factory().get());
            }
            return StackedRNNCells.builder().cells(built).reverseStateOrder(reverse).build();
        });
    }

    private CellPlan standardCellPlan(LayerSpec owner, LayerSpec cell) {
        String cls = cell.className();
        Set<String> extra = switch (cls) {
            case "LSTMCell" -> Set.of("unit_forget_bias", "recurrent_activation");
            case "GRUCell" -> Set.of("reset_after", "recurrent_activation");
            default -> Set.of();
        };
        try {
            checkKeys(cell, CELL_KEYS, extra);
            int units = positiveInt(cell, "units");
            Activation activation = activation(cell, "activation", "tanh");
            String defaultGate = version.known() && !version.before(2, 3, 0) ? "sigmoid" : "hard_sigmoid";
            Activation gate = cls.equals("SimpleRNNCell") ? Activation.SIGMOID : activation(cell, "recurrent_activation", defaultGate);
            boolean useBias = bool(cell, "use_bias", true);
            boolean unitForgetBias = cls.equals("LSTMCell") && bool(cell, "unit_forget_bias", true);
            boolean resetAfter = cls.equals("GRUCell") && bool(cell, "reset_after", version.major() >= 3);
            String summary = cls + " '" + cell.name() + "'(units=" + units + ", activation=" + describe(activation)
                    + (cls.equals("SimpleRNNCell") ? "" : ", recurrent_activation=" + describe(gate))
                    + (cls.equals("GRUCell") ? ", reset_after=" + resetAfter : "") + ", use_bias=" + useBias + ")";
            return new CellPlan(summary, () -> {
                StandardCell.Builder<?, ?> b = switch (cls) {
                    case "LSTMCell" -> LSTMCell.builder();
                    case "GRUCell" -> GRUCell.builder().resetAfter(resetAfter);
                    default -> SimpleRNNCell.builder();
                };
                b.name(cell.name()).units(units).activation(activation).recurrentActivation(gate).useBias(useBias)
                        .unitForgetBias(unitForgetBias);
                return b.build();
            });
        } catch (UnsupportedConfigurationException e) {
            throw unsupported(owner, "has a cell jrnn cannot run: " + withoutSource(e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + owner.describe() + " has a malformed cell: "
                    + withoutSource(e.getMessage()), e);
        }
    }

    /**
     * {@code RNN(LSTMCell|GRUCell|SimpleRNNCell)} inside a Bidirectional, as the equivalent layer
     * config (spec §2.7: numerically identical): the cell's config with the RNN's flags and name.
     */
    private LayerSpec rnnAsLayer(LayerSpec outer, LayerSpec rnn) {
        checkKeys(rnn, RNN_KEYS, Set.of());
        JsonNode cell = rnn.config().get("cell");
        String cls = cell == null ? "" : cell.path("class_name").asText("");
        if (!STANDARD_CELLS.contains(cls) || !cell.path("config").isObject()) {
            String what = cell == null || cell.isNull() ? "no cell" : cell.isArray() ? "a list of cells" : "cell " + cls;
            throw unsupported(outer, "wraps RNN '" + rnn.name() + "' with " + what + "; jrnn's Bidirectional takes RNN with a"
                    + " single LSTMCell, GRUCell or SimpleRNNCell (load stacked cells as RNN(StackedRNNCells) outside a"
                    + " Bidirectional)");
        }
        String registered = textOrNull(cell.get("registered_name"));
        if (registered != null && !registered.equals(cls)) {
            throw unsupported(outer, "wraps RNN '" + rnn.name() + "' with a cell of custom registered class '" + registered + "'");
        }
        ObjectNode config = renameKeras1Keys(cls, (ObjectNode) cell.get("config"));
        for (String key : List.of("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "time_major",
                "zero_output_for_mask")) {
            if (rnn.config().has(key)) {
                config.set(key, rnn.config().get(key));
            }
        }
        config.put("name", rnn.name());
        return new LayerSpec(cls.substring(0, cls.length() - "Cell".length()), rnn.name(), config, rnn.entry());
    }

    /** {@code TimeDistributed(layer)}: the inner layer on every step, time folded into the batch. */
    private LayerPlan timeDistributed(LayerSpec spec) {
        checkKeys(spec, Set.of("layer"), Set.of());
        JsonNode layerEntry = spec.config().get("layer");
        if (layerEntry == null || !layerEntry.isObject()) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has no key 'layer' (the wrapped layer)");
        }
        LayerSpec innerSpec = innerSpec(spec, layerEntry);
        LayerPlan innerPlan = innerPlan(spec, innerSpec);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("layer", innerSpec.className() + " '" + innerSpec.name() + "' {" + innerPlan.summary() + "}");
        return new LayerPlan(spec, settings, batchSize -> new TimeDistributed(spec.name(), innerPlan.build(batchSize)));
    }

    /** Weightless shape layers around RNNs: RepeatVector, Flatten, Reshape, SpatialDropout1D, global 1-D pooling. */
    private LayerPlan smallLayer(LayerSpec spec) {
        ObjectNode c = spec.config();
        Map<String, String> settings = new LinkedHashMap<>();
        String name = spec.name();
        switch (spec.className()) {
            case "RepeatVector" -> {
                checkKeys(spec, Set.of("n"), Set.of());
                int n = positiveInt(spec, "n");
                settings.put("n", Integer.toString(n));
                return new LayerPlan(spec, settings, b -> new RepeatVector(name, n));
            }
            case "Flatten" -> {
                checkKeys(spec, Set.of("data_format"), Set.of());
                boolean channelsFirst = channelsFirst(spec);
                settings.put("data_format", channelsFirst ? "channels_first" : "channels_last");
                return new LayerPlan(spec, settings, b -> new Flatten(name, channelsFirst));
            }
            case "Reshape" -> {
                checkKeys(spec, Set.of("target_shape"), Set.of());
                JsonNode t = c.get("target_shape");
                if (t == null || !t.isArray() || t.isEmpty()) {
                    throw new IllegalArgumentException(source + ": " + spec.describe() + " has key 'target_shape' = " + t
                            + "; expected a list of sizes");
                }
                int[] target = dims(t);
                settings.put("target_shape", java.util.Arrays.toString(target));
                new Reshape(name, target).close(); // validates the shape now, for inspect
                return new LayerPlan(spec, settings, b -> new Reshape(name, target));
            }
            case "SpatialDropout1D" -> {
                checkKeys(spec, DROPOUT_KEYS, Set.of());
                double rate = number(spec, "rate", 0);
                settings.put("rate", Double.toString(rate));
                settings.put("inference", "identity");
                return new LayerPlan(spec, settings, b -> new SpatialDropout1D(name, rate));
            }
            default -> {
                checkKeys(spec, Set.of("data_format", "keepdims"), Set.of());
                GlobalPooling1D.Kind kind = spec.className().equals("GlobalMaxPooling1D") ? GlobalPooling1D.Kind.MAX
                        : GlobalPooling1D.Kind.AVERAGE;
                boolean channelsFirst = channelsFirst(spec);
                boolean keepDims = bool(spec, "keepdims", false);
                settings.put("data_format", channelsFirst ? "channels_first" : "channels_last");
                if (keepDims) {
                    settings.put("keepdims", "true");
                }
                return new LayerPlan(spec, settings, b -> new GlobalPooling1D(name, kind, channelsFirst, keepDims));
            }
        }
    }

    private boolean channelsFirst(LayerSpec spec) {
        JsonNode v = spec.config().get("data_format");
        if (v == null || v.isNull() || v.asText().equals("channels_last")) {
            return false;
        }
        if (v.asText().equals("channels_first")) {
            return true;
        }
        throw new IllegalArgumentException(source + ": " + spec.describe() + " has key 'data_format' = " + v
                + "; expected \"channels_last\" or \"channels_first\"");
    }

    private static String wrapped(LayerSpec spec) {
        JsonNode inner = spec.config().get("layer");
        if (inner != null && inner.path("class_name").isTextual()) {
            String innerName = inner.path("config").path("name").asText("?");
            return " (it wraps " + inner.get("class_name").asText() + " '" + innerName + "')";
        }
        return "";
    }

    private LayerPlan recurrent(LayerSpec spec) {
        ObjectNode c = spec.config();
        String cls = spec.className();
        Set<String> extra = switch (cls) {
            case "LSTM" -> Set.of("unit_forget_bias");
            case "GRU" -> Set.of("reset_after");
            default -> Set.of();
        };
        checkKeys(spec, RECURRENT_KEYS, extra);
        Map<String, String> settings = new LinkedHashMap<>();
        int units = positiveInt(spec, "units");
        settings.put("units", Integer.toString(units));
        Activation activation = activation(spec, "activation", "tanh");
        settings.put("activation", describe(activation));
        Activation recurrentActivation = Activation.SIGMOID;
        if (!cls.equals("SimpleRNN")) {
            // Keras ≤ 2.2 (and Keras 1's inner_activation) default to hard_sigmoid, 2.3+ to sigmoid.
            String defaultGate = version.known() && !version.before(2, 3, 0) ? "sigmoid" : "hard_sigmoid";
            recurrentActivation = activation(spec, "recurrent_activation", defaultGate);
            settings.put("recurrent_activation", describe(recurrentActivation));
        } else if (c.hasNonNull("recurrent_activation")) {
            throw unsupported(spec, "has key 'recurrent_activation' = " + c.get("recurrent_activation")
                    + ", which SimpleRNN does not have");
        }
        boolean useBias = bool(spec, "use_bias", true);
        boolean returnSequences = bool(spec, "return_sequences", false);
        boolean returnState = bool(spec, "return_state", false);
        boolean goBackwards = bool(spec, "go_backwards", false);
        boolean stateful = bool(spec, "stateful", false);
        if (bool(spec, "time_major", false)) {
            throw unsupported(spec, "has key 'time_major' = true; time-major Keras layers are not imported"
                    + " (the model's batch axis would not be axis 0)");
        }
        boolean unitForgetBias = cls.equals("LSTM") && bool(spec, "unit_forget_bias", true);
        Boolean resetAfter = null;
        if (cls.equals("GRU")) {
            // reset_after exists since Keras 2.1.5; a file without the key predates it (false) unless Keras 3 wrote it.
            boolean defaultResetAfter = version.major() >= 3;
            resetAfter = bool(spec, "reset_after", defaultResetAfter);
            settings.put("reset_after", resetAfter + (c.has("reset_after") ? "" : " (absent; default for Keras " + version + ")"));
        }
        settings.put("use_bias", Boolean.toString(useBias));
        boolean zeroOutputForMask = bool(spec, "zero_output_for_mask", false);
        putRecurrentOptions(settings, returnSequences, returnState, goBackwards, stateful, zeroOutputForMask);
        putDtype(spec, settings);
        TrainingOptions training = trainingOptions(spec);
        final Boolean gruResetAfter = resetAfter;
        final Activation act = activation;
        final Activation gate = recurrentActivation;
        return new LayerPlan(spec, settings, batchSize -> {
            RecurrentLayer.Builder<?, ?> b = switch (cls) {
                case "LSTM" -> LSTM.builder().unitForgetBias(unitForgetBias);
                case "GRU" -> GRU.builder().resetAfter(gruResetAfter);
                default -> SimpleRNN.builder();
            };
            b.name(spec.name()).units(units).activation(act).recurrentActivation(gate).useBias(useBias)
                    .returnSequences(returnSequences).returnState(returnState).goBackwards(goBackwards).stateful(stateful)
                    .zeroOutputForMask(zeroOutputForMask).trainingOptions(training);
            if (stateful && batchSize > 0) {
                b.batchSize(batchSize);
            }
            return b.build();
        });
    }

    private static final Set<String> CONV_LSTM_KEYS = Set.of("filters", "kernel_size", "strides", "padding", "data_format",
            "dilation_rate", "unit_forget_bias");

    /** Keras {@code ConvLSTM2D} (spec §2.6); recurrent_activation defaults to hard_sigmoid before Keras 3. */
    private LayerPlan convLstm2d(LayerSpec spec) {
        checkKeys(spec, RECURRENT_KEYS, CONV_LSTM_KEYS);
        if (spec.config().hasNonNull("units")) {
            throw unsupported(spec, "has key 'units', which ConvLSTM2D does not have (it has 'filters')");
        }
        if (bool(spec, "time_major", false)) {
            throw unsupported(spec, "has key 'time_major' = true; time-major Keras layers are not imported");
        }
        boolean zeroOutputForMask = bool(spec, "zero_output_for_mask", false);
        Map<String, String> settings = new LinkedHashMap<>();
        int filters = positiveInt(spec, "filters");
        int[] kernel = intPair(spec, "kernel_size", null);
        int[] strides = intPair(spec, "strides", new int[] {1, 1});
        int[] dilation = intPair(spec, "dilation_rate", new int[] {1, 1});
        JsonNode pad = spec.config().get("padding");
        String padding = pad == null || pad.isNull() ? "valid" : pad.asText().toLowerCase(java.util.Locale.ROOT);
        boolean channelsFirst = channelsFirst(spec);
        Activation activation = activation(spec, "activation", "tanh");
        Activation gate = activation(spec, "recurrent_activation", version.major() >= 3 ? "sigmoid" : "hard_sigmoid");
        boolean useBias = bool(spec, "use_bias", true);
        boolean unitForgetBias = bool(spec, "unit_forget_bias", true);
        boolean returnSequences = bool(spec, "return_sequences", false);
        boolean returnState = bool(spec, "return_state", false);
        boolean goBackwards = bool(spec, "go_backwards", false);
        boolean stateful = bool(spec, "stateful", false);
        settings.put("filters", Integer.toString(filters));
        settings.put("kernel_size", java.util.Arrays.toString(kernel));
        settings.put("strides", java.util.Arrays.toString(strides));
        settings.put("padding", padding);
        settings.put("data_format", channelsFirst ? "channels_first" : "channels_last");
        settings.put("dilation_rate", java.util.Arrays.toString(dilation));
        settings.put("activation", describe(activation));
        settings.put("recurrent_activation", describe(gate));
        settings.put("use_bias", Boolean.toString(useBias));
        putRecurrentOptions(settings, returnSequences, returnState, goBackwards, stateful, zeroOutputForMask);
        putDtype(spec, settings);
        TrainingOptions training = trainingOptions(spec);
        java.util.function.IntFunction<io.jrnn.layers.ConvLSTM2D> make = batchSize -> {
            io.jrnn.layers.ConvLSTM2D.Builder b = io.jrnn.layers.ConvLSTM2D.builder().name(spec.name()).filters(filters)
                    .kernelSize(kernel[0], kernel[1]).strides(strides[0], strides[1])
                    .dilationRate(dilation[0], dilation[1]).padding(padding)
                    .dataFormat(channelsFirst ? "channels_first" : "channels_last").activation(activation)
                    .recurrentActivation(gate).useBias(useBias).unitForgetBias(unitForgetBias)
                    .returnSequences(returnSequences).returnState(returnState).goBackwards(goBackwards).stateful(stateful)
                    .zeroOutputForMask(zeroOutputForMask).trainingOptions(training);
            if (stateful && batchSize > 0) {
                b.batchSize(batchSize);
            }
            return b.build();
        };
        try {
            make.apply(-1).close(); // validates now (padding, strides with dilation), for inspect
        } catch (IllegalArgumentException e) {
            throw unsupported(spec, "cannot be built: " + e.getMessage());
        }
        return new LayerPlan(spec, settings, make::apply);
    }

    /** An int or a list of two ints (Keras normalises both). */
    private int[] intPair(LayerSpec spec, String key, int[] defaultValue) {
        JsonNode v = spec.config().get(key);
        if ((v == null || v.isNull()) && defaultValue != null) {
            return defaultValue.clone();
        }
        if (v != null && v.isInt() && v.asInt() > 0) {
            return new int[] {v.asInt(), v.asInt()};
        }
        if (v != null && v.isArray() && v.size() == 2 && v.get(0).isInt() && v.get(1).isInt() && v.get(0).asInt() > 0
                && v.get(1).asInt() > 0) {
            return new int[] {v.get(0).asInt(), v.get(1).asInt()};
        }
        throw new IllegalArgumentException(source + ": " + spec.describe() + " has key '" + key + "' = " + v
                + "; expected a positive integer or a list of two");
    }

    /** Keras {@code MaxPooling3D} (weightless). */
    private LayerPlan maxPooling3d(LayerSpec spec) {
        checkKeys(spec, Set.of("pool_size", "strides", "padding", "data_format"), Set.of());
        int[] pool = intTriple(spec, "pool_size", new int[] {2, 2, 2});
        int[] strides = spec.config().hasNonNull("strides") ? intTriple(spec, "strides", null) : pool;
        JsonNode pad = spec.config().get("padding");
        String padding = pad == null || pad.isNull() ? "valid" : pad.asText().toLowerCase(java.util.Locale.ROOT);
        boolean channelsFirst = channelsFirst(spec);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("pool_size", java.util.Arrays.toString(pool));
        settings.put("strides", java.util.Arrays.toString(strides));
        settings.put("padding", padding);
        settings.put("data_format", channelsFirst ? "channels_first" : "channels_last");
        String name = spec.name();
        try {
            new io.jrnn.layers.MaxPooling3D(name, pool, strides, padding, channelsFirst).close();
        } catch (IllegalArgumentException e) {
            throw unsupported(spec, "cannot be built: " + e.getMessage());
        }
        return new LayerPlan(spec, settings, b -> new io.jrnn.layers.MaxPooling3D(name, pool, strides, padding, channelsFirst));
    }

    private int[] intTriple(LayerSpec spec, String key, int[] defaultValue) {
        JsonNode v = spec.config().get(key);
        if ((v == null || v.isNull()) && defaultValue != null) {
            return defaultValue.clone();
        }
        if (v != null && v.isInt() && v.asInt() > 0) {
            return new int[] {v.asInt(), v.asInt(), v.asInt()};
        }
        if (v != null && v.isArray() && v.size() == 3) {
            int[] out = new int[3];
            for (int i = 0; i < 3; i++) {
                if (!v.get(i).isInt() || v.get(i).asInt() < 1) {
                    out = null;
                    break;
                }
                out[i] = v.get(i).asInt();
            }
            if (out != null) {
                return out;
            }
        }
        throw new IllegalArgumentException(source + ": " + spec.describe() + " has key '" + key + "' = " + v
                + "; expected a positive integer or a list of three");
    }

    /** The {@code RNN} options of a recurrent layer, as {@code jrnn inspect} shows them (defaults omitted). */
    private static void putRecurrentOptions(Map<String, String> settings, boolean returnSequences, boolean returnState,
            boolean goBackwards, boolean stateful, boolean zeroOutputForMask) {
        settings.put("return_sequences", Boolean.toString(returnSequences));
        if (returnState) {
            settings.put("return_state", "true");
        }
        if (goBackwards) {
            settings.put("go_backwards", "true");
        }
        settings.put("stateful", Boolean.toString(stateful));
        if (zeroOutputForMask) {
            settings.put("zero_output_for_mask", "true (only matters with a mask)");
        }
    }

    private TrainingOptions trainingOptions(LayerSpec spec) {
        ObjectNode c = spec.config();
        TrainingOptions d = TrainingOptions.defaults();
        int implementationDefault = !version.known() || version.before(2, 0, 0) ? 0
                : version.before(2, 1, 0) ? 0 : version.before(2, 3, 0) ? 1 : 2;
        return new TrainingOptions(
                number(spec, "dropout", 0),
                number(spec, "recurrent_dropout", 0),
                initializerName(c.get("kernel_initializer"), d.kernelInitializer()),
                initializerName(c.get("recurrent_initializer"), d.recurrentInitializer()),
                initializerName(c.get("bias_initializer"), d.biasInitializer()),
                plain(c.get("kernel_regularizer")),
                plain(c.get("recurrent_regularizer")),
                plain(c.get("bias_regularizer")),
                plain(c.get("activity_regularizer")),
                plain(c.get("kernel_constraint")),
                plain(c.get("recurrent_constraint")),
                plain(c.get("bias_constraint")),
                bool(spec, "unroll", false),
                c.hasNonNull("implementation") ? c.get("implementation").asInt() : implementationDefault);
    }

    private LayerPlan dense(LayerSpec spec) {
        checkKeys(spec, DENSE_KEYS, Set.of());
        ObjectNode c = spec.config();
        if (c.hasNonNull("lora_rank") && c.get("lora_rank").asInt() != 0) {
            throw unsupported(spec, "has key 'lora_rank' = " + c.get("lora_rank") + "; LoRA layers are not imported");
        }
        if (c.hasNonNull("quantization_config")) {
            throw unsupported(spec, "has key 'quantization_config' = " + abbreviate(c.get("quantization_config").toString())
                    + "; quantized layers are not imported");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        int units = positiveInt(spec, "units");
        Activation activation = activation(spec, "activation", "linear");
        boolean useBias = bool(spec, "use_bias", true);
        settings.put("units", Integer.toString(units));
        settings.put("activation", describe(activation));
        settings.put("use_bias", Boolean.toString(useBias));
        putDtype(spec, settings);
        return new LayerPlan(spec, settings, batchSize -> Dense.builder().name(spec.name()).units(units)
                .activation(activation).useBias(useBias).build());
    }

    private LayerPlan embedding(LayerSpec spec) {
        checkKeys(spec, EMBEDDING_KEYS, Set.of());
        ObjectNode c = spec.config();
        if (c.hasNonNull("lora_rank") && c.get("lora_rank").asInt() != 0) {
            throw unsupported(spec, "has key 'lora_rank' = " + c.get("lora_rank") + "; LoRA layers are not imported");
        }
        if (c.hasNonNull("quantization_config")) {
            throw unsupported(spec, "has key 'quantization_config'; quantized layers are not imported");
        }
        int inputDim = positiveInt(spec, "input_dim");
        int outputDim = positiveInt(spec, "output_dim");
        boolean maskZero = bool(spec, "mask_zero", false);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("input_dim", Integer.toString(inputDim));
        settings.put("output_dim", Integer.toString(outputDim));
        settings.put("mask_zero", Boolean.toString(maskZero));
        putDtype(spec, settings);
        return new LayerPlan(spec, settings, batchSize -> new Embedding(spec.name(), inputDim, outputDim, maskZero));
    }

    private LayerPlan dropout(LayerSpec spec) {
        checkKeys(spec, DROPOUT_KEYS, Set.of());
        double rate = number(spec, "rate", 0);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("rate", Double.toString(rate));
        settings.put("inference", "identity");
        return new LayerPlan(spec, settings, batchSize -> new Dropout(spec.name(), rate));
    }

    private LayerPlan merge(LayerSpec spec) {
        checkKeys(spec, MERGE_KEYS, Set.of());
        Merge.Mode mode = Merge.Mode.fromKeras(spec.className());
        Map<String, String> settings = new LinkedHashMap<>();
        int axis = -1;
        if (mode == Merge.Mode.CONCATENATE) {
            JsonNode a = spec.config().get("axis");
            if (a != null && !a.isNull() && !a.canConvertToInt()) {
                throw new IllegalArgumentException(source + ": " + spec.describe() + " has key 'axis' = " + a + "; expected an integer");
            }
            axis = a == null || a.isNull() ? -1 : a.asInt();
            if (axis == 0) {
                throw unsupported(spec, "has key 'axis' = 0, the batch axis");
            }
            settings.put("axis", Integer.toString(axis));
        }
        final int concatAxis = axis;
        return new LayerPlan(spec, settings, batchSize -> new Merge(spec.name(), mode, concatAxis));
    }

    private LayerPlan masking(LayerSpec spec) {
        checkKeys(spec, MASKING_KEYS, Set.of());
        float maskValue = (float) number(spec, "mask_value", 0.0);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("mask_value", Float.toString(maskValue));
        return new LayerPlan(spec, settings, batchSize -> new Masking(spec.name(), maskValue));
    }

    private LayerPlan activationLayer(LayerSpec spec) {
        checkKeys(spec, ACTIVATION_KEYS, Set.of());
        if (!spec.config().has("activation")) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has no key 'activation'");
        }
        Activation activation = activation(spec, "activation", "linear");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("activation", describe(activation));
        return new LayerPlan(spec, settings, batchSize -> new ActivationLayer(spec.name(), activation));
    }

    /** Unknown keys are tolerated only with an empty value (null, false, 0, ""): anything else could change the result. */
    private void checkKeys(LayerSpec spec, Set<String> known, Set<String> extra) {
        for (Iterator<Map.Entry<String, JsonNode>> it = spec.config().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            if (COMMON_KEYS.contains(k) || known.contains(k) || extra.contains(k)) {
                continue;
            }
            JsonNode v = e.getValue();
            boolean empty = v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isNumber() && v.asDouble() == 0)
                    || (v.isTextual() && v.asText().isEmpty()) || (v.isContainerNode() && v.isEmpty());
            if (!empty) {
                throw unsupported(spec, "has key '" + k + "' = " + abbreviate(v.toString())
                        + ", which jrnn does not know for " + spec.className());
            }
        }
    }

    /** Parses an activation value: a name, {@code null} (linear), or a Keras 3 serialized function dict. */
    private Activation activation(LayerSpec spec, String key, String defaultName) {
        JsonNode v = spec.config().get(key);
        String name;
        if (v == null) {
            name = defaultName;
        } else if (v.isNull()) {
            name = "linear";
        } else if (v.isTextual()) {
            name = v.asText();
        } else if (v.isObject() && v.path("config").isTextual()) {
            // Keras 3 / tf.keras serialize_keras_object of a function: {"class_name": "function", "config": "tanh", ...}
            name = v.get("config").asText();
        } else if (v.isObject() && v.path("config").path("name").isTextual() && "function".equals(v.path("class_name").asText())) {
            name = v.get("config").get("name").asText();
        } else {
            String what = v.isObject() && v.path("class_name").isTextual() ? "the object " + v.get("class_name").asText()
                    : abbreviate(v.toString());
            throw unsupported(spec, "has key '" + key + "' = " + what + "; only named Keras activations are supported");
        }
        Activation a;
        try {
            a = Activation.fromKeras(name, hardSigmoid);
        } catch (IllegalArgumentException e) {
            throw unsupported(spec, "has key '" + key + "' = '" + name + "': " + e.getMessage());
        }
        boolean recurrentClass = Set.of("LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTM2D")
                .contains(spec.className());
        if (!a.isElementwise() && recurrentClass) {
            throw unsupported(spec, "has key '" + key + "' = '" + name + "', which is not elementwise");
        }
        return a;
    }

    private static String describe(Activation a) {
        return switch (a) {
            case HARD_SIGMOID_KERAS2 -> "hard_sigmoid (Keras 2: clip(0.2x+0.5))";
            case HARD_SIGMOID_KERAS3 -> "hard_sigmoid (Keras 3: clip(x/6+0.5))";
            default -> a.kerasName();
        };
    }

    private static void putDtype(LayerSpec spec, Map<String, String> settings) {
        JsonNode d = spec.config().get("dtype");
        String name = d == null || d.isNull() ? null : d.isTextual() ? d.asText() : d.path("config").path("name").asText(null);
        if (name != null && !name.equals("float32")) {
            settings.put("dtype", name + " (jrnn computes in float32)");
        }
    }

    private int positiveInt(LayerSpec spec, String key) {
        JsonNode v = spec.config().get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has no key '" + key + "'");
        }
        if (!v.isNumber() || v.asDouble() != Math.rint(v.asDouble()) || v.asDouble() <= 0 || v.asDouble() > MAX_SIZE) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has key '" + key + "' = " + v
                    + "; expected a positive integer" + (v.isNumber() && v.asDouble() > MAX_SIZE
                            ? " of at most " + MAX_SIZE + " (larger sizes overflow the gate layout; parameters are"
                                    + " limited by LoadOptions.maxParameters)" : ""));
        }
        return v.asInt();
    }

    /** The largest size key (units, filters, dims): 4 gates × 4 (bidirectional, stacked) still fit an int. */
    static final int MAX_SIZE = Integer.MAX_VALUE / 16;

    private boolean bool(LayerSpec spec, String key, boolean defaultValue) {
        JsonNode v = spec.config().get(key);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber() && (v.asInt() == 0 || v.asInt() == 1)) {
            return v.asInt() == 1;
        }
        throw new IllegalArgumentException(source + ": " + spec.describe() + " has key '" + key + "' = " + v
                + "; expected true or false");
    }

    private double number(LayerSpec spec, String key, double defaultValue) {
        JsonNode v = spec.config().get(key);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException(source + ": " + spec.describe() + " has key '" + key + "' = " + v
                    + "; expected a number");
        }
        return v.asDouble();
    }

    /** The initializer's name: Keras 1 strings as given, Keras 2/3 dicts by {@code class_name}. */
    private static String initializerName(JsonNode v, String defaultName) {
        if (v == null || v.isNull()) {
            return defaultName;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        return v.path("class_name").asText(defaultName);
    }

    /** A JSON value as plain Java (Map, List, String, Number, Boolean), or {@code null}. */
    private static Object plain(JsonNode v) {
        return v == null || v.isNull() ? null : JSON.convertValue(v, Object.class);
    }

    private UnsupportedConfigurationException unsupported(LayerSpec spec, String what) {
        return new UnsupportedConfigurationException(source + ": " + spec.describe() + " " + what);
    }

    private static String textOrNull(JsonNode n) {
        return n != null && n.isTextual() ? n.asText() : null;
    }

    static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 157) + "...";
    }

    /**
     * The key Keras 3's {@code .keras} weight store uses for a layer: its class name in snake case,
     * numbered from the second layer of the same class on ({@code lstm}, {@code lstm_1}, …); Keras 3
     * {@code saving_lib._save_container_state} deliberately ignores the layer's own name.
     */
    static List<String> kerasStorePaths(List<LayerSpec> layers) {
        Map<String, Integer> used = new HashMap<>();
        List<String> paths = new ArrayList<>();
        for (LayerSpec l : layers) {
            String base = toSnakeCase(l.className());
            Integer n = used.get(base);
            if (n == null) {
                used.put(base, 0);
                paths.add(base);
            } else {
                used.put(base, n + 1);
                paths.add(base + "_" + (n + 1));
            }
        }
        return paths;
    }

    /** Keras 3 {@code naming.to_snake_case}: {@code SimpleRNN → simple_rnn}, {@code LSTM → lstm}. */
    static String toSnakeCase(String name) {
        String s = name.replaceAll("\\W+", "");
        s = s.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
        s = s.replaceAll("([a-z])([A-Z])", "$1_$2");
        return s.toLowerCase(java.util.Locale.ROOT);
    }
}
