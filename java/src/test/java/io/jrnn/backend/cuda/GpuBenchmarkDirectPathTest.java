package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.cuda.GpuBenchReport.Case;
import io.jrnn.backend.cuda.GpuBenchReport.Cell;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.weights.CudnnRnnWeights;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The GPU benchmark's direct cuDNN path computes the same layer as the reference backend, so its
 * timings are timings of the right computation. Prints
 * {@code GPU-BENCH-CHECK <case> precision=<p> maxAbsErr=<x> tolerance=<t>}.
 */
@Tag("gpu")
class GpuBenchmarkDirectPathTest {

    @ParameterizedTest
    @CsvSource({"LSTM, FP32, 1e-4", "GRU, FP32, 1e-4", "LSTM, TF32, 2e-2", "LSTM, FP16, 2e-2", "GRU, FP16, 2e-2"})
    void directCudnnMatchesTheReferenceBackend(Cell cell, Precision precision, double tolerance) {
        Assumptions.assumeTrue(Cuda.usable(), () -> "CUDA not usable: " + Cuda.status().reason());
        Case c = new Case(cell, 48, 3, 7, 20, precision);
        SplittableRandom rng = new SplittableRandom(11);
        RecurrentLayer layer = layer(cell, c, true);
        float[] input = uniform(rng, c.batch() * c.steps() * c.input(), 1f);
        try (layer; Tensor x = Tensor.of(input, c.batch(), c.steps(), c.input())) {
            setRandomWeights(layer, cell, c, rng);
            layer.useBackend(ReferenceBackend.instance());
            int states = cell == Cell.LSTM ? 2 : 1;
            // The output, then the final states (hy, cy): the direct path downloads them as jrnn does.
            float[][] expected = new float[1 + states][];
            try (Outputs o = layer.forward(x)) {
                assertEquals(1 + states, o.size());
                for (int i = 0; i < o.size(); i++) {
                    expected[i] = o.get(i).toArray();
                }
            }
            float[][] actual = new float[1 + states][];
            try (GpuBenchmark.DirectCudnn direct = new GpuBenchmark.DirectCudnn(c,
                    CudnnRnnWeights.fromKeras(layer.weights()))) {
                direct.run(x.pointer());
                actual[0] = direct.output();
                for (int s = 0; s < states; s++) {
                    actual[1 + s] = direct.finalState(s);
                }
                assertThrows(IllegalArgumentException.class, () -> direct.finalState(states));
                assertTrue(direct.computeOnlyMs() > 0, "CUDA events measured no time");
            }
            double maxAbsErr = 0;
            for (int k = 0; k < expected.length; k++) {
                maxAbsErr = Math.max(maxAbsErr, maxError(expected[k], actual[k], "output " + k));
            }
            System.out.printf(Locale.ROOT, "GPU-BENCH-CHECK direct-%s precision=%s maxAbsErr=%.3e tolerance=%.3g%n",
                    c.id(), GpuChecks.label(precision), maxAbsErr, tolerance);
            assertTrue(maxAbsErr <= tolerance, c.id() + ": direct cuDNN differs from the reference by " + maxAbsErr);
        }
    }

    /**
     * On jrnn's device memory ({@link GpuBenchmark.DirectCudnn#shareDeviceMemory}) the direct path
     * gives jrnn's output, and jrnn still gives it after the direct path used its buffers.
     */
    @ParameterizedTest
    @CsvSource({"LSTM, FP32, 0", "GRU, FP32, 0", "LSTM, FP16, 2e-2"})
    void directCudnnOnJrnnsDeviceMemoryMatchesJrnn(Cell cell, Precision precision, double tolerance) {
        Assumptions.assumeTrue(Cuda.usable(), () -> "CUDA not usable: " + Cuda.status().reason());
        Case c = new Case(cell, 40, 5, 6, 24, precision);
        SplittableRandom rng = new SplittableRandom(13);
        RecurrentLayer layer = layer(cell, c, false);
        float[] input = uniform(rng, c.batch() * c.steps() * c.input(), 1f);
        try (layer; Tensor x = Tensor.of(input, c.batch(), c.steps(), c.input())) {
            setRandomWeights(layer, cell, c, rng);
            layer.useBackend(CudaBackend.instance(0, precision));
            float[] jrnn;
            try (Outputs o = layer.forward(x)) {
                jrnn = o.output().toArray();
            }
            CudnnRecurrentExecutor executor = GpuBenchmark.cudnnExecutor(layer);
            assertEquals(null, executor.deviceMemory(c.batch() + 1, c.steps()), "no plan for a shape not run yet");
            CudnnRecurrentExecutor.DeviceMemory memory = executor.deviceMemory(c.batch(), c.steps());
            assertTrue(memory != null && memory.weights() != 0 && memory.workspace() != 0 && memory.x() != 0
                    && memory.y() != 0 && memory.hy() != 0 && (memory.cy() != 0) == (cell == Cell.LSTM), "" + memory);
            try (GpuBenchmark.DirectCudnn direct = new GpuBenchmark.DirectCudnn(c,
                    CudnnRnnWeights.fromKeras(layer.weights()))) {
                direct.shareDeviceMemory(memory);
                direct.run(x.pointer());
                assertClose(jrnn, direct.output(), tolerance, c.id() + " direct on jrnn's memory");
            }
            try (Outputs o = layer.forward(x)) {
                assertClose(jrnn, o.output().toArray(), 0, c.id() + " jrnn after the direct path used its memory");
            }
        }
    }

    /** The case's layer, returning the sequence (and, with {@code returnState}, the final states). */
    private static RecurrentLayer layer(Cell cell, Case c, boolean returnState) {
        return cell == Cell.LSTM
                ? LSTM.builder().units(c.hidden()).returnSequences(true).returnState(returnState).build()
                : GRU.builder().units(c.hidden()).resetAfter(true).returnSequences(true).returnState(returnState).build();
    }

    /** Keras-layout kernel, recurrent kernel and bias (GRU reset_after: two bias rows) drawn from {@code rng}. */
    private static void setRandomWeights(RecurrentLayer layer, Cell cell, Case c, SplittableRandom rng) {
        int gh = cell.gates * c.hidden();
        layer.setWeights(uniform(rng, c.input() * gh, 0.3f), uniform(rng, c.hidden() * gh, 0.3f),
                uniform(rng, cell == Cell.GRU ? 2 * gh : gh, 0.1f));
    }

    /** The largest element error ({@link GpuChecks#elementError}) between equally long arrays. */
    private static double maxError(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, GpuChecks.elementError(expected[i], actual[i]));
        }
        return max;
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        double max = maxError(expected, actual, what);
        assertTrue(max <= tolerance, what + ": max error " + max + " > " + tolerance);
    }

    private static float[] uniform(SplittableRandom rng, int count, float limit) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        return a;
    }
}
