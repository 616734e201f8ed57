package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OnnxRnnWeightsTest {

    @Test
    void lstmGateOrderIsIofc() {
        // Keras blocks i=1, f=2, c=3, o=4 (C = H = 1).
        KerasRnnWeights keras = KerasRnnWeights.of(CellType.LSTM, false, 1, 1, new float[] {1, 2, 3, 4},
                new float[] {5, 6, 7, 8}, new float[] {9, 10, 11, 12});

        OnnxRnnWeights onnx = OnnxRnnWeights.fromKeras(keras);

        assertArrayEquals(new float[] {1, 4, 2, 3}, onnx.w());
        assertArrayEquals(new float[] {5, 8, 6, 7}, onnx.r());
        assertArrayEquals(new float[] {9, 12, 10, 11, 0, 0, 0, 0}, onnx.b());
        assertFalse(onnx.linearBeforeReset());
    }

    @Test
    void lstmBiasesAreSummedInKerasOrder() {
        // ONNX B = Wb (i, o, f, c) ‖ Rb (i, o, f, c).
        OnnxRnnWeights onnx = new OnnxRnnWeights(new float[] {1, 4, 2, 3}, new float[] {5, 8, 6, 7},
                new float[] {1, 2, 3, 4, 10, 20, 30, 40}, false);
        KerasRnnWeights keras = onnx.toKeras(CellType.LSTM, 1, 1);
        assertArrayEquals(new float[] {1, 2, 3, 4}, keras.kernel());
        assertArrayEquals(new float[] {5, 6, 7, 8}, keras.recurrentKernel());
        // Keras i, f, c, o = ONNX 0, 2, 3, 1.
        assertArrayEquals(new float[] {11, 33, 44, 22}, keras.bias());
    }

    @Test
    void gruLinearBeforeResetFollowsResetAfter() {
        KerasRnnWeights after = Variant.GRU_RESET_AFTER.random(new Random(1), 2, 3);
        OnnxRnnWeights onnxAfter = OnnxRnnWeights.fromKeras(after);
        assertTrue(onnxAfter.linearBeforeReset());
        // z, r, h as Keras: B = [b_x ‖ b_h], which is the Keras [2, 3H] memory.
        assertArrayEquals(after.bias(), onnxAfter.b());

        KerasRnnWeights before = Variant.GRU_RESET_BEFORE.random(new Random(2), 2, 3);
        OnnxRnnWeights onnxBefore = OnnxRnnWeights.fromKeras(before);
        assertFalse(onnxBefore.linearBeforeReset());
        float[] expected = new float[18];
        System.arraycopy(before.bias(), 0, expected, 0, 9);
        assertArrayEquals(expected, onnxBefore.b());
        assertFalse(onnxBefore.toKeras(CellType.GRU, 2, 3).resetAfter());
    }

    @Test
    void resetBeforeGruSumsWbAndRb() {
        float[] b = {1, 2, 3, 10, 20, 30};
        OnnxRnnWeights onnx = new OnnxRnnWeights(new float[3], new float[3], b, false);
        assertArrayEquals(new float[] {11, 22, 33}, onnx.toKeras(CellType.GRU, 1, 1).bias());
        OnnxRnnWeights lbr = new OnnxRnnWeights(new float[3], new float[3], b, true);
        assertArrayEquals(b, lbr.toKeras(CellType.GRU, 1, 1).bias());
    }

    @Test
    void missingBStaysMissing() {
        KerasRnnWeights keras = Variant.SIMPLE_RNN_NO_BIAS.random(new Random(3), 3, 5);
        OnnxRnnWeights onnx = OnnxRnnWeights.fromKeras(keras);
        assertFalse(onnx.hasBias());
        assertEquals(keras, onnx.toKeras(CellType.SIMPLE_RNN, 3, 5));
    }

    @Test
    void badShapesAndAttributesAreRejected() {
        OnnxRnnWeights lstm = new OnnxRnnWeights(new float[60], new float[100], null, true);
        assertIllegalArgument(() -> lstm.toKeras(CellType.LSTM, 3, 5), "ONNX LSTM linear_before_reset",
                "expected false", "got true");
        OnnxRnnWeights gru = new OnnxRnnWeights(new float[45], new float[75], new float[15], true);
        assertIllegalArgument(() -> gru.toKeras(CellType.GRU, 3, 5), "ONNX GRU B", "[2*G*H]", "[30]", "got 15");
        OnnxRnnWeights rnn = new OnnxRnnWeights(new float[14], new float[25], null, false);
        assertIllegalArgument(() -> rnn.toKeras(CellType.SIMPLE_RNN, 3, 5), "ONNX RNN W", "[5, 3]", "15",
                "got 14");
    }
}
