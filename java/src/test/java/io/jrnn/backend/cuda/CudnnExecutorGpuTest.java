package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.BackendContractTest;
import io.jrnn.backend.BackendContractTest.Cell;
import io.jrnn.backend.BackendContractTest.Size;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuDNN executor on a GPU: right-padded masks on per-sample sequence lengths under both
 * masked-output rules, the weight layout cuDNN reports, the persistent algorithm, the shape cache,
 * and ownership (close frees every device and pinned byte; use after close fails).
 */
@Tag("gpu")
class CudnnExecutorGpuTest {
    private static final int C = 6;
    private static final int H = 11;

    static RecurrentSpec spec(Cell cell, boolean returnSequences, boolean goBackwards, boolean zeroOutputForMask,
            MaskedOutput maskedOutput, long seed) {
        CellType type = cell == Cell.LSTM ? CellType.LSTM : cell == Cell.SIMPLE_RNN_TANH || cell == Cell.SIMPLE_RNN_RELU
                ? CellType.SIMPLE_RNN : CellType.GRU;
        boolean resetAfter = cell == Cell.GRU_RESET_AFTER;
        float[][] w = BackendContractTest.kerasWeights(cell, new Size(1, 1, C, H), true, new SplittableRandom(seed));
        KerasRnnWeights weights = KerasRnnWeights.of(type, resetAfter, C, H, w[0], w[1], w[2]);
        Activation activation = cell == Cell.SIMPLE_RNN_RELU ? Activation.RELU : Activation.TANH;
        return new RecurrentSpec("gpu_" + cell.name().toLowerCase(java.util.Locale.ROOT), type, activation,
                Activation.SIGMOID, true, resetAfter, goBackwards, returnSequences, weights, zeroOutputForMask,
                maskedOutput);
    }

