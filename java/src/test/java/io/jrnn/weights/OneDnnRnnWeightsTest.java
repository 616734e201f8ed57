package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OneDnnRnnWeightsTest {

    @Test
    void kerasKernelsAreAlreadyLdigo() {
        for (Variant variant : Variant.values()) {
            KerasRnnWeights keras = variant.random(new Random(variant.ordinal()), 3, 5);
            OneDnnRnnWeights oneDnn = OneDnnRnnWeights.fromKeras(keras);
            assertArrayEquals(keras.kernel(), oneDnn.weightsLayer());
            assertArrayEquals(keras.recurrentKernel(), oneDnn.weightsIter());
            assertEquals(OneDnnCell.of(variant.type, variant.resetAfter).biasGateCount() * 5, oneDnn.bias().length);
        }
    }

    @Test
    void cellPerVariant() {
        assertEquals(OneDnnCell.VANILLA, OneDnnCell.of(CellType.SIMPLE_RNN, false));
        assertEquals(OneDnnCell.LSTM, OneDnnCell.of(CellType.LSTM, false));
        assertEquals(OneDnnCell.GRU, OneDnnCell.of(CellType.GRU, false));
        assertEquals(OneDnnCell.LBR_GRU, OneDnnCell.of(CellType.GRU, true));
        assertEquals(4, OneDnnCell.LBR_GRU.biasGateCount());
        assertEquals(3, OneDnnCell.LBR_GRU.gateCount());
    }

    @Test
    void lbrGruBiasSumsUpdateAndResetAndKeepsBothCandidateBiases() {
        // H = 1: b_x = (z 1, r 2, h 3), b_h = (z 10, r 20, h 30).
        KerasRnnWeights keras = KerasRnnWeights.of(CellType.GRU, true, 1, 1, new float[3], new float[3],
                new float[] {1, 2, 3, 10, 20, 30});
        OneDnnRnnWeights oneDnn = OneDnnRnnWeights.fromKeras(keras);
        assertArrayEquals(new float[] {11, 22, 3, 30}, oneDnn.bias());
        // Back: b_x = (B_u, B_r, B_o), b_h = (0, 0, B_u′).
        KerasRnnWeights back = oneDnn.toKeras(OneDnnCell.LBR_GRU, 1, 1);
        assertTrue(back.resetAfter());
        assertArrayEquals(new float[] {11, 22, 3, 0, 0, 30}, back.bias());
    }

    @Test
    void lbrGruBiasLayoutWithTwoUnits() {
        OneDnnRnnWeights oneDnn = new OneDnnRnnWeights(new float[6], new float[12],
                new float[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 7, 8},
                oneDnn.toKeras(OneDnnCell.LBR_GRU, 1, 2).bias());
    }

    @Test
    void resetBeforeGruBiasIsKept() {
        KerasRnnWeights keras = Variant.GRU_RESET_BEFORE.random(new Random(1), 2, 3);
        assertArrayEquals(keras.bias(), OneDnnRnnWeights.fromKeras(keras).bias());
        KerasRnnWeights back = OneDnnRnnWeights.fromKeras(keras).toKeras(OneDnnCell.GRU, 2, 3);
        assertFalse(back.resetAfter());
        assertEquals(keras, back);
    }

    @Test
    void missingBiasBecomesZeros() {
        OneDnnRnnWeights oneDnn = OneDnnRnnWeights.fromKeras(Variant.GRU_RESET_AFTER_NO_BIAS.random(new Random(2), 3, 5));
        assertArrayEquals(new float[20], oneDnn.bias());
    }

    @Test
    void badShapesAreRejected() {
        OneDnnRnnWeights threeBiasRows = new OneDnnRnnWeights(new float[45], new float[75], new float[15]);
        // Reset-before GRU bias is [3, H]: as LBR_GRU it lacks the fourth row.
        threeBiasRows.toKeras(OneDnnCell.GRU, 3, 5);
        assertIllegalArgument(() -> threeBiasRows.toKeras(OneDnnCell.LBR_GRU, 3, 5), "oneDNN LBR_GRU bias (ldgo)",
                "[G', H]", "[4, 5]", "20", "got 15");
        OneDnnRnnWeights lstm = new OneDnnRnnWeights(new float[45], new float[100], new float[20]);
        assertIllegalArgument(() -> lstm.toKeras(OneDnnCell.LSTM, 3, 5), "weights_layer (ldigo)", "[3, 20]", "60",
                "got 45");
        assertIllegalArgument(() -> new OneDnnRnnWeights(new float[45], new float[100], null), "bias null");
    }
}
