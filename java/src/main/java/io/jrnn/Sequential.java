package io.jrnn;

import io.jrnn.backend.Backend;
import io.jrnn.layers.Layer;
import io.jrnn.layers.RecurrentLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stack of layers applied in order (Keras {@code Sequential}). It owns its layers: closing the
 * model closes them.
 *
 * <p>Thread safety: {@code forward} may be called from many threads at once when no layer is
 * stateful (each call gets its own tensors; the layers' executors run calls in parallel); a stateful
 * layer refuses a second thread with {@link IllegalStateException}. {@link #close} and
 * configuration changes must not race with calls. A model garbage-collected without close is
 * reported by {@link NativeResources} (its layers' native memory is released by their executors'
 * own cleaners).
 *
 * <pre>{@code
 * try (Sequential model = KerasModels.load(Path.of("model.h5"));
 *      Tensor x = Tensor.readNpy(Path.of("x.npy"));
 *      Tensor y = model.forward(x)) {
 *     y.writeNpy(Path.of("y.npy"));
 * }
 * }</pre>
 */
public final class Sequential implements AutoCloseable {
    private final String name;
    private final List<Layer> layers;
    private final int[] inputShape;
    private volatile boolean closed;
    /** Warning-only registration: the layers' executors and tensors have their own. */
    private final NativeResources.Registration registration;

    /**
     * @param name       the model's name
     * @param inputShape the input shape without the batch axis ({@code -1} where free), or {@code null} when unknown
     * @param layers     the layers, which the model now owns
     */
    public Sequential(String name, int[] inputShape, List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential '" + name + "' needs at least one layer");
        }
        this.name = name;
        this.inputShape = inputShape == null ? null : inputShape.clone();
        this.layers = List.copyOf(layers);
        this.registration = NativeResources.register(this, () -> { });
    }

    public static Sequential of(Layer... layers) {
        return new Sequential("sequential", null, List.of(layers));
    }

    public String name() {
        return name;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** The input shape without the batch axis ({@code -1} where free), or {@code null} when unknown. */
    public int[] inputShape() {
        return inputShape == null ? null : inputShape.clone();
    }

    /** Runs every layer on {@code backend} from the next call on. */
    public Sequential useBackend(Backend backend) {
        ensureOpen();
        for (Layer l : layers) {
            l.useBackend(backend);
        }
        return this;
    }

    /** Runs the model; intermediate tensors are released, the caller owns the result. */
    public Tensor forward(Tensor x) {
        return forward(x, (Mask) null);
    }

    /**
     * Runs the model with an input mask ({@code [N, T]}, true = valid step; {@code null} for none),
     * Keras-style: each layer gets the mask the previous one passes on ({@link Layer#outputMask}).
     * {@code Embedding(mask_zero=true)} and {@code Masking} make one, recurrent layers pass it on only
     * when they return sequences, Dense, Dropout and Activation pass it through, and a layer that
     * cannot apply a mask refuses it.
     */
    public Tensor forward(Tensor x, Mask mask) {
        ensureOpen();
        Tensor current = x;
        Mask currentMask = mask;
        for (Layer layer : layers) {
            Tensor next;
            Mask nextMask;
            try {
                Outputs out = layer.forward(current, currentMask);
                for (Tensor s : out.states()) {
                    s.close();
                }
                next = out.output();
                try {
                    nextMask = layer.outputMask(current, currentMask);
                } catch (RuntimeException e) {
                    next.close();
                    throw e;
                }
            } finally {
                if (current != x) {
                    current.close();
                }
            }
            current = next;
            currentMask = nextMask;
        }
        return current == x ? x.copy() : current;
    }

    /**
     * Runs the model in slices of at most {@code batchSize} samples (axis 0) and joins the results;
     * identical to {@link #forward} for stateless models.
     */
    public Tensor forward(Tensor x, int batchSize) {
        ensureOpen();
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        }
        int n = x.rank() == 0 ? 0 : x.dim(0);
        if (n <= batchSize) {
            return forward(x);
        }
        int rowSize = (int) (x.size() / n);
        float[] all = x.toArray();
        List<float[]> parts = new ArrayList<>();
        int[] outShape = null;
        for (int start = 0; start < n; start += batchSize) {
            int count = Math.min(batchSize, n - start);
            int[] s = x.shape();
            s[0] = count;
            try (Tensor slice = Tensor.of(Arrays.copyOfRange(all, start * rowSize, (start + count) * rowSize), s);
                 Tensor y = forward(slice)) {
                parts.add(y.toArray());
                outShape = y.shape();
            }
        }
        int outRow = parts.get(0).length / Math.min(batchSize, n);
        float[] joined = new float[n * outRow];
        int pos = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, joined, pos, p.length);
            pos += p.length;
        }
        outShape[0] = n;
        return Tensor.of(joined, outShape);
    }

    /** One line per layer: name, type and the path it runs on (oneDNN primitive, oneDNN composed path, reference, java). */
    public List<String> executionPlan() {
        ensureOpen();
        List<String> plan = new ArrayList<>();
        for (Layer l : layers) {
            if (l instanceof RecurrentLayer r && r.weights() != null) {
                r.compile(r.weights().inputSize());
            }
            if (l instanceof io.jrnn.layers.ConvLSTM2D c && c.inputChannels() > 0) {
                c.compile();
            }
            if (l instanceof io.jrnn.layers.Bidirectional b) {
                for (RecurrentLayer r : List.of(b.forwardLayer(), b.backwardLayer())) {
                    if (r.weights() != null) {
                        r.compile(r.weights().inputSize());
                    }
                }
            }
            plan.add(l.name() + " (" + l.typeName() + "): " + l.executionPath());
        }
        return plan;
    }

    /** A Keras-like summary: layer, output shape, parameter count. */
    public String summary() {
        ensureOpen();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Model: %s%n", name));
        sb.append(String.format("%-32s %-22s %12s%n", "Layer (type)", "Output shape", "Params"));
        int[] shape = inputShape;
        long total = 0;
        for (Layer l : layers) {
            String out = "?";
            if (shape != null) {
                shape = l.outputShape(shape);
                out = shapeString(shape);
            }
            sb.append(String.format("%-32s %-22s %12d%n", l.name() + " (" + l.typeName() + ")", out, l.parameterCount()));
            total += l.parameterCount();
        }
        sb.append(String.format("Total params: %d%n", total));
        return sb.toString();
    }

    /** The output shape (without batch axis) for the model's input shape, or {@code null} when unknown. */
    public int[] outputShape() {
        if (inputShape == null) {
            return null;
        }
        int[] shape = inputShape;
        for (Layer l : layers) {
            shape = l.outputShape(shape);
        }
        return shape;
    }

    static String shapeString(int[] shape) {
        StringBuilder sb = new StringBuilder("(None");
        for (int d : shape) {
            sb.append(", ").append(d < 0 ? "None" : Integer.toString(d));
        }
        return sb.append(')').toString();
    }

    /** Clears the stored states of every stateful layer. */
    public void resetStates() {
        ensureOpen();
        for (Layer l : layers) {
            l.resetStates();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Sequential '" + name + "' is closed");
        }
    }

    /** Closes every layer. Closing twice is harmless. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            registration.close();
            closeAll(layers);
        }
    }

    /** Closes every layer, even when one fails to close (the first failure is thrown, later ones suppressed). */
    static void closeAll(Iterable<? extends Layer> layers) {
        RuntimeException first = null;
        for (Layer l : layers) {
            try {
                l.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
