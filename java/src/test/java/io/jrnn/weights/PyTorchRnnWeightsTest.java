package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PyTorchRnnWeightsTest {

    @Test
    void gruWithTwoUnitsReordersRzNToZrHAndTransposes() {
        // weight_ih [6, 1]: rows r0 r1 z0 z1 n0 n1.
        float[] weightIh = {1, 2, 3, 4, 5, 6};
        // weight_hh [6, 2]: row "g j" = [10·row + 1, 10·row + 2] with rows r0=1, r1=2, z0=3, z1=4, n0=5, n1=6.
        float[] weightHh = {11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 61, 62};
        float[] biasIh = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
        float[] biasHh = {1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f};
        PyTorchRnnWeights torch = new PyTorchRnnWeights(weightIh, weightHh, biasIh, biasHh);

        KerasRnnWeights keras = torch.toKeras(CellType.GRU, 1, 2);

        assertTrue(keras.resetAfter());
        // Keras kernel [1, 6]: z0 z1 r0 r1 h0 h1.
        assertArrayEquals(new float[] {3, 4, 1, 2, 5, 6}, keras.kernel());
        // Keras recurrent [2, 6]: R[i][g·H + j] = weight_hh[row(g, j)][i].
        assertArrayEquals(new float[] {31, 41, 11, 21, 51, 61, 32, 42, 12, 22, 52, 62}, keras.recurrentKernel());
        // bias [2, 6]: b_x (z, r, h) then b_h (z, r, h).
        assertArrayEquals(new float[] {0.3f, 0.4f, 0.1f, 0.2f, 0.5f, 0.6f, 1.3f, 1.4f, 1.1f, 1.2f, 1.5f, 1.6f},
                keras.bias());
        assertEquals(torch, PyTorchRnnWeights.fromKeras(keras));
    }

    @Test
    void lstmTransposesAndSumsTheBiases() {
        // weight_ih [4, 2] rows i, f, g, o.
        float[] weightIh = {1, 2, 3, 4, 5, 6, 7, 8};
        float[] weightHh = {9, 10, 11, 12};
        PyTorchRnnWeights torch = new PyTorchRnnWeights(weightIh, weightHh, new float[] {1, 2, 3, 4},
                new float[] {10, 20, 30, 40});

        KerasRnnWeights keras = torch.toKeras(CellType.LSTM, 2, 1);

        assertArrayEquals(new float[] {1, 3, 5, 7, 2, 4, 6, 8}, keras.kernel());
        assertArrayEquals(new float[] {9, 10, 11, 12}, keras.recurrentKernel());
        assertArrayEquals(new float[] {11, 22, 33, 44}, keras.bias());

        PyTorchRnnWeights back = PyTorchRnnWeights.fromKeras(keras);
        assertArrayEquals(weightIh, back.weightIh());
        assertArrayEquals(new float[] {11, 22, 33, 44}, back.biasIh());
        assertArrayEquals(new float[4], back.biasHh());
    }

    @Test
    void simpleRnnSumsTheBiases() {
        PyTorchRnnWeights torch = new PyTorchRnnWeights(new float[] {1, 2}, new float[] {3, 4, 5, 6},
                new float[] {1, 2}, new float[] {0.5f, 0.25f});
        KerasRnnWeights keras = torch.toKeras(CellType.SIMPLE_RNN, 1, 2);
        assertArrayEquals(new float[] {1, 2}, keras.kernel());
        assertArrayEquals(new float[] {3, 5, 4, 6}, keras.recurrentKernel());
        assertArrayEquals(new float[] {1.5f, 2.25f}, keras.bias());
    }

    @Test
    void noBiasStaysNoBias() {
        KerasRnnWeights keras = Variant.LSTM_NO_BIAS.random(new Random(1), 3, 5);
        PyTorchRnnWeights torch = PyTorchRnnWeights.fromKeras(keras);
        assertFalse(torch.hasBias());
        assertNull(torch.biasIh());
        assertNull(torch.biasHh());
        assertEquals(keras, torch.toKeras(CellType.LSTM, 3, 5));
    }

    @Test
    void resetBeforeGruHasNoPyTorchForm() {
        KerasRnnWeights keras = Variant.GRU_RESET_BEFORE.random(new Random(2), 3, 5);
        assertIllegalArgument(() -> PyTorchRnnWeights.fromKeras(keras), "PyTorch", "no reset-before GRU",
                "expected reset_after=True", "got reset_after=False");
    }

    @Test
    void badShapesNameExpectedAndActual() {
        PyTorchRnnWeights lstm = new PyTorchRnnWeights(new float[60], new float[99], null, null);
        assertIllegalArgument(() -> lstm.toKeras(CellType.LSTM, 3, 5), "PyTorch nn.LSTM weight_hh", "[G*H, H]",
                "[20, 5]", "100", "got 99");
        PyTorchRnnWeights gru = new PyTorchRnnWeights(new float[45], new float[75], new float[14], new float[14]);
        assertIllegalArgument(() -> gru.toKeras(CellType.GRU, 3, 5), "nn.GRU bias_ih", "[15]", "got 14");
        assertIllegalArgument(() -> new PyTorchRnnWeights(new float[45], new float[75], new float[15], null),
                "both present or both null", "bias_hh null");
        assertIllegalArgument(() -> new PyTorchRnnWeights(new float[45], new float[75], new float[15],
                new float[14]), "bias_hh", "length of bias_ih (15 floats)", "got 14");
        assertIllegalArgument(() -> new PyTorchRnnWeights(null, new float[75], null, null), "weight_ih null");
    }
}
