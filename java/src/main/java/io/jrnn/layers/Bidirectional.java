package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.weights.KerasRnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Keras {@code Bidirectional} (spec §3.7): a forward recurrent layer and a backward one run on the
 * same input, their outputs merged.
 *
 * <ul>
 *   <li>The backward layer is, unless given, a copy of the forward layer's config with
 *       {@code go_backwards} negated (Keras 1/2 and tf.keras). Keras 3 sets it to true and refuses a
 *       forward layer that already goes backwards: {@link Builder#keras3BackwardCopy} applies that rule
 *       (give the backward layer explicitly to get any other pairing). The copy draws its own
 *       weights.</li>
 *   <li>With {@code return_sequences} the backward output is flipped along the whole time axis, so
 *       position {@code t} holds the backward state after consuming {@code x[:, T−1] … x[:, t]}.</li>
 *   <li>{@code return_state}: {@code [merged, *forward states, *backward states]}; with
 *       {@link MergeMode#NONE}: {@code [y_forward, y_backward, *forward states, *backward states]}.</li>
 *   <li>Initial states: the first half goes to the forward layer, the second half to the backward one.
 *       A stateful Bidirectional keeps one state per direction (each inner layer keeps its own).</li>
 *   <li>Masks go to both inner layers. With {@code zeroOutputForMask} (the default, what tf.keras and
 *       Keras 3 force: {@code zero_output_for_mask = return_sequences} on both halves) the returned
 *       sequence holds 0 at every masked position of both halves; without it (standalone Keras 1/2)
 *       each half keeps what its inner layer produced there (the carried output). The zeroing is
 *       applied here, on the merged-to-be outputs; it only acts when {@code return_sequences} is set
 *       and a mask is given.</li>
 * </ul>
 * Where the backend has a single executor for both directions ({@link Backend#compileBidirectional}:
 * on oneDNN one {@code bidirectional_concat}/{@code bidirectional_sum} primitive, when both layers are
 * the same fused-expressible cell, the forward layer goes forwards and merge_mode is concat or sum),
 * unmasked calls (or calls whose mask is all valid) run on it; everything else runs the two directions
 * through the inner layers' own executors. {@link #executionPath()} says which. Closing the wrapper
 * closes both layers.
 *
 * <pre>{@code
 * try (Bidirectional bi = Bidirectional.builder()
 *         .layer(LSTM.builder().units(64).returnSequences(true).build())
 *         .mergeMode(Bidirectional.MergeMode.CONCAT).build();
 *      Tensor y = bi.apply(x)) { ... }   // y: [N, T, 128]
 * }</pre>
 */
public final class Bidirectional extends Layer {
    /** How the two directions' outputs are combined (Keras {@code merge_mode}). */
    public enum MergeMode {
        /** {@code [y_fwd ‖ y_bwd]} on the last axis. */
        CONCAT("concat"),
        /** {@code y_fwd + y_bwd}. */
        SUM("sum"),
        /** {@code y_fwd ⊙ y_bwd}. */
        MUL("mul"),
        /** {@code (y_fwd + y_bwd) / 2}. */
        AVE("ave"),
        /** No merge: both outputs are returned (Keras {@code merge_mode=None}). */
        NONE(null);

        private final String kerasName;

        MergeMode(String kerasName) {
            this.kerasName = kerasName;
        }

        /** The Keras spelling; {@code null} for {@link #NONE}. */
        public String kerasName() {
            return kerasName;
        }

        /**
         * Parses a Keras {@code merge_mode}: {@code concat}, {@code sum}, {@code mul}, {@code ave}, or
         * {@code null}/{@code "None"} for no merge.
         *
         * @throws IllegalArgumentException for anything else, listing the valid values
         */
        public static MergeMode fromKeras(String name) {
            if (name == null || name.equals("None")) {
                return NONE;
            }
            for (MergeMode m : values()) {
                if (name.equals(m.kerasName)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("Bidirectional: unknown merge_mode '" + name
                    + "'; valid values are concat, sum, mul, ave and None");
        }

        @Override
        public String toString() {
            return kerasName == null ? "None" : kerasName;
        }
    }

    private final RecurrentLayer forwardLayer;
    private final RecurrentLayer backwardLayer;
    private final MergeMode mergeMode;
    private final boolean zeroOutputForMask;

    /** The single executor for both directions, or {@code null} (not compiled yet, or none). */
    private RecurrentExecutor fused;
    private volatile Fused fusedSnapshot;
    /** What {@link #fused} was compiled for: the weight objects and the backend; unchanged ones reuse it. */
    private KerasRnnWeights fusedForwardWeights;
    private KerasRnnWeights fusedBackwardWeights;
    private Backend fusedBackend;
    /** Whether the last call ran on {@link #fused}; {@code null} before the first call. */
    private Boolean lastRunFused;

    private Bidirectional(Builder b) {
        super(b.name, "bidirectional");
        if (b.layer == null) {
            throw new IllegalArgumentException("Bidirectional '" + name() + "': no layer given");
        }
        if (b.mergeMode == null) {
            throw new IllegalArgumentException("Bidirectional '" + name() + "': merge mode is null; use MergeMode.NONE for"
                    + " Keras merge_mode=None");
        }
        RecurrentLayer fwd = b.layer;
        if (b.backwardLayer == null && b.keras3BackwardCopy && fwd.goBackwards()) {
            throw new IllegalArgumentException(describe() + ": the forward layer " + fwd.describe() + " has go_backwards=true;"
                    + " Keras 3 builds the backward copy with go_backwards=true, so both would go backwards (Keras 3 refuses"
                    + " this); give the backward layer explicitly");
        }
        RecurrentLayer bwd = b.backwardLayer != null ? b.backwardLayer : backwardCopy(fwd);
        check(fwd, bwd);
        if (fwd.units() != bwd.units() && b.mergeMode != MergeMode.CONCAT && b.mergeMode != MergeMode.NONE) {
            throw new IllegalArgumentException(describe() + ": merge_mode=" + b.mergeMode + " needs equal widths, forward has "
                    + fwd.units() + " units, backward " + bwd.units());
        }
        this.forwardLayer = fwd;
        this.backwardLayer = bwd;
        this.mergeMode = b.mergeMode;
        this.zeroOutputForMask = b.zeroOutputForMask;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code Bidirectional(layer, merge_mode)} with the backward copy made from {@code layer}. */
    public static Bidirectional of(RecurrentLayer layer, MergeMode mergeMode) {
        return builder().layer(layer).mergeMode(mergeMode).build();
    }

    private void check(RecurrentLayer fwd, RecurrentLayer bwd) {
        String who = describe();
        if (fwd == bwd) {
            throw new IllegalArgumentException(who + ": the backward layer must be a different layer object");
        }
        if (fwd.goBackwards() == bwd.goBackwards()) {
            throw new IllegalArgumentException(who + ": forward layer " + fwd.describe() + " and backward layer "
                    + bwd.describe() + " must have different go_backwards values, both have " + fwd.goBackwards());
        }
        if (fwd.returnSequences() != bwd.returnSequences() || fwd.returnState() != bwd.returnState()
                || fwd.stateful() != bwd.stateful() || fwd.timeMajor() != bwd.timeMajor()) {
            throw new IllegalArgumentException(who + ": forward and backward layers must agree on return_sequences,"
                    + " return_state, stateful and time_major; forward has " + flags(fwd) + ", backward has " + flags(bwd));
        }
    }

    private static String flags(RecurrentLayer l) {
        return "return_sequences=" + l.returnSequences() + ", return_state=" + l.returnState() + ", stateful="
                + l.stateful() + ", time_major=" + l.timeMajor();
    }

    /**
     * The Keras 1/2 backward copy: the same config, {@code go_backwards} negated, named
     * {@code backward_<name>}, with its own (not yet drawn) weights.
     */
    static RecurrentLayer backwardCopy(RecurrentLayer f) {
        RecurrentLayer.Builder<?, ?> b;
        if (f instanceof LSTM) {
            b = LSTM.builder().unitForgetBias(f.unitForgetBias());
        } else if (f instanceof GRU) {
            b = GRU.builder().resetAfter(f.resetAfter());
        } else if (f instanceof SimpleRNN) {
            b = SimpleRNN.builder();
        } else if (f instanceof CuDNNLSTM) {
            b = CuDNNLSTM.builder().unitForgetBias(f.unitForgetBias());
        } else if (f instanceof CuDNNGRU) {
            b = CuDNNGRU.builder();
        } else {
            throw new IllegalArgumentException("Bidirectional: cannot copy " + f.describe()
                    + " for the backward direction; give the backward layer explicitly");
        }
        b.name("backward_" + f.name()).units(f.units()).activation(f.activation())
                .recurrentActivation(f.recurrentActivation()).useBias(f.useBias()).returnSequences(f.returnSequences())
                .returnState(f.returnState()).goBackwards(!f.goBackwards()).stateful(f.stateful()).timeMajor(f.timeMajor())
                .trainingOptions(f.trainingOptions());
        if (f.batchSize() != null) {
            b.batchSize(f.batchSize());
        }
        return b.build();
    }

    @Override
    public String typeName() {
        return "Bidirectional";
    }

    public RecurrentLayer forwardLayer() {
        return forwardLayer;
    }

    public RecurrentLayer backwardLayer() {
        return backwardLayer;
    }

    public MergeMode mergeMode() {
        return mergeMode;
    }

    /** Whether masked positions of a returned sequence are zeroed in both halves (tf.keras / Keras 3). */
    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    public boolean returnSequences() {
        return forwardLayer.returnSequences();
    }

    public boolean returnState() {
        return forwardLayer.returnState();
    }

    public boolean stateful() {
        return forwardLayer.stateful();
    }

    /** Number of initial-state tensors the wrapper takes: the forward layer's, then the backward layer's. */
    public int stateCount() {
        return forwardLayer.stateCount() + backwardLayer.stateCount();
    }

    /**
     * Sets the weights from Keras arrays in Keras order: the forward layer's list, then the backward
     * layer's (kernel, recurrent_kernel[, bias] each, standard layout).
     */
    public void setWeights(Tensor... kerasArrays) {
        ensureOpen();
        int forwardCount = forwardLayer.useBias() ? 3 : 2;
        int backwardCount = backwardLayer.useBias() ? 3 : 2;
        if (kerasArrays.length != forwardCount + backwardCount) {
            throw new IllegalArgumentException(describe() + ": expected " + (forwardCount + backwardCount)
                    + " weight arrays (" + forwardCount + " forward, then " + backwardCount + " backward), got "
                    + kerasArrays.length);
        }
        forwardLayer.setWeights(Arrays.copyOfRange(kerasArrays, 0, forwardCount));
        backwardLayer.setWeights(Arrays.copyOfRange(kerasArrays, forwardCount, kerasArrays.length));
    }

    @Override
    public long parameterCount() {
        return forwardLayer.parameterCount() + backwardLayer.parameterCount();
    }

    /** The width of the merged output's last axis. */
    public int outputSize() {
        return mergeMode == MergeMode.CONCAT ? forwardLayer.units() + backwardLayer.units() : forwardLayer.units();
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int steps = inputShape.length > 0 ? inputShape[0] : -1;
        return returnSequences() ? new int[] {steps, outputSize()} : new int[] {outputSize()};
    }

    /**
     * The path the last call ran on: the single executor for both directions (e.g. {@code "oneDNN
     * lstm_forward bidirectional_concat (…): both directions in one primitive"}), or
     * {@code "forward: …; backward: …"} for two layers. Before the first call: the single executor's
     * path when the configuration has one and the weights are set, else the two layers'.
     */
    @Override
    public String executionPath() {
        if (lastRunFused == null && forwardLayer.weights() != null && backwardLayer.weights() != null
                && !isClosed() && fusedExecutor() != null) {
            return fused.executionPath();
        }
        if (Boolean.TRUE.equals(lastRunFused) && fused != null) {
            return fused.executionPath();
        }
        return twoLayerPath();
    }

    private String twoLayerPath() {
        return "forward: " + forwardLayer.executionPath() + "; backward: " + backwardLayer.executionPath();
    }

    @Override
    public void useBackend(Backend backend) {
        super.useBackend(backend);
        forwardLayer.useBackend(backend);
        backwardLayer.useBackend(backend);
    }

    @Override
    protected void backendChanged() {
        closeFused();
    }

    private void closeFused() {
        fusedSnapshot = null;
        RecurrentExecutor f = fused;
        fused = null;
        fusedBackend = null;
        fusedForwardWeights = null;
        fusedBackwardWeights = null;
        if (f != null) {
            f.close();
        }
    }

    /**
     * The single executor for both directions, compiled on first use and again when either layer's
     * weights or the backend changed; {@code null} when the configuration or the backend has none.
     * Both layers' weights must be set.
     */
    private RecurrentExecutor fusedExecutor() {
        Fused f = fusedSnapshot;
        if (f != null && f.backend() == backend() && forwardLayer.backend() == f.backend()
                && backwardLayer.backend() == f.backend() && f.forwardWeights() == forwardLayer.weights()
                && f.backwardWeights() == backwardLayer.weights()) {
            return f.executor();
        }
        synchronized (this) {
            return compileFused();
        }
    }

    /** The single executor with what it was compiled from, read without a lock by concurrent calls. */
    private record Fused(Backend backend, KerasRnnWeights forwardWeights, KerasRnnWeights backwardWeights,
            RecurrentExecutor executor) {
    }

    private RecurrentExecutor compileFused() {
        if (mergeMode != MergeMode.CONCAT && mergeMode != MergeMode.SUM || forwardLayer.goBackwards()) {
            return null;
        }
        Backend backend = backend();
        // Inner layers given their own backend (not through this wrapper) keep running there.
        if (forwardLayer.backend() != backend || backwardLayer.backend() != backend) {
            return null;
        }
        KerasRnnWeights fw = forwardLayer.weights();
        KerasRnnWeights bw = backwardLayer.weights();
        if (fusedBackend == backend && fusedForwardWeights == fw && fusedBackwardWeights == bw) {
            return fused;
        }
        closeFused();
        fused = backend.compileBidirectional(forwardLayer.spec(), backwardLayer.spec(), mergeMode);
        fusedBackend = backend;
        fusedForwardWeights = fw;
        fusedBackwardWeights = bw;
        fusedSnapshot = new Fused(backend, fw, bw, fused);
        return fused;
    }

    @Override
    public void resetStates() {
        ensureOpen();
        forwardLayer.resetStates();
        backwardLayer.resetStates();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return run(x, null, initialStates);
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return run(x, mask, initialStates);
    }

    /** The input mask when the wrapper returns sequences, else none (spec §3.7). */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return returnSequences() ? inputMask : null;
    }

    private Outputs run(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        Tensor[] forwardInitial = new Tensor[0];
        Tensor[] backwardInitial = new Tensor[0];
        if (initialStates != null && initialStates.length > 0) {
            if (initialStates.length != stateCount()) {
                throw new IllegalArgumentException(describe() + " has " + stateCount() + " states ("
                        + forwardLayer.stateCount() + " forward, then " + backwardLayer.stateCount()
                        + " backward) but was passed " + initialStates.length + " initial state(s)");
            }
            forwardInitial = Arrays.copyOfRange(initialStates, 0, forwardLayer.stateCount());
            backwardInitial = Arrays.copyOfRange(initialStates, forwardLayer.stateCount(), initialStates.length);
        }
        boolean cudnn = forwardLayer instanceof CuDNNLSTM || forwardLayer instanceof CuDNNGRU
                || backwardLayer instanceof CuDNNLSTM || backwardLayer instanceof CuDNNGRU;
        // CuDNN layers refuse any mask, even an all-valid one: the two-layer path lets them.
        if (mask == null || (mask.allValid() && !cudnn)) {
            Outputs out = runFused(x, forwardInitial, backwardInitial);
            if (out != null) {
                lastRunFused = true;
                return out;
            }
        }
        lastRunFused = false;
        Outputs fwd = null;
        Outputs bwd = null;
        List<Tensor> result = new ArrayList<>();
        try {
            fwd = mask == null ? forwardLayer.forward(x, forwardInitial) : forwardLayer.forward(x, mask, forwardInitial);
            bwd = mask == null ? backwardLayer.forward(x, backwardInitial) : backwardLayer.forward(x, mask, backwardInitial);
            int timeAxis = forwardLayer.timeMajor() ? 0 : 1;
            float[] yf = fwd.output().toArray();
            float[] yb = bwd.output().toArray();
            int[] shape = fwd.output().shape();
            int[] backwardShape = bwd.output().shape();
            if (returnSequences()) {
                yb = flipTime(yb, backwardShape, timeAxis);
                if (zeroOutputForMask && mask != null && !mask.allValid()) {
                    zeroMasked(yf, shape, timeAxis, mask);
                    zeroMasked(yb, backwardShape, timeAxis, mask);
                }
            }
            if (mergeMode == MergeMode.NONE) {
                result.add(Tensor.of(yf, shape));
                result.add(Tensor.of(yb, backwardShape));
            } else {
                result.add(merge(yf, shape, yb, backwardShape));
            }
            for (Tensor s : fwd.states()) {
                result.add(s.copy());
            }
            for (Tensor s : bwd.states()) {
                result.add(s.copy());
            }
            return new Outputs(result);
        } catch (RuntimeException e) {
            for (Tensor t : result) {
                t.close();
            }
            throw e;
        } finally {
            if (fwd != null) {
                fwd.close();
            }
            if (bwd != null) {
                bwd.close();
            }
        }
    }

    private static boolean anyNonFinite(Tensor x, Tensor[] a, Tensor[] b) {
        if (x.hasNonFinite()) {
            return true;
        }
        for (Tensor[] states : new Tensor[][] {a, b}) {
            for (int i = 0; states != null && i < states.length; i++) {
                if (states[i] != null && states[i].hasNonFinite()) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Runs both directions on the single executor, with the inner layers' input checks, weight
     * initialisation, time-major layout and stateful storage; {@code null} when there is none.
     */
    private Outputs runFused(Tensor x, Tensor[] forwardInitial, Tensor[] backwardInitial) {
        boolean timeMajor = forwardLayer.timeMajor();
        Tensor[] fi = forwardLayer.checkInput(x, timeMajor, forwardInitial);
        Tensor[] bi = backwardLayer.checkInput(x, timeMajor, backwardInitial);
        RecurrentExecutor executor = fusedExecutor();
        if (executor == null || forwardLayer.spec().fusedReluZeroesNaN() && anyNonFinite(x, fi, bi)) {
            return null; // (relu + NaN/Inf: the per-direction executors keep Keras's NaN)
        }
        int batch = x.dim(timeMajor ? 1 : 0);
        fi = forwardLayer.statefulInitialStates(batch, fi);
        bi = backwardLayer.statefulInitialStates(batch, bi);
        int states = forwardLayer.stateCount();
        List<Tensor> zeros = new ArrayList<>();
        Tensor[] initial = null;
        Tensor input = timeMajor ? RecurrentLayer.swapFirstAxes(x) : x;
        Tensor[] result;
        try {
            if (fi != null || bi != null) {
                initial = new Tensor[2 * states];
                for (int k = 0; k < states; k++) {
                    initial[k] = fi != null ? fi[k] : track(zeros, Tensor.zeros(batch, forwardLayer.units()));
                    initial[states + k] = bi != null ? bi[k] : track(zeros, Tensor.zeros(batch, backwardLayer.units()));
                }
            }
            result = executor.run(input, initial);
        } finally {
            if (input != x) {
                input.close();
            }
            zeros.forEach(Tensor::close);
        }
        forwardLayer.storeStates(result, 1);
        backwardLayer.storeStates(result, 1 + states);
        if (timeMajor && returnSequences()) {
            Tensor batchMajor = result[0];
            result[0] = RecurrentLayer.swapFirstAxes(batchMajor);
            batchMajor.close();
        }
        List<Tensor> out = new ArrayList<>();
        out.add(result[0]);
        for (int i = 1; i < result.length; i++) {
            if (returnState()) {
                out.add(result[i]);
            } else {
                result[i].close();
            }
        }
        return new Outputs(out);
    }

    private static Tensor track(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }

    private Tensor merge(float[] yf, int[] shape, float[] yb, int[] backwardShape) {
        int hf = shape[shape.length - 1];
        int hb = backwardShape[backwardShape.length - 1];
        int rows = yf.length / hf;
        switch (mergeMode) {
            case CONCAT -> {
                float[] out = new float[rows * (hf + hb)];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(yf, r * hf, out, r * (hf + hb), hf);
                    System.arraycopy(yb, r * hb, out, r * (hf + hb) + hf, hb);
                }
                int[] s = shape.clone();
                s[s.length - 1] = hf + hb;
                return Tensor.of(out, s);
            }
            case SUM -> {
                for (int i = 0; i < yf.length; i++) {
                    yf[i] += yb[i];
                }
            }
            case MUL -> {
                for (int i = 0; i < yf.length; i++) {
                    yf[i] *= yb[i];
                }
            }
            case AVE -> {
                for (int i = 0; i < yf.length; i++) {
                    yf[i] = (yf[i] + yb[i]) / 2;
                }
            }
            default -> throw new IllegalStateException("merge mode " + mergeMode.name().toLowerCase(Locale.ROOT));
        }
        return Tensor.of(yf, shape);
    }

    /** Reverses a rank-3 sequence along {@code timeAxis} (0: [T, N, H], 1: [N, T, H]). */
    static float[] flipTime(float[] y, int[] shape, int timeAxis) {
        int a = shape[0];
        int b = shape[1];
        int h = shape[2];
        float[] out = new float[y.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                int si = timeAxis == 0 ? a - 1 - i : i;
                int sj = timeAxis == 1 ? b - 1 - j : j;
                System.arraycopy(y, (si * b + sj) * h, out, (i * b + j) * h, h);
            }
        }
        return out;
    }

    /** Zeroes the vectors at masked (sample, step) positions, positions in input time. */
    private static void zeroMasked(float[] y, int[] shape, int timeAxis, Mask mask) {
        int a = shape[0];
        int b = shape[1];
        int h = shape[2];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                int sample = timeAxis == 0 ? j : i;
                int step = timeAxis == 0 ? i : j;
                if (!mask.valid(sample, step)) {
                    Arrays.fill(y, (i * b + j) * h, (i * b + j + 1) * h, 0f);
                }
            }
        }
    }

    @Override
    protected void release() {
        RuntimeException failure = null;
        try {
            closeFused();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (RecurrentLayer l : List.of(forwardLayer, backwardLayer)) {
            try {
                l.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Builder: the forward layer (required), merge mode (default concat), optional backward layer. */
    public static final class Builder {
        String name;
        RecurrentLayer layer;
        RecurrentLayer backwardLayer;
        MergeMode mergeMode = MergeMode.CONCAT;
        boolean zeroOutputForMask = true;
        boolean keras3BackwardCopy;

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The forward layer; its return_sequences, return_state and stateful apply to both directions. The wrapper owns it. */
        public Builder layer(RecurrentLayer layer) {
            this.layer = layer;
            return this;
        }

        /** An explicit backward layer (tf.keras / Keras 3 {@code backward_layer}); the wrapper owns it. */
        public Builder backwardLayer(RecurrentLayer backwardLayer) {
            this.backwardLayer = backwardLayer;
            return this;
        }

        public Builder mergeMode(MergeMode mergeMode) {
            this.mergeMode = mergeMode;
            return this;
        }

        /** Keras name: concat, sum, mul, ave, or {@code null}/"None". */
        public Builder mergeMode(String kerasName) {
            this.mergeMode = MergeMode.fromKeras(kerasName);
            return this;
        }

        /**
         * Whether masked positions of a returned sequence are 0 in both halves: {@code true} (default)
         * is tf.keras and Keras 3, {@code false} is standalone Keras 1/2.
         */
        public Builder zeroOutputForMask(boolean zeroOutputForMask) {
            this.zeroOutputForMask = zeroOutputForMask;
            return this;
        }

        /**
         * The Keras 3 rule for the backward copy (when no backward layer is given): Keras 3 sets
         * {@code go_backwards=True} on the copy instead of negating the forward layer's, so a forward
         * layer that already goes backwards is refused. Default {@code false}: the Keras 1/2 and
         * tf.keras rule ({@code not go_backwards}).
         */
        public Builder keras3BackwardCopy(boolean keras3BackwardCopy) {
            this.keras3BackwardCopy = keras3BackwardCopy;
            return this;
        }

        public Bidirectional build() {
            return new Bidirectional(this);
        }
    }
}
