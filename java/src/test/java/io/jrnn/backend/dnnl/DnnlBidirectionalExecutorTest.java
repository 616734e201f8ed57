package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Kind;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Bidirectional.MergeMode;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * {@link DnnlBackend#compileBidirectional}: which pairs it takes, the executor's contract (states
 * in and out per direction, ownership, input checks) and native memory.
 */
class DnnlBidirectionalExecutorTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();
    private static final Size SIZE = new Size(3, 6, 4, 5);

    private static RecurrentSpec spec(Kind kind, Activation activation, Activation recurrent, boolean backwards,
            boolean sequences, Size size, long seed) {
        return ComposedRecurrentExecutorTest.spec(kind, activation, recurrent, true, backwards, sequences, size,
                new SplittableRandom(seed));
    }

    private static RecurrentSpec lstm(boolean backwards, boolean sequences, long seed) {
        return spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, backwards, sequences, SIZE, seed);
    }

    private static Tensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }

    @Test
    void takesPairsOfTheSameFusedCellWithConcatOrSum() {
        for (Kind kind : Kind.values()) {
            for (MergeMode mode : new MergeMode[] {MergeMode.CONCAT, MergeMode.SUM}) {
                RecurrentSpec f = spec(kind, Activation.TANH, Activation.SIGMOID, false, true, SIZE, 1);
                RecurrentSpec b = spec(kind, Activation.TANH, Activation.SIGMOID, true, true, SIZE, 2);
                try (RecurrentExecutor e = CPU.compileBidirectional(f, b, mode)) {
                    assertInstanceOf(DnnlBidirectionalExecutor.class, e, kind + " " + mode);
                    assertTrue(e.executionPath().contains(" bidirectional_" + mode.kerasName() + " ("), e.executionPath());
                }
            }
        }
    }

    @Test
    void refusesWhatOnePrimitiveCannotRun() {
        RecurrentSpec f = lstm(false, true, 1);
        RecurrentSpec b = lstm(true, true, 2);
        for (MergeMode mode : new MergeMode[] {MergeMode.AVE, MergeMode.MUL, MergeMode.NONE}) {
            assertNull(CPU.compileBidirectional(f, b, mode), mode.toString());
            assertTrue(DnnlBackend.bidirectionalUnsupportedReason(f, b, mode).startsWith("merge_mode="));
        }
        // Directions swapped or both forwards.
        assertNull(CPU.compileBidirectional(b, f, MergeMode.CONCAT));
        assertNull(CPU.compileBidirectional(f, lstm(false, true, 3), MergeMode.CONCAT));
        // A gate activation the primitive has not.
        RecurrentSpec hard = spec(Kind.LSTM, Activation.TANH, Activation.HARD_SIGMOID_KERAS3, true, true, SIZE, 4);
        assertNull(CPU.compileBidirectional(f, hard, MergeMode.CONCAT));
        assertTrue(DnnlBackend.bidirectionalUnsupportedReason(f, hard, MergeMode.CONCAT).contains("hard_sigmoid"));
        // Different cells, GRU variants, SimpleRNN activations, units, input sizes, return_sequences.
        assertNull(CPU.compileBidirectional(f, spec(Kind.GRU, Activation.TANH, Activation.SIGMOID, true, true, SIZE, 5),
                MergeMode.CONCAT));
        assertNull(CPU.compileBidirectional(spec(Kind.GRU, Activation.TANH, Activation.SIGMOID, false, true, SIZE, 6),
                spec(Kind.GRU_RESET_AFTER, Activation.TANH, Activation.SIGMOID, true, true, SIZE, 7), MergeMode.SUM));
        assertNull(CPU.compileBidirectional(
                spec(Kind.SIMPLE_RNN, Activation.TANH, Activation.SIGMOID, false, true, SIZE, 8),
                spec(Kind.SIMPLE_RNN, Activation.RELU, Activation.SIGMOID, true, true, SIZE, 9), MergeMode.SUM));
        assertNull(CPU.compileBidirectional(f, spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, true,
                new Size(3, 6, 4, 7), 10), MergeMode.CONCAT));
        assertNull(CPU.compileBidirectional(f, spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, true,
                new Size(3, 6, 9, 5), 11), MergeMode.CONCAT));
        assertNull(CPU.compileBidirectional(f, lstm(true, false, 12), MergeMode.CONCAT));
        // The SimpleRNN "recurrent activation" is unused: it does not matter.
        assertNotNullAndClose(CPU.compileBidirectional(
                spec(Kind.SIMPLE_RNN, Activation.RELU, Activation.SIGMOID, false, true, SIZE, 13),
                spec(Kind.SIMPLE_RNN, Activation.RELU, Activation.HARD_SIGMOID_KERAS2, true, true, SIZE, 14),
                MergeMode.SUM));
        // The reference backend has no single executor for both directions.
        assertNull(ReferenceBackend.instance().compileBidirectional(f, b, MergeMode.CONCAT));
    }

    private static void assertNotNullAndClose(RecurrentExecutor e) {
        assertNotNull(e);
        e.close();
    }

    @Test
    void statesGoInAndComeOutPerDirection() {
        RecurrentSpec f = lstm(false, false, 21);
        RecurrentSpec b = lstm(true, false, 22);
        int n = SIZE.batch();
        int h = SIZE.units();
        try (RecurrentExecutor bi = CPU.compileBidirectional(f, b, MergeMode.CONCAT);
             RecurrentExecutor fwd = CPU.compile(f);
             RecurrentExecutor bwd = CPU.compile(b);
             Tensor x = random(23, n, SIZE.steps(), SIZE.features());
             Tensor hf = random(24, n, h);
             Tensor cf = random(25, n, h);
             Tensor hb = random(26, n, h);
             Tensor cb = random(27, n, h)) {
            Tensor[] got = bi.run(x, new Tensor[] {hf, cf, hb, cb});
            Tensor[] yf = fwd.run(x, new Tensor[] {hf, cf});
            Tensor[] yb = bwd.run(x, new Tensor[] {hb, cb});
            try {
                assertEquals(5, got.length);
                assertArrayEquals(new int[] {n, 2 * h}, got[0].shape());
                float[] merged = got[0].toArray();
                float[] a = yf[0].toArray();
                float[] c = yb[0].toArray();
                for (int s = 0; s < n; s++) {
                    for (int j = 0; j < h; j++) {
                        assertEquals(a[s * h + j], merged[s * 2 * h + j], 1e-6f);
                        assertEquals(c[s * h + j], merged[s * 2 * h + h + j], 1e-6f);
                    }
                }
                assertArrayEquals(yf[1].toArray(), got[1].toArray(), 1e-6f, "forward h");
                assertArrayEquals(yf[2].toArray(), got[2].toArray(), 1e-6f, "forward c");
                assertArrayEquals(yb[1].toArray(), got[3].toArray(), 1e-6f, "backward h");
                assertArrayEquals(yb[2].toArray(), got[4].toArray(), 1e-6f, "backward c");
            } finally {
                for (Tensor[] ts : new Tensor[][] {got, yf, yb}) {
                    for (Tensor t : ts) {
                        t.close();
                    }
                }
            }
        }
    }

    @Test
    void badInputsAreRefusedAndOwnershipIsKept() {
        RecurrentExecutor bi = CPU.compileBidirectional(lstm(false, true, 31), lstm(true, true, 32), MergeMode.SUM);
        int n = SIZE.batch();
        try (Tensor wrongFeatures = random(33, n, SIZE.steps(), SIZE.features() + 1);
             Tensor x = random(34, n, SIZE.steps(), SIZE.features());
             Tensor h = random(35, n, SIZE.units());
             Tensor wrongBatch = random(36, n + 1, SIZE.units())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bi.run(wrongFeatures, null));
            assertTrue(e.getMessage().contains("LSTM 'composed_test'") && e.getMessage().contains("[N, T, 4]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> bi.run(x, new Tensor[] {h, h}));
            assertTrue(e.getMessage().contains("4 states (2 forward, then 2 backward)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> bi.run(x, new Tensor[] {h, h, h, wrongBatch}));
            assertTrue(e.getMessage().contains("initial state 3 must be [3, 5]"), e.getMessage());
            boolean[] valid = new boolean[n * SIZE.steps()];
            java.util.Arrays.fill(valid, true);
            // All-valid masks run; any other is refused (the wrapper runs masked calls as two layers).
            Tensor[] out = bi.run(x, null, Mask.of(valid, n, SIZE.steps()));
            for (Tensor t : out) {
                t.close();
            }
            valid[0] = false;
            assertThrows(UnsupportedConfigurationException.class, () -> bi.run(x, null, Mask.of(valid, n, SIZE.steps())));
            bi.close();
            assertDoesNotThrow(bi::close);
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> bi.run(x, null));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }

    @Test
    void shapesAreCachedAndNativeMemoryStaysFlat() {
        RecurrentSpec f = spec(Kind.GRU_RESET_AFTER, Activation.TANH, Activation.SIGMOID, false, true, SIZE, 41);
        RecurrentSpec b = spec(Kind.GRU_RESET_AFTER, Activation.TANH, Activation.SIGMOID, true, true, SIZE, 42);
        Runnable cycle = () -> {
            try (RecurrentExecutor bi = CPU.compileBidirectional(f, b, MergeMode.CONCAT)) {
                for (int batch : new int[] {2, 40, 2}) {
                    try (Tensor x = random(batch, batch, 5, SIZE.features())) {
                        for (Tensor t : bi.run(x, null)) {
                            t.close();
                        }
                    }
                }
                // Batch 40 runs split where this JVM splits batches (BatchSplit): one plan, and primitive, per part.
                BatchSplit split = BatchSplit.shared();
                int parts = split == null ? 1 : ((DnnlBidirectionalExecutor) bi).splitParts(40, split.workers() + 1);
                assertEquals(1 + parts, ((DnnlBidirectionalExecutor) bi).primitivesCreated());
            }
        };
        for (int i = 0; i < 5; i++) {
            cycle.run();
        }
        long before = Pointer.totalBytes();
        for (int i = 0; i < 50; i++) {
            cycle.run();
        }
        assertEquals(before, Pointer.totalBytes(), "JavaCPP bytes outstanding after 50 compile/run/close cycles");
    }
}
