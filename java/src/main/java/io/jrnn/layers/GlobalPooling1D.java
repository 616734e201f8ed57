package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code GlobalMaxPooling1D} and {@code GlobalAveragePooling1D} over the time axis:
 * {@code [N, T, C] → [N, C]} ({@code keepdims}: {@code [N, 1, C]}); {@code channels_first} reads
 * {@code [N, C, T]}. The average honours a mask like Keras ({@code Σ x·m / Σ m} per sample); the max
 * refuses one, as Keras's does not take it.
 */
public final class GlobalPooling1D extends Layer {
    /** Which reduction. */
    public enum Kind {
        MAX("GlobalMaxPooling1D"),
        AVERAGE("GlobalAveragePooling1D");

        private final String kerasName;

        Kind(String kerasName) {
            this.kerasName = kerasName;
        }

        public String kerasName() {
            return kerasName;
        }
    }

    private final Kind kind;
    private final boolean channelsFirst;
    private final boolean keepDims;

    public GlobalPooling1D(String name, Kind kind, boolean channelsFirst, boolean keepDims) {
        super(name, kind == Kind.MAX ? "global_max_pooling1d" : "global_average_pooling1d");
        this.kind = kind;
        this.channelsFirst = channelsFirst;
        this.keepDims = keepDims;
    }

    public GlobalPooling1D(Kind kind) {
        this(null, kind, false, false);
    }

    public Kind kind() {
        return kind;
    }

    /** Keras {@code data_format='channels_first'}: input {@code [N, C, T]}. */
    public boolean channelsFirst() {
        return channelsFirst;
    }

    public boolean keepDims() {
        return keepDims;
    }

    @Override
    public String typeName() {
        return kind.kerasName();
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length != 2) {
            throw new IllegalArgumentException(describe() + ": expected an input of rank 3, got shape (None, "
                    + Arrays.toString(inputShape) + ")");
        }
        int c = channelsFirst ? inputShape[0] : inputShape[1];
        if (!keepDims) {
            return new int[] {c};
        }
        return channelsFirst ? new int[] {c, 1} : new int[] {1, c};
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        return pool(x, null, initialStates);
    }

    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        if (kind == Kind.MAX) {
            return super.forward(x, mask, initialStates);
        }
        return pool(x, mask, initialStates);
    }

    private Outputs pool(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 3 "
                    + (channelsFirst ? "[batch, features, time]" : "[batch, time, features]") + ", got shape "
                    + Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        int steps = x.dim(channelsFirst ? 2 : 1);
        int c = x.dim(channelsFirst ? 1 : 2);
        if (mask != null && (mask.batch() != n || mask.steps() != steps)) {
            throw new IllegalArgumentException(describe() + ": mask is [" + mask.batch() + ", " + mask.steps()
                    + "], expected [" + n + ", " + steps + "]");
        }
        float[] in = x.toArray();
        float[] out = new float[n * c];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                float acc = kind == Kind.MAX ? Float.NEGATIVE_INFINITY : 0f;
                float count = 0;
                for (int t = 0; t < steps; t++) {
                    float v = in[channelsFirst ? (i * c + ch) * steps + t : (i * steps + t) * c + ch];
                    if (kind == Kind.MAX) {
                        acc = Math.max(acc, v);
                    } else if (mask == null || mask.valid(i, t)) {
                        acc += v;
                        count++;
                    }
                }
                // Keras divides by the mask's sum (0/0 = NaN for a sample with no valid step, as in Keras).
                out[i * c + ch] = kind == Kind.MAX ? acc : acc / (mask == null ? steps : count);
            }
        }
        int[] shape = !keepDims ? new int[] {n, c} : channelsFirst ? new int[] {n, c, 1} : new int[] {n, 1, c};
        return new Outputs(List.of(Tensor.of(out, shape)));
    }
}
