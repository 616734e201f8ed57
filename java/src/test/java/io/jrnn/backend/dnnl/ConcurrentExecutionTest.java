package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * oneDNN executors run concurrent calls in parallel (no lock around a call), refuse a second
 * thread on a stateful layer, and release their memory only after the calls in flight when closed.
 * A test hook in {@link ShapeCache} holds threads inside a call; no wall-clock assertions.
 */
class ConcurrentExecutionTest {
    @AfterEach
    void removeHook() {
        ShapeCache.afterAcquireForTests = null;
    }

    @Test
    void twoThreadsAreInsideForwardOfOneLayerAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (LSTM lstm = LSTM.builder().units(8).returnSequences(true).seed(3).build();
                Tensor x = Tensor.zeros(2, 4, 5)) {
            lstm.useBackend(DnnlBackend.instance());
            lstm.forward(x).close();
            // Both calls must reach the barrier inside forward: a lock around the call would time it out.
            CyclicBarrier bothInside = new CyclicBarrier(2);
            ShapeCache.afterAcquireForTests = () -> {
                try {
                    bothInside.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("the other call never entered forward at the same time", e);
                }
            };
            Future<float[]> a = pool.submit(() -> lstm.apply(x).toArray());
            Future<float[]> b = pool.submit(() -> lstm.apply(x).toArray());
            float[] ya = a.get(60, TimeUnit.SECONDS);
            float[] yb = b.get(60, TimeUnit.SECONDS);
            assertEquals(ya.length, yb.length);
            ShapeCache.afterAcquireForTests = null;
            try (Tensor y = lstm.apply(x)) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(y.toArray(), ya);
                org.junit.jupiter.api.Assertions.assertArrayEquals(y.toArray(), yb);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void statefulLayerRefusesASecondThreadWhileOneIsInside() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try (GRU gru = GRU.builder().units(4).stateful(true).seed(5).build(); Tensor x = Tensor.zeros(2, 3, 4)) {
            gru.useBackend(DnnlBackend.instance());
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ShapeCache.afterAcquireForTests = () -> {
                inside.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Future<?> first = pool.submit(() -> gru.apply(x).close());
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            ShapeCache.afterAcquireForTests = null;
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> gru.apply(x));
            assertTrue(e.getMessage().contains("GRU '" + gru.name() + "' is stateful"), e.getMessage());
            assertTrue(e.getMessage().contains("not thread-safe"), e.getMessage());
            release.countDown();
            first.get(60, TimeUnit.SECONDS);
            // The first call finished normally; the layer is usable again from any thread.
            gru.apply(x).close();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeDuringACallReleasesWhenTheCallLeaves() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try (Tensor x = Tensor.zeros(3, 6, 5)) {
            long before = Pointer.totalBytes();
            LSTM lstm = LSTM.builder().units(8).returnSequences(true).seed(7).build();
            lstm.useBackend(DnnlBackend.instance());
            lstm.forward(x).close();
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ShapeCache.afterAcquireForTests = () -> {
                inside.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Future<float[]> call = pool.submit(() -> {
                try (Tensor y = lstm.apply(x)) {
                    return y.toArray();
                }
            });
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            ShapeCache.afterAcquireForTests = null;
            lstm.close();
            // The call in flight still owns its plan and the weights: it completes with a real result.
            release.countDown();
            assertEquals(3 * 6 * 8, call.get(60, TimeUnit.SECONDS).length);
            assertThrows(IllegalStateException.class, () -> lstm.apply(x));
            assertEquals(before, Pointer.totalBytes(), "native bytes after the last call left the closed layer");
        } finally {
            pool.shutdownNow();
        }
    }
}
