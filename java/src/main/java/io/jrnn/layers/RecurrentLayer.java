package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import io.jrnn.weights.PyTorchRnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The common part of {@link LSTM}, {@link GRU} and {@link SimpleRNN}: Keras's {@code RNN} options
 * (spec §2.1, §3), weights in Keras standard layout, stateful storage, and the executor compiled
 * by the layer's backend.
 *
 * <p>Training-only Keras arguments (dropout, initializers, regularizers, constraints, unroll,
 * implementation, seed) are accepted and kept, and have no effect on {@link #forward}.
 */
public abstract class RecurrentLayer extends Layer {
    private final int units;
    private final Activation activation;
    private final Activation recurrentActivation;
    private final boolean useBias;
    private final boolean returnSequences;
    private final boolean returnState;
    private final boolean goBackwards;
    private final boolean stateful;
    private final boolean timeMajor;
    private final boolean unitForgetBias;
    private final boolean zeroOutputForMask;
    private final MaskedOutput maskedOutput;
    private final Integer batchSize;
    private final TrainingOptions trainingOptions;
    private final long seed;

    private volatile KerasRnnWeights weights;
    private volatile RecurrentExecutor executor;
    /** The executor of {@link DynamicRnn} calls (sequence output, zeros past each length), compiled on first use. */
    private volatile RecurrentExecutor dynamicExecutor;
    private final StatefulStates states;

    protected RecurrentLayer(Builder<?, ?> b, String defaultPrefix) {
        super(b.name, defaultPrefix);
        if (b.units <= 0) {
            throw new IllegalArgumentException(typeNameFor(defaultPrefix) + " '" + name() + "': units must be > 0, got " + b.units);
        }
        this.units = b.units;
        this.activation = requireElementwise(b.activation, "activation");
        this.recurrentActivation = requireElementwise(b.recurrentActivation, "recurrent_activation");
        this.useBias = b.useBias;
        this.returnSequences = b.returnSequences;
        this.returnState = b.returnState;
        this.goBackwards = b.goBackwards;
        this.stateful = b.stateful;
        this.timeMajor = b.timeMajor;
        this.unitForgetBias = b.unitForgetBias;
        this.zeroOutputForMask = b.zeroOutputForMask;
        if (b.maskedOutput == null) {
            throw new IllegalArgumentException(typeNameFor(defaultPrefix) + " '" + name() + "': maskedOutput must not be null");
        }
        this.maskedOutput = b.maskedOutput;
        this.batchSize = b.batchSize;
        this.trainingOptions = b.training;
        this.seed = b.seed != null ? b.seed : new SplittableRandom().nextLong();
        this.states = new StatefulStates(b.stateful, b.batchSize);
    }

    private static String typeNameFor(String prefix) {
        return switch (prefix) {
            case "lstm" -> "LSTM";
            case "gru" -> "GRU";
            default -> "SimpleRNN";
        };
    }

    private Activation requireElementwise(Activation a, String key) {
        if (a == null || !a.isElementwise()) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "': " + key
                    + " must be an elementwise activation, got " + a);
        }
        return a;
    }

    /** The cell family. */
    public abstract CellType cellType();

    /** GRU only ({@code false} elsewhere). */
    public boolean resetAfter() {
        return false;
    }

    public int units() {
        return units;
    }

    public Activation activation() {
        return activation;
    }

    /** The gate activation (unused by SimpleRNN). */
    public Activation recurrentActivation() {
        return recurrentActivation;
    }

    public boolean useBias() {
        return useBias;
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

    /** Initialisation only: the forget-gate bias starts at one (LSTM). */
    public boolean unitForgetBias() {
        return unitForgetBias;
    }

    /** Masked steps output zeros instead of the carried output (Keras {@code zero_output_for_mask}, spec §3.3). */
    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    /** What a masked step outputs when {@link #zeroOutputForMask()} is false (spec §3.3). */
    public MaskedOutput maskedOutput() {
        return maskedOutput;
    }

    /** The declared batch size (Keras {@code batch_input_shape}), or {@code null}. */
    public Integer batchSize() {
        return batchSize;
    }

    /** The training-only Keras arguments, kept as given. */
    public TrainingOptions trainingOptions() {
        return trainingOptions;
    }

    /** Number of state tensors: 2 for LSTM ({@code h, c}), else 1. */
    public int stateCount() {
        return cellType() == CellType.LSTM ? 2 : 1;
    }

    /** The weights in Keras standard layout, or {@code null} before they are set or initialised. */
    public KerasRnnWeights weights() {
        return weights;
    }

    /** Sets the weights (Keras standard layout). The input size is taken from them. */
    public void setWeights(KerasRnnWeights newWeights) {
        ensureOpen();
        int biasLength = cellType().gateCount() * units * (resetAfter() ? 2 : 1);
        if (newWeights.type() != cellType()) {
            throw new IllegalArgumentException(describe() + ": weights are for " + newWeights.type() + ", expected " + cellType());
        }
        if (newWeights.hiddenSize() != units) {
            throw new IllegalArgumentException(describe() + ": weights have hidden size " + newWeights.hiddenSize()
                    + ", expected units=" + units);
        }
        if (cellType() == CellType.GRU && newWeights.resetAfter() != resetAfter()) {
            throw new IllegalArgumentException(describe() + ": weights are for reset_after=" + newWeights.resetAfter()
                    + ", the layer has reset_after=" + resetAfter()
                    + " (the two GRU variants are not convertible into each other)");
        }
        if (useBias != newWeights.hasBias()) {
            throw new IllegalArgumentException(describe() + ": use_bias=" + useBias + " but the weights "
                    + (newWeights.hasBias() ? "have a bias of " + biasLength + " values" : "have no bias"));
        }
        this.weights = newWeights;
        backendChanged();
    }

    /**
     * Sets the weights from Keras arrays: {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]}
     * and, with {@code use_bias}, {@code bias [G·H]} (GRU {@code reset_after}: {@code [2, 3H]}).
     */
    public void setWeights(float[] kernel, float[] recurrentKernel, float[] bias) {
        int gh = cellType().gateCount() * units;
        if (kernel.length == 0 || kernel.length % gh != 0) {
            throw new IllegalArgumentException(describe() + ": kernel must have C·" + gh + " values ([C, "
                    + gh + "]), got " + kernel.length);
        }
        if (recurrentKernel.length != units * gh) {
            throw new IllegalArgumentException(describe() + ": recurrent_kernel must be [" + units + ", " + gh
                    + "] (" + units * gh + " values), got " + recurrentKernel.length);
        }
        int biasLength = gh * (resetAfter() ? 2 : 1);
        if (bias != null && bias.length != biasLength) {
            throw new IllegalArgumentException(describe() + ": bias must have " + biasLength + " values"
                    + (resetAfter() ? " ([2, " + gh + "])" : "") + ", got " + bias.length);
        }
        setWeights(KerasRnnWeights.of(cellType(), resetAfter(), kernel.length / gh, units, kernel, recurrentKernel, bias));
    }

    /** Sets the weights from Keras arrays as tensors, in Keras order (kernel, recurrent_kernel[, bias]). */
    public void setWeights(Tensor... kerasArrays) {
        int expected = useBias ? 3 : 2;
        if (kerasArrays.length != expected) {
            throw new IllegalArgumentException(describe() + ": expected " + expected + " weight arrays (kernel, recurrent_kernel"
                    + (useBias ? ", bias" : "") + "), got " + kerasArrays.length);
        }
        setWeights(kerasArrays[0].toArray(), kerasArrays[1].toArray(), useBias ? kerasArrays[2].toArray() : null);
    }

    /**
     * Sets the weights from PyTorch arrays ({@code weight_ih [G·H, C]}, {@code weight_hh [G·H, H]},
     * {@code bias_ih}, {@code bias_hh [G·H]}, PyTorch gate order), converted by
     * {@link PyTorchRnnWeights}. PyTorch's GRU is Keras's GRU with {@code reset_after=true}.
     */
    public void setPyTorchWeights(float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh) {
        int gh = cellType().gateCount() * units;
        if (weightIh.length == 0 || weightIh.length % gh != 0) {
            throw new IllegalArgumentException(describe() + ": weight_ih must be [" + gh + ", C], got " + weightIh.length + " values");
        }
        if (cellType() == CellType.GRU && !resetAfter()) {
            throw new IllegalArgumentException(describe() + ": PyTorch GRU weights need reset_after=true (PyTorch has no reset-before GRU)");
        }
        KerasRnnWeights w = new PyTorchRnnWeights(weightIh, weightHh, biasIh, biasHh)
                .toKeras(cellType(), weightIh.length / gh, units);
        if (!useBias && w.hasBias()) {
            throw new IllegalArgumentException(describe() + ": use_bias=false but PyTorch biases were given");
        }
        setWeights(w);
    }

    /** Draws Keras-default weights (glorot_uniform, orthogonal, zeros; forget bias one with unit_forget_bias) for {@code inputSize} features. */
    public void initializeWeights(int inputSize) {
        SplittableRandom rng = new SplittableRandom(seed);
        int gh = cellType().gateCount() * units;
        float[] kernel = Initializers.glorotUniform(inputSize, gh, rng);
        float[] recurrent = new float[units * gh];
        // Keras draws one orthogonal [H, G·H] matrix for the whole recurrent kernel.
        float[] ortho = Initializers.orthogonal(units, gh, rng);
        System.arraycopy(ortho, 0, recurrent, 0, recurrent.length);
        float[] bias = null;
        if (useBias) {
            bias = new float[gh * (resetAfter() ? 2 : 1)];
            if (cellType() == CellType.LSTM && unitForgetBias) {
                Arrays.fill(bias, units, 2 * units, 1f);
            }
        }
        setWeights(KerasRnnWeights.of(cellType(), resetAfter(), inputSize, units, kernel, recurrent, bias));
    }

    @Override
    public long parameterCount() {
        if (weights == null) {
            return 0;
        }
        int gh = cellType().gateCount() * units;
        return (long) weights.inputSize() * gh + (long) units * gh + (useBias ? gh * (resetAfter() ? 2L : 1L) : 0L);
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int steps = inputShape.length > 0 ? inputShape[timeMajor ? 0 : 0] : -1;
        return returnSequences ? new int[] {steps, units} : new int[] {units};
    }

    @Override
    public String executionPath() {
        return executor == null ? "not compiled yet (backend " + backend().name() + ")" : executor.executionPath();
    }

    /** Compiles (once) and returns the executor; exposes the execution path before the first call. */
    public String compile(int inputSize) {
        ensureOpen();
        if (weights == null) {
            initializeWeights(inputSize);
        }
        return executor().executionPath();
    }

    /** The executor, compiled by the first call (concurrent first calls compile it once). */
    private RecurrentExecutor executor() {
        RecurrentExecutor e = executor;
        if (e == null) {
            synchronized (this) {
                if (executor == null) {
                    executor = backend().compile(spec());
                }
                e = executor;
            }
        }
        return e;
    }

    /** What this layer's executor is compiled from (the weights must be set). */
    RecurrentSpec spec() {
        return new RecurrentSpec(name(), cellType(), activation, recurrentActivation, useBias, resetAfter(), goBackwards,
                returnSequences, materializedWeights(), zeroOutputForMask, maskedOutput);
    }

    /** The weights with the bias materialised (zeros when use_bias=false), as backends take them. */
    private KerasRnnWeights materializedWeights() {
        KerasRnnWeights w = weights;
        if (!useBias) {
            int gh = cellType().gateCount() * units * (resetAfter() ? 2 : 1);
            w = KerasRnnWeights.of(cellType(), resetAfter(), w.inputSize(), units, w.kernel(), w.recurrentKernel(), new float[gh]);
        }
        return w;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return forward(x, (Mask) null, initialStates);
    }

    /**
     * Runs the layer under a mask with Keras's semantics (spec §3.3): at a masked step every state is
     * carried and the output is the previous processed output (zeros before the first step), or
     * zeros with {@code zero_output_for_mask}, or {@code h} before the step with
     * {@link MaskedOutput#PREVIOUS_STATE}. A stateful layer stores the mask-carried final states.
     *
     * @param x             the input, {@code [N, T, C]} ({@code [T, N, C]} when time-major)
     * @param mask          {@code [N, T]} (true = valid step) in both layouts; {@code null} for none
     * @param initialStates as in {@link #forward(Tensor, Tensor...)}
     */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return states.within(describe(), () -> forwardMasked(x, mask, initialStates));
    }

    private Outputs forwardMasked(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        Tensor[] initial = checkInput(x, timeMajor, initialStates);
        int batch = x.dim(timeMajor ? 1 : 0);
        int steps = x.dim(timeMajor ? 0 : 1);
        if (mask != null) {
            mask.checkShape(describe(), batch, steps);
        }
        initial = statefulInitialStates(batch, initial);

        Tensor input = timeMajor ? swapFirstAxes(x) : x;
        Tensor[] result;
        try {
            result = executor().run(input, initial, mask);
        } finally {
            if (input != x) {
                input.close();
            }
        }
        storeStates(result, 1);
        if (timeMajor && returnSequences) {
            Tensor batchMajor = result[0];
            result[0] = swapFirstAxes(batchMajor);
            batchMajor.close();
        }
        List<Tensor> out = new ArrayList<>();
        out.add(result[0]);
        for (int i = 1; i < result.length; i++) {
            if (returnState) {
                out.add(result[i]);
            } else {
                result[i].close();
            }
        }
        return new Outputs(out);
    }

    /**
     * The initial states of a call: {@code initial} (checked, or {@code null} for zeros), or for a
     * stateful layer without them the stored states, after checking the batch against the fixed one.
     */
    Tensor[] statefulInitialStates(int batch, Tensor[] initial) {
        if (!stateful) {
            return initial;
        }
        states.checkBatch(describe(), batch);
        return initial == null && states.stored() != null ? states.stored() : initial;
    }

    /** A stateful layer keeps copies of {@code states[from …]} (its final states) for the next call. */
    void storeStates(Tensor[] finalStates, int from) {
        states.store(finalStates, from, stateCount());
    }

    /**
     * Runs right-padded sequences with Keras's semantics: sample {@code n} is valid for its first
     * {@code sequenceLengths[n]} steps (each in {@code [0, T]}); the same as
     * {@link #forward(Tensor, Mask, Tensor...)} with {@link Mask#fromLengths}. For TensorFlow's
     * {@code dynamic_rnn} semantics (zeros past each length) use {@link DynamicRnn}.
     */
    public Outputs forward(Tensor x, int[] sequenceLengths, Tensor... initialStates) {
        ensureOpen();
        checkInput(x, timeMajor, initialStates);
        return forward(x, lengthsMask(sequenceLengths, x.dim(timeMajor ? 1 : 0), x.dim(timeMajor ? 0 : 1)), initialStates);
    }

    /** Keras {@code compute_mask}: the input mask when the layer returns sequences, else none (spec §1.3). */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return returnSequences ? inputMask : null;
    }

    /** A right-padded mask from per-sample lengths, checked against the batch; the message names this layer. */
    Mask lengthsMask(int[] sequenceLengths, int batch, int steps) {
        if (sequenceLengths == null) {
            throw new IllegalArgumentException(describe() + ": sequence lengths must not be null");
        }
        if (sequenceLengths.length != batch) {
            throw new IllegalArgumentException(describe() + ": expected " + batch + " sequence lengths (one per sample), got "
                    + sequenceLengths.length);
        }
        for (int n = 0; n < batch; n++) {
            if (sequenceLengths[n] < 0 || sequenceLengths[n] > steps) {
                throw new IllegalArgumentException(describe() + ": sequence length of sample " + n + " must be in [0, "
                        + steps + "], got " + sequenceLengths[n]);
            }
        }
        return Mask.fromLengths(sequenceLengths, steps);
    }

    /**
     * TF {@code dynamic_rnn} (spec §2.11), for {@link DynamicRnn}: the full output sequence with zeros
     * past each length, then the states at each length (Keras state order). No stateful storage, no
     * go_backwards.
     */
    Tensor[] runDynamic(Tensor x, int[] sequenceLengths, boolean timeMajorInput, Tensor[] initialStates) {
        ensureOpen();
        if (goBackwards) {
            throw new io.jrnn.UnsupportedConfigurationException(describe() + " has go_backwards=true; dynamic_rnn has no"
                    + " go_backwards (reverse the sequences within their lengths instead)");
        }
        if (stateful) {
            throw new io.jrnn.UnsupportedConfigurationException(describe() + " is stateful; dynamic_rnn keeps no state"
                    + " between calls (pass the previous final state as initial_state)");
        }
        Tensor[] initial = checkInput(x, timeMajorInput, initialStates);
        int batch = x.dim(timeMajorInput ? 1 : 0);
        int steps = x.dim(timeMajorInput ? 0 : 1);
        Mask mask = sequenceLengths == null ? null : lengthsMask(sequenceLengths, batch, steps);
        if (dynamicExecutor == null) {
            synchronized (this) {
                if (dynamicExecutor == null) {
                    // TF copy-through = Keras's masked loop with zero outputs at masked steps (right padding only).
                    dynamicExecutor = backend().compile(new RecurrentSpec(name(), cellType(), activation,
                            recurrentActivation, useBias, resetAfter(), false, true, materializedWeights(), true,
                            MaskedOutput.CANONICAL));
                }
            }
        }
        Tensor input = timeMajorInput ? swapFirstAxes(x) : x;
        Tensor[] result;
        try {
            result = dynamicExecutor.run(input, initial, mask);
        } finally {
            if (input != x) {
                input.close();
            }
        }
        if (timeMajorInput) {
            Tensor batchMajor = result[0];
            result[0] = swapFirstAxes(batchMajor);
            batchMajor.close();
        }
        return result;
    }

    /** Validates input and initial states (initialising weights on first use); returns the initial states or {@code null}. */
    Tensor[] checkInput(Tensor x, boolean timeMajorInput, Tensor[] initialStates) {
        x.pointer(); // fails fast on a closed input
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 3 "
                    + (timeMajorInput ? "[time, batch, features]" : "[batch, time, features]") + ", got shape "
                    + Arrays.toString(x.shape()));
        }
        int batch = x.dim(timeMajorInput ? 1 : 0);
        int steps = x.dim(timeMajorInput ? 0 : 1);
        int features = x.dim(2);
        if (batch == 0) {
            throw new IllegalArgumentException(describe() + ": empty batch (input shape " + Arrays.toString(x.shape())
                    + "); expected at least one sample");
        }
        if (steps == 0) {
            throw new IllegalArgumentException(describe() + ": no time steps (input shape " + Arrays.toString(x.shape())
                    + "); expected at least one");
        }
        if (weights == null) {
            synchronized (this) {
                if (weights == null) {
                    initializeWeights(features);
                }
            }
        } else if (features != weights.inputSize()) {
            throw new IllegalArgumentException(describe() + ": expected " + weights.inputSize()
                    + " input features (last axis), got " + features + " (input shape " + Arrays.toString(x.shape()) + ")");
        }
        Tensor[] initial = null;
        if (initialStates != null && initialStates.length > 0) {
            if (initialStates.length != stateCount()) {
                throw new IllegalArgumentException(describe() + " has " + stateCount() + " state(s) but was passed "
                        + initialStates.length + " initial state(s)");
            }
            for (int i = 0; i < initialStates.length; i++) {
                int[] s = initialStates[i].shape();
                if (s.length != 2 || s[0] != batch || s[1] != units) {
                    throw new IllegalArgumentException(describe() + ": initial state " + i + " must have shape ["
                            + batch + ", " + units + "], got " + Arrays.toString(s));
                }
            }
            initial = initialStates;
        }
        return initial;
    }

    /** [A, B, C] → [B, A, C]. */
    static Tensor swapFirstAxes(Tensor t) {
        int a = t.dim(0);
        int b = t.dim(1);
        int c = t.dim(2);
        float[] src = t.toArray();
        float[] dst = new float[src.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(src, (i * b + j) * c, dst, (j * a + i) * c, c);
            }
        }
        return Tensor.of(dst, b, a, c);
    }

    /** The stored states of a stateful layer (copies), or {@code null} when none are stored. */
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
        if (executor != null) {
            executor.close();
            executor = null;
        }
        if (dynamicExecutor != null) {
            dynamicExecutor.close();
            dynamicExecutor = null;
        }
    }

    @Override
    protected void release() {
        backendChanged();
        states.reset();
    }

    /** The training-only Keras arguments: accepted, kept, reported, not used at inference (spec §3.6). */
    public record TrainingOptions(
            double dropout,
            double recurrentDropout,
            String kernelInitializer,
            String recurrentInitializer,
            String biasInitializer,
            Object kernelRegularizer,
            Object recurrentRegularizer,
            Object biasRegularizer,
            Object activityRegularizer,
            Object kernelConstraint,
            Object recurrentConstraint,
            Object biasConstraint,
            boolean unroll,
            int implementation) {

        /** Keras's defaults. */
        public static TrainingOptions defaults() {
            return new TrainingOptions(0, 0, "glorot_uniform", "orthogonal", "zeros", null, null, null, null, null, null,
                    null, false, 2);
        }
    }

    /**
     * Builder shared by the recurrent layers. Every Keras argument that matters at inference has a
     * setter; training-only ones are kept in {@link TrainingOptions}.
     */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B, L>, L extends RecurrentLayer>
            extends CellOptionsBuilder<B> {
        boolean returnSequences;
        boolean returnState;
        boolean goBackwards;
        boolean stateful;
        boolean timeMajor;
        boolean zeroOutputForMask;
        MaskedOutput maskedOutput = MaskedOutput.CANONICAL;
        Integer batchSize;
        TrainingOptions training = TrainingOptions.defaults();

        public B returnSequences(boolean returnSequences) {
            this.returnSequences = returnSequences;
            return (B) this;
        }

        public B returnState(boolean returnState) {
            this.returnState = returnState;
            return (B) this;
        }

        public B goBackwards(boolean goBackwards) {
            this.goBackwards = goBackwards;
            return (B) this;
        }

        public B stateful(boolean stateful) {
            this.stateful = stateful;
            return (B) this;
        }

        /** Input and output sequences are {@code [T, N, ·]} (tf.keras {@code time_major}); states stay {@code [N, H]}. */
        public B timeMajor(boolean timeMajor) {
            this.timeMajor = timeMajor;
            return (B) this;
        }

        /** Masked steps output zeros instead of the carried output (Keras {@code zero_output_for_mask}, spec §3.3). */
        public B zeroOutputForMask(boolean zeroOutputForMask) {
            this.zeroOutputForMask = zeroOutputForMask;
            return (B) this;
        }

        /** What a masked step outputs when zero_output_for_mask is false; default {@link MaskedOutput#CANONICAL}. */
        public B maskedOutput(MaskedOutput maskedOutput) {
            this.maskedOutput = maskedOutput;
            return (B) this;
        }

        /** The fixed batch size of a stateful layer (Keras {@code batch_input_shape[0]}). */
        public B batchSize(int batchSize) {
            this.batchSize = batchSize;
            return (B) this;
        }

        /** Training-only arguments (kept, not used at inference). */
        public B trainingOptions(TrainingOptions training) {
            this.training = training;
            return (B) this;
        }

        public B dropout(double dropout) {
            TrainingOptions t = training;
            training = new TrainingOptions(dropout, t.recurrentDropout(), t.kernelInitializer(), t.recurrentInitializer(),
                    t.biasInitializer(), t.kernelRegularizer(), t.recurrentRegularizer(), t.biasRegularizer(),
                    t.activityRegularizer(), t.kernelConstraint(), t.recurrentConstraint(), t.biasConstraint(), t.unroll(),
                    t.implementation());
            return (B) this;
        }

        public B recurrentDropout(double recurrentDropout) {
            TrainingOptions t = training;
            training = new TrainingOptions(t.dropout(), recurrentDropout, t.kernelInitializer(), t.recurrentInitializer(),
                    t.biasInitializer(), t.kernelRegularizer(), t.recurrentRegularizer(), t.biasRegularizer(),
                    t.activityRegularizer(), t.kernelConstraint(), t.recurrentConstraint(), t.biasConstraint(), t.unroll(),
                    t.implementation());
            return (B) this;
        }

        public abstract L build();
    }
}
