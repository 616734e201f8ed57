package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.NativeResources;
import io.jrnn.backend.cuda.CudaKernels.Kernel;
import java.lang.ref.WeakReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The {@link CudaResource} free actions never reference their resource: a resource dropped without
 * close() is garbage-collected (its weak reference clears) and its free action runs (the leak count
 * rises, the live byte counters come back). Closing twice is harmless, use after close throws. The
 * argument block needs host memory only; the rest runs on a GPU ({@code @Tag("gpu")} methods).
 */
class CudaResourceCleanerTest {

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

    /** Creates a resource (in a frame of its own, so no local keeps it) and drops it unclosed. */
    private static WeakReference<CudaResource> drop(Supplier<CudaResource> create) {
        return new WeakReference<>(create.get());
    }

    private static void assertCollectedAndFreed(WeakReference<CudaResource> dropped, long leaksBefore, String what)
            throws InterruptedException {
        assertTrue(gcUntil(() -> dropped.get() == null), what + " stays reachable: its free action references it");
        assertTrue(gcUntil(() -> NativeResources.leakCount() > leaksBefore), what + ": the cleaner did not run");
    }

    @Test
    void droppedArgumentBlockIsCollectedAndFreed() throws Exception {
        long bytes = Pointer.totalBytes();
        long leaks = NativeResources.leakCount();
        WeakReference<CudaResource> dropped = drop(() -> new KernelArgs(Kernel.LSTM_STEP, "dropped").i32("batch", 3));
        assertCollectedAndFreed(dropped, leaks, "a dropped KernelArgs");
        assertTrue(gcUntil(() -> Pointer.totalBytes() <= bytes), "the slots were not released: "
                + (Pointer.totalBytes() - bytes) + " bytes outstanding");
    }

    @Test
    @Tag("gpu")
    void droppedDeviceAndPinnedBuffersAreFreedAndCounted() throws Exception {
        GpuChecks.assumeGpu();
        long device = DeviceBuffer.liveBytes();
        long deviceCount = DeviceBuffer.liveCount();
        long pinned = PinnedBuffer.liveBytes();
        long leaks = NativeResources.leakCount();
        WeakReference<CudaResource> d = drop(() -> DeviceBuffer.allocate(1 << 20, "dropped"));
        WeakReference<CudaResource> p = drop(() -> PinnedBuffer.allocate(1 << 20, "dropped"));
        assertCollectedAndFreed(d, leaks, "a dropped DeviceBuffer");
        assertCollectedAndFreed(p, leaks, "a dropped PinnedBuffer");
        assertTrue(gcUntil(() -> DeviceBuffer.liveBytes() == device && DeviceBuffer.liveCount() == deviceCount
                && PinnedBuffer.liveBytes() == pinned), "live counters did not come back: device "
                        + (DeviceBuffer.liveBytes() - device) + " B, pinned " + (PinnedBuffer.liveBytes() - pinned) + " B");
    }

    @Test
    @Tag("gpu")
    void buffersCloseOnceAndRefuseUseAfterClose() {
        GpuChecks.assumeGpu();
        long device = DeviceBuffer.liveBytes();
        long pinned = PinnedBuffer.liveBytes();
        DeviceBuffer d = DeviceBuffer.allocate(4096, "closed twice");
        PinnedBuffer p = PinnedBuffer.allocate(4096, "closed twice");
        assertEquals(device + 4096, DeviceBuffer.liveBytes());
        assertEquals(pinned + 4096, PinnedBuffer.liveBytes());
        d.close();
        d.close();
        p.close();
        p.close();
        assertEquals(device, DeviceBuffer.liveBytes(), "a second close must not count twice");
        assertEquals(pinned, PinnedBuffer.liveBytes(), "a second close must not count twice");
        assertThrows(IllegalStateException.class, d::pointer);
        assertThrows(IllegalStateException.class, p::floats);
    }

    @Test
    @Tag("gpu")
    void droppedStreamWithLazyHandlesIsCollected() throws Exception {
        GpuChecks.assumeGpu();
        long leaks = NativeResources.leakCount();
        WeakReference<CudaResource> s = drop(() -> {
            GpuStream stream = new GpuStream(0, "dropped");
            // Handles created after construction: the free action must see them.
            assertNotNull(stream.cudnn());
            assertNotNull(stream.cublas());
            return stream;
        });
        assertCollectedAndFreed(s, leaks, "a dropped GpuStream");
        GpuStream closed = new GpuStream(0, "closed twice");
        closed.cudnn();
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, closed::cudnn);
        assertThrows(IllegalStateException.class, closed::cublas);
        assertThrows(IllegalStateException.class, closed::stream);
    }

    @Test
    @Tag("gpu")
    void droppedCudnnDescriptorsAreCollected() throws Exception {
        GpuChecks.assumeGpu();
        long leaks = NativeResources.leakCount();
        WeakReference<CudaResource> rnn = drop(() -> new CudnnDescriptors.Rnn("dropped"));
        WeakReference<CudaResource> data = drop(() -> new CudnnDescriptors.RnnData("dropped"));
        WeakReference<CudaResource> tensor = drop(() -> new CudnnDescriptors.Tensor("dropped")
                .packed3d(org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT, 1, 2, 3));
        assertCollectedAndFreed(rnn, leaks, "a dropped RNN descriptor");
        assertCollectedAndFreed(data, leaks, "a dropped RNN data descriptor");
        assertCollectedAndFreed(tensor, leaks, "a dropped tensor descriptor");
        CudnnDescriptors.Rnn closed = new CudnnDescriptors.Rnn("closed twice");
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, closed::get);
    }
}
