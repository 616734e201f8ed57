package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;
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

    @Test
    void ruleFollowsTheMeasurements() {
        // LSTM: batch <= 4 with >= 16 MiB of weights, batch 1 with >= 2 MiB.
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 1024, 1024, FP32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 1024, 1024, FP32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 768, 768, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 5, 1024, 1024, FP32), "batch above 4");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 64, 1024, 1024, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 512, 512, FP32), "8 MB of weights stay fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 2, 640, 640, FP32), "13 MB at batch 2 stays fused");
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 256, 256, FP32), "2 MiB at batch 1");
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 512, 512, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 64, 128, FP32), "small weights stay fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 1024, 1024, Precision.BF16), "bf16 stays fused");
        // lbr_gru: batch <= 4 with >= 16 MiB (H = C = 1024: 24 MiB), batch 1 with >= 4 MiB.
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 4, 1024, 1024, FP32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 512, 512, FP32), "6 MiB at batch 1");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 256, 256, FP32), "1.5 MiB stays fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 4, 512, 512, FP32), "6 MiB at batch 4 stays fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 5, 1024, 1024, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 1024, 1024, Precision.BF16));
        // gru_forward: batch <= 4 always, <= 32 with >= 4 MiB.
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.GRU, 1, 16, 32, FP32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.GRU, 4, 64, 128, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.GRU, 16, 64, 128, FP32), "small weights at batch 16");
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.GRU, 32, 512, 512, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.GRU, 33, 512, 512, FP32));
        // vanilla RNN: batch 1 with >= 512 KiB.
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.VANILLA_RNN, 1, 256, 256, FP32), "512 KiB");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.VANILLA_RNN, 2, 1024, 1024, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.VANILLA_RNN, 1, 64, 128, FP32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.VANILLA_RNN, 0, 1024, 1024, FP32));
    }

    /**
     * A cell whose rule sends {@code composedBatch} to the composed path and {@code fusedBatch} to the
     * fused primitive; sizes distinct, just above the thresholds.
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
                new Case("lstm", CellType.LSTM, false, "lstm_forward", 300, 256, 1, 2),
                new Case("lstm", CellType.LSTM, false, "lstm_forward", 768, 768, 4, 5),
                new Case("lbr_gru", CellType.GRU, true, "lbr_gru_forward", 300, 512, 1, 2),
                new Case("lbr_gru", CellType.GRU, true, "lbr_gru_forward", 400, 1024, 4, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 7, 9, 1, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 11, 6, 4, 5),
                new Case("gru", CellType.GRU, false, "gru_forward", 520, 512, 20, 33),
                new Case("vanilla", CellType.SIMPLE_RNN, false, "vanilla_rnn_forward", 200, 300, 1, 2))
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