    static Stream<Arguments> maskCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : CudnnParityGpuTest.FUSED) {
            for (boolean returnSequences : new boolean[] {true, false}) {
                for (boolean zeros : new boolean[] {false, true}) {
                    for (MaskedOutput rule : MaskedOutput.values()) {
                        for (boolean initial : new boolean[] {false, true}) {
                            cases.add(Arguments.of(cell, returnSequences, zeros, rule, initial));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    private static Tensor[] run(RecurrentExecutor executor, Tensor x, Tensor[] initial, Mask mask) {
        return mask == null ? executor.run(x, initial) : executor.run(x, initial, mask);
    }

    private static double compare(RecurrentSpec spec, Tensor x, Tensor[] initial, Mask mask, String testCase,
            List<String> paths) {
        double worst = 0;
        try (RecurrentExecutor expected = ReferenceBackend.instance().compile(spec);
                RecurrentExecutor actual = CudaBackend.instance(0, Precision.FP32).compile(spec)) {
            Tensor[] e = run(expected, x, initial, mask);
            Tensor[] a = run(actual, x, initial, mask);
            try {
                assertEquals(e.length, a.length, testCase);
                for (int i = 0; i < e.length; i++) {
                    worst = Math.max(worst, GpuChecks.maxAbsErr(e[i], a[i], testCase + " output " + i));
                }
            } finally {
                for (Tensor t : e) {
                    t.close();
                }
                for (Tensor t : a) {
                    t.close();
                }
            }
            paths.add(actual.executionPath());
        }
        return worst;
    }

    @ParameterizedTest(name = "{0} seq={1} zeros={2} {3} init={4}")
    @MethodSource("maskCases")
    void rightPaddedMasksRunOnSequenceLengths(Cell cell, boolean returnSequences, boolean zeros, MaskedOutput rule,
            boolean initial) {
        GpuChecks.assumeGpu();
        int n = 5;
        int t = 8;
        SplittableRandom rng = new SplittableRandom(cell.ordinal() * 97L + (returnSequences ? 1 : 0) + (zeros ? 2 : 0));
        RecurrentSpec spec = spec(cell, returnSequences, false, zeros, rule, rng.nextLong());
        // Full, partial, empty and length-1 samples.
        Mask mask = Mask.fromLengths(new int[] {8, 3, 0, 1, 6}, t);
        Tensor[] init = initial ? new Tensor[spec.stateCount()] : null;
        List<String> paths = new ArrayList<>();
        try (Tensor x = BackendContractTest.random(rng, 1f, n, t, C)) {
            for (int s = 0; init != null && s < init.length; s++) {
                init[s] = BackendContractTest.random(rng, 1f, n, H);
            }
            String testCase = "mask " + cell + " seq=" + returnSequences + " zeros=" + zeros + " " + rule + " init="
                    + initial;
            GpuChecks.report(testCase, Precision.FP32, compare(spec, x, init, mask, testCase, paths), 1e-4);
            assertTrue(paths.get(0).startsWith("cuDNN ") && paths.get(0).endsWith("per-sample sequence lengths"),
                    paths.get(0));
        } finally {
            for (int s = 0; init != null && s < init.length; s++) {
                init[s].close();
            }
        }
    }

    @Test
    void allValidMaskRunsUnmasked() {
        GpuChecks.assumeGpu();
        RecurrentSpec spec = spec(Cell.LSTM, true, true, false, MaskedOutput.CANONICAL, 3);
        List<String> paths = new ArrayList<>();
        try (Tensor x = BackendContractTest.random(new SplittableRandom(4), 1f, 3, 4, C)) {
            double err = compare(spec, x, null, Mask.fromLengths(new int[] {4, 4, 4}, 4), "all-valid mask", paths);
            GpuChecks.report("mask all-valid LSTM backwards", Precision.FP32, err, 1e-4);
            assertTrue(paths.get(0).startsWith("cuDNN ") && !paths.get(0).contains("sequence lengths"), paths.get(0));
        }
    }

    @Test
    void reportedWeightLayoutIsTheDocumentedOne() {
        GpuChecks.assumeGpu();
        for (Precision precision : List.of(Precision.FP32, Precision.FP16)) {
            for (Cell cell : CudnnParityGpuTest.FUSED) {
                RecurrentSpec spec = spec(cell, true, false, false, MaskedOutput.CANONICAL, 1);
                try (RecurrentExecutor executor = CudaBackend.instance(0, precision).compile(spec)) {
                    // relu layers sit behind the NaN guard; the cuDNN executor is inside it.
                    RecurrentExecutor inner = executor instanceof io.jrnn.backend.NonFiniteGuardExecutor g ? g.fused() : executor;
                    CudnnRecurrentExecutor cudnn = assertInstanceOf(CudnnRecurrentExecutor.class, inner);
                    CudnnRnnLayout reported = cudnn.reportedLayout();
                    CudnnRnnLayout documented = CudnnRnnLayout.canonical(spec.cellType(), C, H, 1, 1,
                            precision == Precision.FP32 ? 4 : 2);
                    String diff = documented.differences(reported);
                    System.out.println("GPU-FACT weight layout " + precision + " " + cell + ": "
                            + (diff.isEmpty() ? "as documented" : diff));
                    assertEquals("", diff, precision + " " + cell + " (packing follows cuDNN either way)");
                }
            }
        }
    }

    @Test
    void persistentAlgorithmsMatchAndSayWhichRan() {
        GpuChecks.assumeGpu();
        for (CudnnPlan.AlgoChoice choice : CudnnPlan.AlgoChoice.values()) {
            for (Cell cell : List.of(Cell.LSTM, Cell.GRU_RESET_AFTER)) {
                RecurrentSpec spec = spec(cell, true, false, false, MaskedOutput.CANONICAL, 9);
                CudnnPlan plan = CudnnPlan.of(spec, Precision.FP32);
                for (int n : new int[] {4, 40}) {
                    try (RecurrentExecutor expected = ReferenceBackend.instance().compile(spec);
                            CudnnRecurrentExecutor actual = new CudnnRecurrentExecutor(
                                    CudaBackend.instance(0, Precision.FP32), spec, plan, choice);
                            Tensor x = BackendContractTest.random(new SplittableRandom(n), 1f, n, 7, C)) {
                        Tensor[] e = expected.run(x, null);
                        Tensor[] a = actual.run(x, null);
                        double err = 0;
                        for (int i = 0; i < e.length; i++) {
                            err = Math.max(err, GpuChecks.maxAbsErr(e[i], a[i], choice + " " + cell));
                            e[i].close();
                            a[i].close();
                        }
                        String path = actual.executionPath();
                        System.out.println("GPU-FACT algo " + choice + " " + cell + " N=" + n + ": " + path);
                        GpuChecks.report("algo " + choice + " " + cell + " N=" + n, Precision.FP32, err, 1e-4);
                        boolean persistExpected = choice == CudnnPlan.AlgoChoice.PERSIST_STATIC
                                || (choice == CudnnPlan.AlgoChoice.AUTO && n <= CudnnPlan.AUTO_PERSIST_MAX_BATCH);
                        // The path names the algorithm that ran; a refused persistent algorithm says so.
                        assertTrue(persistExpected
                                ? path.contains("(CUDNN_RNN_ALGO_PERSIST_STATIC,") || path.contains("PERSIST_STATIC refused")
                                : path.contains("(CUDNN_RNN_ALGO_STANDARD,"), path);
                    }
                }
            }
        }
    }

    @Test
    void shapeCacheReusesPlansAndEvictsTheOldest() {
        GpuChecks.assumeGpu();
        RecurrentSpec spec = spec(Cell.GRU_RESET_AFTER, true, false, false, MaskedOutput.CANONICAL, 2);
        try (RecurrentExecutor executor = CudaBackend.instance(0, Precision.FP32).compile(spec)) {
            CudnnRecurrentExecutor cudnn = assertInstanceOf(CudnnRecurrentExecutor.class, executor);
            try (Tensor x = Tensor.zeros(3, 4, C)) {
                for (int i = 0; i < 3; i++) {
                    closeAll(cudnn.run(x, null));
                }
                // A masked call of the same shape reuses the plan too.
                closeAll(cudnn.run(x, null, Mask.fromLengths(new int[] {4, 2, 1}, 4)));
                closeAll(cudnn.run(x, null));
            }
            assertEquals(1, cudnn.plansCreated());
            for (int steps = 1; steps <= CudnnRecurrentExecutor.SHAPE_CACHE_CAPACITY + 2; steps++) {
                try (Tensor x = Tensor.zeros(2, steps, C)) {
                    closeAll(cudnn.run(x, null));
                }
            }
            assertEquals(CudnnRecurrentExecutor.SHAPE_CACHE_CAPACITY, cudnn.cachedShapeCount());
            assertEquals(1 + CudnnRecurrentExecutor.SHAPE_CACHE_CAPACITY + 2, cudnn.plansCreated());
        }
    }

    @Test
    void createForwardCloseCyclesReturnEveryDeviceAndPinnedByte() {
        GpuChecks.assumeGpu();
        // Warm up: handles, libraries.
        cycle(0);
        long device = DeviceBuffer.liveBytes();
        long deviceCount = DeviceBuffer.liveCount();
        long pinned = PinnedBuffer.liveBytes();
        for (int i = 0; i < 200; i++) {
            cycle(i);
        }
        assertEquals(device, DeviceBuffer.liveBytes(), "device bytes after 200 create/forward/close cycles");
        assertEquals(deviceCount, DeviceBuffer.liveCount(), "device buffers after 200 cycles");
        assertEquals(pinned, PinnedBuffer.liveBytes(), "pinned bytes after 200 cycles");
    }

    private static void cycle(int i) {
        Cell cell = CudnnParityGpuTest.FUSED.get(i % 4);
        RecurrentSpec spec = spec(cell, i % 2 == 0, i % 3 == 0, false, MaskedOutput.CANONICAL, i);
        try (RecurrentExecutor executor = CudaBackend.instance(0, Precision.FP32).compile(spec);
                Tensor x = Tensor.zeros(2 + i % 3, 3 + i % 2, C)) {
            closeAll(executor.run(x, null));
            if (!spec.goBackwards()) {
                closeAll(executor.run(x, null, Mask.fromLengths(new int[x.dim(0)], x.dim(1))));
            }
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() {
        GpuChecks.assumeGpu();
        RecurrentSpec spec = spec(Cell.LSTM, false, false, false, MaskedOutput.CANONICAL, 5);
        RecurrentExecutor executor = CudaBackend.instance(0, Precision.FP32).compile(spec);
        try (Tensor x = Tensor.zeros(2, 3, C)) {
            closeAll(executor.run(x, null));
            executor.close();
            executor.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> executor.run(x, null));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertThrows(IllegalStateException.class,
                    () -> executor.run(x, null, Mask.fromLengths(new int[] {1, 2}, 3)));
        }
    }

    @Test
    void badInputsNameTheLayer() {
        GpuChecks.assumeGpu();
        RecurrentSpec spec = spec(Cell.SIMPLE_RNN_TANH, true, false, false, MaskedOutput.CANONICAL, 6);
        try (RecurrentExecutor executor = CudaBackend.instance(0, Precision.FP32).compile(spec);
                Tensor wrong = Tensor.zeros(2, 3, C + 1);
                Tensor x = Tensor.zeros(2, 3, C);
                Tensor badState = Tensor.zeros(3, H)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> executor.run(wrong, null));
            assertTrue(e.getMessage().contains("SimpleRNN 'gpu_simple_rnn_tanh'") && e.getMessage().contains(
                    "[N, T, " + C + "]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> executor.run(x, new Tensor[] {badState}));
        }
    }

    private static void closeAll(Tensor[] tensors) {
        for (Tensor t : tensors) {
            t.close();
        }
    }
}
