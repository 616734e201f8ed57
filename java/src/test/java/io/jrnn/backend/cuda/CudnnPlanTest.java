package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;
import org.bytedeco.cuda.global.cudnn;
import org.junit.jupiter.api.Test;

/** Which layers cuDNN runs fused (and with which settings), and which masks run on sequence lengths. */
class CudnnPlanTest {

    static RecurrentSpec spec(CellType type, Activation activation, Activation recurrent, boolean resetAfter,
            boolean useBias) {
        int c = 3;
        int h = 4;
        int gh = type.gateCount() * h;
        KerasRnnWeights w = KerasRnnWeights.of(type, resetAfter, c, h, new float[c * gh], new float[h * gh],
                useBias ? new float[gh * (resetAfter ? 2 : 1)] : null);
        return new RecurrentSpec("plan", type, activation, recurrent, useBias, resetAfter, false, true, w);
    }

    @Test
    void standardActivationsFuse() {
        assertEquals(CudnnPlan.Mode.LSTM,
                CudnnPlan.of(spec(CellType.LSTM, Activation.TANH, Activation.SIGMOID, false, true), Precision.FP32).mode());
        assertEquals(CudnnPlan.Mode.GRU,
                CudnnPlan.of(spec(CellType.GRU, Activation.TANH, Activation.SIGMOID, true, true), Precision.FP32).mode());
        assertEquals(CudnnPlan.Mode.RNN_TANH,
                CudnnPlan.of(spec(CellType.SIMPLE_RNN, Activation.TANH, Activation.SIGMOID, false, true), Precision.FP32)
                        .mode());
        assertEquals(CudnnPlan.Mode.RNN_RELU,
                CudnnPlan.of(spec(CellType.SIMPLE_RNN, Activation.RELU, Activation.SIGMOID, false, true), Precision.FP32)
                        .mode());
        // use_bias=false fuses too (zero biases); a SimpleRNN's recurrent activation is irrelevant.
        CudnnPlan noBias = CudnnPlan.of(spec(CellType.LSTM, Activation.TANH, Activation.SIGMOID, false, false),
                Precision.FP16);
        assertTrue(noBias.fused());
        assertNull(noBias.reason());
        assertTrue(CudnnPlan.of(spec(CellType.SIMPLE_RNN, Activation.TANH, Activation.HARD_SIGMOID_KERAS2, false,
                false), Precision.BF16).fused());
    }

    @Test
    void everyOtherConfigurationHasAOneLineReason() {
        String gru = CudnnPlan.of(spec(CellType.GRU, Activation.TANH, Activation.SIGMOID, false, true), Precision.FP32)
                .reason();
        assertTrue(gru.startsWith("reset_after=False is not expressible by cuDNN CUDNN_GRU"), gru);
        String hard = CudnnPlan.of(spec(CellType.LSTM, Activation.TANH, Activation.HARD_SIGMOID_KERAS2, false, true),
                Precision.FP32).reason();
        assertEquals("recurrent_activation=hard_sigmoid (Keras 2) is not expressible by cuDNN CUDNN_LSTM"
                + " (fixed sigmoid gates)", hard);
        String both = CudnnPlan.of(spec(CellType.GRU, Activation.RELU, Activation.HARD_SIGMOID_KERAS3, true, true),
                Precision.FP32).reason();
        assertEquals("recurrent_activation=hard_sigmoid (Keras 3), activation=relu are not expressible by cuDNN"
                + " CUDNN_GRU (fixed sigmoid gates; a fixed tanh candidate activation)", both);
        String sigmoidRnn = CudnnPlan.of(spec(CellType.SIMPLE_RNN, Activation.SIGMOID, Activation.SIGMOID, false, true),
                Precision.FP32).reason();
        assertTrue(sigmoidRnn.startsWith("activation=sigmoid is not expressible"), sigmoidRnn);
        for (Activation a : Activation.values()) {
            if (!a.isElementwise()) {
                continue;
            }
            for (CellType type : CellType.values()) {
                for (boolean resetAfter : type == CellType.GRU ? new boolean[] {false, true} : new boolean[] {false}) {
                    CudnnPlan asActivation = CudnnPlan.of(spec(type, a, Activation.SIGMOID, resetAfter, true),
                            Precision.FP32);
                    CudnnPlan asGate = CudnnPlan.of(spec(type, Activation.TANH, a, resetAfter, true), Precision.FP32);
                    boolean fusedActivation = type == CellType.SIMPLE_RNN
                            ? a == Activation.TANH || a == Activation.RELU
                            : a == Activation.TANH && (type != CellType.GRU || resetAfter);
                    boolean fusedGate = type == CellType.SIMPLE_RNN || (a == Activation.SIGMOID
                            && (type != CellType.GRU || resetAfter));
                    assertEquals(fusedActivation, asActivation.fused(), type + " activation=" + a);
                    assertEquals(fusedGate, asGate.fused(), type + " recurrent_activation=" + a);
                    for (CudnnPlan p : new CudnnPlan[] {asActivation, asGate}) {
                        assertEquals(p.fused(), p.reason() == null);
                        assertTrue(p.fused() || !p.reason().contains("\n"));
                    }
                }
            }
        }
    }

