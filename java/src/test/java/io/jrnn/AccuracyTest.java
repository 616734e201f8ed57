package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AccuracyTest {
    @Test
    void maxAbsErrorIsTheLargestElementDifference() {
        try (Tensor a = Tensor.of(new float[] {1f, -2f, 3f, 0f}, 2, 2);
                Tensor b = Tensor.of(new float[] {1.25f, -2f, 2.5f, 0.125f}, 2, 2)) {
            assertEquals(0.5, Accuracy.maxAbsError(a, b), 0);
            assertEquals(0.5, Accuracy.maxAbsError(b, a), 0);
            assertEquals(0.0, Accuracy.maxAbsError(a, a), 0);
            assertEquals(0.5, Accuracy.maxAbsError(new Tensor[] {a, a}, new Tensor[] {a, b}), 0);
        }
    }

    @Test
    void nanAndInfinityAreReported() {
        try (Tensor a = Tensor.of(new float[] {Float.POSITIVE_INFINITY, 1f}, 2);
                Tensor b = Tensor.of(new float[] {Float.POSITIVE_INFINITY, Float.NaN}, 2)) {
            assertEquals(0.0, Accuracy.maxAbsError(a, a), 0);
            assertTrue(Double.isNaN(Accuracy.maxAbsError(a, b)));
        }
    }

    @Test
    void shapesMustMatch() {
        try (Tensor a = Tensor.zeros(2, 3); Tensor b = Tensor.zeros(3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Accuracy.maxAbsError(a, b));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> Accuracy.maxAbsError(new Tensor[] {a}, new Tensor[] {a, a}));
        }
    }
}
