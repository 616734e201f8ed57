// jrnn's CUDA kernels for the GPU composed path (io.jrnn.backend.cuda.CudaComposedExecutor):
// per-step gate kernels for LSTM, GRU (reset_after true and false), SimpleRNN and ConvLSTM2D with every Keras
// activation and every masked-output rule, plus small utility kernels (fill, time reversal,
// float32 <-> fp16/bf16 conversion).
//
// Conventions (all matrices row-major, float32 unless said otherwise):
//   xp    [N*T, G*H]  input projection x . W of every step (no bias), row n*T + t
//   hp    [N, G*H]    recurrent product h . U of this step (no bias)
//   bias  [G*H]       input bias b_x; GRU reset_after=true also gets recurrent_bias b_h [G*H]
//   h, c  [N, H]      states, updated in place
//   prev  [N, H]      the output carried across masked steps (zeros before the first valid step)
//   y     [N, T, H]   the output sequence, or null (return_sequences=False)
//   mask  [N, T]      one byte per step, nonzero = valid; null = every step valid
//   t     the input step consumed (T-1-k under go_backwards), k the processing step (output index)
// Gate blocks are in Keras order: LSTM i, f, c, o; GRU z, r, h; SimpleRNN one block.
// One thread per (n, j) element of [N, H]; consecutive threads read consecutive gate columns.
// Launched with JRNN_BLOCK threads per block and ceil(N*H / JRNN_BLOCK) blocks.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "jrnn_kernels.cuh"

namespace {

constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kSeluAlpha = 1.6732632423543772f;

// Clip to [0, 1]; NaN stays NaN (as Java's Math.max/Math.min and Keras).
__device__ __forceinline__ float clip01(float v) {
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

// The Keras activation with code 'code' (enum jrnn_activation). An unknown code yields NaN, so a
// launcher bug cannot go unnoticed; the Java launcher only passes codes from the shared table.
__device__ __forceinline__ float activate(int code, float x) {
    switch (code) {
    case JRNN_ACT_LINEAR:
        return x;
    case JRNN_ACT_TANH:
        return tanhf(x);
    case JRNN_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case JRNN_ACT_HARD_SIGMOID_KERAS2:
        return clip01(0.2f * x + 0.5f);
    case JRNN_ACT_HARD_SIGMOID_KERAS3:
        return clip01(x / 6.0f + 0.5f);
    case JRNN_ACT_RELU:
        return x < 0.0f ? 0.0f : x;
    case JRNN_ACT_RELU6:
        return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case JRNN_ACT_ELU:
        return x > 0.0f ? x : expm1f(x);
    case JRNN_ACT_SELU:
        return x > 0.0f ? kSeluScale * x : kSeluScale * kSeluAlpha * expm1f(x);
    case JRNN_ACT_SOFTSIGN:
        return x / (1.0f + fabsf(x));
    case JRNN_ACT_SOFTPLUS:
        return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case JRNN_ACT_EXPONENTIAL:
        return expf(x);
    case JRNN_ACT_SILU:
        return x / (1.0f + expf(-x));
    default:
        return __int_as_float(0x7fffffff);
    }
}

// Stores v at element i of a recurrent-GEMM operand of type 'type' (enum jrnn_gemm_type).
__device__ __forceinline__ void store_operand(void* operand, size_t i, float v, int type) {
    if (type == JRNN_GEMM_FP16) {
        static_cast<__half*>(operand)[i] = __float2half_rn(v);
    } else if (type == JRNN_GEMM_BF16) {
        static_cast<__nv_bfloat16*>(operand)[i] = __float2bfloat16_rn(v);
    } else {
        static_cast<float*>(operand)[i] = v;
    }
}

// The element this thread owns, or false when it is past the end of [N, H].
__device__ __forceinline__ bool element(int batch, int units, size_t* idx, int* n, int* j) {
    size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<size_t>(batch) * static_cast<size_t>(units)) {
        return false;
    }
    *idx = i;
    *n = static_cast<int>(i / static_cast<size_t>(units));
    *j = static_cast<int>(i - static_cast<size_t>(*n) * static_cast<size_t>(units));
    return true;
}

__device__ __forceinline__ bool step_valid(const unsigned char* mask, int n, int steps, int t) {
    return mask == nullptr || mask[static_cast<size_t>(n) * steps + t] != 0;
}

// The common tail of every step: store the new h (valid steps), apply the masked-output rule,
// write the output and the 16-bit copy of h for the next recurrent GEMM.
__device__ __forceinline__ void finish_step(float* h, float* prev, float* y, void* hOperand, int operandType,
                                            size_t idx, int n, int j, int units, int steps, int k, bool valid,
                                            float hOld, float hNew, int maskedOutput) {
    float out;
    if (valid) {
        h[idx] = hNew;
        out = hNew;
    } else {
        hNew = hOld;
        out = maskedOutput == JRNN_MASKED_ZERO ? 0.0f
            : maskedOutput == JRNN_MASKED_PREVIOUS_STATE ? hOld
            : prev[idx];
    }
    prev[idx] = out;
    if (y != nullptr) {
        y[(static_cast<size_t>(n) * steps + k) * units + j] = out;
    }
    if (hOperand != nullptr) {
        store_operand(hOperand, idx, hNew, operandType);
    }
}

__device__ __forceinline__ const float* projection_row(const float* xp, int n, int steps, int t, size_t width) {
    return xp + (static_cast<size_t>(n) * steps + t) * width;
}

}  // namespace

