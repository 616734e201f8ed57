package io.jrnn.backend.cuda;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.bytedeco.cuda.global.cudnn;

/**
 * Whether cuDNN's fused RNN forward can run a layer, and with which settings. Pure Java (the
 * cuDNN constants are compile-time constants), so it is decided and tested without a GPU.
 *
 * <ul>
 *   <li>LSTM with {@code activation=tanh}, {@code recurrent_activation=sigmoid}: {@code CUDNN_LSTM}.</li>
 *   <li>GRU with the same activations and {@code reset_after=True}: {@code CUDNN_GRU}, which is the
 *       linear-before-reset GRU with a bias per linear layer, exactly Keras's reset-after GRU with its
 *       {@code [2, 3H]} bias. {@code reset_after=False} has no cuDNN mode.</li>
 *   <li>SimpleRNN with tanh or relu: {@code CUDNN_RNN_TANH} / {@code CUDNN_RNN_RELU}.</li>
 * </ul>
 * Anything else (hard_sigmoid, other activations, reset-before GRU) gets a one-line reason and runs
 * on the GPU composed path. {@code use_bias=false} fuses with zero biases.
 */
public final class CudnnPlan {
    /** System property choosing the recurrence algorithm: {@code standard} (default), {@code persist_static}, {@code auto}. */
    public static final String ALGO_PROPERTY = "jrnn.cuda.rnnAlgo";
    /** Under {@link AlgoChoice#AUTO}, batches up to this size use {@code CUDNN_RNN_ALGO_PERSIST_STATIC}. */
    public static final int AUTO_PERSIST_MAX_BATCH = 32;

    /** The cuDNN cell modes jrnn uses ({@code cudnnRNNMode_t}). */
    public enum Mode {
        RNN_RELU(cudnn.CUDNN_RNN_RELU, CellType.SIMPLE_RNN, "CUDNN_RNN_RELU"),
        RNN_TANH(cudnn.CUDNN_RNN_TANH, CellType.SIMPLE_RNN, "CUDNN_RNN_TANH"),
        LSTM(cudnn.CUDNN_LSTM, CellType.LSTM, "CUDNN_LSTM"),
        GRU(cudnn.CUDNN_GRU, CellType.GRU, "CUDNN_GRU");

        final int cudnnValue;
        final CellType cellType;
        final String label;

        Mode(int cudnnValue, CellType cellType, String label) {
            this.cudnnValue = cudnnValue;
            this.cellType = cellType;
            this.label = label;
        }

        /** cuDNN's linear layers per pseudo-layer: one input and one recurrent matrix per gate. */
        public int linLayerCount() {
            return 2 * cellType.gateCount();
        }

        public CellType cellType() {
            return cellType;
        }

        public String label() {
            return label;
        }
    }

    /** A recurrence algorithm ({@code cudnnRNNAlgo_t}). */
    public enum Algo {
        STANDARD(cudnn.CUDNN_RNN_ALGO_STANDARD, "CUDNN_RNN_ALGO_STANDARD"),
        PERSIST_STATIC(cudnn.CUDNN_RNN_ALGO_PERSIST_STATIC, "CUDNN_RNN_ALGO_PERSIST_STATIC");

        final int cudnnValue;
        final String label;

        Algo(int cudnnValue, String label) {
            this.cudnnValue = cudnnValue;
            this.label = label;
        }
    }

    /** What {@code -Djrnn.cuda.rnnAlgo} asks for. */
    public enum AlgoChoice {
        /** {@code CUDNN_RNN_ALGO_STANDARD} always (the default). */
        STANDARD,
        /** {@code CUDNN_RNN_ALGO_PERSIST_STATIC} where cuDNN accepts it, else standard. */
        PERSIST_STATIC,
        /** Persistent static for batches up to {@link #AUTO_PERSIST_MAX_BATCH} where cuDNN accepts it, else standard. */
        AUTO;

        /** {@code standard}, {@code persist_static} (or {@code persist}), {@code auto}; any case. */
        public static AlgoChoice parse(String s) {
            String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
            return switch (n) {
                case "", "standard" -> STANDARD;
                case "persist_static", "persist-static", "persist" -> PERSIST_STATIC;
                case "auto" -> AUTO;
                default -> throw new IllegalArgumentException("-D" + ALGO_PROPERTY + "=" + s
                        + " is not a cuDNN RNN algorithm; valid: standard, persist_static, auto");
            };
        }

