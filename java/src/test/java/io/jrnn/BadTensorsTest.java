package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Absurd allocations and empty batch/time: clear exceptions, the same on every backend. */
class BadTensorsTest {
    static List<Backend> backends() {
        return TestBackends.all();
    }

    @Test
    void anAllocationPastTheNativeLimitIsAnExceptionNotACrash() {
        // 2^31-1 floats = 8 GiB, past JavaCPP's maxBytes (the -Xmx of this JVM): refused before malloc.
        assertTrue(Pointer.maxBytes() < 8L << 30, "test assumes maxBytes < 8 GiB, is " + Pointer.maxBytes());
        long before = Pointer.totalBytes();
        NativeMemoryException e = assertThrows(NativeMemoryException.class, () -> Tensor.zeros(Integer.MAX_VALUE).close());
        assertTrue(e.getMessage().contains("[2147483647]") && e.getMessage().contains("8589934588 bytes")
                && e.getMessage().contains("maxBytes"), e.getMessage());
        assertTrue(Pointer.totalBytes() - before < 1 << 20, "nothing stays allocated");
        assertThrows(NativeMemoryException.class, () -> Tensor.uninitialized(46341, 46340).close());
        // Shapes past the element limit or negative never reach the allocator.
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(65536, 65536)).getMessage().contains("at most"));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(3, -1));
        assertThrows(ArithmeticException.class, () -> Tensor.zeros(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
        try (Tensor ok = Tensor.zeros(4, 5)) {
            assertTrue(ok.size() == 20);
        }
    }

    static List<Layer> layers() {
        RecurrentLayer fwd = LSTM.builder().units(3).returnSequences(true).seed(1).build();
        fwd.initializeWeights(2);
        RecurrentLayer fwd2 = LSTM.builder().units(3).returnSequences(true).seed(1).build();
        fwd2.initializeWeights(2);
        RecurrentLayer bwd = LSTM.builder().units(3).returnSequences(true).goBackwards(true).seed(2).build();
        bwd.initializeWeights(2);
        RecurrentLayer gru = GRU.builder().units(3).seed(3).build();
        gru.initializeWeights(2);
        RecurrentLayer rnn = SimpleRNN.builder().units(3).seed(4).build();
        rnn.initializeWeights(2);
        return List.of(fwd, gru, rnn, Bidirectional.builder().layer(fwd2).backwardLayer(bwd).build());
    }

    /**
     * Empty time (T = 0) is an error in Keras too (its rnn loop reads step 0); an empty batch (N = 0),
     * which Keras would pass through as an empty result, is refused by jrnn with the same clear
     * message on every backend (docs/reliability.md).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void emptyBatchAndEmptyTimeAreClearErrorsOnEveryBackend(Backend backend) {
        for (Layer l : layers()) {
            l.useBackend(backend);
            try (Tensor noBatch = Tensor.zeros(0, 4, 2); Tensor noTime = Tensor.zeros(2, 0, 2)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.forward(noBatch).close());
                assertTrue(e.getMessage().contains("empty batch") && e.getMessage().contains("[0, 4, 2]"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> l.forward(noTime).close());
                assertTrue(e.getMessage().contains("no time steps") && e.getMessage().contains("[2, 0, 2]"), e.getMessage());
            }
            l.close();
        }
    }
}
