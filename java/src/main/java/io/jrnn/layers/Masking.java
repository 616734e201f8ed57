package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code Masking(mask_value=0.0)} (spec §3.3): a step is valid when any of its features
 * differs from {@code mask_value}, {@code mask[n, t] = any_c(x[n, t, c] ≠ mask_value)}; the output
 * is the input with masked steps multiplied by 0 (as Keras does, so a NaN feature keeps its step
 * valid and stays NaN). {@link io.jrnn.Sequential} passes the mask to the following layers.
 *
 * <pre>{@code
 * try (Sequential m = Sequential.of(new Masking(0f), lstm); Tensor y = m.forward(x)) { ... }
 * }</pre>
 */
public final class Masking extends Layer {
    private final float maskValue;

    public Masking(String name, float maskValue) {
        super(name, "masking");
        this.maskValue = maskValue;
    }

    public Masking(float maskValue) {
        this(null, maskValue);
    }

    public float maskValue() {
        return maskValue;
    }

    @Override
    public String typeName() {
        return "Masking";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        checkRank(x);
        int c = x.dim(2);
        float[] v = x.toArray();
        for (int row = 0; row < v.length / Math.max(1, c); row++) {
            if (!valid(v, row, c)) {
                for (int i = row * c; i < (row + 1) * c; i++) {
                    v[i] *= 0f;
                }
            }
        }
        return new Outputs(List.of(Tensor.of(v, x.shape())));
    }

    /** An incoming mask is replaced by this layer's own (Keras's compute_mask ignores it). */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        return forward(x, initialStates);
    }

    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        checkRank(x);
        int n = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        float[] v = x.toArray();
        boolean[] valid = new boolean[n * t];
        for (int row = 0; row < valid.length; row++) {
            valid[row] = valid(v, row, c);
        }
        return Mask.of(valid, n, t);
    }

    private boolean valid(float[] v, int row, int c) {
        for (int i = row * c; i < (row + 1) * c; i++) {
            if (v[i] != maskValue) {
                return true;
            }
        }
        return false;
    }

    private void checkRank(Tensor x) {
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + ": expected input of rank 3 [batch, time, features], got shape "
                    + Arrays.toString(x.shape()));
        }
    }
}
