package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code MaxPooling3D}: the maximum over {@code pool_size} windows of the three spatial axes of
 * {@code [N, D, H, W, C]} ({@code channels_last}) or {@code [N, C, D, H, W]} ({@code channels_first}),
 * moving by {@code strides}. {@code 'valid'} keeps whole windows only; {@code 'same'} gives
 * {@code ⌈in/s⌉} outputs per axis with TensorFlow's padding ({@code ⌊P/2⌋} before, the rest after),
 * padded cells never win. Used after {@link ConvLSTM2D} with {@code return_sequences} (pool size
 * {@code (1, 2, 2)}).
 */
public final class MaxPooling3D extends Layer {
    private final int[] pool;
    private final int[] strides;
    private final boolean same;
    private final boolean channelsFirst;

    /**
     * @param poolSize      window per spatial axis
     * @param strides       step per spatial axis ({@code null}: the pool size, as in Keras)
     * @param padding       {@code "valid"} or {@code "same"} (case-insensitive)
     * @param channelsFirst Keras {@code data_format='channels_first'}
     */
    public MaxPooling3D(String name, int[] poolSize, int[] strides, String padding, boolean channelsFirst) {
        super(name, "max_pooling3d");
        if (poolSize == null || poolSize.length != 3 || Arrays.stream(poolSize).anyMatch(p -> p < 1)) {
            throw new IllegalArgumentException(describe() + ": pool_size must be 3 sizes >= 1, got "
                    + Arrays.toString(poolSize));
        }
        int[] s = strides == null ? poolSize : strides;
        if (s.length != 3 || Arrays.stream(s).anyMatch(p -> p < 1)) {
            throw new IllegalArgumentException(describe() + ": strides must be 3 sizes >= 1, got " + Arrays.toString(s));
        }
        String p = padding == null ? "" : padding.trim().toLowerCase(java.util.Locale.ROOT);
        if (!p.equals("valid") && !p.equals("same")) {
            throw new IllegalArgumentException(describe() + ": padding must be 'valid' or 'same', got '" + padding + "'");
        }
        this.pool = poolSize.clone();
        this.strides = s.clone();
        this.same = p.equals("same");
        this.channelsFirst = channelsFirst;
    }

    @Override
    public String typeName() {
        return "MaxPooling3D";
    }

    public int[] poolSize() {
        return pool.clone();
    }

    public int[] strides() {
        return strides.clone();
    }

    public String padding() {
        return same ? "same" : "valid";
    }

    public boolean channelsFirst() {
        return channelsFirst;
    }

    private int outSize(int in, int axis) {
        if (in < 0) {
            return -1;
        }
        return same ? (in + strides[axis] - 1) / strides[axis] : Math.max(0, (in - pool[axis]) / strides[axis] + 1);
    }

    private int padBefore(int in, int out, int axis) {
        return same ? Math.max((out - 1) * strides[axis] + pool[axis] - in, 0) / 2 : 0;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int off = channelsFirst ? 1 : 0;
        int[] out = inputShape.clone();
        for (int a = 0; a < 3; a++) {
            out[off + a] = outSize(inputShape[off + a], a);
        }
        return out;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() != 5) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 5 "
                    + (channelsFirst ? "[batch, channels, d1, d2, d3]" : "[batch, d1, d2, d3, channels]") + ", got shape "
                    + Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        int ch = channelsFirst ? x.dim(1) : x.dim(4);
        int off = channelsFirst ? 2 : 1;
        int[] in = {x.dim(off), x.dim(off + 1), x.dim(off + 2)};
        int[] out = new int[3];
        int[] pad = new int[3];
        for (int a = 0; a < 3; a++) {
            out[a] = outSize(in[a], a);
            if (out[a] < 1) {
                throw new IllegalArgumentException(describe() + ": spatial axis " + a + " of size " + in[a]
                        + " is smaller than the pool size " + pool[a] + " with padding 'valid'");
            }
            pad[a] = padBefore(in[a], out[a], a);
        }
        float[] src = x.toArray();
        float[] dst = new float[n * ch * out[0] * out[1] * out[2]];
        for (int b = 0; b < n; b++) {
            for (int c = 0; c < ch; c++) {
                for (int i = 0; i < out[0]; i++) {
                    for (int j = 0; j < out[1]; j++) {
                        for (int k = 0; k < out[2]; k++) {
                            float m = Float.NEGATIVE_INFINITY;
                            for (int p = 0; p < pool[0]; p++) {
                                int u = i * strides[0] + p - pad[0];
                                if (u < 0 || u >= in[0]) {
                                    continue;
                                }
                                for (int q = 0; q < pool[1]; q++) {
                                    int v = j * strides[1] + q - pad[1];
                                    if (v < 0 || v >= in[1]) {
                                        continue;
                                    }
                                    for (int r = 0; r < pool[2]; r++) {
                                        int w = k * strides[2] + r - pad[2];
                                        if (w < 0 || w >= in[2]) {
                                            continue;
                                        }
                                        float val = src[index(b, c, u, v, w, ch, in)];
                                        if (val > m || val != val) {
                                            m = val;
                                        }
                                    }
                                }
                            }
                            dst[index(b, c, i, j, k, ch, out)] = m;
                        }
                    }
                }
            }
        }
        int[] shape = channelsFirst ? new int[] {n, ch, out[0], out[1], out[2]} : new int[] {n, out[0], out[1], out[2], ch};
        return new Outputs(List.of(Tensor.of(dst, shape)));
    }

    private int index(int b, int c, int u, int v, int w, int ch, int[] dims) {
        if (channelsFirst) {
            return (((b * ch + c) * dims[0] + u) * dims[1] + v) * dims[2] + w;
        }
        return (((b * dims[0] + u) * dims[1] + v) * dims[2] + w) * ch + c;
    }
}
