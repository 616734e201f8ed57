package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KerasCudnnWeightsTest {

    @Test
    void kernelBlockIsTheCudnnMatrixReadAsHByC() {
        int inputSize = 2;
        int hiddenSize = 3;
        int gateCount = 4;
        int width = gateCount * hiddenSize;
        KerasCudnnWeights stored = KerasCudnnWeights.of(CellType.LSTM, inputSize, hiddenSize,
                Variant.uniform(new Random(1), inputSize * width), Variant.uniform(new Random(2), hiddenSize * width),
                Variant.uniform(new Random(3), 2 * width));
        float[] storedKernel = stored.kernel();

        float[] standard = stored.toKeras().kernel();

        for (int g = 0; g < gateCount; g++) {
            // S_g.flat[k] = storedKernel[(k / H)·G·H + g·H + k % H]
            float[] blockFlat = new float[inputSize * hiddenSize];
            for (int k = 0; k < blockFlat.length; k++) {
                blockFlat[k] = storedKernel[(k / hiddenSize) * width + g * hiddenSize + k % hiddenSize];
            }
            for (int c = 0; c < inputSize; c++) {
                for (int h = 0; h < hiddenSize; h++) {
                    assertEquals(blockFlat[h * inputSize + c], standard[c * width + g * hiddenSize + h],
                            "K_" + g + "[" + c + "][" + h + "]");
                }
            }
        }
    }

    @Test
    void kernelBlockLiteral() {
        // GRU, C = 2, H = 3: stored block z = [[0, 1, 2], [3, 4, 5]] → cuDNN [3, 2] = [[0, 1], [2, 3], [4, 5]]
        // → standard K_z = [[0, 2, 4], [1, 3, 5]]. Blocks r and h are 10+ and 20+.
        float[] stored = {0, 1, 2, 10, 11, 12, 20, 21, 22, 3, 4, 5, 13, 14, 15, 23, 24, 25};
        KerasCudnnWeights weights = KerasCudnnWeights.of(CellType.GRU, 2, 3, stored, new float[27], new float[18]);
        assertArrayEquals(new float[] {0, 2, 4, 10, 12, 14, 20, 22, 24, 1, 3, 5, 11, 13, 15, 21, 23, 25},
                weights.toKeras().kernel());
    }

    @Test
    void recurrentBlocksAreTransposed() {
        // LSTM, H = 2 (C = 1): stored recurrent [2, 8]; block g = [[a, b], [c, d]] → [[a, c], [b, d]].
        float[] stored = {1, 2, 5, 6, 9, 10, 13, 14, 3, 4, 7, 8, 11, 12, 15, 16};
        KerasCudnnWeights weights = KerasCudnnWeights.of(CellType.LSTM, 1, 2, new float[8], stored, new float[16]);
        assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11, 13, 15, 2, 4, 6, 8, 10, 12, 14, 16},
                weights.toKeras().recurrentKernel());
    }

    @Test
    void lstmBiasIsBwPlusBr() {
        float[] bias = {1, 2, 3, 4, 10, 20, 30, 40};
        KerasCudnnWeights weights = KerasCudnnWeights.of(CellType.LSTM, 1, 1, new float[4], new float[4], bias);
        KerasRnnWeights keras = weights.toKeras();
        assertFalse(keras.resetAfter());
        assertArrayEquals(new float[] {11, 22, 33, 44}, keras.bias());
        assertArrayEquals(new float[] {11, 22, 33, 44, 0, 0, 0, 0}, KerasCudnnWeights.fromKeras(keras).bias());
    }

    @Test
    void gruBiasIsTheSameFloatsAsTwoRows() {
        float[] bias = {1, 2, 3, 4, 5, 6};
        KerasRnnWeights keras = KerasCudnnWeights.of(CellType.GRU, 1, 1, new float[3], new float[3], bias).toKeras();
        assertTrue(keras.resetAfter());
        assertArrayEquals(bias, keras.bias());
    }

    @Test
    void unsupportedLayersAndBadShapesAreRejected() {
        assertIllegalArgument(() -> KerasCudnnWeights.fromKeras(Variant.SIMPLE_RNN.random(new Random(4), 3, 5)),
                "expected LSTM (CuDNNLSTM) or GRU (CuDNNGRU)", "got SIMPLE_RNN");
        assertIllegalArgument(() -> KerasCudnnWeights.fromKeras(Variant.GRU_RESET_BEFORE.random(new Random(5), 3, 5)),
                "CuDNNGRU", "expected reset_after=True", "got reset_after=False");
        assertIllegalArgument(() -> KerasCudnnWeights.of(CellType.LSTM, 3, 5, new float[60], new float[100],
                new float[20]), "Keras CuDNNLSTM bias", "[2*G*H]", "[40]", "got 20");
    }
}
