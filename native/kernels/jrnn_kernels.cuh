// Codes shared by the jrnn CUDA kernels and their Java launcher (io.jrnn.backend.cuda.KernelCodes).
// The Java side parses this file in a test: keep one "NAME = value," per line.
#ifndef JRNN_KERNELS_CUH
#define JRNN_KERNELS_CUH

// Keras activations (spec section 2.0), one code per io.jrnn.layers.Activation constant except softmax.
enum jrnn_activation {
    JRNN_ACT_LINEAR = 0,
    JRNN_ACT_TANH = 1,
    JRNN_ACT_SIGMOID = 2,
    JRNN_ACT_HARD_SIGMOID_KERAS2 = 3,
    JRNN_ACT_HARD_SIGMOID_KERAS3 = 4,
    JRNN_ACT_RELU = 5,
    JRNN_ACT_RELU6 = 6,
    JRNN_ACT_ELU = 7,
    JRNN_ACT_SELU = 8,
    JRNN_ACT_SOFTSIGN = 9,
    JRNN_ACT_SOFTPLUS = 10,
    JRNN_ACT_EXPONENTIAL = 11,
    JRNN_ACT_SILU = 12,
};

// What a masked step outputs (spec section 3.3); every state is carried either way.
enum jrnn_masked_output {
    // The previous processed output (zeros before the first valid step): MaskedOutput.CANONICAL.
    JRNN_MASKED_CARRY = 0,
    // Zeros: zero_output_for_mask=True.
    JRNN_MASKED_ZERO = 1,
    // The carried h (h before the step): MaskedOutput.PREVIOUS_STATE.
    JRNN_MASKED_PREVIOUS_STATE = 2,
};

// Element type of the recurrent GEMM operand a step writes (the copy of h, or r*h for GRU reset_after=false).
enum jrnn_gemm_type {
    JRNN_GEMM_FP32 = 0,
    JRNN_GEMM_FP16 = 1,
    JRNN_GEMM_BF16 = 2,
};

// Threads per block of every jrnn kernel (one thread per element).
#define JRNN_BLOCK 256

#endif
