package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code Embedding}: token ids {@code [N, T]} (integral floats) → vectors {@code [N, T, D]}.
 * {@code mask_zero} is kept; masking itself arrives with the masks issue, so a batch that holds the
 * padding id 0 under {@code mask_zero=true} is refused rather than computed without its mask.
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
            if (maskZero && id == 0) {
                throw new UnsupportedConfigurationException(describe() + " has mask_zero=true and the input holds the"
                        + " padding id 0 at flat position " + i + "; masking is not implemented yet, so jrnn refuses"
                        + " rather than compute an unmasked result");
            }
            System.arraycopy(embeddings, (int) id * outputDim, out, i * outputDim, outputDim);
        }
        return new Outputs(List.of(Tensor.of(out, x.dim(0), x.dim(1), outputDim)));
    }
}
