package io.jrnn.backend.dnnl;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import java.util.function.Supplier;

/**
 * Keeps Keras's NaN semantics for oneDNN's fused relu {@code vanilla_rnn_forward}, which computes
 * {@code max(x, 0)} and so turns a NaN (also one made inside the recurrence from an infinity) into
 * 0 where Keras keeps NaN. A call whose input or initial states hold a NaN or an infinity runs on
 * the composed path (Java's {@code Math.max} propagates NaN, as Keras does); every other call runs
 * on the fused primitive. The scan is one pass over the input, about 3 % of a relu RNN's time at
 * (H, N, T, C) = (512, 64, 25, 512).
 */
final class NonFiniteGuardExecutor implements RecurrentExecutor {
    private final RecurrentExecutor fused;
    private final Supplier<RecurrentExecutor> composedFactory;
    private volatile RecurrentExecutor composed;
    private volatile boolean lastRanComposed;

    NonFiniteGuardExecutor(RecurrentExecutor fused, Supplier<RecurrentExecutor> composedFactory) {
        this.fused = fused;
        this.composedFactory = composedFactory;
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates) {
        return pick(input, initialStates).run(input, initialStates);
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        return pick(input, initialStates).run(input, initialStates, mask);
    }

    private RecurrentExecutor pick(Tensor input, Tensor[] initialStates) {
        boolean nonFinite = hasNonFinite(input);
        for (int i = 0; !nonFinite && initialStates != null && i < initialStates.length; i++) {
            nonFinite = initialStates[i] != null && hasNonFinite(initialStates[i]);
        }
        lastRanComposed = nonFinite;
        return nonFinite ? composed() : fused;
    }

    private RecurrentExecutor composed() {
        RecurrentExecutor c = composed;
        if (c == null) {
            synchronized (this) {
                c = composed;
                if (c == null) {
                    c = composedFactory.get();
                    composed = c;
                }
            }
        }
        return c;
    }

    static boolean hasNonFinite(Tensor t) {
        return t.hasNonFinite();
    }

    @Override
    public String executionPath() {
        return lastRanComposed && composed != null
                ? composed.executionPath() + " (this call: the input held NaN/Inf, which the fused relu would zero)"
                : fused.executionPath();
    }

    @Override
    public void close() {
        try {
            fused.close();
        } finally {
            RecurrentExecutor c = composed;
            if (c != null) {
                c.close();
            }
        }
    }
}
