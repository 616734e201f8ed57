package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.random;
import static io.jrnn.backend.BackendContractTest.uniform;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx2_vnni_2;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_amx;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_vnni;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Accuracy;
import io.jrnn.Mask;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backends;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * bf16 on the oneDNN backend vs the fp32 reference: every fused cell and variant, the composed path,
 * right-padded and arbitrary masks, at small distinct sizes; max abs error ≤ 1e-2 (each test reports
 * the error it observed). This machine's CPU has AVX512-BF16, so the bf16 backend must exist here.
 */
class DnnlBf16Test {
    /** The accuracy bound of issue 6. */
    static final double TOLERANCE = 1e-2;

    enum Cell {
        LSTM(CellType.LSTM, false, Activation.TANH),
        GRU(CellType.GRU, false, Activation.TANH),
        GRU_RESET_AFTER(CellType.GRU, true, Activation.TANH),
        SIMPLE_RNN_TANH(CellType.SIMPLE_RNN, false, Activation.TANH),
        SIMPLE_RNN_RELU(CellType.SIMPLE_RNN, false, Activation.RELU),
        SIMPLE_RNN_SIGMOID(CellType.SIMPLE_RNN, false, Activation.SIGMOID);

        final CellType type;
        final boolean resetAfter;
        final Activation activation;

        Cell(CellType type, boolean resetAfter, Activation activation) {
            this.type = type;
            this.resetAfter = resetAfter;
            this.activation = activation;
        }
    }

    /** N, T, C, H: all different, so a swapped dimension cannot pass. */
    record Size(int n, int t, int c, int h) {
        @Override
        public String toString() {
            return "N" + n + " T" + t + " C" + c + " H" + h;
        }
    }

    static final List<Size> SIZES = List.of(new Size(3, 7, 5, 6), new Size(2, 9, 24, 32));

    private static DnnlBackend bf16;

    @BeforeAll
    static void bf16Backend() {
        assertTrue(DnnlBackend.supportedPrecisions().contains(Precision.BF16),
                "this machine's CPU has AVX512-BF16; oneDNN reports " + DnnlBackend.supportedPrecisions());
        bf16 = DnnlBackend.instance(Precision.BF16);
    }

    static RecurrentSpec spec(Cell cell, Activation recurrent, boolean goBackwards, boolean returnSequences, Size size,
            SplittableRandom rng) {
        int gh = cell.type.gateCount() * size.h();
        float[] bias = uniform(rng, 0.5f, gh * (cell.resetAfter ? 2 : 1));
        KerasRnnWeights w = KerasRnnWeights.of(cell.type, cell.resetAfter, size.c(), size.h(),
                uniform(rng, (float) (1 / Math.sqrt(size.c())), size.c() * gh),
                uniform(rng, (float) (1 / Math.sqrt(size.h())), size.h() * gh), bias);
        return new RecurrentSpec("bf16_test", cell.type, cell.activation, recurrent, true, cell.resetAfter,
                goBackwards, returnSequences, w);
    }

