package io.jrnn.weights;

/**
 * An independent float64 implementation of one step of a Keras SimpleRNN, GRU or LSTM with tanh
 * activation and sigmoid recurrent activation, written from spec §2.2–2.4. Test-only oracle.
 */
final class KerasStep {
    private KerasStep() {
    }

    /**
     * @param c the cell state for LSTM, ignored otherwise
     * @return {@code {h'}} or, for LSTM, {@code {h', c'}}
     */
    static double[][] step(KerasRnnWeights w, double[] x, double[] h, double[] c) {
        int inputSize = w.inputSize();
        int hiddenSize = w.hiddenSize();
        int gateCount = w.gateCount();
        int width = gateCount * hiddenSize;
        float[] kernel = w.kernel();
        float[] recurrent = w.recurrentKernel();
        float[] bias = w.withZeroBiasIfAbsent().bias();
        // xK[k] = Σ_c x[c] K[c][k];  hR[k] = Σ_i h[i] R[i][k]  (k over all G·H columns)
        double[] xK = rowTimes(x, kernel, inputSize, width);
        double[] hR = rowTimes(h, recurrent, hiddenSize, width);
        double[] next = new double[hiddenSize];
        switch (w.type()) {
            case SIMPLE_RNN -> {
                for (int j = 0; j < hiddenSize; j++) {
                    next[j] = Math.tanh(xK[j] + bias[j] + hR[j]);
                }
                return new double[][] {next};
            }
            case LSTM -> {
                double[] nextCell = new double[hiddenSize];
                for (int j = 0; j < hiddenSize; j++) {
                    double i = sigmoid(xK[j] + hR[j] + bias[j]);
                    double f = sigmoid(xK[hiddenSize + j] + hR[hiddenSize + j] + bias[hiddenSize + j]);
                    double g = Math.tanh(xK[2 * hiddenSize + j] + hR[2 * hiddenSize + j] + bias[2 * hiddenSize + j]);
                    double o = sigmoid(xK[3 * hiddenSize + j] + hR[3 * hiddenSize + j] + bias[3 * hiddenSize + j]);
                    nextCell[j] = f * c[j] + i * g;
                    next[j] = o * Math.tanh(nextCell[j]);
                }
                return new double[][] {next, nextCell};
            }
            case GRU -> {
                int z = 0;
                int r = hiddenSize;
                int hh = 2 * hiddenSize;
                if (!w.resetAfter()) {
                    double[] reset = new double[hiddenSize];
                    double[] update = new double[hiddenSize];
                    for (int j = 0; j < hiddenSize; j++) {
                        update[j] = sigmoid(xK[z + j] + bias[z + j] + hR[z + j]);
                        reset[j] = sigmoid(xK[r + j] + bias[r + j] + hR[r + j]);
                    }
                    double[] resetH = new double[hiddenSize];
                    for (int i = 0; i < hiddenSize; i++) {
                        resetH[i] = reset[i] * h[i];
                    }
                    for (int j = 0; j < hiddenSize; j++) {
                        double candidateRecurrent = 0;
                        for (int i = 0; i < hiddenSize; i++) {
                            candidateRecurrent += resetH[i] * recurrent[i * width + hh + j];
                        }
                        double candidate = Math.tanh(xK[hh + j] + bias[hh + j] + candidateRecurrent);
                        next[j] = update[j] * h[j] + (1 - update[j]) * candidate;
                    }
                } else {
                    // bias [2, 3H]: b_x then b_h.
                    for (int j = 0; j < hiddenSize; j++) {
                        double update = sigmoid(xK[z + j] + bias[z + j] + hR[z + j] + bias[width + z + j]);
                        double reset = sigmoid(xK[r + j] + bias[r + j] + hR[r + j] + bias[width + r + j]);
                        double candidate = Math.tanh(xK[hh + j] + bias[hh + j]
                                + reset * (hR[hh + j] + bias[width + hh + j]));
                        next[j] = update * h[j] + (1 - update) * candidate;
                    }
                }
                return new double[][] {next};
            }
            default -> throw new AssertionError(w.type());
        }
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** {@code v [rows] · m [rows, cols]}. */
    static double[] rowTimes(double[] v, float[] m, int rows, int cols) {
        double[] product = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                product[k] += v[r] * m[r * cols + k];
            }
        }
        return product;
    }

    /** {@code m [rows, cols] · v [cols]}. */
    static double[] timesColumn(float[] m, int rows, int cols, double[] v) {
        double[] product = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                product[r] += m[r * cols + k] * v[k];
            }
        }
        return product;
    }

    /** The largest |a − b| over all state vectors. */
    static double maxDifference(double[][] a, double[][] b) {
        if (a.length != b.length) {
            throw new AssertionError("state counts differ: " + a.length + " vs " + b.length);
        }
        double max = 0;
        for (int s = 0; s < a.length; s++) {
            for (int j = 0; j < a[s].length; j++) {
                max = Math.max(max, Math.abs(a[s][j] - b[s][j]));
            }
        }
        return max;
    }
}
