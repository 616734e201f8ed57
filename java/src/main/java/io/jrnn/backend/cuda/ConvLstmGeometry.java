package io.jrnn.backend.cuda;

import io.jrnn.backend.ConvLstmSpec;

/**
 * The arithmetic of one {@code ConvLSTM2D} input shape on cuDNN ({@link CudaConvLstmExecutor}),
 * channels-last throughout. cuDNN's legacy convolution pads symmetrically, while TensorFlow's
 * {@code 'same'} puts the odd extra cell at the bottom/right: cuDNN pads {@code ⌊P/2⌋} on both
 * sides and the source frame carries the remaining {@code P − 2⌊P/2⌋} (0 or 1) zero rows/columns
 * at its bottom/right ({@code extra*}). Then cuDNN's output size is exactly Keras's.
 *
 * <p>Input convolution: {@code [N·T, rows + extraRows, cols + extraCols, C]} →
 * {@code [N·T, outRows, outCols, 4F]}; recurrent convolution (stride 1, undilated, 'same'):
 * {@code [N, outRows + recurrentExtraRows, outCols + recurrentExtraCols, F]} → {@code [N, outRows, outCols, 4F]}.
 *
 * @param padTop             cuDNN's symmetric row padding of the input convolution
 * @param extraRows          zero rows appended to every input frame (0 or 1)
 * @param recurrentPadTop    cuDNN's symmetric row padding of the recurrent convolution
 * @param recurrentExtraRows zero rows appended to the recurrent operand frame (0 or 1)
 */
