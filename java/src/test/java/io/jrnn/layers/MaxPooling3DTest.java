package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import org.junit.jupiter.api.Test;

class MaxPooling3DTest {
    @Test
    void samePaddingPoolsPartialWindowsAtTheEnd() {
        // [1, 1, 3, 3, 1]: pool (1,2,2), strides (1,2,2), 'same' → 2×2 outputs, last row/col partial windows.
        float[] v = {1, 5, 2, -3, 4, -1, 7, -8, -9};
        try (MaxPooling3D p = new MaxPooling3D("p", new int[] {1, 2, 2}, new int[] {1, 2, 2}, "same", false);
                Tensor x = Tensor.of(v, 1, 1, 3, 3, 1);
                Tensor y = p.apply(x)) {
            assertArrayEquals(new int[] {1, 1, 2, 2, 1}, y.shape());
            assertArrayEquals(new float[] {5, 2, 7, -9}, y.toArray());
            assertArrayEquals(new int[] {1, 2, 2, 1}, p.outputShape(new int[] {1, 3, 3, 1}));
        }
    }

    @Test
    void validAndChannelsFirst() {
        float[] v = new float[2 * 2 * 4 * 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        try (MaxPooling3D p = new MaxPooling3D("p", new int[] {2, 2, 2}, null, "valid", true);
                Tensor x = Tensor.of(v, 1, 2, 2, 4, 4);
                Tensor y = p.apply(x)) {
            // channel c, depth 0..1, 4×4 → 1×2×2, max = the bottom-right of each window in depth 1.
            assertArrayEquals(new int[] {1, 2, 1, 2, 2}, y.shape());
            assertArrayEquals(new float[] {21, 23, 29, 31, 53, 55, 61, 63}, y.toArray());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaxPooling3D("p", new int[] {2, 2}, null, "valid", false));
        assertTrue(e.getMessage().contains("MaxPooling3D 'p'"), e.getMessage());
        try (MaxPooling3D p = new MaxPooling3D("p", new int[] {1, 2, 2}, null, "valid", false);
                Tensor bad = Tensor.zeros(1, 2, 3)) {
            e = assertThrows(IllegalArgumentException.class, () -> p.apply(bad));
            assertTrue(e.getMessage().contains("rank 5"), e.getMessage());
        }
    }
}
