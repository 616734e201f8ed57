package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TfBasicCellWeightsTest {

    @Test
    void basicLstmCellFoldsForgetBiasAndReordersIjfo() {
        // kernel [C+H, 4H] = [2, 4] with C = H = 1: row x = (i, j, f, o) = 1..4, row h = 5..8.
        float[] kernel = {1, 2, 3, 4, 5, 6, 7, 8};
        float[] bias = {0.1f, 0.2f, 0.3f, 0.4f};
        TfBasicCellWeights tf = new TfBasicCellWeights(kernel, bias, TfBasicCellWeights.DEFAULT_FORGET_BIAS);

        KerasRnnWeights keras = tf.toKeras(CellType.LSTM, 1, 1);

        // Keras i, f, c(=j), o.
        assertArrayEquals(new float[] {1, 3, 2, 4}, keras.kernel());
        assertArrayEquals(new float[] {5, 7, 6, 8}, keras.recurrentKernel());
        assertArrayEquals(new float[] {0.1f, 0.3f + 1.0f, 0.2f, 0.4f}, keras.bias());
    }

    @Test
    void fromKerasSubtractsTheChosenForgetBias() {
        KerasRnnWeights keras = KerasRnnWeights.of(CellType.LSTM, false, 1, 1, new float[] {1, 3, 2, 4},
                new float[] {5, 7, 6, 8}, new float[] {0.5f, 2.0f, 0.25f, 0.75f});

        TfBasicCellWeights tf = TfBasicCellWeights.fromKeras(keras, 1.5f);

        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, tf.kernel());
        assertArrayEquals(new float[] {0.5f, 0.25f, 0.5f, 0.75f}, tf.bias());
        assertEquals(1.5f, tf.forgetBias());
        assertEquals(keras, tf.toKeras(CellType.LSTM, 1, 1));
    }

    @Test
    void zeroForgetBiasRoundTripIsBitwise() {
        KerasRnnWeights keras = Variant.LSTM.random(new Random(1), 3, 5);
        assertEquals(keras, TfBasicCellWeights.fromKeras(keras, 0f).toKeras(CellType.LSTM, 3, 5));
    }

    @Test
    void basicRnnCellSplitsTheKernelRows() {
        // C = 2, H = 1: rows x0, x1, h0.
        TfBasicCellWeights tf = new TfBasicCellWeights(new float[] {1, 2, 3}, new float[] {4}, 0f);
        KerasRnnWeights keras = tf.toKeras(CellType.SIMPLE_RNN, 2, 1);
        assertArrayEquals(new float[] {1, 2}, keras.kernel());
        assertArrayEquals(new float[] {3}, keras.recurrentKernel());
        assertArrayEquals(new float[] {4}, keras.bias());
    }

    @Test
    void unsupportedCellsAndBadShapesAreRejected() {
        KerasRnnWeights gru = Variant.GRU_RESET_BEFORE.random(new Random(2), 3, 5);
        assertIllegalArgument(() -> TfBasicCellWeights.fromKeras(gru, 1f), "expected LSTM", "got GRU");
        KerasRnnWeights rnn = Variant.SIMPLE_RNN.random(new Random(3), 3, 5);
        assertIllegalArgument(() -> TfBasicCellWeights.fromKeras(rnn, 1f), "BasicRNNCell forget_bias",
                "expected 0", "got 1.0");
        TfBasicCellWeights shortKernel = new TfBasicCellWeights(new float[60], new float[20], 1f);
        assertIllegalArgument(() -> shortKernel.toKeras(CellType.LSTM, 3, 5), "TF BasicLSTMCell kernel",
                "[C+H, G*H]", "[8, 20]", "160", "got 60");
        TfBasicCellWeights shortBias = new TfBasicCellWeights(new float[160], new float[5], 1f);
        assertIllegalArgument(() -> shortBias.toKeras(CellType.LSTM, 3, 5), "TF BasicLSTMCell bias", "[20]",
                "got 5");
        TfBasicCellWeights rnnWithForgetBias = new TfBasicCellWeights(new float[40], new float[5], 1f);
        assertIllegalArgument(() -> rnnWithForgetBias.toKeras(CellType.SIMPLE_RNN, 3, 5), "BasicRNNCell forget_bias",
                "expected 0", "got 1.0");
        assertIllegalArgument(() -> new TfBasicCellWeights(new float[160], new float[20], Float.NaN), "forget_bias",
                "finite", "NaN");
    }
}
