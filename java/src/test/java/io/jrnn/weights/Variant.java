package io.jrnn.weights;

import java.util.Random;

/** The Keras layer variants a weight layout may or may not represent. */
enum Variant {
    SIMPLE_RNN(CellType.SIMPLE_RNN, false, true),
    SIMPLE_RNN_NO_BIAS(CellType.SIMPLE_RNN, false, false),
    LSTM(CellType.LSTM, false, true),
    LSTM_NO_BIAS(CellType.LSTM, false, false),
    GRU_RESET_BEFORE(CellType.GRU, false, true),
    GRU_RESET_BEFORE_NO_BIAS(CellType.GRU, false, false),
    GRU_RESET_AFTER(CellType.GRU, true, true),
    GRU_RESET_AFTER_NO_BIAS(CellType.GRU, true, false);

    final CellType type;
    final boolean resetAfter;
    final boolean useBias;

    Variant(CellType type, boolean resetAfter, boolean useBias) {
        this.type = type;
        this.resetAfter = resetAfter;
        this.useBias = useBias;
    }

    /** Random Keras standard weights of this variant, values uniform in [-1, 1). */
    KerasRnnWeights random(Random random, int inputSize, int hiddenSize) {
        int width = type.gateCount() * hiddenSize;
        float[] bias = useBias ? uniform(random, (resetAfter ? 2 : 1) * width) : null;
        return KerasRnnWeights.of(type, resetAfter, inputSize, hiddenSize, uniform(random, inputSize * width),
                uniform(random, hiddenSize * width), bias);
    }

    static float[] uniform(Random random, int length) {
        float[] values = new float[length];
        for (int k = 0; k < length; k++) {
            values[k] = random.nextFloat() * 2f - 1f;
        }
        return values;
    }

    static double[] uniformDouble(Random random, int length) {
        double[] values = new double[length];
        for (int k = 0; k < length; k++) {
            values[k] = random.nextDouble() * 2 - 1;
        }
        return values;
    }
}
