package io.jrnn.weights;

import static io.jrnn.weights.Messages.assertIllegalArgument;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KerasRnnWeightsTest {

    @Test
    void gateCountsAreThoseOfKeras() {
        assertEquals(1, CellType.SIMPLE_RNN.gateCount());
        assertEquals(3, CellType.GRU.gateCount());
        assertEquals(4, CellType.LSTM.gateCount());
    }

    @Test
    void factoryCopiesAndAccessorsReturnCopies() {
        float[] kernel = new float[3 * 20];
        float[] recurrent = new float[5 * 20];
        float[] bias = new float[20];
        KerasRnnWeights weights = KerasRnnWeights.of(CellType.LSTM, false, 3, 5, kernel, recurrent, bias);
        kernel[0] = 1;
        bias[0] = 1;
        assertEquals(0f, weights.kernel()[0]);
        assertEquals(0f, weights.bias()[0]);
        weights.kernel()[1] = 7;
        weights.recurrentKernel()[1] = 7;
        weights.bias()[1] = 7;
        assertEquals(0f, weights.kernel()[1]);
        assertEquals(0f, weights.recurrentKernel()[1]);
        assertEquals(0f, weights.bias()[1]);
        assertEquals(CellType.LSTM, weights.type());
        assertEquals(3, weights.inputSize());
        assertEquals(5, weights.hiddenSize());
        assertEquals(4, weights.gateCount());
        assertTrue(weights.hasBias());
    }

    @Test
    void kernelOfWrongLengthNamesExpectedAndActual() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.LSTM, false, 3, 5, new float[59], new float[100],
                new float[20]), "Keras LSTM kernel", "[C, G*H]", "[3, 20]", "60", "got 59");
    }

    @Test
    void recurrentKernelOfWrongLengthNamesExpectedAndActual() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.GRU, false, 3, 5, new float[45], new float[45],
                null), "Keras GRU recurrent_kernel", "[5, 15]", "75", "got 45");
    }

    @Test
    void resetAfterGruNeedsTwoBiasRows() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.GRU, true, 3, 5, new float[45], new float[75],
                new float[15]), "reset_after=True", "bias", "[2, G*H]", "30", "got 15");
    }

    @Test
    void resetBeforeGruRejectsTwoBiasRows() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.GRU, false, 3, 5, new float[45], new float[75],
                new float[30]), "Keras GRU bias", "[15]", "got 30");
    }

    @Test
    void resetAfterOnlyForGru() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.LSTM, true, 3, 5, new float[60], new float[100],
                null), "Keras LSTM resetAfter", "expected false", "got true");
    }

    @Test
    void sizesMustBePositiveAndArraysPresent() {
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 0, 5, new float[0],
                new float[25], null), "inputSize", "positive", "got 0");
        assertIllegalArgument(() -> KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 2, 5, null,
                new float[25], null), "kernel", "got null");
    }

    @Test
    void zeroBiasIsMaterialisedWithTheRightShape() {
        KerasRnnWeights withoutBias = Variant.GRU_RESET_AFTER_NO_BIAS.random(new Random(1), 3, 5);
        assertFalse(withoutBias.hasBias());
        assertNull(withoutBias.bias());
        KerasRnnWeights withBias = withoutBias.withZeroBiasIfAbsent();
        assertArrayEquals(new float[30], withBias.bias());
        assertArrayEquals(withoutBias.kernel(), withBias.kernel());
        assertSame(withBias, withBias.withZeroBiasIfAbsent());
        assertArrayEquals(new float[20],
                Variant.LSTM_NO_BIAS.random(new Random(2), 3, 5).withZeroBiasIfAbsent().bias());
    }

    @Test
    void equalsAndHashCodeCompareContent() {
        KerasRnnWeights a = Variant.LSTM.random(new Random(3), 3, 5);
        KerasRnnWeights b = KerasRnnWeights.of(a.type(), a.resetAfter(), 3, 5, a.kernel(), a.recurrentKernel(),
                a.bias());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        float[] bias = a.bias();
        bias[7] += 1;
        assertNotEquals(a, KerasRnnWeights.of(a.type(), false, 3, 5, a.kernel(), a.recurrentKernel(), bias));
        KerasRnnWeights noBias = KerasRnnWeights.of(CellType.LSTM, false, 3, 5, a.kernel(), a.recurrentKernel(),
                null);
        // An absent bias is a different layer (use_bias=False) from an explicit zero bias.
        assertNotEquals(noBias, noBias.withZeroBiasIfAbsent());
    }

    @Test
    void maxAbsDifferenceFindsTheLargestEntryAndTreatsMissingBiasAsZero() {
        KerasRnnWeights a = Variant.SIMPLE_RNN.random(new Random(4), 2, 2);
        float[] kernel = a.kernel();
        kernel[3] += 0.25f;
        float[] bias = a.bias();
        bias[1] -= 0.5f;
        KerasRnnWeights b = KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 2, 2, kernel, a.recurrentKernel(), bias);
        assertEquals(0.5, a.maxAbsDifference(b), 1e-6);
        assertEquals(0.0, a.maxAbsDifference(a));

        KerasRnnWeights noBias = KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 2, 2, a.kernel(),
                a.recurrentKernel(), null);
        KerasRnnWeights zeroBias = KerasRnnWeights.of(CellType.SIMPLE_RNN, false, 2, 2, a.kernel(),
                a.recurrentKernel(), new float[2]);
        assertEquals(0.0, noBias.maxAbsDifference(zeroBias));
    }

    @Test
    void maxAbsDifferenceRejectsDifferentLayers() {
        KerasRnnWeights gru = Variant.GRU_RESET_BEFORE.random(new Random(5), 3, 5);
        KerasRnnWeights gruAfter = Variant.GRU_RESET_AFTER.random(new Random(5), 3, 5);
        assertIllegalArgument(() -> gru.maxAbsDifference(gruAfter), "reset_after=False", "reset_after=True");
        KerasRnnWeights smaller = Variant.GRU_RESET_BEFORE.random(new Random(5), 3, 4);
        assertIllegalArgument(() -> gru.maxAbsDifference(smaller), "H=5", "H=4");
    }
}
