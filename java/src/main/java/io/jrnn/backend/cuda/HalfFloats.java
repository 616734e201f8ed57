package io.jrnn.backend.cuda;

/**
 * IEEE 754 binary16 ({@code half}) and bfloat16 conversions from and to float32, rounding to
 * nearest with ties to even (Java 17 has no {@code Float.floatToFloat16}). NaN stays NaN (quiet,
 * sign and leading payload bits kept), infinities stay infinities, float32 values beyond the
 * 16-bit range round to infinity, tiny ones to (signed) subnormals or zero.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** The binary16 nearest to {@code f} (ties to even), as its bit pattern. */
    public static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            // Infinity, or NaN made quiet (bit 9) with the top payload bits kept.
            return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
        }
        if (abs >= 0x477ff000) {
            // 65520 and above: halfway past 65504 (odd significand) or more, rounds to infinity.
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half (>= 2^-14): rebias the exponent, round the 13 dropped significand bits.
            int half = (((abs >>> 23) - 127 + 15) << 10) | ((abs >>> 13) & 0x3ff);
            int dropped = abs & 0x1fff;
            if (dropped > 0x1000 || (dropped == 0x1000 && (half & 1) != 0)) {
                half++; // a carry into the exponent is still the right encoding
            }
            return (short) (sign | half);
        }
        if (abs <= 0x33000000) {
            // At most 2^-25, half of the smallest subnormal: ties to even give zero.
            return (short) sign;
        }
        // Subnormal half: units of 2^-24; the float is significand · 2^(exponent − 150).
        int exponent = abs >>> 23;
        int significand = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - exponent; // from 14 to 24
        int half = significand >>> shift;
        int dropped = significand & ((1 << shift) - 1);
        int tie = 1 << (shift - 1);
        if (dropped > tie || (dropped == tie && (half & 1) != 0)) {
            half++; // 0x400 is the smallest normal: still right
        }
        return (short) (sign | half);
    }

    /** The float32 value of a binary16 bit pattern (exact). */
    public static float fromHalf(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int significand = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (significand << 13));
        }
        if (exponent == 0) {
            float magnitude = significand * 0x1p-24f; // exact: at most 10 significant bits
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (significand << 13));
    }

    /** The bfloat16 nearest to {@code f} (ties to even), as its bit pattern. */
    public static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40); // quiet NaN, sign and top payload kept
        }
        // Adding 0x7fff plus the lowest kept bit rounds to nearest, ties to even; overflow carries into infinity.
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float32 value of a bfloat16 bit pattern (exact). */
    public static float fromBfloat16(short bfloat16) {
        return Float.intBitsToFloat((bfloat16 & 0xffff) << 16);
    }
}
