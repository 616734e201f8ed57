package io.jrnn.backend.dnnl;

import static io.jrnn.backend.BackendContractTest.assertClose;
import static io.jrnn.backend.BackendContractTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The composed path's Java recurrent step (batch <= 4): parity, masks, unit ranges on worker threads, lifecycle, default rule. */
class JavaRecurrentStepTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        // H = 40 over 3 threads: ranges of 16, 16 and 8 units; H = 5: one range below the grain.
        for (Kind kind : List.of(Kind.LSTM, Kind.GRU_RESET_AFTER)) {
            for (int batch : new int[] {1, 3, 4}) {
                for (int threads : new int[] {1, 3}) {
                    for (int units : new int[] {5, 40}) {
                        for (boolean vector : new boolean[] {false, true}) {
                            cases.add(Arguments.of(kind, batch, threads, units, vector));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    /** {@code vector}: the product on the Vector API (the test JVM has the module: pom.xml's argLine). */
    @ParameterizedTest(name = "{0} N{1} threads={2} H{3} vector={4}")
    @MethodSource("cases")
    void matchesTheReferenceBackendWithAndWithoutMasks(Kind kind, int batch, int threads, int units, boolean vector) {
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 100L + batch * 10L + threads + units);
        Size size = new Size(batch, 7, 6, units);
        for (int variant = 0; variant < 4; variant++) {
            boolean back = (variant & 1) != 0;
            boolean sequences = (variant & 2) != 0;
            Activation recurrent = variant == 3 ? Activation.HARD_SIGMOID_KERAS2 : Activation.SIGMOID;
            RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, recurrent, true, back,
                    sequences, size, rng);
            Tensor[] init = new Tensor[spec.stateCount()];
            for (int s = 0; s < init.length; s++) {
                init[s] = random(rng, 1f, batch, units);
            }
            Mask mask = ComposedRecurrentExecutorTest.mixedMask(batch, size.steps(), rng);
            try (Tensor x = random(rng, 1f, batch, size.steps(), size.features());
                    ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test",
                            threads);
                    RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
                executor.vectorProductForTests(vector);
                assertTrue(executor.javaStepRuns(batch));
                compare(reference.run(x, init), executor.run(x, init), "unmasked variant " + variant);
                assertEquals(vector, executor.javaStepForTests().vector());
                assertEquals(vector, executor.executionPath().contains("Java (Vector API)"), executor.executionPath());
                assertTrue(executor.executionPath().contains("recurrent product and gates in Java"),
                        executor.executionPath());
                assertEquals(executor.javaStepForTests().chunks(), units == 40 ? Math.min(threads, 3) : 1);
                // With the Vector API and more than one step thread the step computes the input projection too.
                assertEquals(vector && threads > 1, executor.javaStepForTests().projects());
                assertEquals(vector && threads > 1, executor.executionPath().contains("input projection in Java too"),
                        executor.executionPath());
                assertTrue(executor.executionPath().contains(executor.javaStepForTests().chunks() + " thread(s)"),
                        executor.executionPath());
                float[][] expected = ComposedRecurrentExecutorTest.maskedOracle(spec, x, init, mask, false);
                Tensor[] actual = executor.run(x, init, mask);
                try {
                    for (int o = 0; o < expected.length; o++) {
                        try (Tensor e = Tensor.of(expected[o], actual[o].shape())) {
                            assertClose(e, actual[o], "masked output " + o + " variant " + variant);
                        }
                    }
                } finally {
                    Arrays.stream(actual).forEach(Tensor::close);
                }
            } finally {
                Arrays.stream(init).forEach(Tensor::close);
            }
        }
    }

    private static void compare(Tensor[] expected, Tensor[] actual, String where) {
        try {
            assertEquals(expected.length, actual.length);
            for (int o = 0; o < expected.length; o++) {
                assertClose(expected[o], actual[o], where + " output " + o);
            }
        } finally {
            Arrays.stream(expected).forEach(Tensor::close);
            Arrays.stream(actual).forEach(Tensor::close);
        }
    }

    @Test
    void largerBatchesAndOtherCellsKeepTheOneDnnStep() {
        SplittableRandom rng = new SplittableRandom(5);
        RecurrentSpec lstm = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, false, new Size(5, 3, 4, 6), rng);
        RecurrentSpec gru = ComposedRecurrentExecutorTest.spec(Kind.GRU, Activation.TANH, Activation.SIGMOID, true,
                false, false, new Size(1, 3, 4, 6), rng);
        RecurrentSpec rnn = ComposedRecurrentExecutorTest.spec(Kind.SIMPLE_RNN, Activation.TANH, Activation.SIGMOID,
                true, false, false, new Size(1, 3, 4, 6), rng);
        try (ComposedRecurrentExecutor a = new ComposedRecurrentExecutor(CPU.engine(), lstm, "test", 2);
                ComposedRecurrentExecutor b = new ComposedRecurrentExecutor(CPU.engine(), gru, "test", 2);
                ComposedRecurrentExecutor c = new ComposedRecurrentExecutor(CPU.engine(), rnn, "test", 2);
                Tensor x = random(rng, 1f, 5, 3, 4)) {
            assertFalse(a.javaStepRuns(5));
            assertTrue(a.javaStepRuns(4));
            assertFalse(b.javaStepRuns(1));
            assertFalse(c.javaStepRuns(1));
            Tensor[] out = a.run(x, null);
            Arrays.stream(out).forEach(Tensor::close);
            assertEquals(ComposedRecurrentExecutor.PATH_PREFIX + "; test)", a.executionPath());
            assertNull(a.javaStepForTests(), "no Java step (nor threads) without a small batch");
        }
    }

    @Test
    void workerThreadsEndWhenTheExecutorClosesAndCloseTwiceIsHarmless() throws Exception {
        SplittableRandom rng = new SplittableRandom(9);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true,
                false, true, new Size(2, 5, 3, 48), rng);
        ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test", 3);
        Thread[] workers;
        try (Tensor x = random(rng, 1f, 2, 5, 3); Tensor x1 = random(rng, 1f, 1, 5, 3)) {
            Tensor[] out = executor.run(x, null);
            Arrays.stream(out).forEach(Tensor::close);
            // A second shape shares the same step and threads.
            out = executor.run(x1, null);
            Arrays.stream(out).forEach(Tensor::close);
            JavaRecurrentStep step = executor.javaStepForTests();
            assertNotNull(step);
            assertEquals(3, step.chunks());
            workers = step.workerThreads();
            assertEquals(2, workers.length);
            assertEquals(2, step.liveWorkers());
            // Idle workers park: give them time, then run again (they must wake).
            Thread.sleep(50);
            for (Thread t : workers) {
                assertTrue(t.isDaemon() && t.getName().startsWith("jrnn-step-composed_test"), t.getName());
            }
            out = executor.run(x, null);
            Arrays.stream(out).forEach(Tensor::close);
            executor.close();
            for (Thread t : workers) {
                t.join(5_000);
                assertFalse(t.isAlive(), t.getName() + " still alive after close");
            }
            assertEquals(0, step.liveWorkers());
            executor.close();
            assertThrows(IllegalStateException.class, () -> executor.run(x, null));
        } finally {
            executor.close();
        }
    }

    @Test
    void concurrentCallsShareTheWorkersSafely() throws Exception {
        SplittableRandom rng = new SplittableRandom(13);
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(Kind.GRU_RESET_AFTER, Activation.TANH,
                Activation.SIGMOID, true, false, true, new Size(2, 9, 5, 40), rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test", 2);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec);
                Tensor x = random(rng, 1f, 2, 9, 5)) {
            Tensor[] expected = reference.run(x, null);
            try {
                List<Thread> callers = new ArrayList<>();
                List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
                for (int i = 0; i < 4; i++) {
                    Thread t = new Thread(() -> {
                        try {
                            for (int k = 0; k < 20; k++) {
                                Tensor[] out = executor.run(x, null);
                                try {
                                    assertClose(expected[0], out[0], "concurrent output");
                                } finally {
                                    Arrays.stream(out).forEach(Tensor::close);
                                }
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    });
                    callers.add(t);
                    t.start();
                }
                for (Thread t : callers) {
                    t.join();
                }
                assertTrue(failures.isEmpty(), failures.toString());
            } finally {
                Arrays.stream(expected).forEach(Tensor::close);
            }
        }
    }

    /**
     * A worker that has not started a step (parked, or off its core) has its range run by the caller:
     * held on a latch, every step's range is taken over and the output is still the reference's;
     * let go, the worker finds its stale steps taken and joins the next call.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD) // without the take-over the caller would wait for the held worker for ever
    void theCallerRunsTheRangeOfAWorkerThatHasNotStarted(Kind kind) throws Exception {
        SplittableRandom rng = new SplittableRandom(21 + kind.ordinal());
        RecurrentSpec spec = ComposedRecurrentExecutorTest.spec(kind, Activation.TANH, Activation.SIGMOID, true,
                false, true, new Size(1, 9, 5, 40), rng);
        try (ComposedRecurrentExecutor executor = new ComposedRecurrentExecutor(CPU.engine(), spec, "test", 2);
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec);
                Tensor x = random(rng, 1f, 1, 9, 5)) {
            compare(reference.run(x, null), executor.run(x, null), "first call");
            JavaRecurrentStep step = executor.javaStepForTests();
            assertEquals(2, step.chunks());
            java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
            step.holdWorkersForTests(hold);
            long before = step.rangesTakenOver();
            compare(reference.run(x, null), executor.run(x, null), "worker held");
            // The Java input projection (Vector API, two threads) is one more range per call.
            int ranges = 9 + (step.projects() ? 1 : 0);
            assertEquals(ranges, step.rangesTakenOver() - before, "every step's second range ran on the caller");
            step.holdWorkersForTests(null);
            hold.countDown();
            for (int i = 0; i < 3; i++) {
                compare(reference.run(x, null), executor.run(x, null), "worker let go, call " + i);
            }
            assertEquals(1, step.liveWorkers());
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(Kind.LSTM, Kind.GRU_RESET_AFTER);
    }

    /** By default (one OpenMP thread) only batch 1 with a recurrent kernel of at most 1 MiB: (1024, 4) lost 1.6×. */
    @Test
    void byDefaultOnlyBatchOneWithASmallRecurrentKernel() {
        assertTrue(ComposedRecurrentExecutor.javaStepByDefault(1, 256L * 1024 * 4)); // LSTM H=256: 1 MiB
        assertTrue(ComposedRecurrentExecutor.javaStepByDefault(1, 256L * 768 * 4)); // GRU H=256
        assertFalse(ComposedRecurrentExecutor.javaStepByDefault(1, (256L * 1024 * 4) + 4));
        assertFalse(ComposedRecurrentExecutor.javaStepByDefault(2, 16L * 16 * 4));
        assertFalse(ComposedRecurrentExecutor.javaStepByDefault(4, 1024L * 4096 * 4)); // LSTM (1024, 4)
    }

    @Test
    void rowGroupsWithAndWithoutFmaMatchDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(17);
        int gw = 37; // not a multiple of the vector width: the loop tail runs too
        float[][] r = new float[4][gw];
        float[] a0 = new float[gw];
        for (float[] row : r) {
            for (int j = 0; j < gw; j++) {
                row[j] = (float) rng.nextDouble(-1, 1);
            }
        }
        for (int j = 0; j < gw; j++) {
            a0[j] = (float) rng.nextDouble(-1, 1);
        }
        float[] h = {0.5f, -1.25f, 2f, 0.75f};
        float[] fma = a0.clone();
        float[] plain = a0.clone();
        JavaRecurrentStep.rowGroupFma(fma, r[0], r[1], r[2], r[3], h[0], h[1], h[2], h[3], gw);
        JavaRecurrentStep.rowGroup(plain, r[0], r[1], r[2], r[3], h[0], h[1], h[2], h[3], gw);
        for (int j = 0; j < gw; j++) {
            double expected = a0[j];
            for (int i = 0; i < 4; i++) {
                expected += (double) h[i] * r[i][j];
            }
            assertEquals(expected, fma[j], 1e-5, "fma, column " + j);
            assertEquals(expected, plain[j], 1e-5, "multiply-add, column " + j);
        }
        // HotSpot on x86-64 with FMA3 (this project's machines) reports UseFMA; unknown flags read false.
        assertFalse(JavaRecurrentStep.hotSpotFlag("NoSuchFlagAnywhere"));
        assertEquals(JavaRecurrentStep.hotSpotFlag("UseFMA"), JavaRecurrentStep.FMA);
    }

    @Test
    void byDefaultOneThreadPerOpenMpThreadWithAtLeast64UnitsEach() {
        assertEquals(1, ComposedRecurrentExecutor.defaultStepThreads(256, 1));
        assertEquals(2, ComposedRecurrentExecutor.defaultStepThreads(256, 2));
        assertEquals(4, ComposedRecurrentExecutor.defaultStepThreads(256, 16));
        assertEquals(1, ComposedRecurrentExecutor.defaultStepThreads(100, 2));
        assertEquals(1, ComposedRecurrentExecutor.defaultStepThreads(5, 8));
    }
}