package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import io.jrnn.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsArraysBuffersAndNpy() {
        float[] v = {1, 2, 3, 4, 5, 6};
        try (Tensor t = Tensor.of(v, 2, 3); Tensor b = Tensor.of(FloatBuffer.wrap(v), 3, 2)) {
            assertArrayEquals(v, t.toArray());
            assertArrayEquals(new int[] {3, 2}, b.shape());
            assertEquals(6f, t.get(1, 2));
            FloatBuffer out = FloatBuffer.allocate(6);
            t.copyTo(out);
            assertArrayEquals(v, out.array());
            Path p = dir.resolve("t.npy");
            t.writeNpy(p);
            try (Tensor r = Tensor.readNpy(p)) {
                assertArrayEquals(new int[] {2, 3}, r.shape());
                assertArrayEquals(v, r.toArray());
            }
            Path z = dir.resolve("t.npz");
            Npy.writeNpz(z, Map.of("a", t));
            Map<String, Tensor> m = Npy.readNpz(z);
            assertArrayEquals(v, m.get("a").toArray());
            m.values().forEach(Tensor::close);
        }
    }

    @Test
    void uninitializedTensorsHaveTheShapeAndKeepWhatIsWritten() {
        try (Tensor t = Tensor.uninitialized(2, 3); Tensor empty = Tensor.uninitialized(0, 4)) {
            assertArrayEquals(new int[] {2, 3}, t.shape());
            assertEquals(6, t.size());
            float[] v = {1, 2, 3, 4, 5, 6};
            t.view().put(v);
            assertArrayEquals(v, t.toArray());
            assertEquals(0, empty.size());
            assertEquals(0, empty.toArray().length);
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.uninitialized(2, -1));
        try (Tensor z = Tensor.zeros(64, 64)) {
            for (float f : z.toArray()) {
                assertEquals(0f, f);
            }
        }
    }

    @Test
    void badShapesAndClosedUseAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("needs 6 values, got 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        Tensor t = Tensor.zeros(2, 2);
        t.close();
        t.close();
        assertThrows(IllegalStateException.class, t::toArray);
        assertThrows(IllegalArgumentException.class, () -> Npy.read(dir.resolve("missing.npy")));
    }
}