// LSTM step (spec 2.4): i, f, c, o = sigma, sigma, phi, sigma of x.W + h.U + b; c' = f*c + i*g; h' = o*phi(c').
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_lstm_step(const float* __restrict__ xp, const float* __restrict__ hp, const float* __restrict__ bias,
               float* __restrict__ h, float* __restrict__ c, float* __restrict__ prev, float* __restrict__ y,
               void* __restrict__ hOperand, const unsigned char* __restrict__ mask,
               int batch, int units, int steps, int t, int k,
               int recurrentActivation, int activation, int maskedOutput, int operandType) {
    size_t idx;
    int n;
    int j;
    if (!element(batch, units, &idx, &n, &j)) {
        return;
    }
    bool valid = step_valid(mask, n, steps, t);
    float hOld = h[idx];
    float hNew = hOld;
    if (valid) {
        size_t width = 4 * static_cast<size_t>(units);
        const float* x = projection_row(xp, n, steps, t, width);
        const float* r = hp + static_cast<size_t>(n) * width;
        int u = units;
        float gi = activate(recurrentActivation, (x[j] + bias[j]) + r[j]);
        float gf = activate(recurrentActivation, (x[u + j] + bias[u + j]) + r[u + j]);
        float gc = activate(activation, (x[2 * u + j] + bias[2 * u + j]) + r[2 * u + j]);
        float go = activate(recurrentActivation, (x[3 * u + j] + bias[3 * u + j]) + r[3 * u + j]);
        float cNew = gf * c[idx] + gi * gc;
        c[idx] = cNew;
        hNew = go * activate(activation, cNew);
    }
    finish_step(h, prev, y, hOperand, operandType, idx, n, j, units, steps, k, valid, hOld, hNew, maskedOutput);
}

