package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.dnnl_data_type_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_elu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_hardsigmoid;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_logistic;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_tanh;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scratchpad_mode;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_scratchpad_mode_user;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import io.jrnn.NativeException;
import io.jrnn.layers.Activation;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The oneDNN C API calls the adapter makes, each checked in one place ({@link #check}). Every
 * handle created here is registered with the {@link NativeScope} passed in, which destroys it.
 */
final class Dnnl {
    static final String LIBRARY = "oneDNN";
    /** oneDNN asks for 64-byte aligned buffers for best performance. */
    private static final int ALIGNMENT = 64;

    private Dnnl() {
    }

    /** Throws {@link NativeException} unless {@code status} is {@code dnnl_success}. */
    static void check(int status, String function) {
        if (status != dnnl_success) {
            throw new NativeException(LIBRARY, function, status, statusName(status), null);
        }
    }

    static String statusName(int status) {
        for (dnnl.status s : dnnl.status.values()) {
            if (s.value == status) {
                return s.name();
            }
        }
        return "unknown status";
    }

    /** A plain f32 memory descriptor; {@code tag} is a {@code dnnl_format_tag_t} ({@code dnnl_ntc}, {@code dnnl_format_tag_any}, …). */
    static dnnl_memory_desc desc(NativeScope scope, int tag, long... dims) {
        return typedDesc(scope, dnnl_f32, tag, dims);
    }

    /** A plain memory descriptor of {@code dataType} ({@code dnnl_f32}, {@code dnnl_bf16}); {@code tag} as for {@link #desc(NativeScope, int, long...)}. */
    static dnnl_memory_desc typedDesc(NativeScope scope, int dataType, int tag, long... dims) {
        try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
            check(dnnl_memory_desc_create_with_tag(out, dims.length, dims, dataType, tag), "dnnl_memory_desc_create_with_tag");
            dnnl_memory_desc md = out.get(dnnl_memory_desc.class, 0);
            scope.defer(() -> check(dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy"));
            return md;
        }
    }

    /** A plain f32 memory descriptor with explicit strides (in elements), e.g. a column block of a wider matrix. */
    static dnnl_memory_desc stridedDesc(NativeScope scope, long[] dims, long[] strides) {
        try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
            check(dnnl_memory_desc_create_with_strides(out, dims.length, dims, dnnl_f32, strides),
                    "dnnl_memory_desc_create_with_strides");
            dnnl_memory_desc md = out.get(dnnl_memory_desc.class, 0);
            scope.defer(() -> check(dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy"));
            return md;
        }
    }

    /** The descriptor a primitive wants for one execution argument (owned by the primitive descriptor). */
    static dnnl_memory_desc queryArgDesc(dnnl_primitive_desc pd, int arg) {
        return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    }

    /** The implementation oneDNN chose, e.g. {@code brgemm:avx512_core} or {@code ref}. */
    static String implInfo(dnnl_primitive_desc pd) {
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query(impl_info_str)");
            return new BytePointer(out.get(0)).getString();
        }
    }

    /** Takes ownership of a primitive descriptor written into {@code out} by a {@code *_primitive_desc_create} call. */
    static dnnl_primitive_desc adopt(NativeScope scope, PointerPointer<dnnl_primitive_desc> out) {
        dnnl_primitive_desc pd = out.get(dnnl_primitive_desc.class, 0);
        scope.defer(() -> check(dnnl_primitive_desc_destroy(pd), "dnnl_primitive_desc_destroy"));
        return pd;
    }

    static dnnl_primitive primitive(NativeScope scope, dnnl_primitive_desc pd) {
        try (PointerPointer<dnnl_primitive> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_create(out, pd), "dnnl_primitive_create");
            dnnl_primitive p = out.get(dnnl_primitive.class, 0);
            scope.defer(() -> check(dnnl_primitive_destroy(p), "dnnl_primitive_destroy"));
            return p;
        }
    }

    /** A memory object over {@code data} ({@code null}: no buffer yet; set one before each execution). */
    static dnnl_memory memory(NativeScope scope, dnnl_memory_desc md, dnnl_engine engine, Pointer data) {
        try (PointerPointer<dnnl_memory> out = new PointerPointer<>(1)) {
            check(dnnl_memory_create(out, md, engine, data), "dnnl_memory_create");
            dnnl_memory m = out.get(dnnl_memory.class, 0);
            scope.defer(() -> check(dnnl_memory_destroy(m), "dnnl_memory_destroy"));
            return m;
        }
    }

    /** Points {@code memory} at {@code data} (the caller's buffer, used in place). */
    static void setHandle(dnnl_memory memory, Pointer data) {
        check(dnnl_memory_set_data_handle(memory, data), "dnnl_memory_set_data_handle");
    }

    /**
     * Primitive attributes with a user-managed scratchpad, owned by {@code scope}. Every primitive a
     * plan executes is created with it and given the plan's own scratchpad ({@link #scratchpad}):
     * oneDNN documents the user mode as thread-safe as long as two executions never share a
     * scratchpad, whereas the default library mode shares one scratchpad and forbids running a
     * primitive on another thread than the one that created it.
     */
    static dnnl_primitive_attr userScratchpadAttr(NativeScope scope) {
        dnnl_primitive_attr attr;
        try (PointerPointer<dnnl_primitive_attr> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create");
            attr = out.get(dnnl_primitive_attr.class, 0);
        }
        dnnl_primitive_attr a = attr;
        scope.defer(() -> check(dnnl_primitive_attr_destroy(a), "dnnl_primitive_attr_destroy"));
        check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                "dnnl_primitive_attr_set_scratchpad_mode");
        return attr;
    }

    /**
     * {@link #userScratchpadAttr} with the post-ops {@code dst = result + dst} (a {@code sum}: the
     * primitive adds to what its destination holds), then the eltwise {@code {algorithm, alpha, beta}}
     * unless {@code eltwise} is null or shorter (linear: none).
     */
    static dnnl_primitive_attr sumAttr(NativeScope scope, float[] eltwise) {
        dnnl_post_ops ops;
        try (PointerPointer<dnnl_post_ops> out = new PointerPointer<>(1)) {
            check(dnnl_post_ops_create(out), "dnnl_post_ops_create");
            ops = out.get(dnnl_post_ops.class, 0);
        }
        dnnl_post_ops created = ops;
        scope.defer(() -> check(dnnl_post_ops_destroy(created), "dnnl_post_ops_destroy"));
        check(dnnl_post_ops_append_sum(ops, 1f, 0, dnnl_data_type_undef), "dnnl_post_ops_append_sum");
        if (eltwise != null && eltwise.length == 3) {
            check(dnnl_post_ops_append_eltwise(ops, (int) eltwise[0], eltwise[1], eltwise[2]),
                    "dnnl_post_ops_append_eltwise");
        }
        dnnl_primitive_attr attr = userScratchpadAttr(scope);
        // The attributes keep their own copy of the post-ops.
        check(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops");
        return attr;
    }

    /**
     * oneDNN's eltwise algorithm and (alpha, beta) for a Keras activation, or {@code null} when
     * oneDNN has none (those run in Java, {@link ComposedActivations}). Linear is {@code {0}}: nothing to run.
     */
    static float[] eltwiseFor(Activation a) {
        return switch (a) {
            case LINEAR -> new float[] {0};
            case TANH -> new float[] {dnnl_eltwise_tanh, 0, 0};
            case SIGMOID -> new float[] {dnnl_eltwise_logistic, 0, 0};
            case HARD_SIGMOID_KERAS2 -> new float[] {dnnl_eltwise_hardsigmoid, 0.2f, 0.5f};
            case HARD_SIGMOID_KERAS3 -> new float[] {dnnl_eltwise_hardsigmoid, 1f / 6f, 0.5f};
            case RELU -> new float[] {dnnl_eltwise_relu, 0, 0};
            case ELU -> new float[] {dnnl_eltwise_elu, 1, 0};
            default -> null;
        };
    }

    /**
     * Whether oneDNN's eltwise for {@code a} keeps NaN as Keras does. relu computes max(x, 0) and
     * turns NaN into 0; hard_sigmoid clamps it to 1 (measured: {@code ActivatedStepTest},
     * {@code DnnlConvLstmExecutorTest}). An activation whose output carries the state runs in Java
     * when this is false; a gate may still use oneDNN's, because a NaN that reaches a gate reaches the
     * candidate too, and the candidate carries it.
     */
    static boolean eltwiseKeepsNaN(Activation a) {
        return a != Activation.RELU && a != Activation.HARD_SIGMOID_KERAS2 && a != Activation.HARD_SIGMOID_KERAS3;
    }

    /** A scratchpad memory of the size {@code pd} asks for (a primitive created with {@link #userScratchpadAttr}). */
    static dnnl_memory scratchpad(NativeScope scope, dnnl_primitive_desc pd, dnnl_engine engine) {
        dnnl_memory_desc md = queryArgDesc(pd, DNNL_ARG_SCRATCHPAD);
        if (md == null || md.isNull()) {
            throw new IllegalStateException("oneDNN returned no scratchpad descriptor");
        }
        return memory(scope, md, engine, alignedBuffer(scope, sizeInBytes(md)));
    }

    /** An in-order stream on {@code engine}. */
    static dnnl_stream stream(NativeScope scope, dnnl_engine engine) {
        try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
            check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
            dnnl_stream s = out.get(dnnl_stream.class, 0);
            scope.defer(() -> check(dnnl_stream_destroy(s), "dnnl_stream_destroy"));
            return s;
        }
    }

    static long sizeInBytes(dnnl_memory_desc md) {
        return dnnl_memory_desc_get_size(md);
    }

    /**
     * A zeroed buffer of {@code bytes} bytes whose position is 64-byte aligned (JavaCPP passes
     * {@code address + position} to native code).
     */
    static BytePointer alignedBuffer(NativeScope scope, long bytes) {
        BytePointer raw = scope.own(new BytePointer(bytes + ALIGNMENT));
        raw.zero();
        long misalignment = raw.address() % ALIGNMENT;
        long start = misalignment == 0 ? 0 : ALIGNMENT - misalignment;
        return raw.position(start).limit(start + bytes);
    }

    /** A float view of an {@link #alignedBuffer}, from its position to its limit. */
    static FloatBuffer floats(BytePointer buffer) {
        return buffer.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Runs {@code primitive} on {@code args} and waits for it. */
    static void execute(dnnl_primitive primitive, dnnl_stream stream, int argCount, dnnl_exec_arg_t args) {
        submit(primitive, stream, argCount, args);
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    /** Queues {@code primitive} on the in-order {@code stream} without waiting (see {@link #await}). */
    static void submit(dnnl_primitive primitive, dnnl_stream stream, int argCount, dnnl_exec_arg_t args) {
        check(dnnl_primitive_execute(primitive, stream, argCount, args), "dnnl_primitive_execute");
    }

    /** Waits until everything queued on {@code stream} has run. */
    static void await(dnnl_stream stream) {
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    /**
     * A reusable reorder (layout and/or data-type conversion, e.g. f32 → bf16) between memories of
     * {@code fromDesc} and {@code toDesc}, with its two arguments bound; owned by {@code scope}.
     */
    static Reorder reorder(NativeScope scope, dnnl_engine engine, dnnl_memory_desc fromDesc, dnnl_memory from,
            dnnl_memory_desc toDesc, dnnl_memory to) {
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            // A user scratchpad (when the reorder wants one at all) of its own, like every primitive of a plan:
            // plans of several threads may share one cached reorder implementation.
            check(dnnl_reorder_primitive_desc_create(out, fromDesc, engine, toDesc, engine, userScratchpadAttr(scope)),
                    "dnnl_reorder_primitive_desc_create");
            dnnl_primitive_desc pd = adopt(scope, out);
            dnnl_primitive reorder = primitive(scope, pd);
            dnnl_memory_desc scratchpadDesc = queryArgDesc(pd, DNNL_ARG_SCRATCHPAD);
            boolean scratchpad = scratchpadDesc != null && !scratchpadDesc.isNull() && sizeInBytes(scratchpadDesc) > 0;
            int argCount = scratchpad ? 3 : 2;
            dnnl_exec_arg_t args = scope.own(new dnnl_exec_arg_t(argCount));
            args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
            args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
            if (scratchpad) {
                args.getPointer(2).arg(DNNL_ARG_SCRATCHPAD).memory(Dnnl.scratchpad(scope, pd, engine));
            }
            return new Reorder(reorder, argCount, args);
        }
    }

    /** A reorder primitive with its bound arguments ({@link #reorder(NativeScope, dnnl_engine, dnnl_memory_desc, dnnl_memory, dnnl_memory_desc, dnnl_memory)}). */
    record Reorder(dnnl_primitive primitive, int argCount, dnnl_exec_arg_t args) {
        /** Queues the conversion on {@code stream}. */
        void submit(dnnl_stream stream) {
            Dnnl.submit(primitive, stream, argCount, args);
        }
    }

    /** Copies {@code from} into {@code to} (different layouts of the same tensor) with a one-off reorder. */
    static void reorder(dnnl_engine engine, dnnl_stream stream, dnnl_memory_desc fromDesc, dnnl_memory from,
            dnnl_memory_desc toDesc, dnnl_memory to) {
        try (NativeScope scope = new NativeScope()) {
            reorder(scope, engine, fromDesc, from, toDesc, to).submit(stream);
            await(stream);
        }
    }

    /**
     * A call's outputs: {@code count} tensors that {@code allocate} creates and {@code fill} computes;
     * if either throws, the tensors created so far are closed.
     */
    static io.jrnn.Tensor[] outputs(int count, java.util.function.Consumer<io.jrnn.Tensor[]> allocate,
            java.util.function.Consumer<io.jrnn.Tensor[]> fill) {
        io.jrnn.Tensor[] result = new io.jrnn.Tensor[count];
        boolean done = false;
        try {
            allocate.accept(result);
            fill.accept(result);
            done = true;
            return result;
        } finally {
            if (!done) {
                closeAll(result);
            }
        }
    }

    /** Closes every tensor of {@code tensors} that is not null (a call's outputs after a failure); null is allowed. */
    static void closeAll(io.jrnn.Tensor[] tensors) {
        if (tensors != null) {
            for (io.jrnn.Tensor t : tensors) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
