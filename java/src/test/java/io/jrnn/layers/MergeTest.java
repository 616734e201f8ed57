package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class MergeTest {
    private static final float[] A = {1, 2, 3, 4, 5, 6};
    private static final float[] B = {10, 20, 30, 40, 50, 60};

    @Test
    void concatenateAlongTheLastAndAMiddleAxis() {
        try (Tensor a = Tensor.of(A, 1, 2, 3); Tensor b = Tensor.of(B, 1, 2, 3);
             Tensor last = Merge.concatenate("c", -1).merge(List.of(a, b));
             Tensor time = Merge.concatenate("t", 1).merge(List.of(a, b))) {
            assertArrayEquals(new int[] {1, 2, 6}, last.shape());
            assertArrayEquals(new float[] {1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60}, last.toArray());
            assertArrayEquals(new int[] {1, 4, 3}, time.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, time.toArray());
        }
        assertArrayEquals(new int[] {5, 7}, Merge.concatenate("c", -1).outputShape(List.of(new int[] {5, 3}, new int[] {5, 4})));
        assertArrayEquals(new int[] {5, 7}, Merge.concatenate("c", 2).outputShape(List.of(new int[] {-1, 3}, new int[] {5, 4})));
    }

    @Test
    void elementwiseModes() {
        try (Tensor a = Tensor.of(A, 2, 3); Tensor b = Tensor.of(B, 2, 3)) {
            assertArrayEquals(new float[] {11, 22, 33, 44, 55, 66}, run(Merge.Mode.ADD, a, b));
            assertArrayEquals(new float[] {-9, -18, -27, -36, -45, -54}, run(Merge.Mode.SUBTRACT, a, b));
            assertArrayEquals(new float[] {10, 40, 90, 160, 250, 360}, run(Merge.Mode.MULTIPLY, a, b));
            assertArrayEquals(new float[] {5.5f, 11, 16.5f, 22, 27.5f, 33}, run(Merge.Mode.AVERAGE, a, b));
            assertArrayEquals(B, run(Merge.Mode.MAXIMUM, a, b));
            assertArrayEquals(A, run(Merge.Mode.MINIMUM, a, b));
            assertArrayEquals(new float[] {21, 42, 63, 84, 105, 126}, Merge.of("three", Merge.Mode.ADD).merge(List.of(a, b, b)).toArray());
        }
    }

    private static float[] run(Merge.Mode mode, Tensor a, Tensor b) {
        try (Merge m = Merge.of(null, mode); Tensor y = m.merge(List.of(a, b))) {
            assertEquals(mode.kerasName(), m.typeName());
            return y.toArray();
        }
    }

    @Test
    void badInputsNameTheLayerAndTheShapes() {
        try (Tensor a = Tensor.of(A, 2, 3); Tensor b = Tensor.of(A, 3, 2); Tensor c = Tensor.of(A, 1, 6)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Merge.of("add", Merge.Mode.ADD).merge(List.of(a, b)));
            assertTrue(e.getMessage().contains("Add 'add'") && e.getMessage().contains("[2, 3], [3, 2]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Merge.of("s", Merge.Mode.SUBTRACT).merge(List.of(a, a, a)));
            assertTrue(e.getMessage().contains("exactly 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Merge.concatenate("cat", -1).merge(List.of(a, c)));
            assertTrue(e.getMessage().contains("Concatenate 'cat'") && e.getMessage().contains("[1, 6]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Merge.of("one", Merge.Mode.ADD).merge(List.of(a)));
            assertThrows(IllegalArgumentException.class, () -> Merge.of("x", Merge.Mode.ADD).forward(a));
            assertThrows(IllegalArgumentException.class, () -> Merge.concatenate("b", 0));
        }
        Merge closed = Merge.of("closed", Merge.Mode.ADD);
        closed.close();
        closed.close();
        try (Tensor a = Tensor.of(A, 2, 3)) {
            assertThrows(IllegalStateException.class, () -> closed.merge(List.of(a, a)));
        }
    }

    @Test
    void mergedMaskIsValidWhereEveryInputMaskIs() {
        Merge m = Merge.of("add", Merge.Mode.ADD);
        Mask x = Mask.fromLengths(new int[] {3, 1}, 3);
        Mask y = Mask.fromLengths(new int[] {2, 3}, 3);
        assertEquals(Mask.fromLengths(new int[] {2, 1}, 3), m.outputMask(java.util.Arrays.asList(x, null, y)));
        assertEquals(x, m.outputMask(java.util.Arrays.asList(null, x)));
        assertNull(m.outputMask(java.util.Arrays.asList(null, null)));
    }
}