// GRU step with reset_after=true (spec 2.3): z, r = sigma(x.W + b_x + h.U + b_h);
// h~ = phi(x.W_h + b_xh + r*(h.U_h + b_hh)); h' = z*h + (1-z)*h~.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_gru_step(const float* __restrict__ xp, const float* __restrict__ hp, const float* __restrict__ bias,
              const float* __restrict__ recurrentBias, float* __restrict__ h, float* __restrict__ prev,
              float* __restrict__ y, void* __restrict__ hOperand, const unsigned char* __restrict__ mask,
              int batch, int units, int steps, int t, int k,
              int recurrentActivation, int activation, int maskedOutput, int operandType) {
    size_t idx;
    int n;
    int j;
    if (!element(batch, units, &idx, &n, &j)) {
        return;
    }
    bool valid = step_valid(mask, n, steps, t);
    float hOld = h[idx];
    float hNew = hOld;
    if (valid) {
        size_t width = 3 * static_cast<size_t>(units);
        const float* x = projection_row(xp, n, steps, t, width);
        const float* r = hp + static_cast<size_t>(n) * width;
        int u = units;
        float z = activate(recurrentActivation, (x[j] + bias[j]) + (r[j] + recurrentBias[j]));
        float reset = activate(recurrentActivation, (x[u + j] + bias[u + j]) + (r[u + j] + recurrentBias[u + j]));
        float candidate = activate(activation,
                                   (x[2 * u + j] + bias[2 * u + j]) + reset * (r[2 * u + j] + recurrentBias[2 * u + j]));
        hNew = z * hOld + (1.0f - z) * candidate;
    }
    finish_step(h, prev, y, hOperand, operandType, idx, n, j, units, steps, k, valid, hOld, hNew, maskedOutput);
}

// GRU reset_after=false, first half of a step (after hp[:, 0:2H] = h.U_zr): z, r = sigma(x.W + b + h.U);
// z is stored in place over hp's z column and r*h into 'resetHidden' (type operandType) for the
// product (r*h).U_h; masked samples store r*h = 0 (their candidate is discarded).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_gru_reset_gates(const float* __restrict__ xp, float* __restrict__ hp, const float* __restrict__ bias,
                     const float* __restrict__ h, void* __restrict__ resetHidden, const unsigned char* __restrict__ mask,
                     int batch, int units, int steps, int t, int recurrentActivation, int operandType) {
    size_t idx;
    int n;
    int j;
    if (!element(batch, units, &idx, &n, &j)) {
        return;
    }
    float rh = 0.0f;
    if (step_valid(mask, n, steps, t)) {
        size_t width = 3 * static_cast<size_t>(units);
        const float* x = projection_row(xp, n, steps, t, width);
        float* r = hp + static_cast<size_t>(n) * width;
        int u = units;
        float z = activate(recurrentActivation, (x[j] + bias[j]) + r[j]);
        float reset = activate(recurrentActivation, (x[u + j] + bias[u + j]) + r[u + j]);
        r[j] = z;
        rh = reset * h[idx];
    }
    store_operand(resetHidden, idx, rh, operandType);
}

// GRU reset_after=false, second half (after hp[:, 2H:3H] = (r*h).U_h): h~ = phi(x.W_h + b_h + hp_h);
// h' = z*h + (1-z)*h~ with z from jrnn_gru_reset_gates.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_gru_candidate(const float* __restrict__ xp, const float* __restrict__ hp, const float* __restrict__ bias,
                   float* __restrict__ h, float* __restrict__ prev, float* __restrict__ y,
                   void* __restrict__ hOperand, const unsigned char* __restrict__ mask,
                   int batch, int units, int steps, int t, int k, int activation, int maskedOutput, int operandType) {
    size_t idx;
    int n;
    int j;
    if (!element(batch, units, &idx, &n, &j)) {
        return;
    }
    bool valid = step_valid(mask, n, steps, t);
    float hOld = h[idx];
    float hNew = hOld;
    if (valid) {
        size_t width = 3 * static_cast<size_t>(units);
        const float* x = projection_row(xp, n, steps, t, width);
        const float* r = hp + static_cast<size_t>(n) * width;
        int u = units;
        float z = r[j];
        float candidate = activate(activation, (x[2 * u + j] + bias[2 * u + j]) + r[2 * u + j]);
        hNew = z * hOld + (1.0f - z) * candidate;
    }
    finish_step(h, prev, y, hOperand, operandType, idx, n, j, units, steps, k, valid, hOld, hNew, maskedOutput);
}

