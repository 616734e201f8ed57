package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/** Keras {@code RepeatVector(n)}: {@code [N, C] → [N, n, C]}, each sample's vector repeated {@code n} times. */
public final class RepeatVector extends Layer {
    private final int repeats;

    public RepeatVector(String name, int repeats) {
        super(name, "repeat_vector");
        if (repeats <= 0) {
            throw new IllegalArgumentException("RepeatVector '" + name() + "': n must be > 0, got " + repeats);
        }
        this.repeats = repeats;
    }

    public RepeatVector(int repeats) {
        this(null, repeats);
    }

    /** {@code n}. */
    public int repeats() {
        return repeats;
    }

    @Override
    public String typeName() {
        return "RepeatVector";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length != 1) {
            throw new IllegalArgumentException(describe() + ": expected an input of rank 2 [batch, features], got shape (None, "
                    + Arrays.toString(inputShape) + ")");
        }
        return new int[] {repeats, inputShape[0]};
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() != 2) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 2 [batch, features], got shape "
                    + Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        int c = x.dim(1);
        float[] in = x.toArray();
        float[] out = new float[n * repeats * c];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < repeats; r++) {
                System.arraycopy(in, i * c, out, (i * repeats + r) * c, c);
            }
        }
        return new Outputs(List.of(Tensor.of(out, n, repeats, c)));
    }
}