        /** The choice {@code -Djrnn.cuda.rnnAlgo} makes (standard when unset). */
        public static AlgoChoice fromSystemProperty() {
            return parse(System.getProperty(ALGO_PROPERTY, "standard"));
        }

        /** The algorithm to run a batch of {@code batch} samples with, when persistent static is available. */
        public Algo forBatch(int batch) {
            return switch (this) {
                case STANDARD -> Algo.STANDARD;
                case PERSIST_STATIC -> Algo.PERSIST_STATIC;
                case AUTO -> batch <= AUTO_PERSIST_MAX_BATCH ? Algo.PERSIST_STATIC : Algo.STANDARD;
            };
        }
    }

    /**
     * cuDNN's data type, math precision and math type for a {@link Precision}.
     *
     * @param dataType     {@code cudnnDataType_t} of weights, inputs, outputs and states
     * @param mathPrecision {@code cudnnDataType_t} of the arithmetic
     * @param mathType     {@code cudnnMathType_t}
     * @param elementBytes bytes per element of {@code dataType}
     * @param label        for execution paths, e.g. {@code "fp32, FMA math (no TF32)"}
     */
    public record Numerics(int dataType, int mathPrecision, int mathType, int elementBytes, String label) {
        /**
         * FP32: float data, float math, {@code CUDNN_FMA_MATH} (no tensor cores, so no TF32
         * rounding). TF32: float data and math, {@code CUDNN_DEFAULT_MATH}, which lets cuDNN use
         * TF32 tensor cores for float data (what PyTorch and JAX pass when TF32 is allowed). FP16:
         * half data, float math, {@code CUDNN_TENSOR_OP_MATH}. BF16: bfloat16 data, float math,
         * {@code CUDNN_TENSOR_OP_MATH}.
         */
        public static Numerics of(Precision precision) {
            return switch (Objects.requireNonNull(precision, "precision")) {
                case FP32 -> new Numerics(cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_FMA_MATH, 4,
                        "fp32, FMA math (no TF32)");
                case TF32 -> new Numerics(cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_DEFAULT_MATH, 4,
                        "fp32 data, TF32 tensor-op math allowed");
                case FP16 -> new Numerics(cudnn.CUDNN_DATA_HALF, cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_TENSOR_OP_MATH, 2,
                        "fp16 data, fp32 math, tensor-op math");
                case BF16 -> new Numerics(cudnn.CUDNN_DATA_BFLOAT16, cudnn.CUDNN_DATA_FLOAT,
                        cudnn.CUDNN_TENSOR_OP_MATH, 2, "bf16 data, fp32 math, tensor-op math");
            };
        }

        /** Whether the data are 16-bit ({@link HalfFloats} converts while staging). */
        public boolean sixteenBit() {
            return elementBytes == 2;
        }

        /** Whether the 16-bit data are bfloat16 (else binary16). */
        public boolean bfloat16() {
            return dataType == cudnn.CUDNN_DATA_BFLOAT16;
        }
    }

    private final Mode mode;
    private final String reason;
    private final Numerics numerics;

    private CudnnPlan(Mode mode, String reason, Numerics numerics) {
        this.mode = mode;
        this.reason = reason;
        this.numerics = numerics;
    }

    /** Decides how cuDNN runs {@code spec} in {@code precision}. */
    public static CudnnPlan of(RecurrentSpec spec, Precision precision) {
        Objects.requireNonNull(spec, "spec");
        Numerics numerics = Numerics.of(precision);
        String reason = unsupportedReason(spec);
        return reason != null ? new CudnnPlan(null, reason, numerics) : new CudnnPlan(modeFor(spec), null, numerics);
    }

    /** Whether cuDNN's fused forward runs the layer. */
    public boolean fused() {
        return mode != null;
    }

    /** The cuDNN cell mode; {@code null} when not {@link #fused()}. */
    public Mode mode() {
        return mode;
    }

    /** Why the layer runs on the composed path; {@code null} when {@link #fused()}. */
    public String reason() {
        return reason;
    }

    public Numerics numerics() {
        return numerics;
    }

    private static Mode modeFor(RecurrentSpec spec) {
        return switch (spec.cellType()) {
            case LSTM -> Mode.LSTM;
            case GRU -> Mode.GRU;
            case SIMPLE_RNN -> spec.activation() == Activation.RELU ? Mode.RNN_RELU : Mode.RNN_TANH;
        };
    }

