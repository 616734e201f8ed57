package io.jrnn.backend.dnnl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What an executor compiled per input shape, in a small LRU cache: the least recently used plan is
 * closed when the cache grows past its capacity. Not thread-safe (the executors synchronize).
 */
final class ShapeCache<K, V extends ShapeCache.Plan> {
    /** A compiled plan; closing releases its native resources. */
    interface Plan extends AutoCloseable {
        @Override
        void close();
    }

    private final Function<K, V> compile;
    private final LinkedHashMap<K, V> plans;

    /** {@code compile} builds the plan for a shape not in the cache (or throws, leaving nothing behind). */
    ShapeCache(int capacity, Function<K, V> compile) {
        this.compile = compile;
        this.plans = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() > capacity) {
                    eldest.getValue().close();
                    return true;
                }
                return false;
            }
        };
    }

    /** The plan for {@code key}, compiled on first use. */
    V get(K key) {
        V plan = plans.get(key);
        if (plan == null) {
            plan = compile.apply(key);
            plans.put(key, plan);
        }
        return plan;
    }

    int size() {
        return plans.size();
    }

    /** Closes and forgets every plan (most recently used first), even when one fails to close. */
    void clear() {
        List<V> open = new ArrayList<>(plans.values());
        plans.clear();
        try (NativeScope closing = new NativeScope()) {
            for (V plan : open) {
                closing.defer(plan::close);
            }
        }
    }
}
