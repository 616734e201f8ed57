package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat: every create → forward → close cycle returns what it took (JavaCPP
 * counts the bytes it allocated in {@link Pointer#totalBytes()}).
 */
class LeakTest {
    private static void cycle(int i) {
        RecurrentLayer layer = i % 2 == 0
                ? LSTM.builder().units(16).returnSequences(true).returnState(true).seed(i).build()
                : GRU.builder().units(16).goBackwards(true).seed(i).build();
        try (layer; Tensor x = Tensor.zeros(3 + i % 4, 5, 7)) {
            layer.useBackend(DnnlBackend.instance());
            layer.forward(x).close();
            layer.forward(x).close();
        }
    }

    @Test
    void createForwardCloseCyclesKeepNativeMemoryFlat() {
        for (int i = 0; i < 50; i++) {
            cycle(i);
        }
        long before = Pointer.totalBytes();
        for (int i = 0; i < 1000; i++) {
            cycle(i);
        }
        long after = Pointer.totalBytes();
        assertEquals(before, after, "JavaCPP bytes outstanding after 1000 create/forward/close cycles");
    }

    @Test
    void manyForwardsOnOneLayerKeepNativeMemoryFlat() {
        try (LSTM lstm = LSTM.builder().units(32).returnSequences(true).seed(1).build(); Tensor x = Tensor.zeros(8, 10, 12)) {
            lstm.useBackend(DnnlBackend.instance());
            lstm.forward(x).close();
            long before = Pointer.totalBytes();
            for (int i = 0; i < 5000; i++) {
                lstm.forward(x).close();
            }
            assertEquals(before, Pointer.totalBytes(), "bytes outstanding after 5000 forwards");
            assertTrue(Pointer.physicalBytes() > 0);
        }
    }
}
