package io.jrnn.layers;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/** Keras {@code Reshape(target_shape)}: {@code [N, …] → [N, target_shape]}, at most one {@code −1} axis inferred. */
public final class Reshape extends Layer {
    private final int[] targetShape;

    public Reshape(String name, int... targetShape) {
        super(name, "reshape");
        int unknown = 0;
        for (int d : targetShape) {
            if (d == -1) {
                unknown++;
            } else if (d <= 0) {
                throw new IllegalArgumentException("Reshape '" + name() + "': target_shape " + Arrays.toString(targetShape)
                        + " has a dimension " + d + "; expected positive sizes and at most one -1");
            }
        }
        if (unknown > 1) {
            throw new IllegalArgumentException("Reshape '" + name() + "': target_shape " + Arrays.toString(targetShape)
                    + " has " + unknown + " unknown (-1) dimensions; at most one is allowed");
        }
        this.targetShape = targetShape.clone();
    }

    /** The target shape without the batch axis ({@code −1}: inferred). */
    public int[] targetShape() {
        return targetShape.clone();
    }

    @Override
    public String typeName() {
        return "Reshape";
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        long size = 1;
        for (int d : inputShape) {
            if (d < 0) {
                return targetShape.clone();
            }
            size *= d;
        }
        return resolve(size);
    }

    private int[] resolve(long size) {
        int[] out = targetShape.clone();
        long known = 1;
        int unknownAxis = -1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                unknownAxis = i;
            } else {
                known *= out[i];
            }
        }
        if (unknownAxis >= 0 && known > 0 && size % known == 0) {
            out[unknownAxis] = (int) (size / known);
            known = size;
        }
        if (known != size) {
            throw new IllegalArgumentException(describe() + ": cannot reshape " + size + " values per sample to "
                    + Arrays.toString(targetShape));
        }
        return out;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() < 1 || x.dim(0) == 0) {
            throw new IllegalArgumentException(describe() + ": expected a non-empty batch, got shape " + Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        int[] target = resolve(x.size() / n);
        int[] shape = new int[target.length + 1];
        shape[0] = n;
        System.arraycopy(target, 0, shape, 1, target.length);
        return new Outputs(List.of(x.reshape(shape)));
    }
}