    static Stream<Arguments> fusedCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (Size size : SIZES) {
                for (int bits = 0; bits < 8; bits++) {
                    cases.add(Arguments.of(cell, size, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0));
                }
            }
        }
        return cases.stream();
    }

    /** Runs {@code spec} on the reference and on bf16 oneDNN; returns the max abs error over every output. */
    static double compare(RecurrentSpec spec, Size size, boolean initialStates, Mask mask, String expectPath,
            TestReporter reporter, String label) {
        SplittableRandom rng = new SplittableRandom(label.hashCode());
        try (RecurrentExecutor expected = ReferenceBackend.instance().compile(spec);
                RecurrentExecutor actual = bf16.compile(spec);
                Tensor x = random(rng, 1f, size.n(), size.t(), size.c())) {
            Tensor[] init = null;
            if (initialStates) {
                init = new Tensor[spec.stateCount()];
                for (int s = 0; s < init.length; s++) {
                    init[s] = random(rng, 0.8f, size.n(), size.h());
                }
            }
            Tensor[] e = expected.run(x, init, mask);
            Tensor[] a = actual.run(x, init, mask);
            try {
                String path = actual.executionPath();
                assertTrue(path.contains(expectPath), () -> label + ": execution path " + path);
                double error = Accuracy.maxAbsError(e, a);
                String report = String.format(Locale.ROOT, "%s: bf16 max abs error %.2e (bound %.0e) on %s", label,
                        error, TOLERANCE, path);
                reporter.publishEntry("bf16", report);
                System.out.println(report);
                assertTrue(error <= TOLERANCE, report);
                // bf16 really ran: fp32 would be within 1e-5.
                assertTrue(error > 1e-6, () -> report + " — suspiciously exact for bf16");
                return error;
            } finally {
                for (Tensor t : e) {
                    t.close();
                }
                for (Tensor t : a) {
                    t.close();
                }
                if (init != null) {
                    for (Tensor t : init) {
                        t.close();
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} backwards={2} sequences={3} initialStates={4}")
    @MethodSource("fusedCases")
    void fusedPrimitiveInBf16MatchesTheReference(Cell cell, Size size, boolean backwards, boolean sequences,
            boolean initialStates, TestReporter reporter) {
        RecurrentSpec spec = spec(cell, Activation.SIGMOID, backwards, sequences, size, new SplittableRandom(17));
        compare(spec, size, initialStates, null, ", bf16)", reporter,
                cell + " " + size + " backwards=" + backwards + " sequences=" + sequences + " init=" + initialStates);
    }

    static Stream<Arguments> composedCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : List.of(Cell.LSTM, Cell.GRU, Cell.GRU_RESET_AFTER)) {
            for (boolean backwards : new boolean[] {false, true}) {
                cases.add(Arguments.of(cell, Activation.HARD_SIGMOID_KERAS2, backwards));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} recurrent_activation={1} backwards={2}")
    @MethodSource("composedCases")
    void composedPathInBf16MatchesTheReference(Cell cell, Activation recurrent, boolean backwards,
            TestReporter reporter) {
        Size size = SIZES.get(1);
        RecurrentSpec spec = spec(cell, recurrent, backwards, true, size, new SplittableRandom(23));
        compare(spec, size, true, null, "bf16 matmuls", reporter, "composed " + cell + " backwards=" + backwards);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Cell.class, names = {"LSTM", "GRU", "SIMPLE_RNN_TANH"})
    void composedLayersAtLargeBatchesRunTheirBf16GateMatmulsWithActivationPostOps(Cell cell, TestReporter reporter) {
        // Large enough that every part of a split batch (BatchSplit: one per thread) still has the post-ops' rows.
        Size size = new Size(ComposedRecurrentExecutor.ACTIVATED_STEP_FROM_BATCH * WeightFormat.THREADS + 1, 6, 24, 32);
        RecurrentSpec spec = spec(cell, Activation.HARD_SIGMOID_KERAS2, true, true, size, new SplittableRandom(29));
        if (cell.type == CellType.SIMPLE_RNN) {
            // elu: the fused vanilla_rnn_forward has no elu, so the layer runs composed.
            spec = new RecurrentSpec(spec.layerName(), spec.cellType(), Activation.ELU, spec.recurrentActivation(),
                    spec.useBias(), spec.resetAfter(), spec.goBackwards(), spec.returnSequences(), spec.weights());
        }
        compare(spec, size, true, null, "bf16 matmuls, f32 accumulation and gates; gate activations as matmul post-ops",
                reporter, "composed " + spec.cellType() + " " + spec.activation().kerasName() + " " + size);
    }

    @Test
    void composedSimpleRnnWithAnotherActivationRunsBf16Matmuls(TestReporter reporter) {
        Size size = SIZES.get(0);
        RecurrentSpec base = spec(Cell.SIMPLE_RNN_TANH, Activation.SIGMOID, false, true, size, new SplittableRandom(5));
        RecurrentSpec spec = new RecurrentSpec(base.layerName(), base.cellType(), Activation.SOFTSIGN,
                base.recurrentActivation(), true, false, false, true, base.weights());
        compare(spec, size, false, null, "bf16 matmuls", reporter, "composed SimpleRNN softsign");
    }

    @ParameterizedTest(name = "{0} backwards={1}")
    @MethodSource("maskCases")
    void rightPaddedMaskStaysOnTheBf16Primitive(Cell cell, boolean backwards, TestReporter reporter) {
        Size size = new Size(5, 6, 4, 8);
        RecurrentSpec spec = spec(cell, Activation.SIGMOID, backwards, true, size, new SplittableRandom(31));
        Mask mask = Mask.fromLengths(new int[] {6, 3, 0, 1, 3}, size.t());
        compare(spec, size, true, mask, "bf16), right-padded mask in 3 length segment(s)", reporter,
                "right-padded " + cell + " backwards=" + backwards);
    }

    @ParameterizedTest(name = "{0} backwards={1}")
    @MethodSource("maskCases")
    void otherMasksRunOnTheBf16ComposedPath(Cell cell, boolean backwards, TestReporter reporter) {
        Size size = new Size(3, 6, 4, 8);
        RecurrentSpec spec = spec(cell, Activation.SIGMOID, backwards, true, size, new SplittableRandom(37));
        boolean[] valid = {
            false, true, true, false, true, true,
            true, true, true, true, true, true,
            true, false, false, false, false, true,
        };
        compare(spec, size, false, Mask.of(valid, size.n(), size.t()), "bf16 matmuls", reporter,
                "left-padded/holes " + cell + " backwards=" + backwards);
    }

    static Stream<Arguments> maskCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            cases.add(Arguments.of(cell, false));
            cases.add(Arguments.of(cell, true));
        }
        return cases.stream();
    }

    @Test
    void manyShapesShareOneBf16WeightConversionAndOutputsAreFloat32(TestReporter reporter) {
        Size size = SIZES.get(1);
        RecurrentSpec spec = spec(Cell.LSTM, Activation.SIGMOID, false, true, size, new SplittableRandom(3));
        try (DnnlRecurrentExecutor executor = (DnnlRecurrentExecutor) bf16.compile(spec)) {
            for (int t : new int[] {3, 9, 4}) {
                try (Tensor x = random(new SplittableRandom(t), 1f, 2, t, size.c())) {
                    Tensor[] out = executor.run(x, null);
                    assertEquals(3, out.length);
                    assertEquals(List.of(2, t, size.h()), List.of(out[0].dim(0), out[0].dim(1), out[0].dim(2)));
                    for (Tensor o : out) {
                        o.close();
                    }
                }
            }
            assertEquals(3, executor.primitivesCreated());
            assertEquals(2, executor.weightConversions(),
                    "weights layer and iter converted to bf16 once for every shape of the same batch");
        }
    }

    @Test
    void bf16IsRefusedBelowAvx512Bf16AndAcceptedFromIt() {
        for (int isa : new int[] {dnnl_cpu_isa_avx2_vnni_2, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni}) {
            String refusal = DnnlBackend.bf16Refusal(isa);
            assertNotNull(refusal);
            assertTrue(refusal.contains("bf16") && refusal.contains("'cpu'") && refusal.contains("AVX512-BF16")
                    && refusal.contains(DnnlBackend.isaName(isa)), refusal);
        }
        assertTrue(DnnlBackend.bf16Refusal(dnnl_cpu_isa_avx512_core).contains("avx512_core"));
        assertNull(DnnlBackend.bf16Refusal(dnnl_cpu_isa_avx512_core_bf16));
        assertNull(DnnlBackend.bf16Refusal(dnnl_cpu_isa_avx512_core_amx));
    }

    @Test
    void tf32AndFp16AreRefusedOnTheCpuNamingPrecisionAndBackend() {
        for (Precision p : List.of(Precision.TF32, Precision.FP16)) {
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> DnnlBackend.instance(p));
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("'cpu'"), e.getMessage());
            UnsupportedConfigurationException viaName = assertThrows(UnsupportedConfigurationException.class,
                    () -> Backends.named("cpu", p));
            assertTrue(viaName.getMessage().contains(p.toString()), viaName.getMessage());
        }
    }

    @Test
    void precisionsAreSeparateInstancesAndSayWhatTheyRun() {
        assertSame(DnnlBackend.instance(), DnnlBackend.instance(Precision.FP32));
        assertSame(bf16, DnnlBackend.instance(Precision.BF16));
        assertSame(bf16, Backends.named("cpu", Precision.BF16));
        assertSame(DnnlBackend.instance(), Backends.named("cpu", Precision.FP32));
        assertEquals(Precision.FP32, DnnlBackend.instance().precision());
        assertEquals(Precision.BF16, bf16.precision());
        assertEquals("cpu", bf16.name());
        assertTrue(bf16.describe().contains("bf16 forward_inference"), bf16.describe());
        assertTrue(DnnlBackend.instance().describe().contains("fp32 forward_inference"));
        assertEquals(List.of(Precision.FP32, Precision.BF16), DnnlBackend.supportedPrecisions());
    }

    @Test
    void theReferenceBackendRunsFp32Only() {
        assertSame(ReferenceBackend.instance(), Backends.named("reference", Precision.FP32));
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                () -> Backends.named("reference", Precision.BF16));
        assertTrue(e.getMessage().contains("bf16") && e.getMessage().contains("'reference'"), e.getMessage());
    }

    @Test
    void stacksAndBidirectionalPairsRunLayerByLayerInBf16() {
        Size size = new Size(2, 4, 8, 8);
        RecurrentSpec a = spec(Cell.LSTM, Activation.SIGMOID, false, true, size, new SplittableRandom(1));
        RecurrentSpec b = spec(Cell.LSTM, Activation.SIGMOID, true, true, size, new SplittableRandom(2));
        assertNull(bf16.compileStack(List.of(a, a)));
        assertNull(bf16.compileBidirectional(a, b, io.jrnn.layers.Bidirectional.MergeMode.CONCAT));
    }

    /** Runs {@code executor} on {@code x} (with {@code init} and {@code mask}); every output as one array. */
    private static float[] outputs(RecurrentExecutor executor, Tensor x, Tensor[] init, Mask mask) {
        Tensor[] out = executor.run(x, init, mask);
        int total = 0;
        for (Tensor t : out) {
            total += (int) t.size();
        }
        float[] all = new float[total];
        int at = 0;
        for (Tensor t : out) {
            float[] values = t.toArray();
            System.arraycopy(values, 0, all, at, values.length);
            at += values.length;
            t.close();
        }
        return all;
    }

    /**
     * bf16 inside the per-call execution contexts: two threads are held inside one bf16 executor at
     * once (so two contexts, each with its own bf16 buffers, reorders, f32 LSTM cell states and
     * scratchpad, exist), then 8 threads run the fused LSTM (with and without a right-padded mask)
     * and the composed bf16 path concurrently; every result equals the single-threaded one and the
     * weights are converted to bf16 once, shared by the contexts.
     */
    @Test
    void bf16ExecutorsRunConcurrentCallsInTheirOwnContexts() throws Exception {
        Size size = new Size(4, 7, 12, 16);
        RecurrentSpec fusedSpec = spec(Cell.LSTM, Activation.SIGMOID, false, true, size, new SplittableRandom(41));
        RecurrentSpec composedSpec = spec(Cell.GRU, Activation.HARD_SIGMOID_KERAS2, true, true, size,
                new SplittableRandom(43));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        SplittableRandom rng = new SplittableRandom(47);
        try (DnnlRecurrentExecutor fused = (DnnlRecurrentExecutor) bf16.compile(fusedSpec);
                RecurrentExecutor composed = bf16.compile(composedSpec);
                Tensor x = random(rng, 1f, size.n(), size.t(), size.c());
                Tensor h0 = random(rng, 0.8f, size.n(), size.h());
                Tensor c0 = random(rng, 0.8f, size.n(), size.h())) {
            assertTrue(composed.executionPath().contains("bf16 matmuls"), composed.executionPath());
            Tensor[] init = {h0, c0};
            Mask mask = Mask.fromLengths(new int[] {7, 4, 0, 2}, size.t());
            float[] fusedExpected = outputs(fused, x, init, null);
            float[] maskedExpected = outputs(fused, x, init, mask);
            float[] composedExpected = outputs(composed, x, new Tensor[] {h0}, null);
            int conversions = fused.weightConversions();

            java.util.concurrent.CyclicBarrier bothInside = new java.util.concurrent.CyclicBarrier(2);
            ShapeCache.afterAcquireForTests = () -> {
                try {
                    bothInside.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("the other bf16 call never entered the executor at the same time", e);
                }
            };
            try {
                var a = pool.submit(() -> outputs(fused, x, init, null));
                var b = pool.submit(() -> outputs(fused, x, init, null));
                assertArrayEquals(fusedExpected, a.get(60, java.util.concurrent.TimeUnit.SECONDS), 1e-6f);
                assertArrayEquals(fusedExpected, b.get(60, java.util.concurrent.TimeUnit.SECONDS), 1e-6f);
            } finally {
                ShapeCache.afterAcquireForTests = null;
            }
            assertTrue(fused.primitivesCreated() >= 2, "two contexts of one shape: " + fused.primitivesCreated());

            List<java.util.concurrent.Future<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                int which = i % 3;
                calls.add(pool.submit(() -> {
                    for (int k = 0; k < 5; k++) {
                        switch (which) {
                            case 0 -> assertArrayEquals(fusedExpected, outputs(fused, x, init, null), 1e-6f);
                            case 1 -> assertArrayEquals(maskedExpected, outputs(fused, x, init, mask), 1e-6f);
                            default -> assertArrayEquals(composedExpected,
                                    outputs(composed, x, new Tensor[] {h0}, null), 1e-6f);
                        }
                    }
                    return true;
                }));
            }
            for (var call : calls) {
                assertTrue(call.get(120, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertEquals(conversions, fused.weightConversions(),
                    "the contexts share the bf16 weights converted once per layout");
        } finally {
            pool.shutdownNow();
        }
    }
}
