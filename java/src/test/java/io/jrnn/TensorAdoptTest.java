package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

class TensorAdoptTest {
    @Test
    void adoptedMemoryIsTheTensorsAndIsClosedWithIt() {
        FloatPointer memory = new FloatPointer(6);
        memory.put(new float[] {1, 2, 3, 4, 5, 6});
        Tensor t = Tensor.adopt(memory, 2, 3);
        assertEquals(5f, t.get(1, 1));
        t.close();
        assertTrue(t.isClosed());
        assertTrue(memory.isNull(), "closing the tensor closes the adopted pointer");
        t.close(); // harmless
        assertThrows(IllegalStateException.class, t::toArray);
    }

    @Test
    void refusesTooLittleOrMisplacedMemory() {
        try (FloatPointer small = new FloatPointer(5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.adopt(small, 2, 3));
            assertTrue(e.getMessage().contains("needs 6 floats"), e.getMessage());
        }
        try (FloatPointer moved = new FloatPointer(8)) {
            moved.position(1);
            assertThrows(IllegalArgumentException.class, () -> Tensor.adopt(moved, 2, 3));
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.adopt(null, 1));
    }
}
