package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** binary16 and bfloat16 conversions: exact widening, round to nearest even, subnormals, overflow, inf and NaN. */
class HalfFloatsTest {

    private static int half(float f) {
        return HalfFloats.toHalf(f) & 0xffff;
    }

    private static int bf16(float f) {
        return HalfFloats.toBfloat16(f) & 0xffff;
    }

    @Test
    void everyFiniteHalfSurvivesTheRoundTrip() {
        for (int bits = 0; bits < 0x10000; bits++) {
            if ((bits & 0x7c00) == 0x7c00) {
                continue; // inf/NaN below
            }
            float f = HalfFloats.fromHalf((short) bits);
            assertEquals(bits, half(f), "half 0x" + Integer.toHexString(bits) + " = " + f);
        }
    }

    @Test
    void knownHalfValues() {
        assertEquals(0x3c00, half(1f));
        assertEquals(0xc000, half(-2f));
        assertEquals(0x7bff, half(65504f));
        assertEquals(0x0400, half(0x1p-14f)); // smallest normal
        assertEquals(0x0001, half(0x1p-24f)); // smallest subnormal
        assertEquals(0x03ff, half(0x3ffp-24f)); // largest subnormal
        assertEquals(0x8000, half(-0f));
        assertEquals(0x3555, half(1f / 3f));
        assertEquals(1f, HalfFloats.fromHalf((short) 0x3c00));
        assertEquals(0x1p-24f, HalfFloats.fromHalf((short) 0x0001));
        assertEquals(-0x3ffp-24f, HalfFloats.fromHalf((short) 0x83ff));
    }

    @Test
    void halfRoundsToNearestEvenAtEveryMidpoint() {
        // Between consecutive positive halves a and a+1 (normal and subnormal), the float midpoint is
        // exact; it goes to the even one, and one float ulp either side goes to the nearer one.
        for (int a = 0; a < 0x7bff; a++) {
            float lo = HalfFloats.fromHalf((short) a);
            float hi = HalfFloats.fromHalf((short) (a + 1));
            float mid = (lo + hi) / 2; // exact: 11 significant bits plus one
            int even = (a & 1) == 0 ? a : a + 1;
            assertEquals(even, half(mid), "midpoint of 0x" + Integer.toHexString(a));
            assertEquals(a, half(Math.nextDown(mid)), "below midpoint of 0x" + Integer.toHexString(a));
            assertEquals(a + 1, half(Math.nextUp(mid)), "above midpoint of 0x" + Integer.toHexString(a));
            assertEquals(even | 0x8000, half(-mid), "negative midpoint of 0x" + Integer.toHexString(a));
        }
    }

    @Test
    void halfUnderflowOverflowInfinityAndNaN() {
        assertEquals(0x0000, half(0x1p-25f)); // tie between 0 and the smallest subnormal: even (0)
        assertEquals(0x0001, half(Math.nextUp(0x1p-25f)));
        assertEquals(0x0000, half(Float.MIN_VALUE));
        assertEquals(0x8000, half(-Float.MIN_VALUE));
        assertEquals(0x7bff, half(65519.996f));
        assertEquals(0x7c00, half(65520f)); // tie between 65504 (odd) and 65536: infinity
        assertEquals(0x7c00, half(Float.MAX_VALUE));
        assertEquals(0xfc00, half(Float.NEGATIVE_INFINITY));
        assertEquals(0x7c00, half(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromHalf((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.fromHalf((short) 0xfc00));
        int nan = half(Float.NaN);
        assertTrue((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0, Integer.toHexString(nan));
        // A NaN whose payload lives only in the low bits must stay NaN (not become infinity).
        int lowPayload = half(Float.intBitsToFloat(0x7f800001));
        assertTrue((lowPayload & 0x3ff) != 0, Integer.toHexString(lowPayload));
        assertTrue(Float.isNaN(HalfFloats.fromHalf((short) 0x7e00)));
        assertTrue(Float.isNaN(HalfFloats.fromHalf((short) 0xfd01)));
    }

    @Test
    void everyBfloat16SurvivesTheRoundTripAndMidpointsGoToEven() {
        for (int b = 0; b < 0x10000; b++) {
            float f = HalfFloats.fromBfloat16((short) b);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(f))));
                continue;
            }
            assertEquals(b, bf16(f), "bf16 0x" + Integer.toHexString(b));
            if ((b & 0x7fff) < 0x7f7f) {
                int mid = (b << 16) | 0x8000; // exactly halfway to b+1 (same sign)
                int even = (b & 1) == 0 ? b : b + 1;
                assertEquals(even, bf16(Float.intBitsToFloat(mid)), "midpoint after 0x" + Integer.toHexString(b));
                assertEquals(b, bf16(Float.intBitsToFloat(mid - 1)));
                assertEquals(b + 1, bf16(Float.intBitsToFloat(mid + 1)));
            }
        }
    }

    @Test
    void bfloat16KnownValuesOverflowAndNaN() {
        assertEquals(0x3f80, bf16(1f));
        assertEquals(0xc040, bf16(-3f));
        assertEquals(0x3eab, bf16(1f / 3f));
        assertEquals(0x0001, bf16(Float.intBitsToFloat(0x00010000))); // subnormals keep their top bits
        assertEquals(0x0000, bf16(Float.MIN_VALUE));
        assertEquals(0x7f80, bf16(Float.MAX_VALUE)); // above the largest bf16 by more than half an ulp
        assertEquals(0x7f7f, bf16(Float.intBitsToFloat(0x7f7f7fff)));
        assertEquals(0xff80, bf16(Float.NEGATIVE_INFINITY));
        int nan = bf16(Float.intBitsToFloat(0x7f800001));
        assertTrue((nan & 0x7f80) == 0x7f80 && (nan & 0x7f) != 0, Integer.toHexString(nan));
        assertEquals(1f, HalfFloats.fromBfloat16((short) 0x3f80));
    }
}
