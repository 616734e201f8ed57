package io.jrnn.weights;

import static io.jrnn.weights.KerasStep.rowTimes;
import static io.jrnn.weights.KerasStep.sigmoid;
import static io.jrnn.weights.KerasStep.timesColumn;
import static io.jrnn.weights.Variant.uniform;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One weight layout under test: its converters, a random instance built through its own factory,
 * and one step written from <i>that library's</i> equations (spec §4.1), independent of the
 * converter code.
 */
record Format(
        String name,
        Predicate<Variant> supports,
        Function<KerasRnnWeights, Object> fromKeras,
        Function<Object, KerasRnnWeights> toKeras,
        RandomNative randomNative,
        NativeStep nativeStep,
        boolean keepsMissingBias,
        double roundTripTolerance) {

    interface RandomNative {
        Object create(Variant variant, Random random, int inputSize, int hiddenSize);
    }

    interface NativeStep {
        double[][] step(Object weights, double[] x, double[] h, double[] c);
    }

    @Override
    public String toString() {
        return name;
    }

    static final float TF_FORGET_BIAS = 1.0f;

    /** A format's weights with the type and sizes that live outside them (a loader knows these from the config). */
    record Shaped(Object weights, CellType type, boolean resetAfter, int inputSize, int hiddenSize) {
        static Shaped of(KerasRnnWeights keras, Object weights) {
            return new Shaped(weights, keras.type(), keras.resetAfter(), keras.inputSize(), keras.hiddenSize());
        }

        static Shaped of(Variant variant, int inputSize, int hiddenSize, Object weights) {
            return new Shaped(weights, variant.type, variant.resetAfter, inputSize, hiddenSize);
        }
    }

    static final Format PYTORCH = new Format("PyTorch",
            v -> !(v.type == CellType.GRU && !v.resetAfter),
            k -> Shaped.of(k, PyTorchRnnWeights.fromKeras(k)),
            n -> {
                Shaped s = (Shaped) n;
                return ((PyTorchRnnWeights) s.weights()).toKeras(s.type(), s.inputSize(), s.hiddenSize());
            },
            (v, random, c, h) -> {
                int width = v.type.gateCount() * h;
                return Shaped.of(v, c, h, new PyTorchRnnWeights(uniform(random, width * c), uniform(random, width * h),
                        v.useBias ? uniform(random, width) : null, v.useBias ? uniform(random, width) : null));
            },
            (n, x, h, c) -> torchStep((Shaped) n, x, h, c),
            true, 0);

    static final Format ONNX = new Format("ONNX",
            v -> true,
            k -> Shaped.of(k, OnnxRnnWeights.fromKeras(k)),
            n -> {
                Shaped s = (Shaped) n;
                return ((OnnxRnnWeights) s.weights()).toKeras(s.type(), s.inputSize(), s.hiddenSize());
            },
            (v, random, c, h) -> {
                int width = v.type.gateCount() * h;
                return Shaped.of(v, c, h, new OnnxRnnWeights(uniform(random, width * c), uniform(random, width * h),
                        v.useBias ? uniform(random, 2 * width) : null, v.resetAfter));
            },
            (n, x, h, c) -> onnxStep((Shaped) n, x, h, c),
            true, 0);

    static final Format TF_BASIC = new Format("TF basic cell",
            v -> v.type != CellType.GRU,
            k -> Shaped.of(k, TfBasicCellWeights.fromKeras(k, k.type() == CellType.LSTM ? TF_FORGET_BIAS : 0f)),
            n -> {
                Shaped s = (Shaped) n;
                return ((TfBasicCellWeights) s.weights()).toKeras(s.type(), s.inputSize(), s.hiddenSize());
            },
            (v, random, c, h) -> {
                int width = v.type.gateCount() * h;
                float forgetBias = v.type == CellType.LSTM ? 0.5f + random.nextFloat() : 0f;
                return Shaped.of(v, c, h, new TfBasicCellWeights(uniform(random, (c + h) * width),
                        uniform(random, width), forgetBias));
            },
            (n, x, h, c) -> tfStep((Shaped) n, x, h, c),
            false, 1e-6);

    static final Format CUDNN = new Format("cuDNN",
            v -> !(v.type == CellType.GRU && !v.resetAfter),
            CudnnRnnWeights::fromKeras,
            n -> ((CudnnRnnWeights) n).toKeras(),
            Format::randomCudnn,
            (n, x, h, c) -> cudnnStep((CudnnRnnWeights) n, x, h, c),
            false, 0);

    /** cuDNN through a flat weight space packed at shuffled, gapped offsets and read back. */
    static final Format CUDNN_PACKED = new Format("cuDNN packed",
            CUDNN.supports,
            k -> repack(CudnnRnnWeights.fromKeras(k)),
            n -> ((CudnnRnnWeights) n).toKeras(),
            (v, random, c, h) -> repack(randomCudnn(v, random, c, h)),
            (n, x, h, c) -> cudnnStep((CudnnRnnWeights) n, x, h, c),
            false, 0);

    static final Format KERAS_CUDNN = new Format("Keras CuDNN layer",
            v -> v.type == CellType.LSTM || (v.type == CellType.GRU && v.resetAfter),
            KerasCudnnWeights::fromKeras,
            n -> ((KerasCudnnWeights) n).toKeras(),
            (v, random, c, h) -> {
                int width = v.type.gateCount() * h;
                return KerasCudnnWeights.of(v.type, c, h, uniform(random, c * width), uniform(random, h * width),
                        uniform(random, 2 * width));
            },
            (n, x, h, c) -> kerasCudnnStep((KerasCudnnWeights) n, x, h, c),
            false, 0);

    static final Format ONEDNN = new Format("oneDNN",
            v -> true,
            k -> Shaped.of(k, OneDnnRnnWeights.fromKeras(k)),
            n -> {
                Shaped s = (Shaped) n;
                return ((OneDnnRnnWeights) s.weights()).toKeras(OneDnnCell.of(s.type(), s.resetAfter()),
                        s.inputSize(), s.hiddenSize());
            },
            (v, random, c, h) -> {
                OneDnnCell cell = OneDnnCell.of(v.type, v.resetAfter);
                int width = cell.gateCount() * h;
                return Shaped.of(v, c, h, new OneDnnRnnWeights(uniform(random, c * width), uniform(random, h * width),
                        uniform(random, cell.biasGateCount() * h)));
            },
            (n, x, h, c) -> oneDnnStep((Shaped) n, x, h, c),
            false, 0);

    static final Format KERAS1 = new Format("Keras 1 per-gate",
            v -> !v.resetAfter,
            k -> Shaped.of(k, Keras1Weights.fromKeras(k)),
            n -> {
                Shaped s = (Shaped) n;
                return Keras1Weights.toKeras(s.type(), (float[][]) s.weights(),
                        Keras1Weights.shapes(s.type(), s.inputSize(), s.hiddenSize()));
            },
            (v, random, c, h) -> {
                int[][] shapes = Keras1Weights.shapes(v.type, c, h);
                float[][] arrays = new float[shapes.length][];
                for (int k = 0; k < shapes.length; k++) {
                    arrays[k] = uniform(random, shapes[k].length == 1 ? shapes[k][0] : shapes[k][0] * shapes[k][1]);
                }
                return Shaped.of(v, c, h, arrays);
            },
            (n, x, h, c) -> keras1Step((Shaped) n, x, h, c),
            false, 0);

    static final List<Format> ALL = List.of(PYTORCH, ONNX, TF_BASIC, CUDNN, CUDNN_PACKED, KERAS_CUDNN, ONEDNN, KERAS1);

    // ---- Conversions that need a little glue ------------------------------------------------------

    static CudnnRnnWeights randomCudnn(Variant v, Random random, int c, int h) {
        int gateCount = v.type.gateCount();
        float[][] matrices = new float[2 * gateCount][];
        float[][] biases = new float[2 * gateCount][];
        for (int id = 0; id < 2 * gateCount; id++) {
            matrices[id] = uniform(random, h * (id < gateCount ? c : h));
            biases[id] = uniform(random, h);
        }
        return CudnnRnnWeights.of(v.type, c, h, matrices, biases);
    }

    /** Packs at reversed IDs with a gap of 3 floats between entries, then unpacks. */
    static CudnnRnnWeights repack(CudnnRnnWeights weights) {
        CellType type = weights.type();
        int c = weights.inputSize();
        int h = weights.hiddenSize();
        int idCount = 2 * type.gateCount();
        long[] matrixOffsets = new long[idCount];
        long[] biasOffsets = new long[idCount];
        long at = 5;
        for (int id = idCount - 1; id >= 0; id--) {
            biasOffsets[id] = at;
            at += h + 3;
            matrixOffsets[id] = at;
            at += (long) h * (id < type.gateCount() ? c : h) + 3;
        }
        float[] weightSpace = new float[(int) at];
        java.util.Arrays.fill(weightSpace, Float.NaN);
        weights.packInto(weightSpace, matrixOffsets, biasOffsets);
        return CudnnRnnWeights.unpackFrom(type, c, h, weightSpace, matrixOffsets, biasOffsets);
    }

    // ---- Native equations (spec §4.1), float64 ----------------------------------------------------

    private static double[] block(double[] v, int gate, int hiddenSize) {
        return java.util.Arrays.copyOfRange(v, gate * hiddenSize, (gate + 1) * hiddenSize);
    }

    private static double[] toDouble(float[] v, int length) {
        double[] d = new double[length];
        for (int k = 0; k < length && v != null; k++) {
            d[k] = v[k];
        }
        return d;
    }

    private static double[] plus(double[] a, double[] b) {
        double[] sum = new double[a.length];
        for (int k = 0; k < a.length; k++) {
            sum[k] = a[k] + b[k];
        }
        return sum;
    }

    /** LSTM from pre-activations in the order i, f, c, o. */
    private static double[][] lstm(double[] i, double[] f, double[] g, double[] o, double[] c) {
        int hiddenSize = i.length;
        double[] nextH = new double[hiddenSize];
        double[] nextC = new double[hiddenSize];
        for (int j = 0; j < hiddenSize; j++) {
            nextC[j] = sigmoid(f[j]) * c[j] + sigmoid(i[j]) * Math.tanh(g[j]);
            nextH[j] = sigmoid(o[j]) * Math.tanh(nextC[j]);
        }
        return new double[][] {nextH, nextC};
    }

    private static double[][] tanhState(double[] pre) {
        double[] next = new double[pre.length];
        for (int j = 0; j < pre.length; j++) {
            next[j] = Math.tanh(pre[j]);
        }
        return new double[][] {next};
    }

    /** {@code h' = (1 − z)·candidate + z·h}. */
    private static double[][] interpolate(double[] zPre, double[] candidate, double[] h) {
        double[] next = new double[h.length];
        for (int j = 0; j < h.length; j++) {
            double z = sigmoid(zPre[j]);
            next[j] = (1 - z) * candidate[j] + z * h[j];
        }
        return new double[][] {next};
    }

    /** PyTorch nn.RNN / nn.LSTM (i,f,g,o) / nn.GRU (r,z,n) docs equations. */
    static double[][] torchStep(Shaped s, double[] x, double[] h, double[] c) {
        PyTorchRnnWeights n = (PyTorchRnnWeights) s.weights();
        int hs = s.hiddenSize();
        int width = s.type().gateCount() * hs;
        double[] ih = plus(timesColumn(n.weightIh(), width, s.inputSize(), x), toDouble(n.biasIh(), width));
        double[] hh = plus(timesColumn(n.weightHh(), width, hs, h), toDouble(n.biasHh(), width));
        switch (s.type()) {
            case SIMPLE_RNN:
                return tanhState(plus(ih, hh));
            case LSTM: {
                double[] all = plus(ih, hh);
                return lstm(block(all, 0, hs), block(all, 1, hs), block(all, 2, hs), block(all, 3, hs), c);
            }
            default: {
                double[] rPre = plus(block(ih, 0, hs), block(hh, 0, hs));
                double[] zPre = plus(block(ih, 1, hs), block(hh, 1, hs));
                double[] candidate = new double[hs];
                for (int j = 0; j < hs; j++) {
                    candidate[j] = Math.tanh(ih[2 * hs + j] + sigmoid(rPre[j]) * hh[2 * hs + j]);
                }
                return interpolate(zPre, candidate, h);
            }
        }
    }

    /** ONNX RNN / LSTM (i,o,f,c, no peepholes) / GRU (z,r,h, linear_before_reset) operator equations. */
    static double[][] onnxStep(Shaped s, double[] x, double[] h, double[] c) {
        OnnxRnnWeights n = (OnnxRnnWeights) s.weights();
        int hs = s.hiddenSize();
        int width = s.type().gateCount() * hs;
        double[] b = toDouble(n.b(), 2 * width);
        double[] wb = java.util.Arrays.copyOfRange(b, 0, width);
        double[] rb = java.util.Arrays.copyOfRange(b, width, 2 * width);
        double[] xw = timesColumn(n.w(), width, s.inputSize(), x);
        double[] hr = timesColumn(n.r(), width, hs, h);
        switch (s.type()) {
            case SIMPLE_RNN:
                return tanhState(plus(plus(xw, hr), plus(wb, rb)));
            case LSTM: {
                double[] all = plus(plus(xw, hr), plus(wb, rb));
                // i, o, f, c
                return lstm(block(all, 0, hs), block(all, 2, hs), block(all, 3, hs), block(all, 1, hs), c);
            }
            default: {
                double[] zPre = plus(plus(block(xw, 0, hs), block(hr, 0, hs)), plus(block(wb, 0, hs), block(rb, 0, hs)));
                double[] rPre = plus(plus(block(xw, 1, hs), block(hr, 1, hs)), plus(block(wb, 1, hs), block(rb, 1, hs)));
                double[] candidate = new double[hs];
                if (n.linearBeforeReset()) {
                    for (int j = 0; j < hs; j++) {
                        candidate[j] = Math.tanh(xw[2 * hs + j] + sigmoid(rPre[j]) * (hr[2 * hs + j] + rb[2 * hs + j])
                                + wb[2 * hs + j]);
                    }
                } else {
                    double[] resetH = new double[hs];
                    for (int j = 0; j < hs; j++) {
                        resetH[j] = sigmoid(rPre[j]) * h[j];
                    }
                    float[] r = n.r();
                    for (int j = 0; j < hs; j++) {
                        double recurrent = 0;
                        for (int i = 0; i < hs; i++) {
                            recurrent += r[(2 * hs + j) * hs + i] * resetH[i];
                        }
                        candidate[j] = Math.tanh(xw[2 * hs + j] + recurrent + rb[2 * hs + j] + wb[2 * hs + j]);
                    }
                }
                return interpolate(zPre, candidate, h);
            }
        }
    }

    /** TF1 BasicRNNCell / BasicLSTMCell (i, j, f, o; forget_bias added every step). */
    static double[][] tfStep(Shaped s, double[] x, double[] h, double[] c) {
        TfBasicCellWeights n = (TfBasicCellWeights) s.weights();
        int hs = s.hiddenSize();
        int width = s.type().gateCount() * hs;
        double[] xh = new double[x.length + hs];
        System.arraycopy(x, 0, xh, 0, x.length);
        System.arraycopy(h, 0, xh, x.length, hs);
        double[] all = plus(rowTimes(xh, n.kernel(), x.length + hs, width), toDouble(n.bias(), width));
        if (s.type() == CellType.SIMPLE_RNN) {
            return tanhState(all);
        }
        double[] i = block(all, 0, hs);
        double[] j = block(all, 1, hs);
        double[] f = block(all, 2, hs);
        double[] o = block(all, 3, hs);
        double[] nextH = new double[hs];
        double[] nextC = new double[hs];
        for (int k = 0; k < hs; k++) {
            nextC[k] = c[k] * sigmoid(f[k] + n.forgetBias()) + sigmoid(i[k]) * Math.tanh(j[k]);
            nextH[k] = Math.tanh(nextC[k]) * sigmoid(o[k]);
        }
        return new double[][] {nextH, nextC};
    }

    /** cuDNN: per linLayerID {@code W·x + b_W}, {@code R·h + b_R}; LSTM i,f,c,o; GRU r,z,h reset-after. */
    static double[][] cudnnStep(CudnnRnnWeights n, double[] x, double[] h, double[] c) {
        int hs = n.hiddenSize();
        int gateCount = n.type().gateCount();
        double[][] input = new double[gateCount][];
        double[][] recurrent = new double[gateCount][];
        for (int g = 0; g < gateCount; g++) {
            input[g] = plus(timesColumn(n.matrix(g), hs, n.inputSize(), x), toDouble(n.bias(g), hs));
            recurrent[g] = plus(timesColumn(n.matrix(gateCount + g), hs, hs, h), toDouble(n.bias(gateCount + g), hs));
        }
        return cudnnEquations(n.type(), input, recurrent, h, c, new int[] {0, 1, 2, 3}, new int[] {0, 1, 2});
    }

    /**
     * cuDNN's equations given per-gate {@code W·x + b_W} and {@code R·h + b_R}.
     *
     * @param lstmGates where i, f, c, o are
     * @param gruGates  where r, z, h are
     */
    private static double[][] cudnnEquations(CellType type, double[][] input, double[][] recurrent, double[] h,
            double[] c, int[] lstmGates, int[] gruGates) {
        switch (type) {
            case SIMPLE_RNN:
                return tanhState(plus(input[0], recurrent[0]));
            case LSTM:
                return lstm(plus(input[lstmGates[0]], recurrent[lstmGates[0]]),
                        plus(input[lstmGates[1]], recurrent[lstmGates[1]]),
                        plus(input[lstmGates[2]], recurrent[lstmGates[2]]),
                        plus(input[lstmGates[3]], recurrent[lstmGates[3]]), c);
            default: {
                int rGate = gruGates[0];
                int zGate = gruGates[1];
                int hGate = gruGates[2];
                double[] rPre = plus(input[rGate], recurrent[rGate]);
                double[] candidate = new double[h.length];
                for (int j = 0; j < h.length; j++) {
                    candidate[j] = Math.tanh(input[hGate][j] + sigmoid(rPre[j]) * recurrent[hGate][j]);
                }
                return interpolate(plus(input[zGate], recurrent[zGate]), candidate, h);
            }
        }
    }

    /**
     * A Keras CuDNNLSTM / CuDNNGRU as the layer runs it: each stored block's row-major floats handed
     * to cuDNN unchanged as {@code [H, in]} matrices; biases {@code b_W ‖ b_R}; Keras gate order.
     */
    static double[][] kerasCudnnStep(KerasCudnnWeights n, double[] x, double[] h, double[] c) {
        int hs = n.hiddenSize();
        int cs = n.inputSize();
        int gateCount = n.type().gateCount();
        int width = gateCount * hs;
        float[] kernel = n.kernel();
        float[] recurrentKernel = n.recurrentKernel();
        float[] bias = n.bias();
        double[][] input = new double[gateCount][];
        double[][] recurrent = new double[gateCount][];
        for (int g = 0; g < gateCount; g++) {
            // Gather block g row-major: that flat array is the cuDNN matrix.
            float[] inputMatrix = new float[cs * hs];
            for (int row = 0; row < cs; row++) {
                for (int col = 0; col < hs; col++) {
                    inputMatrix[row * hs + col] = kernel[row * width + g * hs + col];
                }
            }
            float[] recurrentMatrix = new float[hs * hs];
            for (int row = 0; row < hs; row++) {
                for (int col = 0; col < hs; col++) {
                    recurrentMatrix[row * hs + col] = recurrentKernel[row * width + g * hs + col];
                }
            }
            double[] inputBias = new double[hs];
            double[] recurrentBias = new double[hs];
            for (int j = 0; j < hs; j++) {
                inputBias[j] = bias[g * hs + j];
                recurrentBias[j] = bias[width + g * hs + j];
            }
            input[g] = plus(timesColumn(inputMatrix, hs, cs, x), inputBias);
            recurrent[g] = plus(timesColumn(recurrentMatrix, hs, hs, h), recurrentBias);
        }
        // Keras order: LSTM i,f,c,o; GRU z,r,h → r is 1, z is 0, h is 2.
        return cudnnEquations(n.type(), input, recurrent, h, c, new int[] {0, 1, 2, 3}, new int[] {1, 0, 2});
    }

    /** oneDNN vanilla / lstm / gru / lbr_gru with ldigo weights and ldgo bias (developer guide). */
    static double[][] oneDnnStep(Shaped s, double[] x, double[] h, double[] c) {
        OneDnnRnnWeights n = (OneDnnRnnWeights) s.weights();
        int hs = s.hiddenSize();
        OneDnnCell cell = OneDnnCell.of(s.type(), s.resetAfter());
        int width = cell.gateCount() * hs;
        float[] weightsIter = n.weightsIter();
        // ldigo: [i][g][o] → x·W over i gives [g][o].
        double[] layer = rowTimes(x, n.weightsLayer(), s.inputSize(), width);
        double[] iter = rowTimes(h, weightsIter, hs, width);
        double[] bias = toDouble(n.bias(), cell.biasGateCount() * hs);
        switch (cell) {
            case VANILLA:
                return tanhState(plus(plus(layer, iter), bias));
            case LSTM: {
                double[] all = plus(plus(layer, iter), bias);
                return lstm(block(all, 0, hs), block(all, 1, hs), block(all, 2, hs), block(all, 3, hs), c);
            }
            case GRU: {
                double[] uPre = plus(plus(block(layer, 0, hs), block(iter, 0, hs)), block(bias, 0, hs));
                double[] rPre = plus(plus(block(layer, 1, hs), block(iter, 1, hs)), block(bias, 1, hs));
                double[] resetH = new double[hs];
                for (int j = 0; j < hs; j++) {
                    resetH[j] = sigmoid(rPre[j]) * h[j];
                }
                double[] candidate = new double[hs];
                for (int o = 0; o < hs; o++) {
                    double recurrent = 0;
                    for (int i = 0; i < hs; i++) {
                        recurrent += resetH[i] * weightsIter[i * width + 2 * hs + o];
                    }
                    candidate[o] = Math.tanh(layer[2 * hs + o] + recurrent + bias[2 * hs + o]);
                }
                return interpolate(uPre, candidate, h);
            }
            default: {
                double[] uPre = plus(plus(block(layer, 0, hs), block(iter, 0, hs)), block(bias, 0, hs));
                double[] rPre = plus(plus(block(layer, 1, hs), block(iter, 1, hs)), block(bias, 1, hs));
                double[] candidate = new double[hs];
                for (int o = 0; o < hs; o++) {
                    candidate[o] = Math.tanh(layer[2 * hs + o] + sigmoid(rPre[o]) * (iter[2 * hs + o] + bias[3 * hs + o])
                            + bias[2 * hs + o]);
                }
                return interpolate(uPre, candidate, h);
            }
        }
    }

    /** Keras 1 per-gate equations (spec §2.10 with every mask 1): arrays in stored order. */
    static double[][] keras1Step(Shaped s, double[] x, double[] h, double[] c) {
        int cs = s.inputSize();
        int hs = s.hiddenSize();
        float[][] a = (float[][]) s.weights();
        // gate k (stored order): x·W_k + b_k + h·U_k
        java.util.function.IntFunction<double[]> pre = k -> plus(plus(rowTimes(x, a[3 * k], cs, hs),
                toDouble(a[3 * k + 2], hs)), rowTimes(h, a[3 * k + 1], hs, hs));
        switch (s.type()) {
            case SIMPLE_RNN:
                return tanhState(pre.apply(0));
            case LSTM:
                // stored i, c, f, o
                return lstm(pre.apply(0), pre.apply(2), pre.apply(1), pre.apply(3), c);
            default: {
                double[] zPre = pre.apply(0);
                double[] rPre = pre.apply(1);
                double[] resetH = new double[hs];
                for (int j = 0; j < hs; j++) {
                    resetH[j] = sigmoid(rPre[j]) * h[j];
                }
                double[] candidate = plus(plus(rowTimes(x, a[6], cs, hs), toDouble(a[8], hs)),
                        rowTimes(resetH, a[7], hs, hs));
                for (int j = 0; j < hs; j++) {
                    candidate[j] = Math.tanh(candidate[j]);
                }
                double[] next = new double[hs];
                for (int j = 0; j < hs; j++) {
                    double z = sigmoid(zPre[j]);
                    next[j] = z * h[j] + (1 - z) * candidate[j];
                }
                return new double[][] {next};
            }
        }
    }
}
