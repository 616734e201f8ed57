package io.jrnn.io;

import java.util.function.DoubleUnaryOperator;

/**
 * Plain double-precision loops of the spec's equations (§2.3, §2.4), written apart from jrnn's
 * layers, for checking imported real files. Sequences are {@code [N][T][features]}; the result is in
 * processing order (reversed input time with {@code backwards}).
 */
final class HandRnn {
    private HandRnn() {
    }

    static final DoubleUnaryOperator SIGMOID = v -> 1 / (1 + Math.exp(-v));
    static final DoubleUnaryOperator HARD_SIGMOID_KERAS2 = v -> Math.max(0, Math.min(1, 0.2 * v + 0.5));

    /** Keras LSTM, kernel {@code [C, 4H]}, recurrent {@code [H, 4H]}, bias {@code [4H]}, gates i, f, c, o, tanh. */
    static double[][][] lstm(double[][][] x, float[] k, float[] r, float[] b, int units, boolean backwards,
            DoubleUnaryOperator sigma) {
        int n = x.length;
        int steps = x[0].length;
        int c = x[0][0].length;
        int g4 = 4 * units;
        double[][][] out = new double[n][steps][];
        for (int s = 0; s < n; s++) {
            double[] h = new double[units];
            double[] cell = new double[units];
            for (int k0 = 0; k0 < steps; k0++) {
                double[] xt = x[s][backwards ? steps - 1 - k0 : k0];
                double[] z = new double[g4];
                for (int j = 0; j < g4; j++) {
                    double acc = b[j];
                    for (int i = 0; i < c; i++) {
                        acc += xt[i] * k[i * g4 + j];
                    }
                    for (int i = 0; i < units; i++) {
                        acc += h[i] * r[i * g4 + j];
                    }
                    z[j] = acc;
                }
                double[] next = new double[units];
                for (int j = 0; j < units; j++) {
                    double ig = sigma.applyAsDouble(z[j]);
                    double fg = sigma.applyAsDouble(z[units + j]);
                    double gg = Math.tanh(z[2 * units + j]);
                    double og = sigma.applyAsDouble(z[3 * units + j]);
                    cell[j] = fg * cell[j] + ig * gg;
                    next[j] = og * Math.tanh(cell[j]);
                }
                h = next;
                out[s][k0] = h;
            }
        }
        return out;
    }

    /** Keras GRU with {@code reset_after=False}: kernel {@code [C, 3H]}, bias {@code [3H]}, gates z, r, h, tanh. */
    static double[][][] gruResetBefore(double[][][] x, float[] k, float[] r, float[] b, int units, boolean backwards,
            DoubleUnaryOperator sigma) {
        int n = x.length;
        int steps = x[0].length;
        int c = x[0][0].length;
        int g3 = 3 * units;
        double[][][] out = new double[n][steps][];
        for (int s = 0; s < n; s++) {
            double[] h = new double[units];
            for (int k0 = 0; k0 < steps; k0++) {
                double[] xt = x[s][backwards ? steps - 1 - k0 : k0];
                double[] xz = new double[g3];
                for (int j = 0; j < g3; j++) {
                    double acc = b[j];
                    for (int i = 0; i < c; i++) {
                        acc += xt[i] * k[i * g3 + j];
                    }
                    xz[j] = acc;
                }
                double[] z = new double[units];
                double[] rr = new double[units];
                for (int j = 0; j < units; j++) {
                    double az = xz[j];
                    double ar = xz[units + j];
                    for (int i = 0; i < units; i++) {
                        az += h[i] * r[i * g3 + j];
                        ar += h[i] * r[i * g3 + units + j];
                    }
                    z[j] = sigma.applyAsDouble(az);
                    rr[j] = sigma.applyAsDouble(ar);
                }
                double[] next = new double[units];
                for (int j = 0; j < units; j++) {
                    double ah = xz[2 * units + j];
                    for (int i = 0; i < units; i++) {
                        ah += rr[i] * h[i] * r[i * g3 + 2 * units + j];
                    }
                    next[j] = z[j] * h[j] + (1 - z[j]) * Math.tanh(ah);
                }
                h = next;
                out[s][k0] = h;
            }
        }
        return out;
    }

