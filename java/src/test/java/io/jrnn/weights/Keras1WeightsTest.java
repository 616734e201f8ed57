package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Keras1WeightsTest {
    private static final int[][] ONE_BY_ONE_LSTM = Keras1Weights.shapes(CellType.LSTM, 1, 1);

    @Test
    void lstmTwelveArraysAreStoredIcfo() {
        // W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o = 1 … 12.
        float[][] arrays = new float[12][];
        for (int k = 0; k < 12; k++) {
            arrays[k] = new float[] {k + 1};
        }

        KerasRnnWeights keras = Keras1Weights.toKeras(CellType.LSTM, arrays, ONE_BY_ONE_LSTM);

        // Keras i, f, c, o: arrays 0/6/3/9, 1/7/4/10, 2/8/5/11.
        assertArrayEquals(new float[] {1, 7, 4, 10}, keras.kernel());
        assertArrayEquals(new float[] {2, 8, 5, 11}, keras.recurrentKernel());
        assertArrayEquals(new float[] {3, 9, 6, 12}, keras.bias());
        assertArrayEquals(arrays, Keras1Weights.fromKeras(keras));
    }

    @Test
    void gruNineArraysAreZrhBlocks() {
        // C = 2, H = 1: W_z = [1, 2], U_z = [3], b_z = [4]; r: 5..8; h: 9..12.
        float[][] arrays = {{1, 2}, {3}, {4}, {5, 6}, {7}, {8}, {9, 10}, {11}, {12}};
        KerasRnnWeights keras = Keras1Weights.toKeras(CellType.GRU, arrays, Keras1Weights.shapes(CellType.GRU, 2, 1));
        assertFalse(keras.resetAfter());
        assertArrayEquals(new float[] {1, 5, 9, 2, 6, 10}, keras.kernel());
        assertArrayEquals(new float[] {3, 7, 11}, keras.recurrentKernel());
        assertArrayEquals(new float[] {4, 8, 12}, keras.bias());
    }

    @Test
    void fusedGpuListsAreTheKerasArrays() {
        KerasRnnWeights lstm = Variant.LSTM.random(new Random(1), 3, 5);
        KerasRnnWeights fromFused = Keras1Weights.toKeras(CellType.LSTM,
                new float[][] {lstm.kernel(), lstm.recurrentKernel(), lstm.bias()},
                new int[][] {{3, 20}, {5, 20}, {20}});
        assertEquals(lstm, fromFused);
    }

    @Test
    void simpleRnnHasThreeArrays() {
        KerasRnnWeights rnn = Variant.SIMPLE_RNN.random(new Random(2), 3, 5);
        float[][] arrays = Keras1Weights.fromKeras(rnn);
        assertEquals(3, arrays.length);
        assertEquals(rnn, Keras1Weights.toKeras(CellType.SIMPLE_RNN, arrays, Keras1Weights.shapes(CellType.SIMPLE_RNN,
                3, 5)));
    }

    @Test
    void wrongArrayCountNamesLayerExpectedAndActual() {
        assertIllegalArgument(() -> Keras1Weights.toKeras(CellType.LSTM, new float[11][], new int[11][]),
                "Keras 1 LSTM weights", "12 (per gate) or 3", "got 11");
        assertIllegalArgument(() -> Keras1Weights.toKeras(CellType.GRU, new float[12][], new int[12][]),
                "Keras 1 GRU", "9 (per gate)", "got 12");
        assertIllegalArgument(() -> Keras1Weights.toKeras(CellType.SIMPLE_RNN, new float[9][], new int[9][]),
                "Keras 1 SimpleRNN", "3 (W, U, b)", "got 9");
    }

    @Test
    void wrongShapeNamesTheArray() {
        int[][] shapes = Keras1Weights.shapes(CellType.LSTM, 3, 5);
        float[][] arrays = Keras1Weights.fromKeras(Variant.LSTM.random(new Random(3), 3, 5));
        shapes[6] = new int[] {5, 5};
        assertIllegalArgument(() -> Keras1Weights.toKeras(CellType.LSTM, arrays, shapes),
                "Keras 1 LSTM weight 6 (W_f)", "expected shape [3, 5]", "got [5, 5]");
        int[][] goodShapes = Keras1Weights.shapes(CellType.LSTM, 3, 5);
        arrays[2] = new float[4];
        assertIllegalArgument(() -> Keras1Weights.toKeras(CellType.LSTM, arrays, goodShapes),
                "weight 2 (b_i)", "expected 5 floats", "got 4 floats");
    }

    @Test
    void resetAfterGruHasNoKeras1Form() {
        assertIllegalArgument(() -> Keras1Weights.fromKeras(Variant.GRU_RESET_AFTER.random(new Random(4), 3, 5)),
                "Keras 1 GRU", "expected reset_after=False", "got reset_after=True");
    }

    @Test
    void perGateNamesInStoredOrder() {
        assertArrayEquals(new String[] {"W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f", "W_o", "U_o",
                "b_o"}, Keras1Weights.perGateNames(CellType.LSTM));
    }
}
