package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code Embedding}: token ids {@code [N, T]} (integral floats) → vectors {@code [N, T, D]}.
 * With {@code mask_zero} it produces a mask, {@code mask[n, t] = (token ≠ 0)} (spec §3.3), that
 * {@link io.jrnn.Sequential} passes to the following layers; id 0 still maps to its own vector.
 */
public final class Embedding extends Layer {
    private final int inputDim;
    private final int outputDim;
    private final boolean maskZero;
    private float[] embeddings;

    public Embedding(String name, int inputDim, int outputDim, boolean maskZero) {
        super(name, "embedding");
        if (inputDim <= 0 || outputDim <= 0) {
            throw new IllegalArgumentException("Embedding '" + name() + "': input_dim and output_dim must be > 0, got "
                    + inputDim + " and " + outputDim);
        }
        this.inputDim = inputDim;
        this.outputDim = outputDim;
        this.maskZero = maskZero;
    }

    public int inputDim() {
        return inputDim;
    }

    public int outputDim() {
        return outputDim;
    }

    public boolean maskZero() {
        return maskZero;
    }

    @Override
    public String typeName() {
        return "Embedding";
    }

    /** Sets {@code embeddings [input_dim, output_dim]}. */
    public void setWeights(float[] embeddings) {
        ensureOpen();
        if (embeddings.length != (long) inputDim * outputDim) {
            throw new IllegalArgumentException(describe() + ": embeddings must be [" + inputDim + ", " + outputDim + "] ("
                    + (long) inputDim * outputDim + " values), got " + embeddings.length);
        }
        this.embeddings = embeddings.clone();
    }

    @Override
    public long parameterCount() {
        return (long) inputDim * outputDim;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int[] out = Arrays.copyOf(inputShape, inputShape.length + 1);
        out[inputShape.length] = outputDim;
        return out;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (embeddings == null) {
            throw new IllegalStateException(describe() + ": weights are not set");
        }
        if (x.rank() != 2) {
            throw new IllegalArgumentException(describe() + ": expected token ids of rank 2 [batch, time], got shape "
                    + Arrays.toString(x.shape()));
        }
        float[] ids = x.toArray();
        float[] out = new float[ids.length * outputDim];
        for (int i = 0; i < ids.length; i++) {
            float id = ids[i];
            if (id != Math.rint(id) || id < 0 || id >= inputDim) {
                throw new IllegalArgumentException(describe() + ": token ids must be integers in [0, " + inputDim
                        + "), got " + id + " at flat position " + i);
            }
            System.arraycopy(embeddings, (int) id * outputDim, out, i * outputDim, outputDim);
        }
        return new Outputs(List.of(Tensor.of(out, x.dim(0), x.dim(1), outputDim)));
    }

    /** An incoming mask is replaced, not used: the embedding looks up every id (Keras's compute_mask ignores it too). */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return forward(x, initialStates);
    }

    /** With mask_zero: {@code token ≠ 0} for ids {@code [N, T]}; otherwise none (Keras {@code compute_mask}). */
    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        if (!maskZero) {
            return null;
        }
        if (x.rank() != 2) {
            throw new IllegalArgumentException(describe() + ": expected token ids of rank 2 [batch, time], got shape "
                    + Arrays.toString(x.shape()));
        }
        float[] ids = x.toArray();
        boolean[] valid = new boolean[ids.length];
        for (int i = 0; i < ids.length; i++) {
            valid[i] = ids[i] != 0f;
        }
        return Mask.of(valid, x.dim(0), x.dim(1));
    }
}
