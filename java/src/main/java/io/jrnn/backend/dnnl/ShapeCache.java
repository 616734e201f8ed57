package io.jrnn.backend.dnnl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What an executor compiled per input shape: a pool of execution contexts ("plans") per shape, the
 * shapes in a small LRU cache (the least recently used shape's idle plans are closed when the cache
 * grows past its capacity).
 *
 * <p>Thread-safe, and no call waits for another's computation: {@link #acquire} checks a plan out
 * (compiling a new one, outside any lock, when every plan of that shape is busy), the caller runs
 * it alone, and {@link Lease#close} returns it. The pool's monitor guards only the map and the
 * deques (a lookup, a push, a pop). At most {@link #IDLE_PER_SHAPE} idle plans are kept per shape;
 * extra ones are closed when returned.
 */
final class ShapeCache<K, V extends ShapeCache.Plan> {
    /** Idle plans kept per shape (the pool grows with the threads running that shape at once). */
    static final int IDLE_PER_SHAPE = Math.max(2, Runtime.getRuntime().availableProcessors());

    /** A compiled plan; closing releases its native resources. Used by one thread at a time. */
    interface Plan extends AutoCloseable {
        @Override
        void close();
    }

    /** A checked-out plan; closing returns it to the pool. */
    final class Lease implements AutoCloseable {
        private final K key;
        private V plan;

        private Lease(K key, V plan) {
            this.key = key;
            this.plan = plan;
        }

        V plan() {
            return plan;
        }

        @Override
        public void close() {
            V p = plan;
            plan = null;
            if (p != null) {
                giveBack(key, p);
            }
        }
    }

    /** Test hook: runs in the calling thread after each checkout, before the plan runs ({@code null}: none). */
    static volatile Runnable afterAcquireForTests;

    private final Function<K, V> compile;
    private final int capacity;
    private final LinkedHashMap<K, Deque<V>> idle = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    /** {@code compile} builds a plan for a shape (or throws, leaving nothing behind); it may run concurrently. */
    ShapeCache(int capacity, Function<K, V> compile) {
        this.compile = compile;
        this.capacity = capacity;
    }

    /** A plan for {@code key} checked out for the caller alone; close the lease to return it. */
    Lease acquire(K key) {
        V plan;
        List<V> evicted = null;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("The executor is closed");
            }
            Deque<V> plans = idle.get(key);
            if (plans == null) {
                idle.put(key, new ArrayDeque<>());
                evicted = evict();
            }
            plan = plans == null ? null : plans.pollFirst();
        }
        closeAll(evicted);
        if (plan == null) {
            try {
                plan = compile.apply(key);
            } catch (RuntimeException | Error e) {
                forgetIfEmpty(key);
                throw e;
            }
        }
        Lease lease = new Lease(key, plan);
        Runnable hook = afterAcquireForTests;
        if (hook != null) {
            hook.run();
        }
        return lease;
    }

    /** A shape whose first compilation failed leaves nothing behind. */
    private synchronized void forgetIfEmpty(K key) {
        Deque<V> plans = idle.get(key);
        if (plans != null && plans.isEmpty()) {
            idle.remove(key);
        }
    }

    private List<V> evict() {
        List<V> evicted = new ArrayList<>();
        var it = idle.entrySet().iterator();
        while (idle.size() > capacity && it.hasNext()) {
            Map.Entry<K, Deque<V>> eldest = it.next();
            evicted.addAll(eldest.getValue());
            it.remove();
        }
        return evicted;
    }

    private void giveBack(K key, V plan) {
        boolean keep;
        synchronized (this) {
            Deque<V> plans = idle.get(key);
            keep = !closed && plans != null && plans.size() < IDLE_PER_SHAPE;
            if (keep) {
                plans.push(plan);
            }
        }
        if (!keep) {
            plan.close();
        }
    }

    /** Shapes currently cached. */
    synchronized int size() {
        return idle.size();
    }

    /** Idle plans of every shape (tests). */
    synchronized int idlePlanCount() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }

    /** Closes and forgets every idle plan; plans still checked out are closed when returned. */
    void clear() {
        List<V> open;
        synchronized (this) {
            closed = true;
            open = new ArrayList<>();
            idle.values().forEach(open::addAll);
            idle.clear();
        }
        closeAll(open);
    }

    private static <V extends Plan> void closeAll(List<V> plans) {
        if (plans == null || plans.isEmpty()) {
            return;
        }
        try (NativeScope closing = new NativeScope()) {
            for (V plan : plans) {
                closing.defer(plan::close);
            }
        }
    }
}
