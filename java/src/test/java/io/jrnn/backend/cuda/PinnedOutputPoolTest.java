package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pinned output pool's bookkeeping with a fake (malloc) allocator: no GPU needed. */
class PinnedOutputPoolTest {
    /** Real host memory (so tensors can be read), with counts. */
    static final class FakeAllocator implements PinnedOutputPool.Allocator {
        final Set<Long> live = new HashSet<>();
        int allocations;
        int frees;
        boolean refuse;

        @Override
        public synchronized long allocate(long bytes) {
            if (refuse) {
                return 0;
            }
            long a = Pointer.malloc(bytes).address();
            live.add(a);
            allocations++;
            return a;
        }

        @Override
        public synchronized void free(long address) {
            if (!live.remove(address)) {
                throw new AssertionError("double or foreign free of " + address);
            }
            frees++;
            Pointer.free(new Pointer() {
                {
                    this.address = address;
                }
            });
        }
    }

    final FakeAllocator alloc = new FakeAllocator();
    final PinnedOutputPool.Budget budget = new PinnedOutputPool.Budget(1000);

    PinnedOutputPool pool(long maxBlock, int perSize, long maxIdle) {
        return new PinnedOutputPool(alloc, budget, false, maxBlock, perSize, maxIdle);
    }

    @AfterEach
    void noLeaks() {
        assertTrue(alloc.live.isEmpty(), "blocks still allocated: " + alloc.live.size());
        assertEquals(0, budget.allocated());
    }

    @Test
    void reusesABlockOfTheSameSizeAndAllocatesForOthers() {
        PinnedOutputPool p = pool(400, 4, 1000);
        long a = p.acquire(100);
        p.release(a, 100);
        assertEquals(1, p.idleBlocks());
        assertEquals(a, p.acquire(100), "same size reuses the idle block");
        assertEquals(1, alloc.allocations);
        long b = p.acquire(200);
        assertNotEquals(0, b);
        assertEquals(2, alloc.allocations);
        assertEquals(2, p.outstandingBlocks());
        assertEquals(300, p.outstandingBytes());
        p.release(a, 100);
        p.release(b, 200);
        assertEquals(300, p.idleBytes());
        assertEquals(300, budget.allocated(), "idle blocks count towards the budget");
        p.close();
        assertEquals(2, alloc.frees);
    }

    @Test
    void blocksAboveTheSizeLimitFallBack() {
        PinnedOutputPool p = pool(400, 4, 1000);
        assertEquals(0, p.acquire(401));
        assertEquals(0, p.acquire(0));
        assertEquals(0, alloc.allocations);
        p.close();
    }

    @Test
    void theSharedBudgetBoundsAllPoolsAndIsGivenBack() {
        PinnedOutputPool p = pool(400, 4, 1000);
        PinnedOutputPool q = pool(400, 4, 1000);
        long a = p.acquire(400);
        long b = q.acquire(400);
        assertEquals(0, p.acquire(300), "800 + 300 would pass 1000: pageable fallback");
        long c = q.acquire(200);
        assertNotEquals(0, c);
        assertEquals(1000, budget.allocated());
        p.release(a, 400);
        p.close(); // frees the idle block: budget back
        assertEquals(600, budget.allocated());
        long d = q.acquire(400); // fits again now
        assertNotEquals(0, d);
        assertNotEquals(b, d);
        q.release(d, 400);
        q.release(b, 400);
        q.release(c, 200);
        q.close();
    }

    @Test
    void idleBlocksAreBoundedPerSizeAndInBytes() {
        PinnedOutputPool p = pool(400, 2, 500);
        long[] small = {p.acquire(100), p.acquire(100), p.acquire(100)};
        for (long s : small) {
            p.release(s, 100);
        }
        assertEquals(2, p.idleBlocks(), "at most 2 idle per size");
        assertEquals(1, alloc.frees);
        long x = p.acquire(300);
        long y = p.acquire(300);
        p.release(x, 300); // 200 + 300 = 500 fits
        p.release(y, 300); // 800 would pass 500: freed
        assertEquals(500, p.idleBytes());
        assertEquals(2, alloc.frees);
        p.close();
        assertEquals(0, p.idleBlocks());
    }

    @Test
    void driverRefusalFallsBackWithoutLeakingBudget() {
        PinnedOutputPool p = pool(400, 4, 1000);
        alloc.refuse = true;
        assertEquals(0, p.acquire(100));
        assertEquals(0, budget.allocated());
        assertEquals(0, p.outstandingBlocks());
        p.close();
    }