record ConvLstmGeometry(
        int batch,
        int steps,
        int rows,
        int cols,
        int channels,
        int filters,
        int outRows,
        int outCols,
        int padTop,
        int padLeft,
        int extraRows,
        int extraCols,
        int recurrentPadTop,
        int recurrentPadLeft,
        int recurrentExtraRows,
        int recurrentExtraCols) {

    /**
     * The geometry of input {@code [batch, steps, rows, cols, C]}.
     *
     * @throws IllegalArgumentException when the frame is smaller than the dilated kernel or a size
     *         exceeds what cuDNN's descriptors and one kernel launch can address
     */
    static ConvLstmGeometry of(ConvLstmSpec spec, int batch, int steps, int rows, int cols) {
        int outR = spec.outputRows(rows);
        int outC = spec.outputCols(cols);
        if (outR < 1 || outC < 1) {
            throw new IllegalArgumentException(spec.describe() + ": input frame " + rows + "x" + cols
                    + " is smaller than the dilated kernel");
        }
        int kr = spec.kernelRows();
        int kc = spec.kernelCols();
        int padTop = 0;
        int padLeft = 0;
        int extraRows = 0;
        int extraCols = 0;
        if (spec.samePadding()) {
            padTop = ConvLstmSpec.padBefore(rows, outR, kr, spec.strideRows(), spec.dilationRows());
            extraRows = ConvLstmSpec.padAfter(rows, outR, kr, spec.strideRows(), spec.dilationRows()) - padTop;
            padLeft = ConvLstmSpec.padBefore(cols, outC, kc, spec.strideCols(), spec.dilationCols());
            extraCols = ConvLstmSpec.padAfter(cols, outC, kc, spec.strideCols(), spec.dilationCols()) - padLeft;
        }
        int rPadTop = ConvLstmSpec.padBefore(outR, outR, kr, 1, 1);
        int rExtraRows = ConvLstmSpec.padAfter(outR, outR, kr, 1, 1) - rPadTop;
        int rPadLeft = ConvLstmSpec.padBefore(outC, outC, kc, 1, 1);
        int rExtraCols = ConvLstmSpec.padAfter(outC, outC, kc, 1, 1) - rPadLeft;
        ConvLstmGeometry g = new ConvLstmGeometry(batch, steps, rows, cols, spec.inputChannels(), spec.filters(), outR,
                outC, padTop, padLeft, extraRows, extraCols, rPadTop, rPadLeft, rExtraRows, rExtraCols);
        g.checkLimits(spec.describe());
        return g;
    }

    private void checkLimits(String who) {
        long images = (long) batch * steps;
        long[] sizes = {
            images * (rows + extraRows) * (cols + extraCols) * channels,
            images * outRows * outCols * 4L * filters,
            (long) batch * (outRows + recurrentExtraRows) * (outCols + recurrentExtraCols) * filters,
        };
        for (long s : sizes) {
            if (images > Integer.MAX_VALUE || s > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(who + ": input [" + batch + ", " + steps + ", " + rows + ", " + cols
                        + ", " + channels + "] is too large for one cuDNN convolution (" + s + " elements, at most "
                        + Integer.MAX_VALUE + ")");
            }
        }
    }

    /** Input frames {@code N·T}. */
    int images() {
        return batch * steps;
    }

    /** Whether the input frames need copying into a buffer with the extra bottom/right zeros. */
    boolean padsInput() {
        return extraRows > 0 || extraCols > 0;
    }

    /** Whether the recurrent convolution reads a padded copy of {@code h} instead of {@code h} itself. */
    boolean padsRecurrent() {
        return recurrentExtraRows > 0 || recurrentExtraCols > 0;
    }

    /** Floats of the input {@code [N, T, rows, cols, C]}. */
    long inputCount() {
        return (long) images() * rows * cols * channels;
    }

    /** Floats of the input convolution's source (the padded copy when {@link #padsInput()}). */
    long convSourceCount() {
        return (long) images() * convSourceRows() * convSourceCols() * channels;
    }

    int convSourceRows() {
        return rows + extraRows;
    }

    int convSourceCols() {
        return cols + extraCols;
    }

    /** Floats of one state frame set {@code [N, outRows, outCols, F]}. */
    long stateCount() {
        return (long) batch * frame();
    }

    /** Floats of one output frame {@code outRows·outCols·F}. */
    int frame() {
        return outRows * outCols * filters;
    }

    /** Floats of the input pre-activations {@code [N·T, outRows, outCols, 4F]}. */
    long projectionCount() {
        return (long) images() * outRows * outCols * 4L * filters;
    }

    /** Floats of one step's recurrent pre-activations {@code [N, outRows, outCols, 4F]}. */
    long recurrentProductCount() {
        return (long) batch * outRows * outCols * 4L * filters;
    }

    int operandRows() {
        return outRows + recurrentExtraRows;
    }

    int operandCols() {
        return outCols + recurrentExtraCols;
    }

    /** Floats of the recurrent convolution's source {@code [N, operandRows, operandCols, F]}. */
    long operandCount() {
        return (long) batch * operandRows() * operandCols() * filters;
    }

    /** cuDNN {@code (n, c, h, w)} of the input convolution's source. */
    int[] inputSourceDims() {
        return new int[] {images(), channels, convSourceRows(), convSourceCols()};
    }

    /** cuDNN {@code (n, c, h, w)} of the input convolution's result. */
    int[] projectionDims() {
        return new int[] {images(), 4 * filters, outRows, outCols};
    }

    /** cuDNN {@code (n, c, h, w)} of the recurrent convolution's source. */
    int[] operandDims() {
        return new int[] {batch, filters, operandRows(), operandCols()};
    }

    /** cuDNN {@code (n, c, h, w)} of the recurrent convolution's result. */
    int[] recurrentProductDims() {
        return new int[] {batch, 4 * filters, outRows, outCols};
    }

    /**
     * Keras's {@code HWIO} kernel {@code [kr, kc, in, out]} as cuDNN's {@code CUDNN_TENSOR_NHWC}
     * filter layout {@code KRSC}: {@code [out, kr, kc, in]}.
     */
    static float[] hwioToKrsc(float[] hwio, int kr, int kc, int in, int out) {
        if (hwio.length != kr * kc * in * out) {
            throw new IllegalArgumentException("HWIO kernel of " + kr + "x" + kc + "x" + in + "x" + out + " needs "
                    + (kr * kc * in * out) + " values, got " + hwio.length);
        }
        float[] krsc = new float[hwio.length];
        for (int a = 0; a < kr; a++) {
            for (int b = 0; b < kc; b++) {
                for (int q = 0; q < in; q++) {
                    int src = ((a * kc + b) * in + q) * out;
                    for (int o = 0; o < out; o++) {
                        krsc[((o * kr + a) * kc + b) * in + q] = hwio[src + o];
                    }
                }
            }
        }
        return krsc;
    }
}
