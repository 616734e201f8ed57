package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Small fp32 batches run on the composed path where it measured faster than the fused primitive (see WeightFormat). */
class SmallBatchDispatchTest {
    private static final Precision FP32 = Precision.FP32;

    private static boolean composed(RnnPrimitive p, int batch, int c, int h, int threads) {
        return WeightFormat.composedFaster(p, batch, c, h, FP32, threads);
    }

    @Test
    void ruleFollowsTheMeasurements() {
        for (int threads : new int[] {1, 2}) {
            // LSTM: batch <= 4 with >= 16 MiB of weights.
            assertTrue(composed(RnnPrimitive.LSTM, 1, 1024, 1024, threads));
            assertTrue(composed(RnnPrimitive.LSTM, 4, 1024, 1024, threads));
            assertTrue(composed(RnnPrimitive.LSTM, 4, 768, 768, threads));
            assertFalse(composed(RnnPrimitive.LSTM, 5, 1024, 1024, threads), "batch above 4");
            assertFalse(composed(RnnPrimitive.LSTM, 64, 1024, 1024, threads));
            assertFalse(composed(RnnPrimitive.LSTM, 4, 512, 512, threads), "8 MB of weights stay fused");
            assertFalse(composed(RnnPrimitive.LSTM, 2, 640, 640, threads), "13 MB at batch 2 stays fused");
            assertTrue(composed(RnnPrimitive.LSTM, 1, 512, 512, threads), "8 MiB at batch 1");
            assertFalse(composed(RnnPrimitive.LSTM, 1, 64, 128, threads), "small weights stay fused");
            assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 1024, 1024, Precision.BF16, threads),
                    "bf16 stays fused");
            // lbr_gru: batch <= 4 with >= 16 MiB (H = C = 1024: 24 MiB).
            assertTrue(composed(RnnPrimitive.LBR_GRU, 4, 1024, 1024, threads));
            assertTrue(composed(RnnPrimitive.LBR_GRU, 1, 512, 512, threads), "6 MiB at batch 1");
            assertFalse(composed(RnnPrimitive.LBR_GRU, 4, 512, 512, threads), "6 MiB at batch 4 stays fused");
            assertFalse(composed(RnnPrimitive.LBR_GRU, 5, 1024, 1024, threads));
            assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 1024, 1024, Precision.BF16, threads));
            // gru_forward: batch <= 4 always, <= 32 with >= 4 MiB.
            assertTrue(composed(RnnPrimitive.GRU, 1, 16, 32, threads));
            assertTrue(composed(RnnPrimitive.GRU, 4, 64, 128, threads));
            assertFalse(composed(RnnPrimitive.GRU, 16, 64, 128, threads), "small weights at batch 16");
            assertTrue(composed(RnnPrimitive.GRU, 32, 512, 512, threads));
            assertFalse(composed(RnnPrimitive.GRU, 33, 512, 512, threads));
            // vanilla RNN: batch 1 only.
            assertTrue(composed(RnnPrimitive.VANILLA_RNN, 1, 512, 512, threads), "2 MiB");
            assertFalse(composed(RnnPrimitive.VANILLA_RNN, 2, 1024, 1024, threads));
            assertFalse(composed(RnnPrimitive.VANILLA_RNN, 1, 64, 128, threads));
            assertFalse(composed(RnnPrimitive.VANILLA_RNN, 0, 1024, 1024, threads));
        }
        // Batch 1 with mid-sized weights: composed at 1 thread only (the gate pass is single-threaded).
        assertTrue(composed(RnnPrimitive.LSTM, 1, 256, 256, 1), "2 MiB, 1 thread");
        assertFalse(composed(RnnPrimitive.LSTM, 1, 256, 256, 2), "2 MiB, 2 threads");
        assertTrue(composed(RnnPrimitive.LBR_GRU, 1, 256, 256, 1), "1.5 MiB, 1 thread");
        assertFalse(composed(RnnPrimitive.LBR_GRU, 1, 256, 256, 2), "1.5 MiB, 2 threads");
        assertTrue(composed(RnnPrimitive.VANILLA_RNN, 1, 256, 256, 1), "512 KiB, 1 thread");
        assertFalse(composed(RnnPrimitive.VANILLA_RNN, 1, 256, 256, 2), "512 KiB, 2 threads");
    }

    @Test
    void withIdleOpenMpThreadsThatSleepSoonBatchOneJavaStepCellsTakeTheOneThreadSizes() {
        // LSTM/lbr_gru (256, 1): the recurrent kernel (1 MiB / 768 KiB) is the Java step's, on 2 threads.
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 256, 256, FP32, 2, true));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 256, 256, FP32, 2, true));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 256, 256, FP32, 2, false));
        // H = 384: a 2.25 MiB recurrent kernel has no Java step, so the threaded sizes apply (4.5 MiB < 8 MiB).
        assertTrue(composed(RnnPrimitive.LSTM, 1, 384, 384, 1));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 384, 384, FP32, 2, true));
        // Batch 2 has no Java step by default; vanilla RNN none at all.
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 2, 256, 256, FP32, 2, true));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.VANILLA_RNN, 1, 256, 256, FP32, 2, true));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 256, 256, Precision.BF16, 2, true));
    }

    @Test
    void threadCountComesFromOmpNumThreads() {
        assertEquals(1, WeightFormat.ompThreads("1"));
        assertEquals(4, WeightFormat.ompThreads(" 4,2"));
        int processors = Runtime.getRuntime().availableProcessors();
        assertEquals(processors, WeightFormat.ompThreads(null));
        assertEquals(processors, WeightFormat.ompThreads("many"));
        assertEquals(processors, WeightFormat.ompThreads("0"));
    }

    /**
     * A cell whose rule sends {@code composedBatch} to the composed path and {@code fusedBatch} to the
     * fused primitive at any thread count; sizes distinct, above the thresholds.
     */
    record Case(String name, CellType type, boolean resetAfter, String primitive, int features, int units,
            int composedBatch, int fusedBatch) {
        @Override
        public String toString() {
            return name + " C" + features + " H" + units + " N" + composedBatch + "/" + fusedBatch;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                new Case("lstm", CellType.LSTM, false, "lstm_forward", 600, 512, 1, 2),
                new Case("lstm", CellType.LSTM, false, "lstm_forward", 768, 768, 4, 5),
                new Case("lbr_gru", CellType.GRU, true, "lbr_gru_forward", 300, 512, 1, 2),
                new Case("lbr_gru", CellType.GRU, true, "lbr_gru_forward", 400, 1024, 4, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 7, 9, 1, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 11, 6, 4, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 520, 512, 20, 33),
                new Case("vanilla", CellType.SIMPLE_RNN, false, "vanilla_rnn_forward", 600, 700, 1, 2))
                .map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void smallBatchesRunComposedAndLargerOnesFusedWithTheReferenceResults(Case k) {
        int c = k.features();
        int h = k.units();
        int gh = k.type().gateCount() * h;
        SplittableRandom rng = new SplittableRandom(9 + c + h);
        float wb = (float) (1 / Math.sqrt(h));
        KerasRnnWeights w = KerasRnnWeights.of(k.type(), k.resetAfter(), c, h, uniform(rng, wb, c * gh),
                uniform(rng, wb, h * gh), uniform(rng, 0.5f, gh * (k.resetAfter() ? 2 : 1)));
        RecurrentSpec spec = new RecurrentSpec("small", k.type(), Activation.TANH, Activation.SIGMOID, true,
                k.resetAfter(), false, true, w);
        int steps = 3;
        try (RecurrentExecutor reference = ReferenceBackend.instance().compile(spec);
                RecurrentExecutor cpu = DnnlBackend.instance().compile(spec)) {
            for (int batch : new int[] {k.composedBatch(), k.fusedBatch(), k.composedBatch()}) {
                try (Tensor x = random(rng, 1f, batch, steps, c); Tensor h0 = random(rng, 0.5f, batch, h);
                        Tensor c0 = random(rng, 0.5f, batch, h)) {
                    Tensor[] init = k.type() == CellType.LSTM ? new Tensor[] {h0, c0} : new Tensor[] {h0};
                    Tensor[] expected = reference.run(x, init);
                    Tensor[] actual = cpu.run(x, init);
                    String path = cpu.executionPath();
                    if (batch == k.composedBatch()) {
                        assertTrue(path.startsWith(ComposedRecurrentExecutor.PATH_PREFIX) && path.contains(
                                DnnlRecurrentExecutor.SMALL_BATCH_REASON_PREFIX + k.primitive() + " "), path);
                    } else {
                        assertTrue(path.startsWith("oneDNN " + k.primitive() + " ("), path);
                    }
                    for (int i = 0; i < expected.length; i++) {
                        assertClose(expected[i], actual[i], k + " batch " + batch + " output " + i);
                        expected[i].close();
                        actual[i].close();
                    }
                }
            }
            int batch = k.composedBatch();
            try (Tensor x = random(rng, 1f, batch, steps, c)) {
                // A mask with a gap (not right-padded) runs composed; compare with the reference.
                boolean[] valid = new boolean[batch * steps];
                for (int n = 0; n < batch; n++) {
                    valid[n * steps] = true;
                    valid[n * steps + 2] = n % 2 == 0;
                }
                Mask gap = Mask.of(valid, batch, steps);
                Tensor[] expected = reference.run(x, null, gap);
                Tensor[] actual = cpu.run(x, null, gap);
                assertTrue(cpu.executionPath().startsWith(ComposedRecurrentExecutor.PATH_PREFIX), cpu.executionPath());
                for (int i = 0; i < expected.length; i++) {
                    assertClose(expected[i], actual[i], k + " gap mask output " + i);
                    expected[i].close();
                    actual[i].close();
                }
                // Right-padded masks keep the fused primitive's length segments.
                int[] lengths = new int[batch];
                for (int n = 0; n < batch; n++) {
                    lengths[n] = n == 0 ? 2 : 1 + n % steps;
                }
                Mask padded = Mask.fromLengths(lengths, steps);
                expected = reference.run(x, null, padded);
                actual = cpu.run(x, null, padded);
                assertTrue(cpu.executionPath().contains("length segment"), cpu.executionPath());
                for (int i = 0; i < expected.length; i++) {
                    assertClose(expected[i], actual[i], k + " right-padded mask output " + i);
                    expected[i].close();
                    actual[i].close();
                }
            }
        }
    }
}
