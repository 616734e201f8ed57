package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.layers.LSTM;
import io.jrnn.backend.dnnl.DnnlBackend;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Cleaner safety net: a native-owning object dropped without close() is released by the
 * cleaner (its native bytes come back) and a WARNING names its class, with the creation site only
 * under {@code -Djrnn.debugLeaks=true}. That the object is collected at all shows that its
 * cleaning action does not reference it.
 */
class LeakSafetyNetTest {
    private static final Logger LEAKS = Logger.getLogger("io.jrnn.leaks");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void install() {
        LEAKS.addHandler(handler);
        NativeResources.resetWarnings();
    }

    @AfterEach
    void uninstall() {
        LEAKS.removeHandler(handler);
        System.clearProperty(NativeResources.DEBUG_PROPERTY);
    }

    /** Collects garbage until {@code done} holds (at most 30 s); returns whether it did. */
    private static boolean gcUntil(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (done.getAsBoolean()) {
                return true;
            }
            System.gc();
            Thread.sleep(20);
        }
        return done.getAsBoolean();
    }

    private LogRecord warningFor(String type) {
        for (LogRecord r : records) {
            if (r.getLevel() == Level.WARNING && r.getMessage().startsWith(type + " was garbage-collected without close()")) {
                return r;
            }
        }
        return null;
    }

    private static void dropTensor() {
        Tensor.zeros(1024, 256).set(1f, 0, 0); // 1 MiB, never closed
    }

    @Test
    void droppedTensorIsFreedAndLoggedOnce() throws Exception {
        long bytes = Pointer.totalBytes();
        long leaks = NativeResources.leakCount();
        dropTensor();
        dropTensor();
        assertTrue(Pointer.totalBytes() >= bytes + 2L * 1024 * 256 * Float.BYTES);
        assertTrue(gcUntil(() -> NativeResources.leakCount() >= leaks + 2 && Pointer.totalBytes() <= bytes),
                "the dropped tensors were not released: leaks " + (NativeResources.leakCount() - leaks)
                        + ", bytes outstanding " + (Pointer.totalBytes() - bytes));
        LogRecord warning = warningFor("io.jrnn.Tensor");
        assertNotNull(warning, "no leak warning for io.jrnn.Tensor in " + records.size() + " record(s)");
        assertTrue(warning.getMessage().contains("created at: unknown"), warning.getMessage());
        assertTrue(warning.getMessage().contains("-Djrnn.debugLeaks=true"), warning.getMessage());
        assertNull(warning.getThrown(), "no stack is captured without the debug flag");
        assertEquals(1, records.stream().filter(r -> r.getMessage().startsWith("io.jrnn.Tensor ")).count(),
                "one warning per class");
    }

    @Test
    void debugFlagRecordsTheCreationSite() throws Exception {
        System.setProperty(NativeResources.DEBUG_PROPERTY, "true");
        long leaks = NativeResources.leakCount();
        dropTensor();
        assertTrue(gcUntil(() -> warningFor("io.jrnn.Tensor") != null && NativeResources.leakCount() > leaks));
        Throwable site = warningFor("io.jrnn.Tensor").getThrown();
        assertNotNull(site, "the creation site is attached under -Djrnn.debugLeaks=true");
        assertEquals("created at", site.getMessage());
        assertTrue(java.util.Arrays.stream(site.getStackTrace())
                .anyMatch(e -> e.getMethodName().equals("dropTensor")), "the stack names the creating method");
    }

    /** Lets the cleaner finish with earlier tests' garbage: until the leak count is stable over three collections. */
    private static long settledLeakCount() throws InterruptedException {
        long count = NativeResources.leakCount();
        int stable = 0;
        while (stable < 3) {
            System.gc();
            Thread.sleep(100);
            long now = NativeResources.leakCount();
            stable = now == count ? stable + 1 : 0;
            count = now;
        }
        return count;
    }

    @Test
    void closedTensorIsNotReported() throws Exception {
        long leaks = settledLeakCount();
        records.clear();
        NativeResources.resetWarnings();
        for (int i = 0; i < 100; i++) {
            Tensor.zeros(16).close();
        }
        assertEquals(leaks, settledLeakCount());
        assertNull(warningFor("io.jrnn.Tensor"));
    }

    private static void dropLayerExecutor() {
        // A layer dropped after a forward: its oneDNN executor (weights, plans) is never closed.
        LSTM lstm = LSTM.builder().units(32).returnSequences(true).seed(1).build();
        lstm.useBackend(DnnlBackend.instance());
        try (Tensor x = Tensor.zeros(4, 6, 16)) {
            lstm.forward(x).close();
        }
    }

    @Test
    void droppedExecutorIsFreedAndLogged() throws Exception {
        // Warm up the classes and oneDNN's own one-off allocations first.
        try (LSTM warm = LSTM.builder().units(32).returnSequences(true).seed(1).build(); Tensor x = Tensor.zeros(4, 6, 16)) {
            warm.useBackend(DnnlBackend.instance());
            warm.forward(x).close();
        }
        long bytes = Pointer.totalBytes();
        dropLayerExecutor();
        assertTrue(Pointer.totalBytes() > bytes, "the executor holds native memory");
        assertTrue(gcUntil(() -> warningFor("io.jrnn.backend.dnnl.DnnlRecurrentExecutor") != null
                && Pointer.totalBytes() <= bytes), "the dropped executor was not released: bytes outstanding "
                        + (Pointer.totalBytes() - bytes));
    }

    @Test
    void droppedModelIsLogged() throws Exception {
        new Sequential("dropped", null, List.of(LSTM.builder().units(2).build())).toString();
        assertTrue(gcUntil(() -> warningFor("io.jrnn.Sequential") != null));
    }
}
