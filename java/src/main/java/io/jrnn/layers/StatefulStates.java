package io.jrnn.layers;

import io.jrnn.Tensor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The stored final states of a stateful recurrent layer and its fixed batch size (spec §3.2): shared by
 * {@link RecurrentLayer}, {@link ConvLSTM2D} and {@link RNN}. Does nothing when the layer is not stateful.
 *
 * <p>A stateful layer carries one state per sequence from call to call, so it is not thread-safe by
 * nature: {@link #enter} makes a second thread that calls it while another is inside fail at once
 * with {@link IllegalStateException} instead of mixing the two streams' states.
 */
final class StatefulStates {
    private final boolean stateful;
    private int batch;
    private Tensor[] stored;
    /** The thread inside a call of a stateful layer, or {@code null}. */
    private final AtomicReference<Thread> user = new AtomicReference<>();

    /** @param batchSize the declared batch size (Keras {@code batch_input_shape[0]}), or {@code null} */
    StatefulStates(boolean stateful, Integer batchSize) {
        this.stateful = stateful;
        this.batch = batchSize != null ? batchSize : -1;
    }

    /**
     * Marks a stateful layer's call as running on this thread; returns whether the caller must
     * {@link #exit} (false when not stateful or already inside on this thread). Throws when another
     * thread is inside a call of the same layer.
     */
    boolean enter(String layer) {
        if (!stateful) {
            return false;
        }
        Thread me = Thread.currentThread();
        if (user.compareAndSet(null, me)) {
            return true;
        }
        if (user.get() == me) {
            return false;
        }
        throw new IllegalStateException(layer + " is stateful and is being called from another thread: a stateful"
                + " layer carries one state per sequence between calls and is not thread-safe (use one model per"
                + " stream of sequences, or a stateless layer with explicit initial states)");
    }

    /** Ends the call {@link #enter} started. */
    void exit() {
        user.set(null);
    }

    /** Runs {@code call} between {@link #enter} and, when that asked for it, {@link #exit}. */
    <T> T within(String layer, Supplier<T> call) {
        boolean entered = enter(layer);
        try {
            return call.get();
        } finally {
            if (entered) {
                exit();
            }
        }
    }

    boolean enabled() {
        return stateful;
    }

    /** Checks {@code batch} against the fixed one (fixing it on first use); the message names {@code layer}. */
    void checkBatch(String layer, int batch) {
        if (!stateful) {
            return;
        }
        if (this.batch >= 0 && this.batch != batch) {
            throw new IllegalArgumentException(layer + " is stateful with batch size " + this.batch
                    + " but got a batch of " + batch + " (a stateful layer keeps one state per sample; call with "
                    + this.batch + " samples)");
        }
        this.batch = batch;
    }

    /** The stored states themselves (owned here), or {@code null} when none are stored. */
    Tensor[] stored() {
        return stored;
    }

    /** Copies of the stored states, or {@code null} when none are stored. */
    Tensor[] copies() {
        if (stored == null) {
            return null;
        }
        Tensor[] copies = new Tensor[stored.length];
        for (int i = 0; i < copies.length; i++) {
            copies[i] = stored[i].copy();
        }
        return copies;
    }

    /** Keeps copies of {@code states[from … from + count)} (the final states), closing the old ones. */
    void store(Tensor[] states, int from, int count) {
        if (!stateful) {
            return;
        }
        Tensor[] copies = new Tensor[count];
        for (int i = 0; i < count; i++) {
            copies[i] = states[from + i].copy();
        }
        keep(copies);
    }

    /** Takes ownership of {@code states} as the stored states, closing the old ones. */
    void keep(Tensor[] states) {
        Tensor[] old = stored;
        stored = states;
        closeAll(old);
    }

    /** Closes and forgets the stored states (the batch size stays fixed). */
    void reset() {
        closeAll(stored);
        stored = null;
    }

    private static void closeAll(Tensor[] ts) {
        if (ts != null) {
            for (Tensor t : ts) {
                t.close();
            }
        }
    }
}