// SimpleRNN step (spec 2.2): h' = phi(x.W + b + h.U).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_simple_rnn_step(const float* __restrict__ xp, const float* __restrict__ hp, const float* __restrict__ bias,
                     float* __restrict__ h, float* __restrict__ prev, float* __restrict__ y,
                     void* __restrict__ hOperand, const unsigned char* __restrict__ mask,
                     int batch, int units, int steps, int t, int k, int activation, int maskedOutput,
                     int operandType) {
    size_t idx;
    int n;
    int j;
    if (!element(batch, units, &idx, &n, &j)) {
        return;
    }
    bool valid = step_valid(mask, n, steps, t);
    float hOld = h[idx];
    float hNew = hOld;
    if (valid) {
        const float* x = projection_row(xp, n, steps, t, static_cast<size_t>(units));
        hNew = activate(activation, (x[j] + bias[j]) + hp[idx]);
    }
    finish_step(h, prev, y, hOperand, operandType, idx, n, j, units, steps, k, valid, hOld, hNew, maskedOutput);
}

// ConvLSTM2D step (spec 2.6), channels-last. Per input frame the pre-activations are
//   xp  [N*T, rows, cols, 4F]  conv(x, K) of every frame (no bias), frame n*T + t
//   hp  [N, rows, cols, 4F]    conv(h, R) of this step (no bias)
// and the states h, c, prev are [N, rows, cols, F]; y is [N, T, rows, cols, F] or null.
// i, f, c, o = sigma, sigma, phi, sigma of xp + bias + hp; c' = f*c + i*g; h' = o*phi(c').
// hOperand (or null): the input of the next recurrent convolution, h' in a zero-padded frame
// [N, operandRows, operandCols, F] (the extra bottom/right cells of TensorFlow's 'same' padding for
// even kernels stay zero); h' goes to its top-left rows x cols corner. Masks and masked-output rules
// as in the recurrent kernels. One thread per (n, y, x, filter) element.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_convlstm_step(const float* __restrict__ xp, const float* __restrict__ hp, const float* __restrict__ bias,
                   float* __restrict__ h, float* __restrict__ c, float* __restrict__ prev, float* __restrict__ y,
                   float* __restrict__ hOperand, const unsigned char* __restrict__ mask,
                   int batch, int rows, int cols, int filters, int steps, int t, int k,
                   int operandRows, int operandCols, int recurrentActivation, int activation, int maskedOutput) {
    size_t idx;
    int n;
    int e;
    int frame = rows * cols * filters;
    if (!element(batch, frame, &idx, &n, &e)) {
        return;
    }
    int pixel = e / filters;
    int j = e - pixel * filters;
    bool valid = step_valid(mask, n, steps, t);
    float hOld = h[idx];
    float hNew = hOld;
    if (valid) {
        size_t width = 4 * static_cast<size_t>(filters);
        const float* x = xp + ((static_cast<size_t>(n) * steps + t) * (rows * cols) + pixel) * width;
        const float* r = hp + (static_cast<size_t>(n) * (rows * cols) + pixel) * width;
        int u = filters;
        float gi = activate(recurrentActivation, (x[j] + bias[j]) + r[j]);
        float gf = activate(recurrentActivation, (x[u + j] + bias[u + j]) + r[u + j]);
        float gc = activate(activation, (x[2 * u + j] + bias[2 * u + j]) + r[2 * u + j]);
        float go = activate(recurrentActivation, (x[3 * u + j] + bias[3 * u + j]) + r[3 * u + j]);
        float cNew = gf * c[idx] + gi * gc;
        c[idx] = cNew;
        hNew = go * activate(activation, cNew);
    }
    float out;
    if (valid) {
        h[idx] = hNew;
        out = hNew;
    } else {
        out = maskedOutput == JRNN_MASKED_ZERO ? 0.0f
            : maskedOutput == JRNN_MASKED_PREVIOUS_STATE ? hOld
            : prev[idx];
    }
    prev[idx] = out;
    if (y != nullptr) {
        y[(static_cast<size_t>(n) * steps + k) * frame + e] = out;
    }
    if (hOperand != nullptr) {
        int py = pixel / cols;
        int px = pixel - py * cols;
        hOperand[((static_cast<size_t>(n) * operandRows + py) * operandCols + px) * filters + j] = hNew;
    }
}

