package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code TimeDistributed(layer)}: applies {@code layer} to every time step by folding time into
 * the batch ({@code [N, T, …] → [N·T, …] → layer → [N, T, …']}). Works for any layer whose input is
 * batch-first ({@link Dense}, {@link Dropout}, {@link ActivationLayer}, …). The wrapper owns the inner
 * layer.
 *
 * <p>Masks. Keras hands the inner layer a per-step slice of the {@code [N, T]} mask only when the
 * inner layer's {@code call} takes one; the layers that take none run on every step, masked or not,
 * and the mask travels on unchanged ({@link #outputMask}). jrnn does that for the per-step layers
 * ({@link Dense}, {@link Dropout}, {@link ActivationLayer}, {@link SpatialDropout1D}, {@link Flatten},
 * {@link Reshape}, {@link RepeatVector}); an inner layer that would consume the mask (a recurrent
 * layer, {@link Bidirectional}, {@link RNN}, pooling, another wrapper) is refused with a real mask:
 * the per-step {@code [N]} slice Keras would give it is not a mask over its own time axis.
 *
 * <pre>{@code
 * try (TimeDistributed td = new TimeDistributed(Dense.builder().units(10).build())) { ... }
 * }</pre>
 */
public final class TimeDistributed extends Layer {
    private final Layer layer;

    public TimeDistributed(String name, Layer layer) {
        super(name, "time_distributed");
        if (layer == null) {
            throw new IllegalArgumentException("TimeDistributed '" + name() + "': no layer given");
        }
        this.layer = layer;
    }

    public TimeDistributed(Layer layer) {
        this(null, layer);
    }

    @Override
    public String typeName() {
        return "TimeDistributed";
    }

    /** The wrapped layer. */
    public Layer layer() {
        return layer;
    }

    @Override
    public long parameterCount() {
        return layer.parameterCount();
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length < 2) {
            throw new IllegalArgumentException(describe() + ": expected an input of rank >= 3 (with batch), got shape (None, "
                    + Arrays.toString(inputShape) + ")");
        }
        int[] inner = layer.outputShape(Arrays.copyOfRange(inputShape, 1, inputShape.length));
        int[] out = new int[inner.length + 1];
        out[0] = inputShape[0];
        System.arraycopy(inner, 0, out, 1, inner.length);
        return out;
    }

    @Override
    public String executionPath() {
        return layer.executionPath();
    }

    @Override
    public void useBackend(Backend backend) {
        super.useBackend(backend);
        layer.useBackend(backend);
    }

    @Override
    public void resetStates() {
        ensureOpen();
        layer.resetStates();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() < 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank >= 3 [batch, time, ...], got shape "
                    + Arrays.toString(x.shape()));
        }
        int[] shape = x.shape();
        int[] folded = new int[shape.length - 1];
        folded[0] = shape[0] * shape[1];
        System.arraycopy(shape, 2, folded, 1, shape.length - 2);
        Tensor y;
        try (Tensor flat = x.reshape(folded)) {
            y = layer.apply(flat);
        }
        try (y) {
            int[] inner = y.shape();
            if (inner.length == 0 || inner[0] != folded[0]) {
                throw new IllegalArgumentException(describe() + ": the inner " + layer.describe()
                        + " must keep the batch axis, it turned " + Arrays.toString(folded) + " into " + Arrays.toString(inner));
            }
            int[] out = new int[inner.length + 1];
            out[0] = shape[0];
            out[1] = shape[1];
            System.arraycopy(inner, 1, out, 2, inner.length - 1);
            return new Outputs(List.of(y.reshape(out)));
        }
    }

    /**
     * A per-step inner layer runs on every step and the mask only travels on; an inner layer that
     * would consume the mask is refused ({@link io.jrnn.UnsupportedConfigurationException}) when the
     * mask has a masked step.
     */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        if (mask != null) {
            if (x.rank() < 3) {
                throw new IllegalArgumentException(describe() + ": expected input of rank >= 3 [batch, time, ...], got shape "
                        + Arrays.toString(x.shape()));
            }
            mask.checkShape(describe(), x.dim(0), x.dim(1));
            if (!mask.allValid() && !passesMaskThrough(layer)) {
                throw new io.jrnn.UnsupportedConfigurationException(describe() + " got a mask with masked steps, but its inner "
                        + layer.describe() + " would consume it (Keras hands it a per-step slice of the [batch, time] mask);"
                        + " jrnn runs masks through TimeDistributed only for per-step layers (Dense, Dropout, Activation,"
                        + " SpatialDropout1D, Flatten, Reshape, RepeatVector)");
            }
        }
        return forward(x, initialStates);
    }

    /** Layers whose Keras {@code call} takes no mask: they run on every step and leave the mask alone. */
    private static boolean passesMaskThrough(Layer inner) {
        return inner instanceof Dense || inner instanceof Dropout || inner instanceof ActivationLayer
                || inner instanceof SpatialDropout1D || inner instanceof Flatten || inner instanceof Reshape
                || inner instanceof RepeatVector;
    }

    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return inputMask;
    }

    @Override
    protected void release() {
        layer.close();
    }
}
