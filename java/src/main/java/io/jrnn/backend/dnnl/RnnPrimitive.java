package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_LAYER;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lbr_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lstm_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_rnn_flags_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_vanilla_rnn_forward_primitive_desc_create;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.PointerPointer;

/** The four oneDNN RNN primitives jrnn uses, with their gate and bias-gate counts (the {@code G} of {@code ldigo}/{@code ldgo}). */
enum RnnPrimitive {
    /** Keras SimpleRNN. */
    VANILLA_RNN("vanilla_rnn_forward", 1, 1),
    /** Keras LSTM: gates i, f, c, o. */
    LSTM("lstm_forward", 4, 4),
    /** Keras GRU reset_after=false: gates z, r, h (oneDNN u, r, o). */
    GRU("gru_forward", 3, 3),
    /** Keras GRU reset_after=true: gates z, r, h; bias u, r, o, u′ (the recurrent candidate bias). */
    LBR_GRU("lbr_gru_forward", 3, 4);

    final String primitiveName;
    final int gateCount;
    final int biasGateCount;

    RnnPrimitive(String primitiveName, int gateCount, int biasGateCount) {
        this.primitiveName = primitiveName;
        this.gateCount = gateCount;
        this.biasGateCount = biasGateCount;
    }

    /**
     * This primitive's forward-inference descriptor, owned by {@code owner}; one {@code state} desc
     * serves every iteration state (and the LSTM cell states). {@code activationKind} only matters for
     * {@link #VANILLA_RNN}; {@code callSuffix} follows the function name in a failure message. The
     * primitive takes a user scratchpad ({@link Dnnl#userScratchpadAttr}).
     */
    dnnl_primitive_desc forwardInference(NativeScope owner, dnnl_engine engine, int activationKind, int direction,
            dnnl_memory_desc srcLayer, dnnl_memory_desc state, dnnl_memory_desc weightsLayer,
            dnnl_memory_desc weightsIter, dnnl_memory_desc bias, dnnl_memory_desc dstLayer, String callSuffix) {
        return forwardInference(owner, engine, activationKind, direction, srcLayer, state, state, weightsLayer,
                weightsIter, bias, dstLayer, callSuffix);
    }

    /**
     * As above with the LSTM cell states ({@code src_iter_c}, {@code dst_iter_c}) described by
     * {@code cellState} (bf16 runs keep them f32, as oneDNN allows); unused for other cells.
     */
    dnnl_primitive_desc forwardInference(NativeScope owner, dnnl_engine engine, int activationKind, int direction,
            dnnl_memory_desc srcLayer, dnnl_memory_desc state, dnnl_memory_desc cellState,
            dnnl_memory_desc weightsLayer, dnnl_memory_desc weightsIter, dnnl_memory_desc bias,
            dnnl_memory_desc dstLayer, String callSuffix) {
        dnnl_primitive_attr attr = Dnnl.userScratchpadAttr(owner);
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            int status = switch (this) {
                case LSTM -> dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference, direction,
                        srcLayer, state, cellState, weightsLayer, weightsIter, null, null, bias, dstLayer, state, cellState,
                        dnnl_rnn_flags_undef, attr);
                case GRU -> dnnl_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference, direction,
                        srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state, dnnl_rnn_flags_undef, attr);
                case LBR_GRU -> dnnl_lbr_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        direction, srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state,
                        dnnl_rnn_flags_undef, attr);
                case VANILLA_RNN -> dnnl_vanilla_rnn_forward_primitive_desc_create(out, engine, dnnl_forward_inference,
                        activationKind, direction, srcLayer, state, weightsLayer, weightsIter, bias, dstLayer, state,
                        dnnl_rnn_flags_undef, 0f, 0f, attr);
            };
            Dnnl.check(status, "dnnl_" + primitiveName + "_primitive_desc_create" + callSuffix);
            return Dnnl.adopt(owner, out);
        }
    }

    /** How many execution arguments this primitive takes (LSTM adds the cell states; all take a scratchpad). */
    int argCount() {
        return this == LSTM ? 10 : 8;
    }

    /**
     * The execution arguments, owned by {@code owner}, in oneDNN's order; {@code srcIterC} and
     * {@code dstIterC} are used for {@link #LSTM} only; {@code scratchpad} is the plan's own.
     */
    dnnl_exec_arg_t args(NativeScope owner, dnnl_memory scratchpad, dnnl_memory srcLayer, dnnl_memory srcIter, dnnl_memory srcIterC,
            dnnl_memory weightsLayer, dnnl_memory weightsIter, dnnl_memory bias, dnnl_memory dstLayer,
            dnnl_memory dstIter, dnnl_memory dstIterC) {
        dnnl_exec_arg_t args = owner.own(new dnnl_exec_arg_t(argCount()));
        int i = 0;
        i = put(args, i, DNNL_ARG_SRC_LAYER, srcLayer);
        i = put(args, i, DNNL_ARG_SRC_ITER, srcIter);
        i = put(args, i, DNNL_ARG_WEIGHTS_LAYER, weightsLayer);
        i = put(args, i, DNNL_ARG_WEIGHTS_ITER, weightsIter);
        i = put(args, i, DNNL_ARG_BIAS, bias);
        i = put(args, i, DNNL_ARG_DST_LAYER, dstLayer);
        i = put(args, i, DNNL_ARG_DST_ITER, dstIter);
        i = put(args, i, DNNL_ARG_SCRATCHPAD, scratchpad);
        if (this == LSTM) {
            i = put(args, i, DNNL_ARG_SRC_ITER_C, srcIterC);
            put(args, i, DNNL_ARG_DST_ITER_C, dstIterC);
        }
        return args;
    }

    private static int put(dnnl_exec_arg_t args, int index, int arg, dnnl_memory memory) {
        args.getPointer(index).arg(arg).memory(memory);
        return index + 1;
    }
}