    /**
     * Keras LSTM under a mask with the canonical rule (spec §3.3): at a masked step {@code h} and
     * {@code c} are carried and the output is the previous processed output, or 0 with
     * {@code zeroOutputForMask}. {@code valid[n][t]} is in input time; the result is in processing order.
     */
    static double[][][] maskedLstm(double[][][] x, boolean[][] valid, float[] k, float[] r, float[] b, int units,
            boolean backwards, boolean zeroOutputForMask, DoubleUnaryOperator sigma) {
        int n = x.length;
        int steps = x[0].length;
        int c = x[0][0].length;
        int g4 = 4 * units;
        double[][][] out = new double[n][steps][];
        for (int s = 0; s < n; s++) {
            double[] h = new double[units];
            double[] cell = new double[units];
            double[] prev = new double[units];
            for (int k0 = 0; k0 < steps; k0++) {
                int t = backwards ? steps - 1 - k0 : k0;
                if (!valid[s][t]) {
                    out[s][k0] = zeroOutputForMask ? new double[units] : prev.clone();
                    prev = out[s][k0];
                    continue;
                }
                double[] xt = x[s][t];
                double[] z = new double[g4];
                for (int j = 0; j < g4; j++) {
                    double acc = b[j];
                    for (int i = 0; i < c; i++) {
                        acc += xt[i] * k[i * g4 + j];
                    }
                    for (int i = 0; i < units; i++) {
                        acc += h[i] * r[i * g4 + j];
                    }
                    z[j] = acc;
                }
                double[] nextC = new double[units];
                double[] next = new double[units];
                for (int j = 0; j < units; j++) {
                    double ig = sigma.applyAsDouble(z[j]);
                    double fg = sigma.applyAsDouble(z[units + j]);
                    double gg = Math.tanh(z[2 * units + j]);
                    double og = sigma.applyAsDouble(z[3 * units + j]);
                    nextC[j] = fg * cell[j] + ig * gg;
                    next[j] = og * Math.tanh(nextC[j]);
                }
                cell = nextC;
                h = next;
                out[s][k0] = h;
                prev = h;
            }
        }
        return out;
    }

    /** Bidirectional concat of a forward and a backward (processing-order) sequence, aligned to input time. */
    static double[][][] concatBidirectional(double[][][] fwd, double[][][] bwd) {
        int n = fwd.length;
        int steps = fwd[0].length;
        double[][][] out = new double[n][steps][];
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < steps; t++) {
                out[s][t] = concat(fwd[s][t], bwd[s][steps - 1 - t]);
            }
        }
        return out;
    }

    /** Bidirectional concat of the last outputs ({@code return_sequences=False}). */
    static double[][] concatLast(double[][][] fwd, double[][][] bwd) {
        double[][] out = new double[fwd.length][];
        int last = fwd[0].length - 1;
        for (int s = 0; s < fwd.length; s++) {
            out[s] = concat(fwd[s][last], bwd[s][last]);
        }
        return out;
    }

    static double[] concat(double[] a, double[] b) {
        double[] out = new double[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code act(x·K + b)} for one row. */
    static double[] dense(double[] x, float[] k, float[] b, DoubleUnaryOperator act) {
        int units = b.length;
        double[] out = new double[units];
        for (int j = 0; j < units; j++) {
            double acc = b[j];
            for (int i = 0; i < x.length; i++) {
                acc += x[i] * k[i * units + j];
            }
            out[j] = act.applyAsDouble(acc);
        }
        return out;
    }

    static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = Math.exp(z[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < z.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /**
     * A Keras CuDNN array set in standard layout, converted by the spec §2.5 rules directly: kernel
     * block {@code K_g[c][h] = S_g.flat[h·C + c]}, recurrent block {@code R_g = S_gᵀ}, LSTM bias
     * {@code b_W + b_R}. Returns {kernel, recurrent, bias}.
     */
    static float[][] fromCudnnLstm(float[] kernel, float[] recurrent, float[] bias, int inputSize, int units) {
        int gates = 4;
        int width = gates * units;
        float[] k = new float[kernel.length];
        float[] r = new float[recurrent.length];
        for (int g = 0; g < gates; g++) {
            // The stored [C, H] block, read row-major, is flat index h·C + c of the cuDNN matrix.
            float[] block = new float[inputSize * units];
            for (int c = 0; c < inputSize; c++) {
                for (int h = 0; h < units; h++) {
                    block[c * units + h] = kernel[c * width + g * units + h];
                }
            }
            for (int c = 0; c < inputSize; c++) {
                for (int h = 0; h < units; h++) {
                    k[c * width + g * units + h] = block[h * inputSize + c];
                }
            }
            for (int i = 0; i < units; i++) {
                for (int h = 0; h < units; h++) {
                    r[i * width + g * units + h] = recurrent[h * width + g * units + i];
                }
            }
        }
        float[] b = new float[width];
        for (int j = 0; j < width; j++) {
            b[j] = bias[j] + bias[width + j];
        }
        return new float[][] {k, r, b};
    }
}
