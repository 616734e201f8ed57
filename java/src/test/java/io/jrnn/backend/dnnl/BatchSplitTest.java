package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Kind;
import io.jrnn.backend.dnnl.ComposedRecurrentExecutorTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A batch split over Java threads with one OpenMP thread each: the rule, the thread counts, parity, failures, concurrency. */
class BatchSplitTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();
    /** One worker: two parts. */
    private static BatchSplit TWO;
    /** Two workers: up to three parts. */
    private static BatchSplit THREE;

    /**
     * The build makes {@code libjrnn_openmp.so} when cmake and cc are on PATH (java/pom.xml); then it
     * must load and find oneDNN's OpenMP runtime. A build without them skips it with a warning, and
     * so does this class.
     */
    @BeforeAll
    static void theLibraryIsBuiltAndFindsOneDnnsOpenMpRuntime() {
        String why = OpenMpThreads.unavailableReason();
        assumeTrue(why == null || !why.contains("is not in the jar") || (onPath("cmake") && onPath("cc")),
                "libjrnn_openmp.so was not built (the build needs cmake and cc on PATH): " + why);
        assertNull(why, "libjrnn_openmp.so should be built by Maven and load; see native/README.md");
        assertTrue(OpenMpThreads.available());
        TWO = BatchSplit.forTests(1);
        THREE = BatchSplit.forTests(2);
        leaksBefore = settledLeakCount();
    }

    /** Native objects collected unclosed before this class: every tensor a split call made or took was closed. */
    private static long leaksBefore;

    @AfterAll
    static void noTensorOfASplitCallWasLeftForTheCleaner() {
        assertEquals(leaksBefore, settledLeakCount(), "tensors garbage-collected without close() during BatchSplitTest");
    }

    /** {@link io.jrnn.NativeResources#leakCount()} once garbage collection and the cleaner have settled. */
    private static long settledLeakCount() {
        long count = -1;
        for (int stable = 0, i = 0; stable < 3 && i < 50; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = io.jrnn.NativeResources.leakCount();
            stable = now == count ? stable + 1 : 0;
            count = now;
        }
        return count;
    }

    private static boolean onPath(String command) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(dir -> java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, command)));
    }

    @Test
    void aThreadsOpenMpCountIsItsOwn() throws Exception {
        int[] seen = new int[4];
        Thread t = new Thread(() -> {
            seen[0] = OpenMpThreads.get();
            seen[1] = OpenMpThreads.set(1);
            seen[2] = OpenMpThreads.get();
            seen[3] = OpenMpThreads.set(3);
        });
        int mine = OpenMpThreads.get();
        t.start();
        t.join();
        assertEquals(WeightFormat.THREADS, seen[0], "a new thread starts with OMP_NUM_THREADS");
        assertEquals(seen[0], seen[1], "set returns the count the thread had");
        assertEquals(1, seen[2]);
        assertEquals(1, seen[3]);
        assertEquals(mine, OpenMpThreads.get(), "another thread's setting leaves this thread's count alone");
        assertThrows(IllegalArgumentException.class, () -> OpenMpThreads.set(0));
    }

    @Test
    void theRuleSplitsSmallWeightsIntoPartsOfAtLeastFourRows() {
        // (H 128, C 64) LSTM: 393 KiB of weights.
        assertEquals(2, parts(RnnPrimitive.LSTM, 32, 64, 128, 2));
        assertEquals(1, parts(RnnPrimitive.LSTM, 32, 64, 128, 1), "one thread");
        assertEquals(2, parts(RnnPrimitive.LBR_GRU, 8, 64, 128, 2));
        assertEquals(1, parts(RnnPrimitive.LBR_GRU, 7, 64, 128, 2), "7 rows: one part of 4");
        assertEquals(3, parts(RnnPrimitive.VANILLA_RNN, 12, 64, 128, 4), "12 rows, 4 threads");
        assertEquals(4, parts(RnnPrimitive.VANILLA_RNN, 64, 64, 128, 4));
        assertEquals(2, parts(RnnPrimitive.GRU, 32, 64, 128, 2));
        // LSTM (256, 256): exactly 2 MiB splits; (512, 512): 8 MiB does not.
        assertEquals(2, parts(RnnPrimitive.LSTM, 32, 256, 256, 2));
        assertEquals(1, parts(RnnPrimitive.LSTM, 32, 257, 256, 2));
        assertEquals(1, parts(RnnPrimitive.LSTM, 64, 512, 512, 2));
        assertEquals(2, parts(RnnPrimitive.VANILLA_RNN, 32, 512, 512, 2), "2 MiB");
    }

    @Test
    void rowsArePartitionedInOrderWithTheRemainderFirst() {
        assertArrayEquals(new int[] {4, 3, 3}, new int[] {BatchSplit.rows(10, 3, 0), BatchSplit.rows(10, 3, 1),
            BatchSplit.rows(10, 3, 2)});
        assertArrayEquals(new int[] {0, 4, 7}, new int[] {BatchSplit.firstRow(10, 3, 0), BatchSplit.firstRow(10, 3, 1),
            BatchSplit.firstRow(10, 3, 2)});
        assertEquals(16, BatchSplit.rows(32, 2, 1));
        assertEquals(16, BatchSplit.firstRow(32, 2, 1));
    }

    @Test
    void offReasonsNameTheSetting() {
        assertNull(BatchSplit.offReason(true, 2, true, null));
        assertEquals("-Djrnn.dnnl.batchSplit=false", BatchSplit.offReason(false, 2, true, null));
        assertEquals("one OpenMP thread", BatchSplit.offReason(true, 1, true, null));
        assertTrue(BatchSplit.offReason(true, 2, false, null).contains("GOMP_SPINCOUNT"));
        assertEquals("no library", BatchSplit.offReason(true, 2, true, "no library"));
    }

    @Test
    void onlyFalseTurnsThePropertyOff() {
        String before = System.getProperty(BatchSplit.PROPERTY);
        try {
            for (String value : new String[] {"false", "FALSE", " false "}) {
                System.setProperty(BatchSplit.PROPERTY, value);
                assertFalse(BatchSplit.enabledByProperty(), value);
            }
            for (String value : new String[] {"true", "yes", ""}) {
                System.setProperty(BatchSplit.PROPERTY, value);
                assertTrue(BatchSplit.enabledByProperty(), value);
            }
        } finally {
            if (before == null) {
                System.clearProperty(BatchSplit.PROPERTY);
            } else {
                System.setProperty(BatchSplit.PROPERTY, before);
            }
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int variant = 0; variant < 4; variant++) {
                // 9 rows in 2 parts (5 + 4); 13 rows in 3 parts (5 + 4 + 4). gru_forward runs batches of up to 4 rows
                // composed (WeightFormat.composedFaster), so its parts need more: 11 (6 + 5) and 16 (6 + 5 + 5).
                boolean gru = kind == Kind.GRU;
                cases.add(Arguments.of(kind, variant, gru ? 11 : 9, 2));
                cases.add(Arguments.of(kind, variant, gru ? 16 : 13, 3));
            }
        }
        return cases.stream();
    }

    /**
     * variant bit 0: go_backwards, bit 1: return_sequences; odd sizes (N ≠ T ≠ C ≠ H); with and
     * without initial states. Compared with the same executor unsplit and with the reference backend.
     */
    @ParameterizedTest(name = "{0} variant {1} N{2} parts {3}")
    @MethodSource("cases")
    void aSplitBatchEqualsTheWholeBatch(Kind kind, int variant, int batch, int parts) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 100L + variant * 10L + batch);
        boolean back = (variant & 1) != 0;
        boolean sequences = (variant & 2) != 0;
        Size size = new Size(batch, 7, 6, 11);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, back,
                sequences, size, rng);
        Tensor[] init = new Tensor[spec.stateCount()];
        for (int s = 0; s < init.length; s++) {
            init[s] = random(rng, 1f, batch, size.units());
        }
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                DnnlRecurrentExecutor split = fused(spec);
                DnnlRecurrentExecutor whole = fused(spec);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            split.batchSplitForTests(parts == 2 ? TWO : THREE);
            whole.batchSplitForTests(null);
            assertEquals(parts, split.splitParts(batch, parts));
            for (Tensor[] states : Arrays.asList(null, init)) {
                Tensor[] a = split.run(x, states);
                String rows = BatchSplit.rows(batch, parts, parts - 1) + "-" + BatchSplit.rows(batch, parts, 0);
                assertTrue(split.executionPath().contains(", batch split: " + parts + " parts of " + rows + " rows on "
                        + parts + " threads, one OpenMP thread each"), split.executionPath());
                Tensor[] b = whole.run(x, states);
                assertFalse(whole.executionPath().contains("batch split"), whole.executionPath());
                Tensor[] r = reference.run(x, states);
                assertSplitOutputs(a, b, r);
            }
        } finally {
            Arrays.stream(init).forEach(Tensor::close);
        }
    }

    static Stream<Arguments> bidirectionalCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int variant = 0; variant < 4; variant++) {
                cases.add(Arguments.of(kind, variant, 9, 2));
                cases.add(Arguments.of(kind, variant, 13, 3));
            }
        }
        return cases.stream();
    }

    /**
     * One bidirectional primitive (DnnlBidirectionalExecutor): variant bit 0 = merge sum (else
     * concat), bit 1 = return_sequences; with and without initial states (forward's, then
     * backward's). The whole-batch executor is checked against the reference backend in
     * DnnlBidirectionalExecutorTest.
     */
    @ParameterizedTest(name = "{0} variant {1} N{2} parts {3}")
    @MethodSource("bidirectionalCases")
    void aSplitBidirectionalBatchEqualsTheWholeBatch(Kind kind, int variant, int batch, int parts) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 100L + variant * 10L + batch + 7);
        boolean sum = (variant & 1) != 0;
        boolean sequences = (variant & 2) != 0;
        Size size = new Size(batch, 7, 6, 11);
        RecurrentSpec f = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, false,
                sequences, size, rng);
        RecurrentSpec b = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, true,
                sequences, size, rng);
        io.jrnn.layers.Bidirectional.MergeMode mode = sum ? io.jrnn.layers.Bidirectional.MergeMode.SUM
                : io.jrnn.layers.Bidirectional.MergeMode.CONCAT;
        Tensor[] init = new Tensor[2 * f.stateCount()];
        for (int s = 0; s < init.length; s++) {
            init[s] = random(rng, 1f, batch, size.units());
        }
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                DnnlBidirectionalExecutor split = (DnnlBidirectionalExecutor) CPU.compileBidirectional(f, b, mode);
                DnnlBidirectionalExecutor whole = (DnnlBidirectionalExecutor) CPU.compileBidirectional(f, b, mode)) {
            split.batchSplitForTests(parts == 2 ? TWO : THREE);
            whole.batchSplitForTests(null);
            assertEquals(parts, split.splitParts(batch, parts));
            for (Tensor[] states : Arrays.asList(null, init)) {
                Tensor[] a = split.run(x, states);
                assertTrue(split.executionPath().endsWith("both directions in one primitive, batch split: " + parts
                        + " parts of 4-5 rows on " + parts + " threads, one OpenMP thread each"), split.executionPath());
                Tensor[] w = whole.run(x, states);
                assertFalse(whole.executionPath().contains("batch split"), whole.executionPath());
                assertSplitOutputs(a, w, null);
            }
        } finally {
            Arrays.stream(init).forEach(Tensor::close);
        }
    }

    /**
     * A stack on one multi-layer primitive (three layers, C = H): variant bit 0 = the last layer
     * returns sequences; with and without initial states (layer by layer). Against the same
     * executor unsplit (StackPrimitiveTest checks the whole stack against the layers run one by one).
     */
    @ParameterizedTest(name = "{0} sequences={1} N{2} parts {3}")
    @MethodSource("stackCases")
    void aSplitStackEqualsTheWholeBatch(Kind kind, boolean sequences, int batch, int parts) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 10L + batch + (sequences ? 1 : 0));
        int layers = 3;
        Size size = new Size(batch, 7, 11, 11);
        List<RecurrentSpec> specs = new ArrayList<>();
        for (int k = 0; k < layers; k++) {
            specs.add(ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, false,
                    k < layers - 1 || sequences, size, rng));
        }
        Tensor[] init = new Tensor[layers * specs.get(0).stateCount()];
        for (int s = 0; s < init.length; s++) {
            init[s] = random(rng, 1f, batch, size.units());
        }
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                DnnlRecurrentExecutor split = (DnnlRecurrentExecutor) CPU.compileStack(specs);
                DnnlRecurrentExecutor whole = (DnnlRecurrentExecutor) CPU.compileStack(specs)) {
            split.batchSplitForTests(parts == 2 ? TWO : THREE);
            whole.batchSplitForTests(null);
            assertEquals(parts, split.splitParts(batch, parts));
            for (Tensor[] states : Arrays.asList(null, init)) {
                Tensor[] a = split.run(x, states);
                assertTrue(split.executionPath().contains(layers + " layers in one primitive")
                        && split.executionPath().contains(", batch split: " + parts + " parts"), split.executionPath());
                Tensor[] w = whole.run(x, states);
                assertSplitOutputs(a, w, null);
            }
        } finally {
            Arrays.stream(init).forEach(Tensor::close);
        }
    }

    static Stream<Arguments> stackCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (boolean sequences : new boolean[] {false, true}) {
                cases.add(Arguments.of(kind, sequences, 9, 2));
                cases.add(Arguments.of(kind, sequences, 13, 3));
            }
        }
        return cases.stream();
    }

    @Test
    void aStacksWeightsCountEveryLayer() {
        SplittableRandom rng = new SplittableRandom(31);
        // LSTM (C = H = 256): 2 MiB a layer splits alone; two layers (4 MiB) do not.
        Size size = new Size(8, 3, 256, 256);
        List<RecurrentSpec> specs = List.of(
                ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, false, true,
                        size, rng),
                ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, false, true,
                        size, rng));
        try (DnnlRecurrentExecutor stack = (DnnlRecurrentExecutor) CPU.compileStack(specs);
                DnnlRecurrentExecutor one = fused(specs.get(0))) {
            assertEquals(2, one.splitParts(8, 2));
            assertEquals(1, stack.splitParts(8, 2));
        }
    }

    @Test
    void bidirectionalWeightsCountBothDirections() {
        SplittableRandom rng = new SplittableRandom(23);
        // LSTM (C 200, H 200): 1.22 MiB a direction splits as one layer; 2.44 MiB for two directions does not.
        Size size = new Size(8, 3, 200, 200);
        RecurrentSpec f = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, true, size, rng);
        RecurrentSpec b = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                true, true, size, rng);
        try (DnnlBidirectionalExecutor both = (DnnlBidirectionalExecutor) CPU.compileBidirectional(f, b,
                io.jrnn.layers.Bidirectional.MergeMode.CONCAT); DnnlRecurrentExecutor one = fused(f)) {
            assertEquals(2, one.splitParts(8, 2));
            assertEquals(1, both.splitParts(8, 2));
        }
    }

    /**
     * The composed path (configurations no fused primitive expresses) splits by copying rows
     * (RowSplitExecutor): hard_sigmoid gates for LSTM and both GRUs, a linear SimpleRNN;
     * variant bit 0 = go_backwards, bit 1 = return_sequences; with and without initial states.
     */
    @ParameterizedTest(name = "{0} variant {1} N{2} parts {3}")
    @MethodSource("cases")
    void aSplitComposedBatchMatchesTheReference(Kind kind, int variant, int batch, int parts) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 100L + variant * 10L + batch + 3);
        boolean back = (variant & 1) != 0;
        boolean sequences = (variant & 2) != 0;
        Size size = new Size(batch, 7, 6, 11);
        Activation activation = kind == Kind.SIMPLE_RNN ? Activation.LINEAR : Activation.TANH;
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, activation, Activation.HARD_SIGMOID_KERAS2, true,
                back, sequences, size, rng);
        Tensor[] init = new Tensor[spec.stateCount()];
        for (int s = 0; s < init.length; s++) {
            init[s] = random(rng, 1f, batch, size.units());
        }
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                RecurrentExecutor compiled = CPU.compile(spec);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            RowSplitExecutor split = (RowSplitExecutor) compiled;
            assertTrue(split.inner() instanceof ComposedRecurrentExecutor, split.executionPath());
            split.batchSplitForTests(parts == 2 ? TWO : THREE);
            assertEquals(parts, split.splitParts(batch, parts));
            for (Tensor[] states : Arrays.asList(null, init)) {
                Tensor[] a = split.run(x, states);
                String rows = BatchSplit.rows(batch, parts, parts - 1) + "-" + BatchSplit.rows(batch, parts, 0);
                assertTrue(split.executionPath().startsWith(ComposedRecurrentExecutor.PATH_PREFIX)
                        && split.executionPath().endsWith(", batch split: " + parts + " parts of " + rows + " rows on "
                        + parts + " threads, one OpenMP thread each"), split.executionPath());
                Tensor[] w = split.inner().run(x, states);
                Tensor[] r = reference.run(x, states);
                assertSplitOutputs(a, w, r);
            }
        } finally {
            Arrays.stream(init).forEach(Tensor::close);
        }
    }

    @Test
    void aSplitComposedLayerRunsMasksWholeNamesBadStatesAndClosesItsInnerExecutor() {
        SplittableRandom rng = new SplittableRandom(29);
        int batch = 10;
        Size size = new Size(batch, 6, 5, 9);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH,
                Activation.HARD_SIGMOID_KERAS2, true, false, true, size, rng);
        RowSplitExecutor split = (RowSplitExecutor) CPU.compile(spec);
        split.batchSplitForTests(TWO);
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            io.jrnn.Mask mask = ComposedRecurrentExecutorTest.mixedMask(batch, size.steps(), rng);
            Tensor[] masked = split.run(x, null, mask);
            Tensor[] expected = reference.run(x, null, mask);
            try {
                assertFalse(split.executionPath().contains("batch split"), split.executionPath());
                for (int o = 0; o < masked.length; o++) {
                    assertClose(expected[o], masked[o], "masked output " + o);
                }
            } finally {
                Stream.of(masked, expected).flatMap(Arrays::stream).forEach(Tensor::close);
            }
            // States with the wrong number of rows: the inner executor's own error, naming the layer.
            try (Tensor h = random(rng, 1f, batch - 1, size.units()); Tensor c = random(rng, 1f, batch - 1, size.units())) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> split.run(x, new Tensor[] {h, c}));
                assertTrue(e.getMessage().contains(spec.describe()), e.getMessage());
            }
            split.close();
            split.close();
            assertThrows(IllegalStateException.class, () -> split.run(x, null));
        }
    }

    /** bf16: the split runs the same bf16 plans per part; within bf16's bound of the reference and of the whole batch. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("bf16Kinds")
    void aSplitBf16BatchStaysWithinBf16sBound(Kind kind) {
        assumeTrue(DnnlBackend.supportedPrecisions().contains(Precision.BF16), "this CPU has no bf16");
        DnnlBackend bf16 = DnnlBackend.instance(Precision.BF16);
        SplittableRandom rng = new SplittableRandom(kind.ordinal() + 40);
        int batch = 11;
        Size size = new Size(batch, 6, 5, 9);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, false,
                true, size, rng);
        RecurrentExecutor s = bf16.compile(spec);
        RecurrentExecutor w = bf16.compile(spec);
        try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                DnnlRecurrentExecutor split = (DnnlRecurrentExecutor) s;
                DnnlRecurrentExecutor whole = (DnnlRecurrentExecutor) w;
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            split.batchSplitForTests(TWO);
            whole.batchSplitForTests(null);
            Tensor[] a = split.run(x, null);
            Tensor[] b = whole.run(x, null);
            Tensor[] r = reference.run(x, null);
            try {
                assertTrue(split.executionPath().contains("bf16), batch split: 2 parts"), split.executionPath());
                assertTrue(io.jrnn.Accuracy.maxAbsError(r, a) <= DnnlBf16Test.TOLERANCE, "split vs reference");
                assertTrue(io.jrnn.Accuracy.maxAbsError(b, a) <= DnnlBf16Test.TOLERANCE, "split vs whole");
            } finally {
                Stream.of(a, b, r).flatMap(Arrays::stream).forEach(Tensor::close);
            }
        }
    }

    static Stream<Kind> bf16Kinds() {
        return Stream.of(Kind.values());
    }

    @Test
    void batchesTooSmallForTwoPartsAndMaskedCallsRunWhole() {
        SplittableRandom rng = new SplittableRandom(3);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, true, new Size(8, 5, 6, 11), rng);
        try (Tensor seven = random(rng, 1f, 7, 5, 6); Tensor eight = random(rng, 1f, 8, 5, 6);
                DnnlRecurrentExecutor executor = fused(spec);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            executor.batchSplitForTests(TWO);
            assertEquals(1, executor.splitParts(7, 2));
            Tensor[] out = executor.run(seven, null);
            Arrays.stream(out).forEach(Tensor::close);
            assertFalse(executor.executionPath().contains("batch split"), executor.executionPath());
            // A right-padded mask runs length segments on the fused primitive, never split.
            io.jrnn.Mask mask = io.jrnn.Mask.fromLengths(new int[] {5, 4, 3, 5, 1, 2, 5, 4}, 5);
            Tensor[] masked = executor.run(eight, null, mask);
            Tensor[] expected = reference.run(eight, null, mask);
            try {
                assertFalse(executor.executionPath().contains("batch split"), executor.executionPath());
                for (int o = 0; o < masked.length; o++) {
                    assertClose(expected[o], masked[o], "masked output " + o);
                }
            } finally {
                Stream.of(masked, expected).flatMap(Arrays::stream).forEach(Tensor::close);
            }
            Tensor[] unmasked = executor.run(eight, null);
            Arrays.stream(unmasked).forEach(Tensor::close);
            assertTrue(executor.executionPath().contains("batch split: 2 parts of 4 rows"), executor.executionPath());
        }
    }

    @Test
    void aFailingPartFailsTheCallAfterEveryPartHasFinished() {
        AtomicInteger finished = new AtomicInteger();
        int before = OpenMpThreads.get();
        assertTrue(TWO.tryAcquire());
        try {
            RuntimeException e = assertThrows(RuntimeException.class, () -> TWO.run(new Runnable[] {
                finished::incrementAndGet,
                () -> {
                    throw new ArithmeticException("part 1");
                },
            }));
            // Wrapped when the worker ran the part, as it is when the caller took it over.
            Throwable root = e instanceof IllegalStateException ? e.getCause() : e;
            assertTrue(root instanceof ArithmeticException && root.getMessage().equals("part 1"), e.toString());
            assertEquals(1, finished.get());
            assertThrows(ArithmeticException.class, () -> TWO.run(new Runnable[] {
                () -> {
                    throw new ArithmeticException("part 0");
                },
                finished::incrementAndGet,
            }));
            assertEquals(2, finished.get(), "the other part finished before the call failed");
        } finally {
            TWO.release();
        }
        assertEquals(before, OpenMpThreads.get(), "the caller's OpenMP count is restored");
    }

    @Test
    void theCallerRunsThePartsOfWorkersThatHaveNotStarted() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        THREE.holdWorkersForTests(hold);
        int before = THREE.partsTakenOver();
        List<String> ranOn = java.util.Collections.synchronizedList(new ArrayList<>());
        assertTrue(THREE.tryAcquire());
        try {
            THREE.run(new Runnable[] {
                () -> ranOn.add(Thread.currentThread().getName()),
                () -> ranOn.add(Thread.currentThread().getName()),
                () -> ranOn.add(Thread.currentThread().getName()),
            });
        } finally {
            THREE.release();
            THREE.holdWorkersForTests(null);
            hold.countDown();
        }
        assertEquals(List.of(Thread.currentThread().getName(), Thread.currentThread().getName(),
                Thread.currentThread().getName()), ranOn);
        assertEquals(before + 2, THREE.partsTakenOver());
        // The workers, released, find their parts taken and run the next call normally.
        SplittableRandom rng = new SplittableRandom(17);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, true, new Size(12, 4, 3, 5), rng);
        try (Tensor x = random(rng, 1f, 12, 4, 3); DnnlRecurrentExecutor executor = fused(spec);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            executor.batchSplitForTests(THREE);
            Tensor[] out = executor.run(x, null);
            Tensor[] expected = reference.run(x, null);
            try {
                assertTrue(executor.executionPath().contains("batch split: 3 parts"), executor.executionPath());
                for (int o = 0; o < out.length; o++) {
                    assertClose(expected[o], out[o], "after a take-over, output " + o);
                }
            } finally {
                Stream.of(out, expected).flatMap(Arrays::stream).forEach(Tensor::close);
            }
        }
    }

    @Test
    void runRequiresTheWorkersAndAtMostOnePartPerThread() {
        assertThrows(IllegalStateException.class, () -> TWO.run(new Runnable[] {() -> { }}));
        assertTrue(TWO.tryAcquire());
        try {
            assertThrows(IllegalArgumentException.class, () -> TWO.run(new Runnable[] {() -> { }, () -> { }, () -> { }}));
        } finally {
            TWO.release();
        }
    }

    @Test
    void concurrentCallsShareTheWorkersOrRunWhole() throws Exception {
        SplittableRandom rng = new SplittableRandom(11);
        int batch = 10;
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.GRU_RESET_AFTER, Activation.TANH,
                Activation.SIGMOID, true, false, true, new Size(batch, 6, 5, 9), rng);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (Tensor x = random(rng, 1f, batch, 6, 5);
                DnnlRecurrentExecutor executor = fused(spec);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            executor.batchSplitForTests(TWO);
            Tensor[] expected = reference.run(x, null);
            CyclicBarrier start = new CyclicBarrier(3);
            List<Future<?>> calls = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                calls.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 30; i++) {
                        Tensor[] out = executor.run(x, null);
                        try {
                            for (int o = 0; o < out.length; o++) {
                                assertClose(expected[o], out[o], "concurrent call output " + o);
                            }
                        } finally {
                            Arrays.stream(out).forEach(Tensor::close);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : calls) {
                f.get(60, TimeUnit.SECONDS);
            }
            Arrays.stream(expected).forEach(Tensor::close);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theTestJvmSplitsLikeJrnnsLauncherWithTwoOrMoreThreads() {
        // pom.xml gives the tests ./jrnn's OMP_WAIT_POLICY=ACTIVE and GOMP_SPINCOUNT=10000, so on a machine with two
        // or more processors the whole suite's fused calls of eight or more rows with small weights run split.
        if (WeightFormat.THREADS >= 2) {
            assertNull(BatchSplit.offReason());
            assertTrue(BatchSplit.describe().startsWith("batch split on"), BatchSplit.describe());
        } else {
            assertEquals("one OpenMP thread", BatchSplit.offReason());
        }
    }

    @Test
    void thisProcessSharesOneSetOfWorkersOrSaysWhyNot() {
        BatchSplit shared = BatchSplit.shared();
        if (BatchSplit.offReason() == null) {
            assertSame(shared, BatchSplit.shared());
            assertEquals(WeightFormat.THREADS - 1, shared.workers());
        } else {
            assertNull(shared, BatchSplit.offReason());
        }
    }

    /**
     * Asserts that a split call's outputs have the shapes of the whole call's and are close to them
     * and to the reference's ({@code null}: not compared), then closes all three.
     */
    private static void assertSplitOutputs(Tensor[] split, Tensor[] whole, Tensor[] reference) {
        try {
            assertEquals(whole.length, split.length);
            for (int o = 0; o < split.length; o++) {
                assertArrayEquals(whole[o].shape(), split[o].shape());
                assertClose(whole[o], split[o], "split vs whole, output " + o);
                if (reference != null) {
                    assertClose(reference[o], split[o], "split vs reference, output " + o);
                }
            }
        } finally {
            Stream.of(split, whole, reference).filter(java.util.Objects::nonNull).flatMap(Arrays::stream)
                    .forEach(Tensor::close);
        }
    }

    /** The rule for one layer of {@code kind} with input size {@code c} and {@code h} units. */
    private static int parts(RnnPrimitive kind, int batch, int c, int h, int threads) {
        return BatchSplit.parts(BatchSplit.weightBytes(kind, c, h), batch, threads);
    }

    private static DnnlRecurrentExecutor fused(RecurrentSpec spec) {
        RecurrentExecutor e = CPU.compile(spec);
        assertTrue(e instanceof DnnlRecurrentExecutor, e.executionPath());
        return (DnnlRecurrentExecutor) e;
    }
}
