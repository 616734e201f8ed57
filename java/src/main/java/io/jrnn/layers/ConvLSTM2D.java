package io.jrnn.layers;

import io.jrnn.Device;
import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Keras {@code ConvLSTM2D} (spec §1.4, §2.6): an LSTM whose matrix products are 2-D convolutions.
 * Input {@code [N, T, R, Cc, C]} ({@code channels_last}) or {@code [N, T, C, R, Cc]}
 * ({@code channels_first}); states {@code [h, c]} each one output frame. {@code strides},
 * {@code padding} and {@code dilation_rate} apply to the input convolution only; the recurrent one
 * is stride 1, undilated, {@code 'same'}. Weights are Keras's: {@code kernel [kr, kc, C, 4F]},
 * {@code recurrent_kernel [kr, kc, F, 4F]}, {@code bias [4F]} (HWIO for both data formats).
 *
 * <p>Masks ({@code [N, T]}) follow the canonical rule (spec §3.3); {@code zero_output_for_mask} and
 * {@link MaskedOutput#PREVIOUS_STATE} are applied by the layer to the executor's canonical output
 * (only masked steps differ), so every backend supports them. go_backwards §3.1, stateful §3.2,
 * initial states §3.4. Training-only arguments are kept in {@link #trainingOptions()} and unused.
 * A backend without a ConvLSTM2D path runs the layer elsewhere and says so in
 * {@link #executionPath()}: a CUDA backend on the CPU (oneDNN), others on the reference.
 *
 * <pre>{@code
 * try (ConvLSTM2D conv = ConvLSTM2D.builder().filters(32).kernelSize(3).padding("same").build();
 *      Tensor y = conv.apply(x)) { ... }   // x [N, T, 32, 32, 16] → y [N, 32, 32, 32]
 * }</pre>
 */
public final class ConvLSTM2D extends Layer {
    private final int filters;
    private final int kernelRows;
    private final int kernelCols;
    private final int strideRows;
    private final int strideCols;
    private final int dilationRows;
    private final int dilationCols;
    private final boolean samePadding;
    private final boolean channelsFirst;
    private final Activation activation;
    private final Activation recurrentActivation;
    private final boolean useBias;
    private final boolean unitForgetBias;
    private final boolean returnSequences;
    private final boolean returnState;
    private final boolean goBackwards;
    private final boolean stateful;
    private final boolean zeroOutputForMask;
    private final MaskedOutput maskedOutput;
    private final Integer batchSize;
    private final RecurrentLayer.TrainingOptions trainingOptions;
    private final long seed;

    private int inputChannels = -1;
    private volatile float[] kernel;
    private float[] recurrentKernel;
    private float[] bias;
    private volatile ConvLstmExecutor executor;
    private final StatefulStates states;

    private ConvLSTM2D(Builder b) {
        super(b.name, "conv_lstm2d");
        this.filters = b.filters;
        this.kernelRows = b.kernelRows;
        this.kernelCols = b.kernelCols;
        this.strideRows = b.strideRows;
        this.strideCols = b.strideCols;
        this.dilationRows = b.dilationRows;
        this.dilationCols = b.dilationCols;
        String pad = b.padding == null ? "" : b.padding.trim().toLowerCase(Locale.ROOT);
        if (!pad.equals("valid") && !pad.equals("same")) {
            throw new IllegalArgumentException(describe() + ": padding must be 'valid' or 'same', got '" + b.padding + "'");
        }
        this.samePadding = pad.equals("same");
        String df = b.dataFormat == null ? "" : b.dataFormat.trim().toLowerCase(Locale.ROOT);
        if (!df.equals("channels_last") && !df.equals("channels_first")) {
            throw new IllegalArgumentException(describe() + ": data_format must be 'channels_last' or 'channels_first', got '"
                    + b.dataFormat + "'");
        }
        this.channelsFirst = df.equals("channels_first");
        if (filters < 1) {
            throw new IllegalArgumentException(describe() + ": filters must be >= 1, got " + filters);
        }
        if (kernelRows < 1 || kernelCols < 1) {
            throw new IllegalArgumentException(describe() + ": kernel_size must be >= 1, got (" + kernelRows + ", "
                    + kernelCols + ")");
        }
        if (strideRows < 1 || strideCols < 1) {
            throw new IllegalArgumentException(describe() + ": strides must be >= 1, got (" + strideRows + ", "
                    + strideCols + ")");
        }
        if (dilationRows < 1 || dilationCols < 1) {
            throw new IllegalArgumentException(describe() + ": dilation_rate must be >= 1, got (" + dilationRows + ", "
                    + dilationCols + ")");
        }
        if ((strideRows > 1 || strideCols > 1) && (dilationRows > 1 || dilationCols > 1)) {
            throw new IllegalArgumentException(describe() + ": strides > 1 together with dilation_rate > 1 is not allowed"
                    + " (Keras rejects it), got strides=(" + strideRows + ", " + strideCols + "), dilation_rate=("
                    + dilationRows + ", " + dilationCols + ")");
        }
        if (b.activation == null || !b.activation.isElementwise()) {
            throw new IllegalArgumentException(describe() + ": activation must be elementwise, got " + b.activation);
        }
        if (b.recurrentActivation == null || !b.recurrentActivation.isElementwise()) {
            throw new IllegalArgumentException(describe() + ": recurrent_activation must be elementwise, got "
                    + b.recurrentActivation);
        }
        this.activation = b.activation;
        this.recurrentActivation = b.recurrentActivation;
        this.useBias = b.useBias;
        this.unitForgetBias = b.unitForgetBias;
        this.returnSequences = b.returnSequences;
        this.returnState = b.returnState;
        this.goBackwards = b.goBackwards;
        this.stateful = b.stateful;
        this.zeroOutputForMask = b.zeroOutputForMask;
        if (b.maskedOutput == null) {
            throw new IllegalArgumentException(describe() + ": maskedOutput must not be null");
        }
        this.maskedOutput = b.maskedOutput;
        this.batchSize = b.batchSize;
        if (b.batchSize != null && b.batchSize < 1) {
            throw new IllegalArgumentException(describe() + ": batch size must be >= 1, got " + b.batchSize);
        }
        this.states = new StatefulStates(b.stateful, b.batchSize);
        this.trainingOptions = b.training;
        this.seed = b.seed != null ? b.seed : new SplittableRandom().nextLong();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "ConvLSTM2D";
    }

    public int filters() {
        return filters;
    }

    /** {@code (k_r, k_c)}. */
    public int[] kernelSize() {
        return new int[] {kernelRows, kernelCols};
    }

    public int[] strides() {
        return new int[] {strideRows, strideCols};
    }

    public int[] dilationRate() {
        return new int[] {dilationRows, dilationCols};
    }

    /** {@code "valid"} or {@code "same"}. */
    public String padding() {
        return samePadding ? "same" : "valid";
    }

    /** {@code "channels_last"} or {@code "channels_first"}. */
    public String dataFormat() {
        return channelsFirst ? "channels_first" : "channels_last";
    }

    public Activation activation() {
        return activation;
    }

    public Activation recurrentActivation() {
        return recurrentActivation;
    }

    public boolean useBias() {
        return useBias;
    }

    /** Initialisation only: the forget-gate bias starts at one. */
    public boolean unitForgetBias() {
        return unitForgetBias;
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

    /** Keras {@code zero_output_for_mask}: a masked step outputs zeros (spec §3.3). */
    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    /** What a masked step outputs when {@link #zeroOutputForMask()} is false (spec §3.3). */
    public MaskedOutput maskedOutput() {
        return maskedOutput;
    }

    /** The declared batch size (Keras {@code batch_input_shape[0]}), or {@code null}. */
    public Integer batchSize() {
        return batchSize;
    }

    /** The training-only Keras arguments, kept as given (spec §3.6). */
    public RecurrentLayer.TrainingOptions trainingOptions() {
        return trainingOptions;
    }

    /** Input channels {@code C}, or −1 before weights are set. */
    public int inputChannels() {
        return inputChannels;
    }

    /** Copies of the Keras weight arrays (kernel, recurrent_kernel[, bias]), or {@code null} before any are set. */
    public float[][] weights() {
        if (kernel == null) {
            return null;
        }
        return useBias ? new float[][] {kernel.clone(), recurrentKernel.clone(), bias.clone()}
                : new float[][] {kernel.clone(), recurrentKernel.clone()};
    }

    /**
     * Sets the Keras weights: {@code kernel [kr, kc, C, 4F]}, {@code recurrent_kernel [kr, kc, F, 4F]}
     * and, with {@code use_bias}, {@code bias [4F]} ({@code null} without). {@code C} is taken from the kernel.
     */
    public void setWeights(float[] kernel, float[] recurrentKernel, float[] bias) {
        ensureOpen();
        int g = 4 * filters;
        int per = kernelRows * kernelCols * g;
        if (kernel == null || kernel.length == 0 || kernel.length % per != 0) {
            throw new IllegalArgumentException(describe() + ": kernel must be [" + kernelRows + ", " + kernelCols + ", C, "
                    + g + "] (a multiple of " + per + " values), got " + (kernel == null ? "null" : kernel.length + " values"));
        }
        if (recurrentKernel == null || recurrentKernel.length != per * filters) {
            throw new IllegalArgumentException(describe() + ": recurrent_kernel must be [" + kernelRows + ", " + kernelCols
                    + ", " + filters + ", " + g + "] (" + per * filters + " values), got "
                    + (recurrentKernel == null ? "null" : recurrentKernel.length + " values"));
        }
        if (useBias && (bias == null || bias.length != g)) {
            throw new IllegalArgumentException(describe() + ": bias must have " + g + " values, got "
                    + (bias == null ? "none" : bias.length));
        }
        if (!useBias && bias != null) {
            throw new IllegalArgumentException(describe() + ": use_bias=false but a bias of " + bias.length + " values was given");
        }
        this.inputChannels = kernel.length / per;
        this.kernel = kernel.clone();
        this.recurrentKernel = recurrentKernel.clone();
        this.bias = useBias ? bias.clone() : null;
        backendChanged();
    }

    /** Sets the weights from Keras arrays as tensors (kernel, recurrent_kernel[, bias]). */
    public void setWeights(Tensor... kerasArrays) {
        int expected = useBias ? 3 : 2;
        if (kerasArrays.length != expected) {
            throw new IllegalArgumentException(describe() + ": expected " + expected + " weight arrays (kernel, recurrent_kernel"
                    + (useBias ? ", bias" : "") + "), got " + kerasArrays.length);
        }
        setWeights(kerasArrays[0].toArray(), kerasArrays[1].toArray(), useBias ? kerasArrays[2].toArray() : null);
    }

    /** Draws Keras-default weights (glorot_uniform, orthogonal, zeros; forget bias one with unit_forget_bias). */
    public void initializeWeights(int channels) {
        if (channels < 1) {
            throw new IllegalArgumentException(describe() + ": input channels must be >= 1, got " + channels);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int g = 4 * filters;
        int area = kernelRows * kernelCols;
        double limit = Math.sqrt(6.0 / (area * channels + area * g));
        float[] k = new float[area * channels * g];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        float[] r = Initializers.orthogonal(area * filters, g, rng);
        float[] b = null;
        if (useBias) {
            b = new float[g];
            if (unitForgetBias) {
                Arrays.fill(b, filters, 2 * filters, 1f);
            }
        }
        setWeights(k, r, b);
    }

    @Override
    public long parameterCount() {
        if (kernel == null) {
            return 0;
        }
        return (long) kernel.length + recurrentKernel.length + (useBias ? bias.length : 0);
    }

    /** The spec handed to backends (channels-last, bias materialised). */
    public ConvLstmSpec spec() {
        if (kernel == null) {
            throw new IllegalStateException(describe() + " has no weights yet");
        }
        return new ConvLstmSpec(name(), inputChannels, filters, kernelRows, kernelCols, strideRows, strideCols, dilationRows,
                dilationCols, samePadding, activation, recurrentActivation, goBackwards, returnSequences, kernel,
                recurrentKernel, useBias ? bias : new float[4 * filters]);
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        // [T, R, Cc, C] or [T, C, R, Cc]
        int steps = inputShape[0];
        int rows = channelsFirst ? inputShape[2] : inputShape[1];
        int cols = channelsFirst ? inputShape[3] : inputShape[2];
        int outR = rows < 0 ? -1 : ConvLstmSpec.outputSize(rows, kernelRows, strideRows, dilationRows, samePadding);
        int outC = cols < 0 ? -1 : ConvLstmSpec.outputSize(cols, kernelCols, strideCols, dilationCols, samePadding);
        int[] frame = channelsFirst ? new int[] {filters, outR, outC} : new int[] {outR, outC, filters};
        if (!returnSequences) {
            return frame;
        }
        return new int[] {steps, frame[0], frame[1], frame[2]};
    }

    @Override
    public String executionPath() {
        return executor == null ? "not compiled yet (backend " + backend().name() + ")" : executor.executionPath();
    }

    /** Compiles (once) with the current weights and returns the execution path; exposes it before the first call. */
    public String compile() {
        ensureOpen();
        if (kernel == null) {
            throw new IllegalStateException(describe() + " has no weights yet (set them or run it once)");
        }
        return executor().executionPath();
    }

    /** The executor, compiled by the first call (concurrent first calls compile it once). */
    private ConvLstmExecutor executor() {
        ConvLstmExecutor e = executor;
        if (e == null) {
            synchronized (this) {
                if (executor == null) {
                    executor = compileOn(backend(), spec());
                }
                e = executor;
            }
        }
        return e;
    }

    /**
     * Compiles on {@code backend}; a backend without a ConvLSTM2D path falls back: a CUDA backend to
     * the CPU (oneDNN), anything else to the reference. The path names the fallback and why.
     */
    static ConvLstmExecutor compileOn(Backend backend, ConvLstmSpec spec) {
        try {
            return backend.compileConvLstm(spec);
        } catch (UnsupportedConfigurationException e) {
            if (backend.device().kind() == Device.Kind.CUDA) {
                try {
                    Backend cpu = Backend.named("cpu");
                    ConvLstmExecutor onCpu = cpu.compileConvLstm(spec);
                    return new Relabelled(onCpu, "ran on the CPU, " + onCpu.executionPath() + " (" + e.getMessage()
                            + ")");
                } catch (UnsupportedConfigurationException cpuFailure) {
                    e.addSuppressed(cpuFailure);
                }
            }
            return ReferenceBackend.convLstmFallback(spec, "reference (pure Java, spec §2.6 equations; "
                    + e.getMessage() + ")");
        }
    }

    /** An executor with a different execution path (the fallback explains itself). */
    private record Relabelled(ConvLstmExecutor inner, String path) implements ConvLstmExecutor {
        @Override
        public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
            return inner.run(input, initialStates, mask);
        }

        @Override
        public String executionPath() {
            return path;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return forward(x, (Mask) null, initialStates);
    }

    /**
     * Runs the layer; {@code mask} is {@code [N, T]} (true = valid step) or {@code null}.
     * {@code initialStates} are {@code [h, c]}, each an output frame in the layer's data format.
     */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return states.within(describe(), () -> forwardMasked(x, mask, initialStates));
    }

    private Outputs forwardMasked(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        x.pointer();
        int[] s = x.shape();
        if (s.length != 5) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 5 "
                    + (channelsFirst ? "[batch, time, channels, rows, cols]" : "[batch, time, rows, cols, channels]")
                    + ", got shape " + Arrays.toString(s));
        }
        int n = s[0];
        int steps = s[1];
        int ch = channelsFirst ? s[2] : s[4];
        int rows = channelsFirst ? s[3] : s[2];
        int cols = channelsFirst ? s[4] : s[3];
        if (n == 0 || steps == 0 || rows == 0 || cols == 0 || ch == 0) {
            throw new IllegalArgumentException(describe() + ": input shape " + Arrays.toString(s)
                    + " has an empty axis; expected every axis >= 1");
        }
        if (kernel == null) {
            synchronized (this) {
                if (kernel == null) {
                    initializeWeights(ch);
                }
            }
        } else if (ch != inputChannels) {
            throw new IllegalArgumentException(describe() + ": expected " + inputChannels + " input channels ("
                    + dataFormat() + "), got " + ch + " (input shape " + Arrays.toString(s) + ")");
        }
        int outR = ConvLstmSpec.outputSize(rows, kernelRows, strideRows, dilationRows, samePadding);
        int outC = ConvLstmSpec.outputSize(cols, kernelCols, strideCols, dilationCols, samePadding);
        if (outR < 1 || outC < 1) {
            throw new IllegalArgumentException(describe() + ": input frame " + rows + "x" + cols + " is smaller than the "
                    + "dilated kernel " + ((kernelRows - 1) * dilationRows + 1) + "x" + ((kernelCols - 1) * dilationCols + 1)
                    + " with padding 'valid'");
        }
        if (mask != null) {
            mask.checkShape(describe(), n, steps);
        }
        int[] stateShape = channelsFirst ? new int[] {n, filters, outR, outC} : new int[] {n, outR, outC, filters};
        Tensor[] initial = null;
        if (initialStates != null && initialStates.length > 0) {
            if (initialStates.length != 2) {
                throw new IllegalArgumentException(describe() + " has 2 states (h, c) but was passed "
                        + initialStates.length + " initial state(s)");
            }
            for (int i = 0; i < 2; i++) {
                if (!Arrays.equals(initialStates[i].shape(), stateShape)) {
                    throw new IllegalArgumentException(describe() + ": initial state " + i + " must have shape "
                            + Arrays.toString(stateShape) + ", got " + Arrays.toString(initialStates[i].shape()));
                }
            }
        }
        states.checkBatch(describe(), n);

        List<Tensor> temps = new ArrayList<>();
        Tensor[] result;
        try {
            Tensor input = channelsFirst ? toChannelsLast(x, temps) : x;
            if (initialStates != null && initialStates.length > 0) {
                initial = channelsFirst
                        ? new Tensor[] {toChannelsLast(initialStates[0], temps), toChannelsLast(initialStates[1], temps)}
                        : initialStates;
            } else if (stateful && states.stored() != null) {
                initial = states.stored();
            }
            result = executor().run(input, initial, mask);
            if (mask != null && (zeroOutputForMask || maskedOutput == MaskedOutput.PREVIOUS_STATE)) {
                Tensor canonical = result[0];
                result[0] = maskedOutputs(canonical, result[1], initial, mask);
                canonical.close();
            }
        } finally {
            temps.forEach(Tensor::close);
        }
        states.store(result, 1, 2);
        if (channelsFirst) {
            for (int i = 0; i < result.length; i++) {
                Tensor last = result[i];
                result[i] = toChannelsFirst(last);
                last.close();
            }
        }
        List<Tensor> out = new ArrayList<>();
        out.add(result[0]);
        if (returnState) {
            out.add(result[1]);
            out.add(result[2]);
        } else {
            result[1].close();
            result[2].close();
        }
        return new Outputs(out);
    }

    /**
     * Rewrites the executor's canonical output (spec §3.3) at masked steps, channels-last. States are
     * carried the same way under every rule, so only masked steps change: {@code zero_output_for_mask}
     * gives zeros; {@link MaskedOutput#PREVIOUS_STATE} gives the carried {@code h} before the step,
     * which differs from the canonical carried output only before a sample's first valid step (the
     * initial {@code h} instead of zeros) and, for the last output, equals the final {@code h}.
     */
    private Tensor maskedOutputs(Tensor canonical, Tensor finalH, Tensor[] initial, Mask mask) {
        float[] y = canonical.toArray();
        int n = finalH.dim(0);
        int frame = (int) (finalH.size() / n);
        int steps = mask.steps();
        if (returnSequences) {
            float[] h0 = initial == null ? null : initial[0].toArray();
            for (int b = 0; b < n; b++) {
                boolean seenValid = false;
                for (int k = 0; k < steps; k++) {
                    int t = goBackwards ? steps - 1 - k : k;
                    if (mask.valid(b, t)) {
                        seenValid = true;
                        continue;
                    }
                    int at = (b * steps + k) * frame;
                    if (zeroOutputForMask) {
                        Arrays.fill(y, at, at + frame, 0f);
                    } else if (!seenValid && h0 != null) {
                        System.arraycopy(h0, b * frame, y, at, frame); // PREVIOUS_STATE: the initial h
                    }
                }
            }
        } else {
            int lastT = goBackwards ? 0 : steps - 1;
            float[] hT = zeroOutputForMask ? null : finalH.toArray();
            for (int b = 0; b < n; b++) {
                if (!mask.valid(b, lastT)) {
                    if (zeroOutputForMask) {
                        Arrays.fill(y, b * frame, (b + 1) * frame, 0f);
                    } else {
                        System.arraycopy(hT, b * frame, y, b * frame, frame); // PREVIOUS_STATE: the carried h
                    }
                }
            }
        }
        return Tensor.of(y, canonical.shape());
    }

    /** Keras {@code compute_mask}: the input mask when the layer returns sequences, else none. */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return returnSequences ? inputMask : null;
    }

    /** {@code [..., C, R, Cc]} → {@code [..., R, Cc, C]} (the last three axes). */
    private static Tensor toChannelsLast(Tensor t, List<Tensor> temps) {
        Tensor r = permuteLast3(t, true);
        temps.add(r);
        return r;
    }

    /** {@code [..., R, Cc, C]} → {@code [..., C, R, Cc]}. */
    private static Tensor toChannelsFirst(Tensor t) {
        return permuteLast3(t, false);
    }

    private static Tensor permuteLast3(Tensor t, boolean toLast) {
        int[] s = t.shape();
        int r = s.length;
        int a = s[r - 3];
        int b = s[r - 2];
        int c = s[r - 1];
        int outer = (int) (t.size() / ((long) a * b * c));
        float[] src = t.toArray();
        float[] dst = new float[src.length];
        int block = a * b * c;
        for (int o = 0; o < outer; o++) {
            int base = o * block;
            for (int i = 0; i < a; i++) {
                for (int j = 0; j < b; j++) {
                    for (int k = 0; k < c; k++) {
                        float v = src[base + (i * b + j) * c + k];
                        if (toLast) {
                            // [C=a, R=b, Cc=c] → [R, Cc, C]
                            dst[base + (j * c + k) * a + i] = v;
                        } else {
                            // [R=a, Cc=b, C=c] → [C, R, Cc]
                            dst[base + (k * a + i) * b + j] = v;
                        }
                    }
                }
            }
        }
        int[] ns = s.clone();
        if (toLast) {
            ns[r - 3] = b;
            ns[r - 2] = c;
            ns[r - 1] = a;
        } else {
            ns[r - 3] = c;
            ns[r - 2] = a;
            ns[r - 1] = b;
        }
        return Tensor.of(dst, ns);
    }

    /** Copies of the stored states of a stateful layer (channels-last), or {@code null} when none are stored. */
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
    }

    @Override
    protected void release() {
        backendChanged();
        states.reset();
    }

    /** Builder with Keras 3 defaults: strides 1, 'valid', channels_last, dilation 1, tanh, sigmoid, use_bias. */
    public static final class Builder {
        String name;
        int filters;
        int kernelRows;
        int kernelCols;
        int strideRows = 1;
        int strideCols = 1;
        int dilationRows = 1;
        int dilationCols = 1;
        String padding = "valid";
        String dataFormat = "channels_last";
        Activation activation = Activation.TANH;
        Activation recurrentActivation = Activation.SIGMOID;
        boolean useBias = true;
        boolean unitForgetBias = true;
        boolean returnSequences;
        boolean returnState;
        boolean goBackwards;
        boolean stateful;
        boolean zeroOutputForMask;
        MaskedOutput maskedOutput = MaskedOutput.CANONICAL;
        Integer batchSize;
        Long seed;
        RecurrentLayer.TrainingOptions training = RecurrentLayer.TrainingOptions.defaults();

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder filters(int filters) {
            this.filters = filters;
            return this;
        }

        public Builder kernelSize(int size) {
            return kernelSize(size, size);
        }

        public Builder kernelSize(int rows, int cols) {
            this.kernelRows = rows;
            this.kernelCols = cols;
            return this;
        }

        public Builder strides(int stride) {
            return strides(stride, stride);
        }

        public Builder strides(int rows, int cols) {
            this.strideRows = rows;
            this.strideCols = cols;
            return this;
        }

        public Builder dilationRate(int rate) {
            return dilationRate(rate, rate);
        }

        public Builder dilationRate(int rows, int cols) {
            this.dilationRows = rows;
            this.dilationCols = cols;
            return this;
        }

        /** {@code "valid"} or {@code "same"}, case-insensitive. */
        public Builder padding(String padding) {
            this.padding = padding;
            return this;
        }

        /** {@code "channels_last"} or {@code "channels_first"}, case-insensitive. */
        public Builder dataFormat(String dataFormat) {
            this.dataFormat = dataFormat;
            return this;
        }

        public Builder activation(Activation activation) {
            this.activation = activation;
            return this;
        }

        /** Keras name; {@code hard_sigmoid} means the Keras 3 definition. */
        public Builder activation(String kerasName) {
            return activation(Activation.fromKeras(kerasName));
        }

        public Builder recurrentActivation(Activation recurrentActivation) {
            this.recurrentActivation = recurrentActivation;
            return this;
        }

        /** Keras name; {@code hard_sigmoid} means the Keras 3 definition. */
        public Builder recurrentActivation(String kerasName) {
            return recurrentActivation(Activation.fromKeras(kerasName));
        }

        public Builder useBias(boolean useBias) {
            this.useBias = useBias;
            return this;
        }

        public Builder unitForgetBias(boolean unitForgetBias) {
            this.unitForgetBias = unitForgetBias;
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

        /** Keras {@code zero_output_for_mask}: masked steps output zeros (default false). */
        public Builder zeroOutputForMask(boolean zeroOutputForMask) {
            this.zeroOutputForMask = zeroOutputForMask;
            return this;
        }

        /** What a masked step outputs when zero_output_for_mask is false; default {@link MaskedOutput#CANONICAL}. */
        public Builder maskedOutput(MaskedOutput maskedOutput) {
            this.maskedOutput = maskedOutput;
            return this;
        }

        /** The fixed batch size of a stateful layer (Keras {@code batch_input_shape[0]}). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Training-only arguments (kept, not used at inference). */
        public Builder trainingOptions(RecurrentLayer.TrainingOptions training) {
            this.training = training;
            return this;
        }

        public ConvLSTM2D build() {
            return new ConvLSTM2D(this);
        }
    }
}