    @Test
    void closeWithOutstandingBlocksFreesThemWhenTheyComeBack() {
        PinnedOutputPool p = pool(400, 4, 1000);
        long a = p.acquire(100);
        long idle = p.acquire(100);
        p.release(idle, 100);
        p.close();
        assertEquals(1, alloc.frees, "only the idle block is freed on close");
        assertTrue(alloc.live.contains(a), "the outstanding block stays valid");
        p.release(a, 100);
        assertEquals(2, alloc.frees);
        p.close(); // twice: harmless
        assertEquals(2, alloc.frees);
        assertThrows(IllegalStateException.class, () -> p.acquire(100));
    }

    @Test
    void tensorsReturnTheirBlockOnCloseAndOutliveThePool() {
        PinnedOutputPool p = pool(400, 4, 1000);
        Tensor t = p.tensor(2, 3);
        Tensor u = p.tensor(5);
        t.view().put(5, 7f);
        assertEquals(2, p.outstandingBlocks());
        t.close();
        assertEquals(1, p.idleBlocks());
        t.close(); // twice: the block came back once
        assertEquals(1, p.idleBlocks());
        assertEquals(1, p.outstandingBlocks());
        Tensor again = p.tensor(3, 2); // same byte size: the idle block
        assertEquals(2, alloc.allocations);
        p.close();
        u.view().put(4, 3f);
        assertEquals(3f, u.view().get(4), "a tensor stays usable after its pool closed");
        u.close();
        again.close();
        assertEquals(0, p.outstandingBlocks());
    }

    @Test
    void tooLargeOrOverBudgetTensorsAreNull() {
        PinnedOutputPool p = pool(400, 4, 1000);
        assertNull(p.tensor(101), "404 bytes > 400");
        Tensor t = p.tensor(100);
        assertFalse(t.isClosed());
        t.close();
        p.close();
    }

    @Test
    void tensorOrPageableUsesTheBlockOnlyWhenPinnedAndFallsBackToPageable() {
        PinnedOutputPool p = pool(400, 4, 1000);
        Tensor pooled = p.tensorOrPageable(true, 2, 3);
        assertEquals(1, p.outstandingBlocks());
        Tensor pageable = p.tensorOrPageable(false, 2, 3);
        Tensor tooLarge = p.tensorOrPageable(true, 101);
        assertEquals(1, p.outstandingBlocks(), "unpinned and too large requests take no block");
        assertArrayEquals(new int[] {2, 3}, pageable.shape());
        assertArrayEquals(new int[] {101}, tooLarge.shape());
        pooled.close();
        pageable.close();
        tooLarge.close();
        assertEquals(0, p.outstandingBlocks());
        p.close();
    }

    @Test
    void blocksComeBackSafelyFromManyThreads() throws Exception {
        PinnedOutputPool p = pool(400, 4, 1000);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(pool.submit(() -> {
                    for (int k = 0; k < 500; k++) {
                        Tensor t = p.tensor(10);
                        if (t != null) {
                            t.close();
                        }
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(0, p.outstandingBlocks());
        assertTrue(p.idleBlocks() <= 4);
        p.close();
    }

    @Test
    void theDeallocatorHoldsOnlyThePool() throws Exception {
        PinnedOutputPool p = pool(400, 4, 1000);
        Tensor t = p.tensor(4);
        FloatPointer memory = t.pointer();
        // JavaCPP keeps the deallocator on the pointer's reference; it must not reach the tensor or the pointer.
        for (Class<?> c : PinnedOutputPool.class.getDeclaredClasses()) {
            for (Class<?> inner : c.getDeclaredClasses()) {
                for (var f : inner.getDeclaredFields()) {
                    assertFalse(Tensor.class.isAssignableFrom(f.getType()) || Pointer.class.isAssignableFrom(f.getType())
                            || f.getType().getName().contains("Executor"), inner + " holds " + f);
                }
            }
        }
        assertFalse(memory.isNull());
        t.close();
        p.close();
    }

    @Test
    void thePropertySwitches() {
        String old = System.getProperty(PinnedOutputPool.PROPERTY);
        try {
            System.clearProperty(PinnedOutputPool.PROPERTY);
            assertTrue(PinnedOutputPool.enabled());
            System.setProperty(PinnedOutputPool.PROPERTY, "false");
            assertFalse(PinnedOutputPool.enabled());
            System.setProperty(PinnedOutputPool.PROPERTY, "TRUE");
            assertTrue(PinnedOutputPool.enabled());
            System.setProperty(PinnedOutputPool.PROPERTY, "maybe");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, PinnedOutputPool::enabled);
            assertTrue(e.getMessage().contains("jrnn.cuda.pinnedOutputs"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(PinnedOutputPool.PROPERTY);
            } else {
                System.setProperty(PinnedOutputPool.PROPERTY, old);
            }
        }
    }
}
