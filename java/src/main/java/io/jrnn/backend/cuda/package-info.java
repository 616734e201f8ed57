/**
 * The cuDNN backend: CUDA detection that never crashes ({@link io.jrnn.backend.cuda.Cuda}),
 * device and pinned memory each owned by one {@code AutoCloseable}, a stream with its cuDNN and
 * cuBLAS handles per executor, cuDNN's fused RNN forward, and the GPU composed path (cuBLAS GEMMs
 * plus jrnn's own CUDA gate kernels) for what cuDNN cannot express. How the CUDA, cuDNN and
 * cuBLAS libraries are found is in {@code docs/gpu.md}.
 */
package io.jrnn.backend.cuda;
