package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasModels;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.ConvLSTM2D;
import io.jrnn.layers.GRU;
import io.jrnn.layers.GRUCell;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.LSTMCell;
import io.jrnn.layers.Layer;
import io.jrnn.layers.RNN;
import io.jrnn.layers.SimpleRNN;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * One loaded model (or layer) used from {@value #THREADS} threads at once gives the reference
 * backend's answer for every request: different inputs per request, different batch sizes and
 * lengths so that shapes vary and the per-shape pools are contended, and no warm-up, so that the
 * first calls also compile concurrently.
 */
class ConcurrencyTest {
    static final int THREADS = 16;
    static final int REQUESTS_PER_THREAD = 6;
    private static final float TOLERANCE = 1e-4f;
    /** Requests checked by this class, for docs/reliability.md. */
    static final AtomicInteger CHECKED = new AtomicInteger();

    /** One request: an input (and mask), built again for each model from its seed. */
    private record Request(int seed, int batch, int steps) {
    }

    private static List<Request> requests() {
        List<Request> all = new ArrayList<>();
        for (int i = 0; i < THREADS * REQUESTS_PER_THREAD; i++) {
            all.add(new Request(i, 1 + i % 5, 3 + i % 4));
        }
        return all;
    }

    private static Tensor input(Request r, int... perStep) {
        int[] shape = new int[2 + perStep.length];
        shape[0] = r.batch();
        shape[1] = r.steps();
        System.arraycopy(perStep, 0, shape, 2, perStep.length);
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        Random rng = new Random(r.seed());
        float[] v = new float[(int) size];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextFloat() * 2 - 1;
        }
        return Tensor.of(v, shape);
    }

    /** Right-padded lengths for even seeds, a hole in the middle (not right-padded) for odd ones. */
    private static Mask mask(Request r) {
        boolean[] valid = new boolean[r.batch() * r.steps()];
        for (int n = 0; n < r.batch(); n++) {
            int length = 1 + (r.seed() + n) % r.steps();
            for (int t = 0; t < r.steps(); t++) {
                valid[n * r.steps() + t] = r.seed() % 2 == 0 ? t < length : t != length % r.steps() || t == 0;
            }
        }
        return Mask.of(valid, r.batch(), r.steps());
    }

    /**
     * Runs every request on {@code fast} from {@value #THREADS} threads at once and compares each
     * answer with {@code reference}'s (computed first, one at a time).
     */
    private static void assertConcurrentMatchesReference(String what, Function<Request, float[]> fast,
            Function<Request, float[]> reference) throws InterruptedException {
        List<Request> requests = requests();
        List<float[]> expected = new ArrayList<>();
        for (Request r : requests) {
            expected.add(reference.apply(r));
        }
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger checked = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < THREADS; k++) {
            int thread = k;
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int j = 0; j < REQUESTS_PER_THREAD; j++) {
                        // Threads take interleaved requests, so neighbours run different shapes.
                        int i = j * THREADS + thread;
                        float[] got = fast.apply(requests.get(i));
                        String diff = compare(expected.get(i), got);
                        if (diff != null) {
                            failures.add(what + " request " + i + " " + requests.get(i) + ": " + diff);
                        }
                        checked.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(what + " thread " + thread + ": " + e);
                }
            }, "concurrency-" + k);
            threads.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.MINUTES.toMillis(5));
            assertTrue(!t.isAlive(), what + ": " + t.getName() + " did not finish");
        }
        assertTrue(failures.isEmpty(), failures.size() + " failure(s), first: " + failures.peek());
        assertEquals(requests.size(), checked.get(), what + ": requests checked");
        CHECKED.addAndGet(checked.get());
    }

    private static String compare(float[] expected, float[] got) {
        if (expected.length != got.length) {
            return "length " + got.length + ", expected " + expected.length;
        }
        for (int i = 0; i < expected.length; i++) {
            float tol = TOLERANCE * Math.max(1f, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - got[i]) <= tol)) {
                return "element " + i + ": " + got[i] + ", expected " + expected[i];
            }
        }
        return null;
    }

    /** The same layer configuration twice (same seed, so same weights), on oneDNN and on the reference. */
    private static void assertLayer(String what, Supplier<Layer> make, boolean masked, int... perStep)
            throws InterruptedException {
        try (Layer fast = on(make.get(), DnnlBackend.instance()); Layer reference = on(make.get(),
                ReferenceBackend.instance())) {
            assertConcurrentMatchesReference(what, r -> run(fast, r, masked, perStep),
                    r -> run(reference, r, masked, perStep));
        }
    }

    private static Layer on(Layer layer, Backend backend) {
        layer.useBackend(backend);
        return layer;
    }

    private static float[] run(Layer layer, Request r, boolean masked, int... perStep) {
        try (Tensor x = input(r, perStep); Outputs out = masked ? layer.forward(x, mask(r)) : layer.forward(x)) {
            return out.output().toArray();
        }
    }

    @Test
    void defaultModelFromSixteenThreads() throws Exception {
        Path file = Path.of(ConcurrencyTest.class.getResource("/io/jrnn/cli/default-model.h5").toURI());
        try (Sequential fast = KerasModels.load(file).useBackend(DnnlBackend.instance());
                Sequential reference = KerasModels.load(file).useBackend(ReferenceBackend.instance())) {
            int[] shape = fast.inputShape();
            int features = shape[shape.length - 1];
            Function<Sequential, Function<Request, float[]>> call = model -> r -> {
                try (Tensor x = input(r, features); Tensor y = model.forward(x)) {
                    return y.toArray();
                }
            };
            assertConcurrentMatchesReference("default model", call.apply(fast), call.apply(reference));
        }
    }

    @Test
    void maskedLstmFromSixteenThreads() throws Exception {
        // Right-padded masks run in length segments on the fused primitive, the others on the composed path.
        assertLayer("masked LSTM", () -> LSTM.builder().units(12).returnSequences(true).seed(11).build(), true, 7);
    }

    @Test
    void gruAndComposedPathFromSixteenThreads() throws Exception {
        assertLayer("GRU go_backwards", () -> GRU.builder().units(10).goBackwards(true).seed(12).build(), false, 6);
        // relu activation: oneDNN's fused LSTM has no such gate, so this runs on the composed path.
        assertLayer("LSTM relu (composed)", () -> LSTM.builder().units(9).activation("relu").returnSequences(true)
                .seed(13).build(), false, 5);
        assertLayer("SimpleRNN", () -> SimpleRNN.builder().units(8).returnSequences(true).seed(14).build(), false, 4);
    }

    @Test
    void bidirectionalFromSixteenThreads() throws Exception {
        assertLayer("Bidirectional LSTM concat", () -> Bidirectional.builder()
                .layer(LSTM.builder().units(8).returnSequences(true).seed(15).build())
                .backwardLayer(LSTM.builder().units(8).returnSequences(true).goBackwards(true).seed(20).build())
                .build(), false, 5);
    }

    @Test
    void stackedCellsFromSixteenThreads() throws Exception {
        assertLayer("RNN([GRUCell, GRUCell])", () -> RNN.builder(List.of(GRUCell.builder().units(8).seed(16).build(),
                GRUCell.builder().units(8).seed(17).build())).returnSequences(true).build(), false, 8);
        assertLayer("RNN(LSTMCell)", () -> RNN.builder(LSTMCell.builder().units(6).seed(18).build()).build(), false, 5);
    }

    @Test
    void convLstm2dFromSixteenThreads() throws Exception {
        assertLayer("ConvLSTM2D", () -> ConvLSTM2D.builder().filters(3).kernelSize(3).padding("same")
                .returnSequences(true).seed(19).build(), false, 5, 4, 2);
    }
}
