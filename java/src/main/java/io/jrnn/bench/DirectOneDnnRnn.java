package io.jrnn.bench;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_LAYER;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_tanh;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lbr_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lstm_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_rnn_flags_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_left2right;
import static org.bytedeco.dnnl.global.dnnl.dnnl_vanilla_rnn_forward_primitive_desc_create;

import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * One oneDNN RNN primitive called directly through the JavaCPP C API, with nothing of jrnn in
 * between: the floor jrnn's overhead is measured against ({@code jrnn bench} and the JMH
 * {@code JrnnVsOneDnnBenchmark}). Forward inference, one layer, one direction, fp32, batch-major
 * ({@code ntc}) source and destination, zero initial states; weights reordered once into the layout
 * the primitive wants; every buffer preallocated and bound once, so {@link #run} is
 * {@code dnnl_primitive_execute} + {@code dnnl_stream_wait}.
 *
 * <p>Weights come in Keras layout (kernel {@code [C, G·H]} = {@code ldigo}, recurrent kernel
 * {@code [H, G·H]}, bias {@code [G·H]}, or {@code [2, 3H]} for {@link Primitive#LBR_GRU}).
 */
public final class DirectOneDnnRnn extends DirectOneDnn {

    /** The primitive: Keras cell → oneDNN algorithm. */
    public enum Primitive {
        /** Keras SimpleRNN (tanh) → {@code vanilla_rnn_forward}. */
        VANILLA_RNN("vanilla_rnn_forward", 1, 1),
        /** Keras LSTM → {@code lstm_forward}. */
        LSTM("lstm_forward", 4, 4),
        /** Keras GRU {@code reset_after=true} (Keras 3 default) → {@code lbr_gru_forward}. */
        LBR_GRU("lbr_gru_forward", 3, 4),
        /** Keras GRU {@code reset_after=false} (Keras 2 default) → {@code gru_forward}. */
        GRU("gru_forward", 3, 3);

        /** oneDNN's name, as jrnn's execution path reports it. */
        public final String oneDnnName;
        /** {@code G}. */
        public final int gates;
        /** Gate blocks of the oneDNN bias. */
        public final int biasGates;

        Primitive(String oneDnnName, int gates, int biasGates) {
            this.oneDnnName = oneDnnName;
            this.gates = gates;
            this.biasGates = biasGates;
        }
    }

    private final Primitive primitive;
    private final int h;
    private final int n;
    private final int t;
    private final dnnl_primitive prim;
    private final dnnl_exec_arg_t args;
    private final int argCount;
    private final BytePointer dst;
    private final String impl;
    private final boolean anyWeights;

    /**
     * Builds the primitive and binds its buffers.
     *
     * @param anyWeights {@code true}: weights in {@code format_tag::any} (oneDNN picks, one reorder);
     *                   {@code false}: Keras's own {@code ldigo}
     * @param input      {@code [N, T, C]} row-major
     */
    public DirectOneDnnRnn(Primitive primitive, boolean anyWeights, int h, int n, int t, int c, float[] kernel,
            float[] recurrent, float[] kerasBias, float[] input) {
        this.primitive = primitive;
        this.anyWeights = anyWeights;
        this.h = h;
        this.n = n;
        this.t = t;
        try {
            long g = primitive.gates;
            int weightTag = anyWeights ? dnnl_format_tag_any : dnnl_ldigo;
            dnnl_memory_desc srcLayerMd = desc(dnnl_f32, dnnl_ntc, t, n, c);
            dnnl_memory_desc dstLayerMd = desc(dnnl_f32, dnnl_ntc, t, n, h);
            dnnl_memory_desc stateMd = desc(dnnl_f32, dnnl_ldnc, 1, 1, n, h);
            dnnl_memory_desc wLayerUser = desc(dnnl_f32, dnnl_ldigo, 1, 1, c, g, h);
            dnnl_memory_desc wIterUser = desc(dnnl_f32, dnnl_ldigo, 1, 1, h, g, h);
            dnnl_memory_desc biasMd = desc(dnnl_f32, dnnl_ldgo, 1, 1, primitive.biasGates, h);
            dnnl_memory_desc wLayerMd = desc(dnnl_f32, weightTag, 1, 1, c, g, h);
            dnnl_memory_desc wIterMd = desc(dnnl_f32, weightTag, 1, 1, h, g, h);

            dnnl_primitive_desc pd;
            try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
                int dir = dnnl_unidirectional_left2right;
                int status = switch (primitive) {
                    case LSTM -> dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dir,
                            srcLayerMd, stateMd, stateMd, wLayerMd, wIterMd, null, null, biasMd, dstLayerMd, stateMd,
                            stateMd, dnnl_rnn_flags_undef, null);
                    case LBR_GRU -> dnnl_lbr_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                            dir, srcLayerMd, stateMd, wLayerMd, wIterMd, biasMd, dstLayerMd, stateMd,
                            dnnl_rnn_flags_undef, null);
                    case GRU -> dnnl_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dir,
                            srcLayerMd, stateMd, wLayerMd, wIterMd, biasMd, dstLayerMd, stateMd, dnnl_rnn_flags_undef,
                            null);
                    case VANILLA_RNN -> dnnl_vanilla_rnn_forward_primitive_desc_create(out, engine,
                            dnnl_forward_inference, dnnl_eltwise_tanh, dir, srcLayerMd, stateMd, wLayerMd, wIterMd,
                            biasMd, dstLayerMd, stateMd, dnnl_rnn_flags_undef, 0f, 0f, null);
                };
                check(status, "dnnl_" + primitive.oneDnnName + "_primitive_desc_create");
                pd = primitiveDesc(out);
            }
            try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
                check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query");
                impl = new BytePointer(out.get(0)).getString();
            }
            prim = primitive(pd);

            dnnl_memory wLayer = reordered(wLayerUser, kernel, pd, DNNL_ARG_WEIGHTS_LAYER);
            dnnl_memory wIter = reordered(wIterUser, recurrent, pd, DNNL_ARG_WEIGHTS_ITER);
            dnnl_memory biasMem = reordered(biasMd, oneDnnBias(primitive, kerasBias, h), pd, DNNL_ARG_BIAS);

            BytePointer src = buffer((long) n * t * c * Float.BYTES);
            floats(src).put(input);
            dst = buffer((long) n * t * h * Float.BYTES);
            long stateBytes = (long) n * h * Float.BYTES;
            boolean lstm = primitive == Primitive.LSTM;
            argCount = lstm ? 9 : 7;
            args = own(new dnnl_exec_arg_t(argCount));
            int i = 0;
            i = arg(args, i, DNNL_ARG_SRC_LAYER, memory(query(pd, DNNL_ARG_SRC_LAYER), src));
            i = arg(args, i, DNNL_ARG_SRC_ITER, memory(query(pd, DNNL_ARG_SRC_ITER), buffer(stateBytes)));
            i = arg(args, i, DNNL_ARG_WEIGHTS_LAYER, wLayer);
            i = arg(args, i, DNNL_ARG_WEIGHTS_ITER, wIter);
            i = arg(args, i, DNNL_ARG_BIAS, biasMem);
            i = arg(args, i, DNNL_ARG_DST_LAYER, memory(query(pd, DNNL_ARG_DST_LAYER), dst));
            i = arg(args, i, DNNL_ARG_DST_ITER, memory(query(pd, DNNL_ARG_DST_ITER), buffer(stateBytes)));
            if (lstm) {
                i = arg(args, i, DNNL_ARG_SRC_ITER_C, memory(query(pd, DNNL_ARG_SRC_ITER_C), buffer(stateBytes)));
                arg(args, i, DNNL_ARG_DST_ITER_C, memory(query(pd, DNNL_ARG_DST_ITER_C), buffer(stateBytes)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Keras bias → oneDNN {@code ldgo}: as is, except lbr_gru's {@code [4, H] = [b_z+r_z, b_r+r_r, b_h, r_h]}. */
    static float[] oneDnnBias(Primitive primitive, float[] keras, int h) {
        if (primitive != Primitive.LBR_GRU) {
            return keras;
        }
        int gh = 3 * h;
        float[] b = new float[4 * h];
        for (int i = 0; i < 2 * h; i++) {
            b[i] = keras[i] + keras[gh + i];
        }
        System.arraycopy(keras, 2 * h, b, 2 * h, h);
        System.arraycopy(keras, gh + 2 * h, b, 3 * h, h);
        return b;
    }

    /** One forward: execute and wait. */
    public void run() {
        execute(prim, argCount, args);
    }

    /** A copy of the last output sequence {@code [N, T, H]}. */
    public float[] output() {
        requireOpen();
        float[] out = new float[n * t * h];
        floats(dst).get(out);
        return out;
    }

    /** The first output value (cheap; keeps a benchmark's result alive). */
    public float first() {
        return dst.getFloat(0);
    }

    /** What jrnn's {@code executionPath()} says when it runs this same primitive. */
    public String path() {
        return "oneDNN " + primitive.oneDnnName + " (" + impl + ", weights " + (anyWeights ? "any" : "ldigo") + ")";
    }
}