    @Test
    void numericsFollowThePrecision() {
        CudnnPlan.Numerics fp32 = CudnnPlan.Numerics.of(Precision.FP32);
        assertEquals(cudnn.CUDNN_DATA_FLOAT, fp32.dataType());
        assertEquals(cudnn.CUDNN_FMA_MATH, fp32.mathType()); // no TF32 in fp32
        assertEquals(4, fp32.elementBytes());
        CudnnPlan.Numerics tf32 = CudnnPlan.Numerics.of(Precision.TF32);
        assertEquals(cudnn.CUDNN_DATA_FLOAT, tf32.dataType());
        assertEquals(cudnn.CUDNN_DEFAULT_MATH, tf32.mathType());
        CudnnPlan.Numerics fp16 = CudnnPlan.Numerics.of(Precision.FP16);
        assertEquals(cudnn.CUDNN_DATA_HALF, fp16.dataType());
        assertEquals(cudnn.CUDNN_DATA_FLOAT, fp16.mathPrecision());
        assertEquals(cudnn.CUDNN_TENSOR_OP_MATH, fp16.mathType());
        assertTrue(fp16.sixteenBit() && !fp16.bfloat16());
        CudnnPlan.Numerics bf16 = CudnnPlan.Numerics.of(Precision.BF16);
        assertEquals(cudnn.CUDNN_DATA_BFLOAT16, bf16.dataType());
        assertTrue(bf16.sixteenBit() && bf16.bfloat16());
        assertEquals(2, bf16.elementBytes());
    }

    @Test
    void algorithmChoice() {
        assertEquals(CudnnPlan.AlgoChoice.STANDARD, CudnnPlan.AlgoChoice.parse(null));
        assertEquals(CudnnPlan.AlgoChoice.STANDARD, CudnnPlan.AlgoChoice.parse("Standard"));
        assertEquals(CudnnPlan.AlgoChoice.PERSIST_STATIC, CudnnPlan.AlgoChoice.parse("persist_static"));
        assertEquals(CudnnPlan.AlgoChoice.AUTO, CudnnPlan.AlgoChoice.parse(" AUTO "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudnnPlan.AlgoChoice.parse("dynamic"));
        assertTrue(e.getMessage().contains("standard, persist_static, auto"), e.getMessage());
        assertEquals(CudnnPlan.Algo.PERSIST_STATIC, CudnnPlan.AlgoChoice.AUTO.forBatch(32));
        assertEquals(CudnnPlan.Algo.STANDARD, CudnnPlan.AlgoChoice.AUTO.forBatch(33));
        assertEquals(CudnnPlan.Algo.PERSIST_STATIC, CudnnPlan.AlgoChoice.PERSIST_STATIC.forBatch(1000));
        assertEquals(CudnnPlan.Algo.STANDARD, CudnnPlan.AlgoChoice.STANDARD.forBatch(1));
    }

    @Test
    void rightPaddedMasksOfForwardLayersRunOnSequenceLengths() {
        Mask mask = Mask.fromLengths(new int[] {5, 0, 3, 1}, 5);
        CudnnPlan.SequenceLengths lengths = CudnnPlan.sequenceLengths(mask, false);
        assertTrue(lengths.nativeLengths());
        assertArrayEquals(new int[] {5, 0, 3, 1}, lengths.lengths());
        // cuDNN refuses empty sequences: a zero-length sample runs one step and is fixed on the host.
        assertArrayEquals(new int[] {5, 1, 3, 1}, lengths.cudnnLengths());
        assertTrue(lengths.hasEmptySample());
        assertFalse(CudnnPlan.sequenceLengths(Mask.fromLengths(new int[] {2, 1}, 3), false).hasEmptySample());
    }

    @Test
    void otherMasksAndBackwardLayersGoComposed() {
        boolean[] leftPadded = {false, true, true, true, true, true};
        CudnnPlan.SequenceLengths left = CudnnPlan.sequenceLengths(Mask.of(leftPadded, 2, 3), false);
        assertFalse(left.nativeLengths());
        assertNull(left.lengths());
        assertTrue(left.composedReason().contains("not right-padded"), left.composedReason());
        CudnnPlan.SequenceLengths backwards = CudnnPlan.sequenceLengths(Mask.fromLengths(new int[] {1, 3}, 3), true);
        assertFalse(backwards.nativeLengths());
        assertTrue(backwards.composedReason().startsWith("go_backwards with a mask"), backwards.composedReason());
        assertEquals(Arrays.asList(CudnnPlan.Mode.values()).size(), 4);
        assertEquals(8, CudnnPlan.Mode.LSTM.linLayerCount());
        assertEquals(6, CudnnPlan.Mode.GRU.linLayerCount());
        assertEquals(2, CudnnPlan.Mode.RNN_RELU.linLayerCount());
    }
}
