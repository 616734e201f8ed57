package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.List;

/**
 * Keras {@code Flatten}: {@code [N, d1, …, dk] → [N, d1·…·dk]}. With {@code channels_first} and rank
 * ≥ 3, Keras first moves axis 1 to the end ({@code [N, C, …] → [N, …, C]}), so the flattened order is
 * the {@code channels_last} one; this layer does the same.
 */
public final class Flatten extends Layer {
    private final boolean channelsFirst;

    /**
     * @param channelsFirst Keras {@code data_format='channels_first'}
     */
    public Flatten(String name, boolean channelsFirst) {
        super(name, "flatten");
        this.channelsFirst = channelsFirst;
    }

    public Flatten() {
        this(null, false);
    }

    public boolean channelsFirst() {
        return channelsFirst;
    }

    @Override
    public String typeName() {
        return "Flatten";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int size = 1;
        for (int d : inputShape) {
            if (d < 0) {
                return new int[] {-1};
            }
            size *= d;
        }
        return new int[] {size};
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() < 1) {
            throw new IllegalArgumentException(describe() + ": expected input with a batch axis, got a scalar");
        }
        int n = x.dim(0);
        int rest = n == 0 ? 0 : (int) (x.size() / n);
        if (!channelsFirst || x.rank() < 3) {
            return new Outputs(List.of(x.reshape(n, rest)));
        }
        // [N, C, S] (S = the other axes, flattened) → [N, S, C].
        int channels = x.dim(1);
        int spatial = rest / channels;
        float[] in = x.toArray();
        float[] out = new float[in.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                for (int s = 0; s < spatial; s++) {
                    out[i * rest + s * channels + c] = in[i * rest + c * spatial + s];
                }
            }
        }
        return new Outputs(List.of(Tensor.of(out, n, rest)));
    }
}
