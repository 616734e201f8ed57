package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrecisionTest {
    @Test
    void parsesEveryNameAndRefusesOthersListingTheValidOnes() {
        assertEquals(Precision.FP32, Precision.parse("FP32"));
        assertEquals(Precision.TF32, Precision.parse("tf32"));
        assertEquals(Precision.FP16, Precision.parse("half"));
        assertEquals(Precision.BF16, Precision.parse(" bfloat16 "));
        assertEquals("bf16", Precision.BF16.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp8"));
        assertTrue(e.getMessage().contains("fp8") && e.getMessage().contains("bf16"), e.getMessage());
    }
}
