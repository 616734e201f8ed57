package io.jrnn;

import io.jrnn.backend.Backend;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Merge;
import io.jrnn.layers.RecurrentLayer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A graph of layers with named inputs and outputs (a Keras functional {@code Model}): several
 * inputs and outputs, merge layers ({@link Merge}), recurrent layers called with initial states
 * taken from other tensors, and {@code return_state} outputs consumed by other layers. A layer
 * called more than once shares its weights between the calls. It owns its layers: closing the
 * model closes them.
 *
 * <p>Thread safety: {@code forward} may be called from many threads at once when no layer is
 * stateful (each call gets its own tensors; the layers' executors run calls in parallel); a stateful
 * layer refuses a second thread with {@link IllegalStateException}. {@link #close} and
 * configuration changes must not race with calls. A model garbage-collected without close is
 * reported by {@link NativeResources} (its layers' native memory is released by their executors'
 * own cleaners).
 *
 * <pre>{@code
 * try (Model model = KerasModels.loadModel(Path.of("seq2seq.h5"))) {
 *     Map<String, Tensor> out = model.forward(Map.of("encoder_input", xEnc, "decoder_input", xDec));
 *     try (Tensor y = out.get("decoder_dense")) { ... }
 * }
 * }</pre>
 *
 * Built by {@link io.jrnn.io.KerasModels#loadModel} or by hand with {@link #builder}.
 */
public final class Model implements AutoCloseable {
    /**
     * One tensor of the graph: output {@code index} of a node (a layer call) or of an input
     * ({@code index} 0). For a recurrent layer with {@code return_state}, index 0 is the output and
     * 1… are the final states.
     *
     * @param node  the input's name, or the node's name (the layer's name; {@code name#k} for its call k ≥ 1)
     * @param index which of the node's tensors
     */
    public record Ref(String node, int index) {
        public Ref {
            Objects.requireNonNull(node, "node");
            if (index < 0) {
                throw new IllegalArgumentException("tensor index must be >= 0, got " + index);
            }
        }

        /** Tensor {@code i} of the same node. */
        public Ref output(int i) {
            return new Ref(node, i);
        }

        @Override
        public String toString() {
            return index == 0 ? node : node + "[" + index + "]";
        }
    }

    /** A model input: its name and its shape without the batch axis ({@code -1} where free; {@code null} when unknown). */
    public record Input(String name, int[] shape) {
        public Input {
            Objects.requireNonNull(name, "name");
            shape = shape == null ? null : shape.clone();
        }

        @Override
        public int[] shape() {
            return shape == null ? null : shape.clone();
        }
    }

    /**
     * One layer call.
     *
     * @param name          the node's name
     * @param layer         the layer
     * @param inputs        the tensors it reads: one, or several for a {@link Merge}
     * @param initialStates the tensors passed as its initial states (recurrent layers), possibly none
     */
    public record Node(String name, Layer layer, List<Ref> inputs, List<Ref> initialStates) {
        public Node {
            inputs = List.copyOf(inputs);
            initialStates = List.copyOf(initialStates);
        }
    }

    private final String name;
    private final List<Input> inputs;
    private final List<Node> nodes;
    private final List<Ref> outputs;
    private final List<String> outputNames;
    private final List<Layer> layers;
    private volatile boolean closed;
    /** Warning-only registration: the layers' executors and tensors have their own. */
    private final NativeResources.Registration registration;

    private Model(String name, List<Input> inputs, List<Node> nodes, List<Ref> outputs, List<String> outputNames) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        this.outputNames = List.copyOf(outputNames);
        Set<Layer> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        List<Layer> distinct = new ArrayList<>();
        for (Node n : nodes) {
            if (seen.add(n.layer())) {
                distinct.add(n.layer());
            }
        }
        this.layers = List.copyOf(distinct);
        this.registration = NativeResources.register(this, () -> { });
    }

    /** A builder for a graph; see {@link Builder}. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * A one-input ({@code "input"}), one-output chain over {@code model}'s layers. Both models then
     * hold the same layers: closing either closes them.
     */
    public static Model of(Sequential model) {
        Builder b = builder(model.name());
        Ref x = b.input("input", model.inputShape());
        for (Layer l : model.layers()) {
            x = b.call(l, x);
        }
        return b.build(x);
    }

    public String name() {
        return name;
    }

    /** The input names, in order (Keras {@code input_layers}). */
    public List<String> inputNames() {
        return inputs.stream().map(Input::name).toList();
    }

    /** The inputs with their shapes. */
    public List<Input> inputs() {
        return inputs;
    }

    /**
     * The output names, in order: the producing layer's name (Keras {@code output_layers}); when
     * two outputs come from the same layer, the later ones are {@code name:index}.
     */
    public List<String> outputNames() {
        return outputNames;
    }

    /** The layer calls in execution order. */
    public List<Node> nodes() {
        return nodes;
    }

    /** Each layer once, in the order of its first call. */
    public List<Layer> layers() {
        return layers;
    }

    /** The layer called {@code layerName}. */
    public Layer layer(String layerName) {
        for (Layer l : layers) {
            if (l.name().equals(layerName)) {
                return l;
            }
        }
        throw new IllegalArgumentException("Model '" + name + "' has no layer '" + layerName + "'; layers: "
                + layers.stream().map(Layer::name).toList());
    }

    /** Runs every layer on {@code backend} from the next call on. */
    public Model useBackend(Backend backend) {
        ensureOpen();
        for (Layer l : layers) {
            l.useBackend(backend);
        }
        return this;
    }

    /** Clears the stored states of every stateful layer. */
    public void resetStates() {
        ensureOpen();
        for (Layer l : layers) {
            l.resetStates();
        }
    }

    /**
     * Runs the model on one tensor per input (by input name). Intermediate tensors are released;
     * the caller owns the returned tensors (one per output, in {@link #outputNames()} order) and
     * keeps ownership of the inputs.
     *
     * @throws IllegalArgumentException when a name is missing or unknown (the message lists the expected names)
     */
    public Map<String, Tensor> forward(Map<String, Tensor> namedInputs) {
        ensureOpen();
        List<String> expected = inputNames();
        List<String> missing = expected.stream().filter(n -> !namedInputs.containsKey(n)).toList();
        List<String> extra = namedInputs.keySet().stream().filter(n -> !expected.contains(n)).sorted().toList();
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IllegalArgumentException("Model '" + name + "' expects inputs " + expected
                    + (missing.isEmpty() ? "" : "; missing " + missing) + (extra.isEmpty() ? "" : "; unknown " + extra));
        }
        List<Tensor> ordered = new ArrayList<>();
        for (String n : expected) {
            ordered.add(Objects.requireNonNull(namedInputs.get(n), "input '" + n + "'"));
        }
        List<Tensor> out = forward(ordered);
        Map<String, Tensor> named = new LinkedHashMap<>();
        for (int i = 0; i < out.size(); i++) {
            named.put(outputNames.get(i), out.get(i));
        }
        return named;
    }

    /** Runs the model on the inputs in {@link #inputNames()} order; returns the outputs in {@link #outputNames()} order. */
    public List<Tensor> forward(List<Tensor> inputTensors) {
        ensureOpen();
        if (inputTensors.size() != inputs.size()) {
            throw new IllegalArgumentException("Model '" + name + "' expects " + inputs.size() + " input(s) " + inputNames()
                    + ", got " + inputTensors.size());
        }
        Map<Ref, Integer> uses = new HashMap<>();
        for (Node n : nodes) {
            for (Ref r : n.inputs()) {
                uses.merge(r, 1, Integer::sum);
            }
            for (Ref r : n.initialStates()) {
                uses.merge(r, 1, Integer::sum);
            }
        }
        Set<Ref> outputSet = new HashSet<>(outputs);
        Map<Ref, Tensor> values = new HashMap<>();
        Map<Ref, Mask> masks = new HashMap<>();
        Set<Tensor> borrowed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        try {
            for (int i = 0; i < inputs.size(); i++) {
                Tensor t = inputTensors.get(i);
                values.put(new Ref(inputs.get(i).name(), 0), t);
                borrowed.add(t);
            }
            for (Node n : nodes) {
                List<Tensor> in = new ArrayList<>();
                List<Mask> inMasks = new ArrayList<>();
                for (Ref r : n.inputs()) {
                    in.add(value(values, r, n));
                    inMasks.add(masks.get(r));
                }
                Tensor[] states = new Tensor[n.initialStates().size()];
                for (int i = 0; i < states.length; i++) {
                    states[i] = value(values, n.initialStates().get(i), n);
                }
                List<Tensor> produced = new ArrayList<>();
                Mask outMask;
                if (n.layer() instanceof Merge m) {
                    if (states.length > 0) {
                        throw new IllegalArgumentException(m + " takes no initial states");
                    }
                    produced.add(m.merge(in));
                    outMask = m.outputMask(inMasks);
                } else {
                    if (in.size() != 1) {
                        throw new IllegalArgumentException(n.layer() + " takes one input tensor, the graph gives it "
                                + in.size() + " " + n.inputs());
                    }
                    Mask mask = inMasks.get(0);
                    Outputs o = mask == null ? n.layer().forward(in.get(0), states) : n.layer().forward(in.get(0), mask, states);
                    produced.addAll(o.all());
                    outMask = n.layer().outputMask(in.get(0), mask);
                }
                for (int i = 0; i < produced.size(); i++) {
                    Ref r = new Ref(n.name(), i);
                    Tensor t = produced.get(i);
                    if (!uses.containsKey(r) && !outputSet.contains(r)) {
                        t.close();
                    } else {
                        values.put(r, t);
                        if (i == 0 && outMask != null) {
                            masks.put(r, outMask);
                        }
                    }
                }
                release(n.inputs(), uses, outputSet, values, borrowed);
                release(n.initialStates(), uses, outputSet, values, borrowed);
            }
            List<Tensor> result = new ArrayList<>();
            Set<Tensor> handedOut = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            for (Ref r : outputs) {
                Tensor t = values.get(r);
                if (t == null) {
                    throw new IllegalStateException("Model '" + name + "': output " + r + " was not produced");
                }
                // A model input or a tensor listed twice is copied, so each returned tensor is the caller's own.
                result.add(borrowed.contains(t) || !handedOut.add(t) ? t.copy() : t);
            }
            return result;
        } catch (RuntimeException e) {
            for (Tensor t : values.values()) {
                if (!borrowed.contains(t)) {
                    t.close();
                }
            }
            throw e;
        }
    }

    private Tensor value(Map<Ref, Tensor> values, Ref r, Node reader) {
        Tensor t = values.get(r);
        if (t == null) {
            throw new IllegalArgumentException("Model '" + name + "': " + reader.layer() + " reads tensor " + r
                    + ", which its producer did not return (a recurrent layer returns its states only with return_state=true)");
        }
        return t;
    }

    private static void release(List<Ref> refs, Map<Ref, Integer> uses, Set<Ref> outputSet, Map<Ref, Tensor> values,
            Set<Tensor> borrowed) {
        for (Ref r : refs) {
            int left = uses.merge(r, -1, Integer::sum);
            if (left == 0 && !outputSet.contains(r)) {
                Tensor t = values.remove(r);
                if (t != null && !borrowed.contains(t)) {
                    t.close();
                }
            }
        }
    }

    /**
     * Runs a single-input, single-output model; the caller owns the result.
     *
     * @throws IllegalArgumentException when the model has several inputs or outputs
     */
    public Tensor forward(Tensor x) {
        ensureOpen();
        if (inputs.size() != 1 || outputs.size() != 1) {
            throw new IllegalArgumentException("Model '" + name + "' has " + inputs.size() + " input(s) " + inputNames() + " and "
                    + outputs.size() + " output(s) " + outputNames + "; use forward(Map) or forward(List)");
        }
        return forward(List.of(x)).get(0);
    }

    /**
     * Runs the model in slices of at most {@code batchSize} samples (axis 0 of every input) and joins
     * each output along axis 0; identical to {@link #forward(Map)} for stateless models.
     */
    public Map<String, Tensor> forward(Map<String, Tensor> namedInputs, int batchSize) {
        ensureOpen();
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        }
        int n = -1;
        for (Map.Entry<String, Tensor> e : namedInputs.entrySet()) {
            int rows = e.getValue().rank() == 0 ? 0 : e.getValue().dim(0);
            if (n >= 0 && rows != n) {
                throw new IllegalArgumentException("Model '" + name + "': inputs have different batch sizes (" + n + " and "
                        + rows + " for '" + e.getKey() + "')");
            }
            n = rows;
        }
        if (n <= batchSize) {
            return forward(namedInputs);
        }
        Map<String, List<float[]>> parts = new LinkedHashMap<>();
        Map<String, int[]> shapes = new HashMap<>();
        for (int start = 0; start < n; start += batchSize) {
            int count = Math.min(batchSize, n - start);
            Map<String, Tensor> slice = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, Tensor> e : namedInputs.entrySet()) {
                    slice.put(e.getKey(), rows(e.getValue(), start, count));
                }
                Map<String, Tensor> out = forward(slice);
                for (Map.Entry<String, Tensor> e : out.entrySet()) {
                    try (Tensor t = e.getValue()) {
                        parts.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(t.toArray());
                        shapes.put(e.getKey(), t.shape());
                    }
                }
            } finally {
                slice.values().forEach(Tensor::close);
            }
        }
        Map<String, Tensor> joined = new LinkedHashMap<>();
        for (Map.Entry<String, List<float[]>> e : parts.entrySet()) {
            int total = e.getValue().stream().mapToInt(a -> a.length).sum();
            float[] all = new float[total];
            int pos = 0;
            for (float[] p : e.getValue()) {
                System.arraycopy(p, 0, all, pos, p.length);
                pos += p.length;
            }
            int[] s = shapes.get(e.getKey());
            s[0] = n;
            joined.put(e.getKey(), Tensor.of(all, s));
        }
        return joined;
    }

    private static Tensor rows(Tensor x, int start, int count) {
        int n = x.dim(0);
        int row = (int) (x.size() / n);
        float[] v = new float[count * row];
        x.view().position(start * row).get(v);
        int[] s = x.shape();
        s[0] = count;
        return Tensor.of(v, s);
    }

    /** One line per layer call: name, type, the path it runs on (oneDNN primitive, oneDNN composed path, reference, java) and its inputs. */
    public List<String> executionPlan() {
        ensureOpen();
        List<String> plan = new ArrayList<>();
        for (Node n : nodes) {
            Layer l = n.layer();
            if (l instanceof RecurrentLayer r && r.weights() != null) {
                r.compile(r.weights().inputSize());
            }
            if (l instanceof io.jrnn.layers.ConvLSTM2D c && c.inputChannels() > 0) {
                c.compile();
            }
            String from = n.inputs().toString() + (n.initialStates().isEmpty() ? "" : ", initial_state=" + n.initialStates());
            plan.add(n.name() + " (" + l.typeName() + "): " + l.executionPath() + " <- " + from);
        }
        return plan;
    }

    /** A Keras-like summary: layer call, output shape, parameter count, inputs. */
    public String summary() {
        ensureOpen();
        StringBuilder sb = new StringBuilder();
        String row = "%-32s %-22s %12s  %s%n";
        sb.append(String.format("Model: %s%n", name));
        sb.append(String.format(row, "Layer (type)", "Output shape", "Params", "Connected to"));
        Map<Ref, int[]> shapes = tensorShapes();
        for (Input in : inputs) {
            sb.append(String.format(row, in.name() + " (InputLayer)", shapeString(in.shape()), 0, ""));
        }
        long total = 0;
        Set<Layer> counted = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node n : nodes) {
            long params = counted.add(n.layer()) ? n.layer().parameterCount() : 0;
            total += params;
            List<Ref> from = new ArrayList<>(n.inputs());
            from.addAll(n.initialStates());
            sb.append(String.format(row, n.name() + " (" + n.layer().typeName() + ")", shapeString(shapes.get(new Ref(n.name(), 0))),
                    params, from));
        }
        sb.append(String.format("Total params: %d%n", total));
        sb.append(String.format("Inputs: %s; outputs: %s%n", inputNames(), outputNames));
        return sb.toString();
    }

    /** Shapes (without batch axis) of every tensor that can be inferred from the input shapes. */
    private Map<Ref, int[]> tensorShapes() {
        Map<Ref, int[]> shapes = new HashMap<>();
        for (Input in : inputs) {
            if (in.shape() != null) {
                shapes.put(new Ref(in.name(), 0), in.shape());
            }
        }
        for (Node n : nodes) {
            List<int[]> in = new ArrayList<>();
            for (Ref r : n.inputs()) {
                in.add(shapes.get(r));
            }
            if (in.contains(null)) {
                continue;
            }
            try {
                int[] out = n.layer() instanceof Merge m ? m.outputShape(in) : n.layer().outputShape(in.get(0));
                shapes.put(new Ref(n.name(), 0), out);
                if (n.layer() instanceof RecurrentLayer r && r.returnState()) {
                    for (int i = 1; i <= r.stateCount(); i++) {
                        shapes.put(new Ref(n.name(), i), new int[] {r.units()});
                    }
                }
            } catch (RuntimeException e) {
                // Unknown shape: shown as "?".
            }
        }
        return shapes;
    }

    /** The output shapes without batch axis, in {@link #outputNames()} order ({@code null} where unknown). */
    public List<int[]> outputShapes() {
        Map<Ref, int[]> shapes = tensorShapes();
        List<int[]> out = new ArrayList<>();
        for (Ref r : outputs) {
            out.add(shapes.get(r));
        }
        return out;
    }

    private static String shapeString(int[] shape) {
        return shape == null ? "?" : Sequential.shapeString(shape);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Model '" + name + "' is closed");
        }
    }

    /** Closes every layer. Closing twice is harmless. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            registration.close();
            Sequential.closeAll(layers);
        }
    }

    @Override
    public String toString() {
        return "Model '" + name + "' " + inputNames() + " -> " + outputNames;
    }

    /**
     * Builds a graph by calling layers on tensors, like the Keras functional API.
     *
     * <pre>{@code
     * Model.Builder b = Model.builder("seq2seq");
     * Model.Ref enc = b.input("encoder_input", -1, 150);
     * Model.Ref dec = b.input("decoder_input", -1, 50);
     * Model.Ref encoded = b.call(encoderLstm, enc);           // return_state=true: outputs 0 (y), 1 (h), 2 (c)
     * Model.Ref y = b.call(decoderLstm, List.of(dec), List.of(encoded.output(1), encoded.output(2)));
     * Model model = b.build(b.call(dense, y));
     * }</pre>
     */
    public static final class Builder {
        private final String name;
        private final List<Input> inputs = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final Map<String, Integer> calls = new HashMap<>();
        private final Set<String> names = new HashSet<>();

        private Builder(String name) {
            this.name = name;
        }

        /** Declares an input; {@code shape} without the batch axis ({@code -1} where free), or none when unknown. */
        public Ref input(String inputName, int... shape) {
            if (!names.add(inputName)) {
                throw new IllegalArgumentException("Model '" + name + "': the name '" + inputName + "' is already used");
            }
            inputs.add(new Input(inputName, shape == null || shape.length == 0 ? null : shape));
            return new Ref(inputName, 0);
        }

        /** Calls {@code layer} on one tensor; returns the call's output 0 (use {@link Ref#output} for the states). */
        public Ref call(Layer layer, Ref input) {
            return call(layer, List.of(input), List.of());
        }

        /** Calls {@code layer} on several tensors (a {@link Merge}) or one tensor plus initial states. */
        public Ref call(Layer layer, List<Ref> layerInputs, List<Ref> initialStates) {
            Objects.requireNonNull(layer, "layer");
            if (layerInputs.isEmpty()) {
                throw new IllegalArgumentException("Model '" + name + "': " + layer + " is called on no tensor");
            }
            for (Ref r : layerInputs) {
                requireKnown(r, layer);
            }
            for (Ref r : initialStates) {
                requireKnown(r, layer);
            }
            int k = calls.merge(layer.name(), 1, Integer::sum) - 1;
            String nodeName = k == 0 ? layer.name() : layer.name() + "#" + k;
            if (!names.add(nodeName)) {
                throw new IllegalArgumentException("Model '" + name + "': the name '" + nodeName + "' is already used"
                        + " (two different layers with one name?)");
            }
            nodes.add(new Node(nodeName, layer, layerInputs, initialStates));
            return new Ref(nodeName, 0);
        }

        private void requireKnown(Ref r, Layer reader) {
            if (!names.contains(r.node())) {
                throw new IllegalArgumentException("Model '" + name + "': " + reader + " reads " + r
                        + ", which is neither an input nor an earlier call");
            }
        }

        /** The model with these outputs; it owns every layer called. */
        public Model build(Ref... outputs) {
            return build(List.of(outputs));
        }

        /** The model with these outputs; it owns every layer called. */
        public Model build(List<Ref> outputs) {
            if (outputs.isEmpty()) {
                throw new IllegalArgumentException("Model '" + name + "' needs at least one output");
            }
            if (inputs.isEmpty()) {
                throw new IllegalArgumentException("Model '" + name + "' needs at least one input");
            }
            List<String> outNames = new ArrayList<>();
            for (Ref r : outputs) {
                if (!names.contains(r.node())) {
                    throw new IllegalArgumentException("Model '" + name + "': output " + r + " is neither an input nor a layer call");
                }
                String base = r.node().contains("#") ? r.node().substring(0, r.node().indexOf('#')) : r.node();
                String n = outNames.contains(base) ? r.node() + ":" + r.index() : base;
                if (outNames.contains(n)) {
                    n = r.node() + ":" + r.index() + ":" + outNames.size();
                }
                outNames.add(n);
            }
            return new Model(name, inputs, nodes, outputs, outNames);
        }
    }

}
