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
import org.junit.jupiter.api.Test;

/** Small batches of fp32 LSTMs with large weights run on the composed path (faster there, see WeightFormat). */
class SmallBatchDispatchTest {
    @Test
    void ruleFollowsTheMeasurements() {
        Precision fp32 = Precision.FP32;
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 1024, 1024, fp32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 1024, 1024, fp32));
        assertTrue(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 768, 768, fp32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 5, 1024, 1024, fp32), "batch above 4");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 64, 1024, 1024, fp32));
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 4, 512, 512, fp32), "8 MB of weights stay fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 640, 640, fp32), "13 MB stays fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LSTM, 1, 1024, 1024, Precision.BF16), "bf16 stays fused");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.LBR_GRU, 1, 1024, 1024, fp32), "measured for LSTM only");
        assertFalse(WeightFormat.composedFaster(RnnPrimitive.GRU, 1, 1024, 1024, fp32));
    }

    @Test
    void aLargeLstmRunsSmallBatchesComposedAndLargerOnesFusedWithTheSameResults() {
        int c = 768;
        int h = 768;
        SplittableRandom rng = new SplittableRandom(9);
        KerasRnnWeights w = KerasRnnWeights.of(CellType.LSTM, false, c, h, uniform(rng, 0.036f, c * 4 * h),
                uniform(rng, 0.036f, h * 4 * h), uniform(rng, 0.5f, 4 * h));
        RecurrentSpec spec = new RecurrentSpec("big", CellType.LSTM, Activation.TANH, Activation.SIGMOID, true, false,
                false, true, w);
        try (RecurrentExecutor reference = ReferenceBackend.instance().compile(spec);
                RecurrentExecutor cpu = DnnlBackend.instance().compile(spec)) {
            for (int batch : new int[] {2, 5, 4}) {
                try (Tensor x = random(rng, 1f, batch, 3, c); Tensor h0 = random(rng, 0.5f, batch, h);
                        Tensor c0 = random(rng, 0.5f, batch, h)) {
                    Tensor[] init = {h0, c0};
                    Tensor[] expected = reference.run(x, init);
                    Tensor[] actual = cpu.run(x, init);
                    String path = cpu.executionPath();
                    if (batch <= 4) {
                        assertTrue(path.startsWith(ComposedRecurrentExecutor.PATH_PREFIX)
                                && path.contains("faster than lstm_forward at batch <= 4 with >= 16 MiB of weights"), path);
                    } else {
                        assertTrue(path.startsWith("oneDNN lstm_forward ("), path);
                    }
                    for (int i = 0; i < expected.length; i++) {
                        assertClose(expected[i], actual[i], "batch " + batch + " output " + i);
                        expected[i].close();
                        actual[i].close();
                    }
                }
            }
            // Right-padded masks keep the fused primitive's length segments.
            try (Tensor x = random(rng, 1f, 2, 3, c)) {
                Tensor[] out = cpu.run(x, null, Mask.fromLengths(new int[] {3, 1}, 3));
                assertTrue(cpu.executionPath().contains("length segment"), cpu.executionPath());
                for (Tensor t : out) {
                    t.close();
                }
            }
        }
    }
}
