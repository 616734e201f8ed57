package io.jrnn;

import java.util.Locale;

/**
 * The arithmetic a backend runs in. {@link #FP32} is the default and matches Keras; the half
 * precisions are opt-in for speed: weights are converted once, activations in the native
 * pipeline, and outputs come back as float32.
 */
public enum Precision {
    FP32, FP16, BF16;

    /** {@code fp32}, {@code fp16}/{@code half}, {@code bf16}/{@code bfloat16} (any case). */
    public static Precision parse(String s) {
        String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "fp32", "float32", "f32" -> FP32;
            case "fp16", "float16", "half", "f16" -> FP16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("Unknown precision '" + s + "'; valid: fp32, fp16, bf16");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
