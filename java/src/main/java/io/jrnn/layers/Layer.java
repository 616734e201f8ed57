package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A layer: an immutable configuration plus the weights and native state it owns. Close it (or the
 * {@link io.jrnn.Sequential} holding it) to release native memory; closing twice is harmless and
 * any use after close throws {@link IllegalStateException}.
 *
 * <p>Thread safety: once configured (weights set, backend chosen), a stateless layer's
 * {@code forward} may be called from many threads at once; the first call compiles the executor
 * once, and the calls then run in parallel (no lock around a call on the oneDNN and reference
 * backends). A stateful layer is not thread-safe: a call from a second thread while another is
 * inside fails with {@link IllegalStateException}. Configuration ({@link #useBackend}, setting
 * weights, {@link #resetStates}) and {@link #close} must not race with calls.
 */
public abstract class Layer implements AutoCloseable {
    private static final Map<String, AtomicInteger> COUNTERS = new ConcurrentHashMap<>();

    private final String name;
    private volatile Backend backend;
    private volatile boolean closed;

    protected Layer(String name, String defaultPrefix) {
        this.name = name != null ? name
                : defaultPrefix + "_" + COUNTERS.computeIfAbsent(defaultPrefix, k -> new AtomicInteger()).incrementAndGet();
    }

    /** The layer's name (Keras's, when imported). */
    public String name() {
        return name;
    }

    /** The Keras class name, e.g. {@code "LSTM"}. */
    public abstract String typeName();

    /**
     * Runs the layer on a batch.
     *
     * @param x             the input (layer-specific shape, batch first unless the layer is time-major)
     * @param initialStates recurrent layers only: one tensor per state ({@code [N, H]}), overriding stored or zero states
     * @return the output, then the final states when the layer returns them
     */
    public abstract Outputs forward(Tensor x, Tensor... initialStates);

    /**
     * Runs the layer under a mask ({@code [N, T]}, true = valid step), Keras semantics (spec §3.3).
     * {@code null} or an all-valid mask is the same as {@link #forward(Tensor, Tensor...)}; layers
     * that do not support masks refuse a real one rather than ignore it.
     */
    public Outputs forward(Tensor x, io.jrnn.Mask mask, Tensor... initialStates) {
        if (mask == null || mask.allValid()) {
            return forward(x, initialStates);
        }
        throw new io.jrnn.UnsupportedConfigurationException(describe() + " does not support masks");
    }

    /**
     * The mask this layer passes on (Keras {@code compute_mask}) for an input and its mask, or
     * {@code null} when no mask follows this layer. By default a layer passes none on.
     */
    public io.jrnn.Mask outputMask(Tensor x, io.jrnn.Mask inputMask) {
        return null;
    }

    /** The main output only; any returned states are released. */
    public Tensor apply(Tensor x) {
        Outputs out = forward(x);
        for (Tensor s : out.states()) {
            s.close();
        }
        return out.output();
    }

    /**
     * The output shape without the batch axis, for an input shape without the batch axis
     * ({@code -1} where unknown).
     */
    public abstract int[] outputShape(int[] inputShape);

    /** Which path runs this layer, e.g. {@code "oneDNN lstm_forward"} or {@code "java"}; {@code "not run yet"} before the first call. */
    public String executionPath() {
        return "java";
    }

    /** Number of scalar weights. */
    public long parameterCount() {
        return 0;
    }

    /** Makes the layer run on {@code backend} from the next call on (compiled native state is released). */
    public void useBackend(Backend backend) {
        ensureOpen();
        this.backend = backend;
        backendChanged();
    }

    /** The backend this layer runs on ({@link Backend#auto()} unless one was set). */
    public Backend backend() {
        Backend b = backend;
        if (b == null) {
            synchronized (this) {
                if (backend == null) {
                    backend = Backend.auto();
                }
                b = backend;
            }
        }
        return b;
    }

    /** Called when the backend changes or weights are replaced: drop compiled state. */
    protected void backendChanged() {
    }

    /** Clears stored states of a stateful layer; a no-op elsewhere. */
    public void resetStates() {
    }

    /** Throws {@link IllegalStateException} when closed. */
    protected final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(typeName() + " '" + name + "' is closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Releases native state. Closing twice is harmless. */
    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Releases whatever the layer owns; called once. */
    protected void release() {
    }

    /** {@code "LSTM 'lstm_1'"}, for messages. */
    protected String describe() {
        return typeName() + " '" + name + "'";
    }

    @Override
    public String toString() {
        return describe();
    }
}
