package io.jrnn.backend;

import io.jrnn.layers.Activation;
import java.util.Objects;

/**
 * Everything a backend needs to run one Keras {@code ConvLSTM2D} layer (spec §2.6) in
 * channels-last layout: input {@code [N, T, R, Cc, C]}, states and output frames
 * {@code [N, R', Cc', F]}. The layer converts {@code channels_first} at its boundary and handles
 * stateful storage; executors never see either.
 *
 * <p>Weights are Keras's, row-major: {@code kernel [kr, kc, C, 4F]} and
 * {@code recurrentKernel [kr, kc, F, 4F]} (HWIO, cross-correlation), {@code bias [4F]}
 * (materialised: zeros when the layer has {@code use_bias=false}); gate blocks i, f, c, o along the
 * last axis.
 *
 * @param layerName       for messages
 * @param samePadding     the input convolution pads TensorFlow-style {@code 'same'} (else {@code 'valid'})
 * @param goBackwards     consume time in reverse; outputs stay in processing order (spec §3.1)
 * @param returnSequences the output is {@code [N, T, R', Cc', F]} instead of {@code [N, R', Cc', F]}
 */
public record ConvLstmSpec(
        String layerName,
        int inputChannels,
        int filters,
        int kernelRows,
        int kernelCols,
        int strideRows,
        int strideCols,
        int dilationRows,
        int dilationCols,
        boolean samePadding,
        Activation activation,
        Activation recurrentActivation,
        boolean goBackwards,
        boolean returnSequences,
        float[] kernel,
        float[] recurrentKernel,
        float[] bias) {

    public ConvLstmSpec {
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(recurrentActivation, "recurrentActivation");
        if (inputChannels < 1 || filters < 1 || kernelRows < 1 || kernelCols < 1 || strideRows < 1 || strideCols < 1
                || dilationRows < 1 || dilationCols < 1) {
            throw new IllegalArgumentException(describe(layerName) + ": sizes must be >= 1, got C=" + inputChannels
                    + ", filters=" + filters + ", kernel=" + kernelRows + "x" + kernelCols + ", strides=" + strideRows
                    + "x" + strideCols + ", dilation=" + dilationRows + "x" + dilationCols);
        }
        long g = 4L * filters;
        check(layerName, "kernel", kernel, (long) kernelRows * kernelCols * inputChannels * g);
        check(layerName, "recurrent_kernel", recurrentKernel, (long) kernelRows * kernelCols * filters * g);
        check(layerName, "bias", bias, g);
    }

    private static void check(String layerName, String what, float[] values, long expected) {
        Objects.requireNonNull(values, what);
        if (values.length != expected) {
            throw new IllegalArgumentException(describe(layerName) + ": " + what + " must have " + expected
                    + " values, got " + values.length);
        }
    }

    private static String describe(String layerName) {
        return "ConvLSTM2D '" + layerName + "'";
    }

    /** {@code "ConvLSTM2D 'conv_lstm2d_1'"}, for messages. */
    public String describe() {
        return describe(layerName);
    }

    /** Output rows {@code R'} of the input convolution for {@code rows} input rows (spec §1.4). */
    public int outputRows(int rows) {
        return outputSize(rows, kernelRows, strideRows, dilationRows, samePadding);
    }

    /** Output columns {@code Cc'} of the input convolution for {@code cols} input columns (spec §1.4). */
    public int outputCols(int cols) {
        return outputSize(cols, kernelCols, strideCols, dilationCols, samePadding);
    }

    /** {@code valid}: {@code ⌊(in − (k−1)·d − 1)/s⌋ + 1} (may be {@code <= 0}); {@code same}: {@code ⌈in/s⌉}. */
    public static int outputSize(int in, int k, int s, int d, boolean same) {
        if (same) {
            return (in + s - 1) / s;
        }
        int span = (k - 1) * d + 1;
        return in < span ? 0 : (in - span) / s + 1;
    }

    /** TensorFlow's 'same' padding before the first cell: {@code ⌊P/2⌋}, {@code P = max((out−1)·s + (k−1)·d + 1 − in, 0)}. */
    public static int padBefore(int in, int out, int k, int s, int d) {
        return totalPadding(in, out, k, s, d) / 2;
    }

    /** TensorFlow's 'same' padding after the last cell: {@code P − ⌊P/2⌋} (the extra cell goes at the bottom/right). */
    public static int padAfter(int in, int out, int k, int s, int d) {
        int p = totalPadding(in, out, k, s, d);
        return p - p / 2;
    }

    private static int totalPadding(int in, int out, int k, int s, int d) {
        return Math.max((out - 1) * s + (k - 1) * d + 1 - in, 0);
    }
}
