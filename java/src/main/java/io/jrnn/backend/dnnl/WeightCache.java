package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_memory_desc;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * An executor's weights: copied once into aligned native memory ({@link #upload}), and reordered
 * into the layouts its primitives ask for ({@link #in}), one copy per source and layout shared by
 * the plans that use it and released when the last of them closes.
 *
 * <p>Thread-safe: plans of several threads are compiled (and closed) concurrently. The packed
 * weights are only read by the primitives that run on them, so every plan of every thread shares
 * one copy per layout.
 */
final class WeightCache implements AutoCloseable {
    /** A weight array in the layout the executor uploaded it in, owned by the cache. */
    record Source(dnnl_memory_desc desc, dnnl_memory memory) {
    }

    /** A source reordered into another layout. */
    private static final class Packed {
        final Source source;
        final NativeScope scope = new NativeScope();
        dnnl_memory_desc desc;
        dnnl_memory memory;
        int users;

        Packed(Source source) {
            this.source = source;
        }
    }

    private final dnnl_engine engine;
    private final dnnl_stream stream;
    private final NativeScope scope = new NativeScope();
    private final List<Packed> packed = new ArrayList<>();
    private int conversions;

    /** {@code stream} runs the reorders; it must outlive the cache. */
    WeightCache(dnnl_engine engine, dnnl_stream stream) {
        this.engine = engine;
        this.stream = stream;
    }

    /** Copies {@code values} into native memory described by {@code tag} and {@code dims}. */
    synchronized Source upload(float[] values, int tag, long... dims) {
        dnnl_memory_desc desc = Dnnl.desc(scope, tag, dims);
        BytePointer buffer = Dnnl.alignedBuffer(scope, (long) values.length * Float.BYTES);
        Dnnl.floats(buffer).put(values);
        return new Source(desc, Dnnl.memory(scope, desc, engine, buffer));
    }

    /**
     * Columns {@code [from, from + cols)} of a row-major {@code [rows, width]} source: a source over the
     * same native memory (no copy), with strides.
     */
    synchronized Source columns(Source source, long rows, long width, long from, long cols) {
        if (from < 0 || cols < 1 || from + cols > width) {
            throw new IllegalArgumentException("columns [" + from + ", " + (from + cols) + ") of a " + width + "-wide matrix");
        }
        dnnl_memory_desc desc = Dnnl.stridedDesc(scope, new long[] {rows, cols}, new long[] {width, 1});
        Pointer base;
        try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
            Dnnl.check(dnnl_memory_get_data_handle(source.memory(), out), "dnnl_memory_get_data_handle");
            base = out.get(0);
        }
        BytePointer data = new BytePointer(base).position(from * Float.BYTES);
        return new Source(desc, Dnnl.memory(scope, desc, engine, data));
    }

    /**
     * {@code source} in the layout {@code wanted}: the source itself, or a reordered copy shared
     * between users; {@code user} holds it until it closes.
     */
    synchronized dnnl_memory in(NativeScope user, Source source, dnnl_memory_desc wanted) {
        if (dnnl_memory_desc_equal(source.desc(), wanted) != 0) {
            return source.memory();
        }
        Packed found = null;
        for (Packed p : packed) {
            if (p.source == source && dnnl_memory_desc_equal(p.desc, wanted) != 0) {
                found = p;
                break;
            }
        }
        if (found == null) {
            found = reorder(source, wanted);
            packed.add(found);
        }
        Packed acquired = found;
        acquired.users++;
        user.defer(() -> release(acquired));
        return acquired.memory;
    }

    /** Reordered copies made so far (layout or data-type conversions), for tests. */
    synchronized int conversions() {
        return conversions;
    }

    private Packed reorder(Source source, dnnl_memory_desc wanted) {
        conversions++;
        Packed p = new Packed(source);
        try {
            BytePointer buffer = Dnnl.alignedBuffer(p.scope, Dnnl.sizeInBytes(wanted));
            p.memory = Dnnl.memory(p.scope, wanted, engine, buffer);
            try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
                // The memory's own copy of the descriptor outlives the primitive descriptor that asked for it.
                Dnnl.check(dnnl_memory_get_memory_desc(p.memory, out), "dnnl_memory_get_memory_desc");
                p.desc = out.get(dnnl_memory_desc.class, 0);
            }
            Dnnl.reorder(engine, stream, source.desc(), source.memory(), p.desc, p.memory);
            return p;
        } catch (RuntimeException | Error e) {
            p.scope.closeAfter(e);
            throw e;
        }
    }

    private synchronized void release(Packed p) {
        p.users--;
        if (p.users == 0) {
            packed.remove(p);
            p.scope.close();
        }
    }

    /** Releases the reordered copies still held, then the sources. */
    @Override
    public void close() {
        List<Packed> held;
        synchronized (this) {
            held = new ArrayList<>(packed);
            packed.clear();
        }
        try (NativeScope closing = new NativeScope()) {
            closing.defer(scope::close);
            for (Packed p : held) {
                closing.defer(p.scope::close);
            }
        }
    }
}
