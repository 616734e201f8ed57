package io.jrnn.bench;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Plumbing for oneDNN primitives called directly through the JavaCPP C API (independent of jrnn's
 * backend on purpose: it is the yardstick): a CPU engine and stream, and everything created
 * through it released in reverse order by {@link #close} (twice is harmless; use after close →
 * {@link IllegalStateException}).
 */
abstract class DirectOneDnn implements AutoCloseable {
    private final Deque<Runnable> releases = new ArrayDeque<>();
    private boolean closed;
    final dnnl_engine engine;
    final dnnl_stream stream;

    DirectOneDnn() {
        try (PointerPointer<dnnl_engine> out = new PointerPointer<>(1)) {
            check(dnnl_engine_create(out, dnnl_cpu, 0), "dnnl_engine_create");
            engine = out.get(dnnl_engine.class, 0);
            releases.push(() -> check(dnnl_engine_destroy(engine), "dnnl_engine_destroy"));
        }
        try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
            check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
            stream = out.get(dnnl_stream.class, 0);
            releases.push(() -> check(dnnl_stream_destroy(stream), "dnnl_stream_destroy"));
        }
    }

    final void execute(dnnl_primitive primitive, int argCount, dnnl_exec_arg_t args) {
        requireOpen();
        check(dnnl_primitive_execute(primitive, stream, argCount, args), "dnnl_primitive_execute");
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    final void requireOpen() {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!releases.isEmpty()) {
            releases.pop().run();
        }
    }

    final dnnl_primitive_desc primitiveDesc(PointerPointer<dnnl_primitive_desc> out) {
        dnnl_primitive_desc pd = out.get(dnnl_primitive_desc.class, 0);
        releases.push(() -> check(dnnl_primitive_desc_destroy(pd), "dnnl_primitive_desc_destroy"));
        return pd;
    }

    final dnnl_primitive primitive(dnnl_primitive_desc pd) {
        try (PointerPointer<dnnl_primitive> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_create(out, pd), "dnnl_primitive_create");
            dnnl_primitive p = out.get(dnnl_primitive.class, 0);
            releases.push(() -> check(dnnl_primitive_destroy(p), "dnnl_primitive_destroy"));
            return p;
        }
    }

    static int arg(dnnl_exec_arg_t args, int index, int arg, dnnl_memory memory) {
        args.getPointer(index).arg(arg).memory(memory);
        return index + 1;
    }

    /** Memory for {@code arg} in the layout {@code pd} wants, filled from {@code values} given in {@code userMd}. */
    final dnnl_memory reordered(dnnl_memory_desc userMd, float[] values, dnnl_primitive_desc pd, int arg) {
        BytePointer userBuf = buffer((long) values.length * Float.BYTES);
        floats(userBuf).put(values);
        dnnl_memory user = memory(userMd, userBuf);
        dnnl_memory_desc wanted = query(pd, arg);
        if (dnnl_memory_desc_equal(userMd, wanted) != 0) {
            return user;
        }
        dnnl_memory packed = memory(wanted, buffer(dnnl_memory_desc_get_size(wanted)));
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            check(dnnl_reorder_primitive_desc_create(out, userMd, engine, wanted, engine, null),
                    "dnnl_reorder_primitive_desc_create");
            dnnl_primitive_desc rpd = out.get(dnnl_primitive_desc.class, 0);
            try (PointerPointer<dnnl_primitive> p = new PointerPointer<>(1); dnnl_exec_arg_t a = new dnnl_exec_arg_t(2)) {
                check(dnnl_primitive_create(p, rpd), "dnnl_primitive_create(reorder)");
                dnnl_primitive reorder = p.get(dnnl_primitive.class, 0);
                try {
                    a.getPointer(0).arg(DNNL_ARG_FROM).memory(user);
                    a.getPointer(1).arg(DNNL_ARG_TO).memory(packed);
                    check(dnnl_primitive_execute(reorder, stream, 2, a), "dnnl_primitive_execute(reorder)");
                    check(dnnl_stream_wait(stream), "dnnl_stream_wait");
                } finally {
                    check(dnnl_primitive_destroy(reorder), "dnnl_primitive_destroy");
                }
            } finally {
                check(dnnl_primitive_desc_destroy(rpd), "dnnl_primitive_desc_destroy");
            }
        }
        return packed;
    }

    static dnnl_memory_desc query(dnnl_primitive_desc pd, int arg) {
        return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    }

    final dnnl_memory_desc desc(int dataType, int tag, long... dims) {
        try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
            check(dnnl_memory_desc_create_with_tag(out, dims.length, dims, dataType, tag),
                    "dnnl_memory_desc_create_with_tag");
            dnnl_memory_desc md = out.get(dnnl_memory_desc.class, 0);
            releases.push(() -> check(dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy"));
            return md;
        }
    }

    final dnnl_memory memory(dnnl_memory_desc md, Pointer data) {
        try (PointerPointer<dnnl_memory> out = new PointerPointer<>(1)) {
            check(dnnl_memory_create(out, md, engine, data), "dnnl_memory_create");
            dnnl_memory m = out.get(dnnl_memory.class, 0);
            releases.push(() -> check(dnnl_memory_destroy(m), "dnnl_memory_destroy"));
            return m;
        }
    }

    /** A zeroed, 64-byte aligned buffer of {@code bytes} bytes. */
    final BytePointer buffer(long bytes) {
        BytePointer raw = own(new BytePointer(bytes + 64));
        raw.zero();
        long start = (64 - raw.address() % 64) % 64;
        return raw.position(start).limit(start + bytes);
    }

    static FloatBuffer floats(BytePointer buffer) {
        return buffer.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    final <P extends Pointer> P own(P pointer) {
        releases.push(pointer::close);
        return pointer;
    }

    static void check(int status, String function) {
        if (status != dnnl_success) {
            throw new IllegalStateException(function + " failed with status " + status);
        }
    }
}