// Utility kernels: grid-stride loops over 'count' elements (any grid size covers everything).
#define JRNN_GRID_STRIDE(i, count)                                                          \
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;             \
         i < static_cast<size_t>(count); i += static_cast<size_t>(blockDim.x) * gridDim.x)

// dst[i] = value.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_fill_f32(float* __restrict__ dst, float value, long long count) {
    JRNN_GRID_STRIDE(i, count) {
        dst[i] = value;
    }
}

// dst[n, t, :] = src[n, T-1-t, :] for src, dst [N, T, W] (must not overlap).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_reverse_time_f32(const float* __restrict__ src, float* __restrict__ dst, int batch, int steps, int width) {
    long long count = static_cast<long long>(batch) * steps * width;
    JRNN_GRID_STRIDE(i, count) {
        size_t w = i % static_cast<size_t>(width);
        size_t row = i / static_cast<size_t>(width);
        size_t t = row % static_cast<size_t>(steps);
        size_t n = row / static_cast<size_t>(steps);
        dst[i] = src[(n * steps + (steps - 1 - t)) * width + w];
    }
}

// dst [images, dstRows, dstCols, channels] = src [images, rows, cols, channels] in the top-left
// corner, zeros elsewhere (dstRows >= rows, dstCols >= cols; src and dst must not overlap).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_pad_frames_f32(const float* __restrict__ src, float* __restrict__ dst, int images, int rows, int cols,
                    int channels, int dstRows, int dstCols) {
    long long count = static_cast<long long>(images) * dstRows * dstCols * channels;
    JRNN_GRID_STRIDE(i, count) {
        size_t q = i % static_cast<size_t>(channels);
        size_t pixel = i / static_cast<size_t>(channels);
        size_t x = pixel % static_cast<size_t>(dstCols);
        size_t rest = pixel / static_cast<size_t>(dstCols);
        size_t y = rest % static_cast<size_t>(dstRows);
        size_t image = rest / static_cast<size_t>(dstRows);
        dst[i] = (y < static_cast<size_t>(rows) && x < static_cast<size_t>(cols))
            ? src[((image * rows + y) * cols + x) * channels + q] : 0.0f;
    }
}

// float32 -> fp16, round to nearest even.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_f32_to_f16(const float* __restrict__ src, __half* __restrict__ dst, long long count) {
    JRNN_GRID_STRIDE(i, count) {
        dst[i] = __float2half_rn(src[i]);
    }
}

// fp16 -> float32 (exact).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_f16_to_f32(const __half* __restrict__ src, float* __restrict__ dst, long long count) {
    JRNN_GRID_STRIDE(i, count) {
        dst[i] = __half2float(src[i]);
    }
}

// float32 -> bf16, round to nearest even.
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_f32_to_bf16(const float* __restrict__ src, __nv_bfloat16* __restrict__ dst, long long count) {
    JRNN_GRID_STRIDE(i, count) {
        dst[i] = __float2bfloat16_rn(src[i]);
    }
}

// bf16 -> float32 (exact).
extern "C" __global__ void __launch_bounds__(JRNN_BLOCK)
jrnn_bf16_to_f32(const __nv_bfloat16* __restrict__ src, float* __restrict__ dst, long long count) {
    JRNN_GRID_STRIDE(i, count) {
        dst[i] = __bfloat162float(src[i]);
    }
}