    /**
     * Why cuDNN cannot express {@code spec}, or {@code null} when it can, e.g.
     * {@code "recurrent_activation=hard_sigmoid (Keras 2) is not expressible by cuDNN CUDNN_LSTM (fixed sigmoid gates)"}.
     */
    static String unsupportedReason(RecurrentSpec spec) {
        if (spec.cellType() == CellType.SIMPLE_RNN) {
            Activation a = spec.activation();
            return a == Activation.TANH || a == Activation.RELU ? null
                    : "activation=" + label(a) + " is not expressible by cuDNN CUDNN_RNN_TANH/CUDNN_RNN_RELU"
                            + " (tanh and relu only)";
        }
        String modeLabel = spec.cellType() == CellType.LSTM ? "CUDNN_LSTM" : "CUDNN_GRU";
        List<String> fixed = new ArrayList<>();
        List<String> given = new ArrayList<>();
        if (spec.cellType() == CellType.GRU && !spec.resetAfter()) {
            fixed.add("reset-after GRU only: the reset gate multiplies the recurrent product plus its bias");
            given.add("reset_after=False");
        }
        if (spec.recurrentActivation() != Activation.SIGMOID) {
            fixed.add("fixed sigmoid gates");
            given.add("recurrent_activation=" + label(spec.recurrentActivation()));
        }
        if (spec.activation() != Activation.TANH) {
            fixed.add("a fixed tanh " + (spec.cellType() == CellType.LSTM ? "cell activation" : "candidate activation"));
            given.add("activation=" + label(spec.activation()));
        }
        return fixed.isEmpty() ? null
                : String.join(", ", given) + (given.size() == 1 ? " is" : " are") + " not expressible by cuDNN "
                        + modeLabel + " (" + String.join("; ", fixed) + ")";
    }

    private static String label(Activation a) {
        return switch (a) {
            case HARD_SIGMOID_KERAS2 -> "hard_sigmoid (Keras 2)";
            case HARD_SIGMOID_KERAS3 -> "hard_sigmoid (Keras 3)";
            default -> a.kerasName();
        };
    }

    /**
     * How a mask runs on the fused forward: {@link #native()} with per-sample sequence lengths, or
     * on the composed path for {@link #composedReason()}.
     *
     * @param lengths        per sample, the number of valid leading steps (Keras's view); {@code null} when composed
     * @param cudnnLengths   the lengths given to cuDNN: {@code max(1, length)}, since cuDNN rejects empty
     *                       sequences (a zero-length sample runs one step whose outputs and states are
     *                       then replaced on the host); {@code null} when composed
     * @param composedReason why the mask cannot run natively; {@code null} when it can
     */
    public record SequenceLengths(int[] lengths, int[] cudnnLengths, String composedReason) {
        /** Whether the mask runs on cuDNN's per-sample sequence lengths. */
        public boolean nativeLengths() {
            return composedReason == null;
        }

        /** Whether some sample has no valid step (its states and outputs are fixed on the host). */
        public boolean hasEmptySample() {
            for (int len : lengths) {
                if (len == 0) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Plans a (not all-valid) mask: a right-padded mask of a forward layer runs natively on
     * per-sample sequence lengths. A mask with a valid step after a padded one runs on the composed
     * path, and so does any mask under go_backwards: jrnn reverses time while staging the input,
     * which turns right padding into left padding, and cuDNN's sequence lengths express right
     * padding only.
     */
    public static SequenceLengths sequenceLengths(Mask mask, boolean goBackwards) {
        Objects.requireNonNull(mask, "mask");
        if (goBackwards) {
            return new SequenceLengths(null, null, "go_backwards with a mask (jrnn reverses time while staging, which"
                    + " turns right padding into left padding, which cuDNN's sequence lengths cannot express)");
        }
        int[] lengths = mask.rightPaddedLengths();
        if (lengths == null) {
            return new SequenceLengths(null, null, "the mask is not right-padded (a valid step follows a padded one),"
                    + " which cuDNN's per-sample sequence lengths cannot express");
        }
        int[] cudnnLengths = new int[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            cudnnLengths[i] = Math.max(1, lengths[i]);
        }
        return new SequenceLengths(lengths, cudnnLengths, null);
    }
}
