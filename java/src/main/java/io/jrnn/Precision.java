package io.jrnn;

import java.util.Locale;

/**
 * The arithmetic a backend runs in. {@link #FP32} is the default and matches Keras (on a GPU it
 * uses plain FP32 FMA math, no TF32). The others are opt-in for speed: {@link #TF32} keeps float32
 * data but lets GPU tensor cores round matrix-product inputs to TF32 (what PyTorch does by default
 * for cuDNN); {@link #FP16} and {@link #BF16} store weights and activations in 16 bits (weights are
 * converted once, activations in the native pipeline) and return float32 outputs. A backend that
 * cannot run a precision refuses it when it is created.
 */
public enum Precision {
    FP32, TF32, FP16, BF16;

    /** {@code fp32}, {@code tf32}, {@code fp16}/{@code half}, {@code bf16}/{@code bfloat16} (any case). */
    public static Precision parse(String s) {
        String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "fp32", "float32", "f32" -> FP32;
            case "tf32" -> TF32;
            case "fp16", "float16", "half", "f16" -> FP16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("Unknown precision '" + s + "'; valid: fp32, tf32, fp16, bf16");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
