package io.jrnn.backend.cuda;

import io.jrnn.Precision;
import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;

/**
 * The integer codes jrnn's CUDA kernels take, mirroring the enums of
 * {@code native/kernels/jrnn_kernels.cuh} (a test parses the header and compares).
 */
final class KernelCodes {
    /** {@code JRNN_MASKED_CARRY}: a masked step outputs the previous processed output. */
    static final int MASKED_CARRY = 0;
    /** {@code JRNN_MASKED_ZERO}: a masked step outputs zeros ({@code zero_output_for_mask}). */
    static final int MASKED_ZERO = 1;
    /** {@code JRNN_MASKED_PREVIOUS_STATE}: a masked step outputs the carried {@code h}. */
    static final int MASKED_PREVIOUS_STATE = 2;

    /** {@code JRNN_GEMM_FP32}: the recurrent GEMM operand is float32. */
    static final int OPERAND_FP32 = 0;
    /** {@code JRNN_GEMM_FP16}. */
    static final int OPERAND_FP16 = 1;
    /** {@code JRNN_GEMM_BF16}. */
    static final int OPERAND_BF16 = 2;

    private KernelCodes() {
    }

    /**
     * The kernel code of a Keras activation ({@code JRNN_ACT_*}).
     *
     * @throws IllegalArgumentException for softmax, which is not elementwise
     */
    static int activation(Activation a) {
        return switch (a) {
            case LINEAR -> 0;
            case TANH -> 1;
            case SIGMOID -> 2;
            case HARD_SIGMOID_KERAS2 -> 3;
            case HARD_SIGMOID_KERAS3 -> 4;
            case RELU -> 5;
            case RELU6 -> 6;
            case ELU -> 7;
            case SELU -> 8;
            case SOFTSIGN -> 9;
            case SOFTPLUS -> 10;
            case EXPONENTIAL -> 11;
            case SILU -> 12;
            case SOFTMAX -> throw new IllegalArgumentException(
                    "softmax is not an elementwise activation; the GPU gate kernels cannot apply it");
        };
    }

    /** The header's name of an activation's code, e.g. {@code JRNN_ACT_HARD_SIGMOID_KERAS2}. */
    static String activationName(Activation a) {
        return "JRNN_ACT_" + a.name();
    }

    /** The masked-output rule code: {@code zero_output_for_mask} first, then the {@link MaskedOutput} rule. */
    static int maskedOutput(boolean zeroOutputForMask, MaskedOutput rule) {
        if (zeroOutputForMask) {
            return MASKED_ZERO;
        }
        return rule == MaskedOutput.PREVIOUS_STATE ? MASKED_PREVIOUS_STATE : MASKED_CARRY;
    }

    /** The element type of the recurrent GEMM operands under {@code precision}. */
    static int operandType(Precision precision) {
        return switch (precision) {
            case FP32, TF32 -> OPERAND_FP32;
            case FP16 -> OPERAND_FP16;
            case BF16 -> OPERAND_BF16;
        };
    }

    /** Bytes per element of a GEMM operand of type {@code operandType}. */
    static int operandBytes(int operandType) {
        return operandType == OPERAND_FP32 ? Float.BYTES : 2;
    }
}
