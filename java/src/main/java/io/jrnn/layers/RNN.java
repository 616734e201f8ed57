package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keras's generic {@code RNN(cell)} layer (spec §2.1, §2.7, §3): runs any {@link Cell} over time
 * with return_sequences, return_state, go_backwards, stateful, initial states, time_major and masks.
 * A list of cells is wrapped in {@link StackedRNNCells}. The layer owns its cell: closing the
 * layer closes the cell.
 *
 * <p>Execution. Without a mask, a cell made only of built-in cells ({@link SimpleRNNCell},
 * {@link GRUCell}, {@link LSTMCell}, the TF1 {@link BasicRNNCell}/{@link BasicLSTMCell}, and
 * {@link StackedRNNCells} of them) runs as the matching fused layers ({@link SimpleRNN},
 * {@link GRU}, {@link LSTM}, one per cell, with the cell's weights) on the layer's backend — on
 * oneDNN that is the native primitive. A stack maps to successive layers returning sequences
 * (spec §2.8); with {@code go_backwards} only the first one goes backwards, since every cell of a
 * stack consumes the reversed sequence in processing order. Where the backend can run the whole
 * chain as one executor ({@link io.jrnn.backend.Backend#compileStack}: on oneDNN, a multi-layer
 * primitive for two or more cells of the same kind, units {@code H} and input size {@code H}, without
 * go_backwards) it does. Everything else (other cells, and every
 * call with a mask) runs a Java step loop with the canonical masking rule of §3.3: at a masked step
 * every state is carried and the output is the previous processed output (zeros before the first
 * valid step), or zeros with {@code zero_output_for_mask}.
 *
 * <pre>{@code
 * try (RNN rnn = RNN.builder(LSTMCell.builder().units(64).build()).returnSequences(true).build();
 *      Outputs out = rnn.forward(x, mask)) { ... }
 * }</pre>
 */
public final class RNN extends Layer {
    private final Cell cell;
    private final boolean returnSequences;
    private final boolean returnState;
    private final boolean goBackwards;
    private final boolean stateful;
    private final boolean timeMajor;
    private final boolean zeroOutputForMask;
    private final Integer batchSize;

    private final StatefulStates states;
    private volatile List<RecurrentLayer> fusedLayers;
    private int[] fusedVersions;
    /** The whole chain on one backend executor ({@link io.jrnn.backend.Backend#compileStack}), or {@code null}. */
    private volatile io.jrnn.backend.RecurrentExecutor stackExecutor;
    private String lastPath;

    private RNN(Builder b) {
        super(b.name, "rnn");
        if (b.cell == null) {
            throw new IllegalArgumentException("RNN '" + name() + "': expected a cell, got none");
        }
        this.cell = b.cell;
        this.returnSequences = b.returnSequences;
        this.returnState = b.returnState;
        this.goBackwards = b.goBackwards;
        this.stateful = b.stateful;
        this.timeMajor = b.timeMajor;
        this.zeroOutputForMask = b.zeroOutputForMask;
        this.batchSize = b.batchSize;
        this.states = new StatefulStates(b.stateful, b.batchSize);
    }

    /** A builder for {@code RNN(cell)}. */
    public static Builder builder(Cell cell) {
        return new Builder(cell);
    }

    /** A builder for {@code RNN([c1, c2, …])}: the cells are wrapped in a {@link StackedRNNCells} (natural state order). */
    public static Builder builder(List<? extends Cell> cells) {
        return new Builder(StackedRNNCells.builder().cells(cells).build());
    }

    @Override
    public String typeName() {
        return "RNN";
    }

    public Cell cell() {
        return cell;
    }

    public boolean returnSequences() {
        return returnSequences;
    }

    public boolean returnState() {
        return returnState;
    }

    public boolean goBackwards() {
        return goBackwards;
    }

    public boolean stateful() {
        return stateful;
    }

    public boolean timeMajor() {
        return timeMajor;
    }

    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    /** The declared batch size of a stateful layer, or {@code null}. */
    public Integer batchSize() {
        return batchSize;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return forward(x, null, initialStates);
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return states.within(describe(), () -> forwardMasked(x, mask, initialStates));
    }

    private Outputs forwardMasked(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        x.pointer();
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 3 "
                    + (timeMajor ? "[time, batch, features]" : "[batch, time, features]") + ", got shape "
                    + Arrays.toString(x.shape()));
        }
        int batch = x.dim(timeMajor ? 1 : 0);
        int steps = x.dim(timeMajor ? 0 : 1);
        int features = x.dim(2);
        if (batch == 0 || steps == 0) {
            throw new IllegalArgumentException(describe() + ": " + (batch == 0 ? "empty batch" : "no time steps")
                    + " (input shape " + Arrays.toString(x.shape()) + "); expected at least one");
        }
        if (mask != null && (mask.batch() != batch || mask.steps() != steps)) {
            throw new IllegalArgumentException(describe() + ": mask must be [" + batch + ", " + steps + "], got ["
                    + mask.batch() + ", " + mask.steps() + "]");
        }
        int[] sizes = cell.stateSizes();
        float[][] initial = null;
        if (initialStates != null && initialStates.length > 0) {
            if (initialStates.length != sizes.length) {
                throw new IllegalArgumentException(describe() + " has " + sizes.length + " state(s) but was passed "
                        + initialStates.length + " initial state(s)");
            }
            initial = new float[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                int[] s = initialStates[i].shape();
                if (s.length != 2 || s[0] != batch || s[1] != sizes[i]) {
                    throw new IllegalArgumentException(describe() + ": initial state " + i + " must have shape [" + batch
                            + ", " + sizes[i] + "], got " + Arrays.toString(s));
                }
                initial[i] = initialStates[i].toArray();
            }
        }
        states.checkBatch(describe(), batch);
        if (stateful && initial == null && states.stored() != null) {
            initial = new float[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                initial[i] = states.stored()[i].toArray();
            }
        }
        if (initial == null) {
            initial = new float[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                initial[i] = new float[batch * sizes[i]];
            }
        }

        float[] input = x.toArray();
        if (timeMajor) {
            input = CellMath.swapFirstAxes(input, steps, batch, features);
        }
        boolean masked = mask != null && !mask.allValid();
        List<StandardCell> chain = masked ? null : fusedChain();
        float[][] result = chain != null
                ? runFused(chain, input, batch, steps, features, initial)
                : runSteps(input, batch, steps, features, initial, masked ? mask : null);

        if (stateful) {
            Tensor[] keep = new Tensor[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                keep[i] = Tensor.of(result[1 + i], batch, sizes[i]);
            }
            states.keep(keep);
        }
        int outputSize = cell.outputSize();
        List<Tensor> out = new ArrayList<>();
        if (returnSequences) {
            float[] seq = timeMajor ? CellMath.swapFirstAxes(result[0], batch, steps, outputSize) : result[0];
            out.add(timeMajor ? Tensor.of(seq, steps, batch, outputSize) : Tensor.of(seq, batch, steps, outputSize));
        } else {
            out.add(Tensor.of(result[0], batch, outputSize));
        }
        if (returnState) {
            for (int i = 0; i < sizes.length; i++) {
                out.add(Tensor.of(result[1 + i], batch, sizes[i]));
            }
        }
        return new Outputs(out);
    }

    /** The built-in chain this cell maps to, or {@code null} (then the step loop runs). */
    private List<StandardCell> fusedChain() {
        if (!(cell instanceof AbstractCell own)) {
            return null;
        }
        return own.fusedCells();
    }

    /** Successive fused layers; returns the output (sequence or last) then the cell's final states. */
    private float[][] runFused(List<StandardCell> chain, float[] input, int batch, int steps, int features,
            float[][] initial) {
        AbstractCell own = (AbstractCell) cell;
        own.ensureOpen();
        Fused fused = rebuildFusedLayers(chain, features);
        float[][] fusedInitial = own.toFusedStates(initial, batch);
        boolean reluNaN = fused.stack() != null && fused.layers().stream().anyMatch(l -> l.spec().fusedReluZeroesNaN())
                && (hasNonFinite(input) || java.util.Arrays.stream(fusedInitial).anyMatch(RNN::hasNonFinite));
        if (fused.stack() != null && !reluNaN) {
            return runStack(own, fused.stack(), input, batch, steps, features, fusedInitial);
        }
        List<RecurrentLayer> fusedLayers = fused.layers();
        List<float[]> fusedFinal = new ArrayList<>();
        Tensor current = Tensor.of(input, batch, steps, features);
        List<String> paths = new ArrayList<>();
        try {
            int position = 0;
            for (int k = 0; k < chain.size(); k++) {
                RecurrentLayer layer = fusedLayers.get(k);
                int count = layer.stateCount();
                Tensor[] init = new Tensor[count];
                for (int i = 0; i < count; i++) {
                    init[i] = Tensor.of(fusedInitial[position + i], batch, layer.units());
                }
                position += count;
                Outputs out;
                try {
                    out = layer.forward(current, init);
                } finally {
                    for (Tensor t : init) {
                        t.close();
                    }
                }
                paths.add(layer.executionPath());
                for (Tensor s : out.states()) {
                    fusedFinal.add(s.toArray());
                    s.close();
                }
                current.close();
                current = out.output();
            }
            float[][] states = own.fromFusedStates(fusedFinal.toArray(new float[0][]), batch);
            float[][] result = new float[states.length + 1][];
            result[0] = current.toArray();
            System.arraycopy(states, 0, result, 1, states.length);
            lastPath = "fused " + String.join(" → ", paths);
            return result;
        } finally {
            current.close();
        }
    }

    /** NaN or ±infinity anywhere (relu stacks then run layer by layer, keeping Keras's NaN). */
    private static boolean hasNonFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return true;
            }
        }
        return false;
    }

    /** The chain on {@link #stackExecutor}: the fused states in, the cell's final states out. */
    private float[][] runStack(AbstractCell own, io.jrnn.backend.RecurrentExecutor stackExecutor, float[] input,
            int batch, int steps, int features, float[][] fusedInitial) {
        Tensor[] init = new Tensor[fusedInitial.length];
        Tensor[] out = null;
        try (Tensor x = Tensor.of(input, batch, steps, features)) {
            for (int i = 0; i < init.length; i++) {
                init[i] = Tensor.of(fusedInitial[i], batch, fusedInitial[i].length / batch);
            }
            out = stackExecutor.run(x, init);
            float[][] fusedFinal = new float[out.length - 1][];
            for (int i = 1; i < out.length; i++) {
                fusedFinal[i - 1] = out[i].toArray();
            }
            float[][] states = own.fromFusedStates(fusedFinal, batch);
            float[][] result = new float[states.length + 1][];
            result[0] = out[0].toArray();
            System.arraycopy(states, 0, result, 1, states.length);
            lastPath = "fused " + stackExecutor.executionPath();
            return result;
        } finally {
            for (Tensor t : init) {
                if (t != null) {
                    t.close();
                }
            }
            if (out != null) {
                for (Tensor t : out) {
                    t.close();
                }
            }
        }
    }

    /** The fused layers (and the stack executor, or null) one call runs on. */
    private record Fused(List<RecurrentLayer> layers, io.jrnn.backend.RecurrentExecutor stack) {
    }

    /**
     * Under the layer's monitor: the cells' lazy weight creation, a version check per call, and a
     * rebuild when a cell's weights changed; returns what this call runs on. Weight creation sits
     * inside the monitor so that concurrent first calls create the weights once and build once
     * (two builds would close the layers another thread is running).
     */
    private synchronized Fused rebuildFusedLayers(List<StandardCell> chain, int features) {
        int width = features;
        for (StandardCell c : chain) {
            c.ensureWeights(width);
            width = c.units();
        }
        int[] versions = chain.stream().mapToInt(StandardCell::weightsVersion).toArray();
        if (fusedLayers != null && Arrays.equals(versions, fusedVersions) && fusedLayers.size() == chain.size()) {
            return new Fused(fusedLayers, stackExecutor);
        }
        closeFused();
        List<RecurrentLayer> layers = new ArrayList<>();
        for (int k = 0; k < chain.size(); k++) {
            boolean last = k == chain.size() - 1;
            RecurrentLayer layer = chain.get(k).toLayer(name() + "/" + chain.get(k).name(), goBackwards && k == 0,
                    !last || returnSequences);
            layer.useBackend(backend());
            layers.add(layer);
        }
        fusedLayers = layers;
        fusedVersions = versions;
        if (layers.size() > 1 && !goBackwards) {
            stackExecutor = backend().compileStack(layers.stream().map(RecurrentLayer::spec).toList());
        }
        return new Fused(fusedLayers, stackExecutor);
    }

    /** The Java step loop with the canonical masking rule (spec §3.3). */
    private float[][] runSteps(float[] input, int batch, int steps, int features, float[][] initial, Mask mask) {
        int outputSize = cell.outputSize();
        float[][] states = initial;
        float[] prev = new float[batch * outputSize];
        float[] sequence = returnSequences ? new float[batch * steps * outputSize] : null;
        float[] xt = new float[batch * features];
        for (int k = 0; k < steps; k++) {
            int t = goBackwards ? steps - 1 - k : k;
            for (int n = 0; n < batch; n++) {
                System.arraycopy(input, (n * steps + t) * features, xt, n * features, features);
            }
            float[][] r = AbstractCell.stepArrays(cell, xt, batch, features, states);
            float[] y = r[0];
            float[][] next = Arrays.copyOfRange(r, 1, r.length);
            if (mask != null) {
                for (int n = 0; n < batch; n++) {
                    if (mask.valid(n, t)) {
                        continue;
                    }
                    if (zeroOutputForMask) {
                        Arrays.fill(y, n * outputSize, (n + 1) * outputSize, 0f);
                    } else {
                        System.arraycopy(prev, n * outputSize, y, n * outputSize, outputSize);
                    }
                    for (int i = 0; i < next.length; i++) {
                        int w = next[i].length / batch;
                        System.arraycopy(states[i], n * w, next[i], n * w, w);
                    }
                }
            }
            if (sequence != null) {
                for (int n = 0; n < batch; n++) {
                    System.arraycopy(y, n * outputSize, sequence, (n * steps + k) * outputSize, outputSize);
                }
            }
            prev = y;
            states = next;
        }
        lastPath = "java step loop (" + cell.typeName() + (mask != null ? ", masked" : "") + ")";
        float[][] result = new float[states.length + 1][];
        result[0] = sequence != null ? sequence : prev;
        System.arraycopy(states, 0, result, 1, states.length);
        return result;
    }

    /** Keras {@code compute_mask}: the input mask passes on when sequences are returned. */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return returnSequences ? inputMask : null;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int steps = inputShape.length > 0 ? inputShape[0] : -1;
        return returnSequences ? new int[] {steps, cell.outputSize()} : new int[] {cell.outputSize()};
    }

    /**
     * Which path ran the last call: {@code "fused …"} (the layers' paths joined by {@code →}, or the
     * one executor of the whole stack, e.g. {@code "fused oneDNN lstm_forward, 2 layers in one
     * primitive (…)"}) or {@code "java step loop (…)"}.
     */
    @Override
    public String executionPath() {
        if (lastPath != null) {
            return lastPath;
        }
        return fusedChain() != null ? "not run yet (fused layers without a mask, java step loop with one)"
                : "not run yet (java step loop)";
    }

    @Override
    public long parameterCount() {
        return parameterCount(cell);
    }

    private static long parameterCount(Cell c) {
        if (c instanceof StandardCell s) {
            return s.parameterCount();
        }
        if (c instanceof KerasZeroCell k0) {
            return k0.parameterCount();
        }
        if (c instanceof StackedRNNCells stack) {
            return stack.cells().stream().mapToLong(RNN::parameterCount).sum();
        }
        if (c instanceof AbstractCell own && own.fusedCells() != null) {
            return own.fusedCells().stream().mapToLong(StandardCell::parameterCount).sum();
        }
        return 0;
    }

    /** The stored states of a stateful layer (copies, in the cell's state order), or {@code null}. */
    public Tensor[] storedStates() {
        return states.copies();
    }

    /** Zeroes the stored states of a stateful layer (the batch size stays fixed). */
    @Override
    public void resetStates() {
        ensureOpen();
        states.reset();
    }

    @Override
    protected void backendChanged() {
        closeFused();
    }

    private void closeFused() {
        if (stackExecutor != null) {
            stackExecutor.close();
            stackExecutor = null;
        }
        if (fusedLayers != null) {
            for (RecurrentLayer l : fusedLayers) {
                l.close();
            }
            fusedLayers = null;
            fusedVersions = null;
        }
    }

    @Override
    protected void release() {
        closeFused();
        states.reset();
        cell.close();
    }

    /** Builder; the Keras {@code RNN} arguments that matter at inference ({@code unroll} has no effect, spec §3.5). */
    public static final class Builder {
        private final Cell cell;
        private String name;
        private boolean returnSequences;
        private boolean returnState;
        private boolean goBackwards;
        private boolean stateful;
        private boolean timeMajor;
        private boolean zeroOutputForMask;
        private Integer batchSize;

        private Builder(Cell cell) {
            this.cell = cell;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder returnSequences(boolean returnSequences) {
            this.returnSequences = returnSequences;
            return this;
        }

        public Builder returnState(boolean returnState) {
            this.returnState = returnState;
            return this;
        }

        public Builder goBackwards(boolean goBackwards) {
            this.goBackwards = goBackwards;
            return this;
        }

        public Builder stateful(boolean stateful) {
            this.stateful = stateful;
            return this;
        }

        /** Input and output sequences are {@code [T, N, ·]} (tf.keras {@code time_major}); states and masks stay batch-first. */
        public Builder timeMajor(boolean timeMajor) {
            this.timeMajor = timeMajor;
            return this;
        }

        /** Masked steps output zeros instead of the previous output (tf.keras, Keras 3). */
        public Builder zeroOutputForMask(boolean zeroOutputForMask) {
            this.zeroOutputForMask = zeroOutputForMask;
            return this;
        }

        /** The fixed batch size of a stateful layer (Keras {@code batch_input_shape[0]}). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public RNN build() {
            return new RNN(this);
        }
    }
}
