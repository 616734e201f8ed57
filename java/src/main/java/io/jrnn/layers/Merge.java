package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The Keras merge layers of functional models: {@code Concatenate(axis)}, {@code Add},
 * {@code Subtract}, {@code Multiply}, {@code Average}, {@code Maximum} and {@code Minimum}. They take
 * several tensors ({@link #merge}); the elementwise ones need equal shapes (no broadcasting).
 * A merged mask is valid where every input's mask is (Keras {@code compute_mask}).
 *
 * <pre>{@code
 * Merge concat = Merge.concatenate("concat", -1);
 * try (Tensor y = concat.merge(List.of(a, b))) { ... }
 * }</pre>
 */
public final class Merge extends Layer {
    /** The merge operation, with its Keras class name. */
    public enum Mode {
        CONCATENATE("Concatenate"), ADD("Add"), SUBTRACT("Subtract"), MULTIPLY("Multiply"), AVERAGE("Average"),
        MAXIMUM("Maximum"), MINIMUM("Minimum");

        private final String kerasName;

        Mode(String kerasName) {
            this.kerasName = kerasName;
        }

        public String kerasName() {
            return kerasName;
        }

        /** The mode for a Keras class name, or {@code null} when it is not a merge layer jrnn knows. */
        public static Mode fromKeras(String className) {
            for (Mode m : values()) {
                if (m.kerasName.equals(className)) {
                    return m;
                }
            }
            return null;
        }
    }

    private final Mode mode;
    private final int axis;

    /**
     * @param name the layer name, or {@code null} for a generated one
     * @param mode the operation
     * @param axis {@code CONCATENATE} only: the axis counted with the batch axis as 0 (Keras's convention), negative from the end
     */
    public Merge(String name, Mode mode, int axis) {
        super(name, Objects.requireNonNull(mode, "mode").name().toLowerCase(java.util.Locale.ROOT));
        this.mode = mode;
        this.axis = axis;
        if (mode == Mode.CONCATENATE && axis == 0) {
            throw new IllegalArgumentException("Concatenate '" + name() + "': axis 0 is the batch axis; expected another axis");
        }
    }

    /** {@code Concatenate(axis)}. */
    public static Merge concatenate(String name, int axis) {
        return new Merge(name, Mode.CONCATENATE, axis);
    }

    /** An elementwise merge ({@code Add}, {@code Multiply}, …). */
    public static Merge of(String name, Mode mode) {
        return new Merge(name, mode, -1);
    }

    public Mode mode() {
        return mode;
    }

    /** The concatenation axis (batch axis = 0, negative from the end); −1 for the elementwise modes. */
    public int axis() {
        return axis;
    }

    @Override
    public String typeName() {
        return mode.kerasName();
    }

    /** A merge needs several inputs: use {@link #merge}. */
    @Override
    public Outputs forward(Tensor x, Tensor... others) {
        throw new IllegalArgumentException(describe() + " merges several tensors; call merge(List<Tensor>) with at least 2");
    }

    /**
     * Merges {@code inputs} (at least 2; {@code Subtract} exactly 2). The caller owns the result.
     *
     * @throws IllegalArgumentException when the count or the shapes do not fit, naming the layer and the shapes
     */
    public Tensor merge(List<Tensor> inputs) {
        ensureOpen();
        List<int[]> shapes = new ArrayList<>();
        for (Tensor t : inputs) {
            shapes.add(t.shape());
        }
        int[] outShape = checkedShape(shapes, false);
        if (mode == Mode.CONCATENATE) {
            return concat(inputs, outShape);
        }
        float[] acc = inputs.get(0).toArray();
        for (int k = 1; k < inputs.size(); k++) {
            float[] v = inputs.get(k).toArray();
            for (int i = 0; i < acc.length; i++) {
                acc[i] = switch (mode) {
                    case ADD, AVERAGE -> acc[i] + v[i];
                    case SUBTRACT -> acc[i] - v[i];
                    case MULTIPLY -> acc[i] * v[i];
                    case MAXIMUM -> Math.max(acc[i], v[i]);
                    case MINIMUM -> Math.min(acc[i], v[i]);
                    case CONCATENATE -> throw new AssertionError();
                };
            }
        }
        if (mode == Mode.AVERAGE) {
            float n = inputs.size();
            for (int i = 0; i < acc.length; i++) {
                acc[i] /= n;
            }
        }
        return Tensor.of(acc, outShape);
    }

    private Tensor concat(List<Tensor> inputs, int[] outShape) {
        int a = normalizedAxis(outShape.length);
        int outer = 1;
        for (int d = 0; d < a; d++) {
            outer *= outShape[d];
        }
        int inner = 1;
        for (int d = a + 1; d < outShape.length; d++) {
            inner *= outShape[d];
        }
        float[] out = new float[outer * outShape[a] * inner];
        int offset = 0;
        int outRow = outShape[a] * inner;
        for (Tensor t : inputs) {
            float[] v = t.toArray();
            int row = t.dim(a) * inner;
            for (int o = 0; o < outer; o++) {
                System.arraycopy(v, o * row, out, o * outRow + offset, row);
            }
            offset += row;
        }
        return Tensor.of(out, outShape);
    }

    private int normalizedAxis(int rank) {
        return axis < 0 ? rank + axis : axis;
    }

    /**
     * The output shape for the inputs' shapes (without the batch axis, {@code -1} where unknown).
     *
     * @throws IllegalArgumentException when they cannot be merged
     */
    public int[] outputShape(List<int[]> inputShapes) {
        List<int[]> withBatch = new ArrayList<>();
        for (int[] s : inputShapes) {
            int[] b = new int[s.length + 1];
            b[0] = -1;
            System.arraycopy(s, 0, b, 1, s.length);
            withBatch.add(b);
        }
        int[] out = checkedShape(withBatch, true);
        return Arrays.copyOfRange(out, 1, out.length);
    }

    /** Single-input form of {@link Layer#outputShape}: a merge needs every input's shape. */
    @Override
    public int[] outputShape(int[] inputShape) {
        throw new IllegalArgumentException(describe() + " merges several inputs; use outputShape(List<int[]>)");
    }

    /** The merged mask: valid where every input mask is; {@code null} when no input has one. */
    public Mask outputMask(List<Mask> masks) {
        Mask first = null;
        boolean[] valid = null;
        for (Mask m : masks) {
            if (m == null) {
                continue;
            }
            if (first == null) {
                first = m;
                valid = m.toArray();
            } else {
                if (m.batch() != first.batch() || m.steps() != first.steps()) {
                    throw new IllegalArgumentException(describe() + ": input masks have shapes [" + first.batch() + ", "
                            + first.steps() + "] and [" + m.batch() + ", " + m.steps() + "]");
                }
                boolean[] v = m.toArray();
                for (int i = 0; i < valid.length; i++) {
                    valid[i] &= v[i];
                }
            }
        }
        return first == null ? null : Mask.of(valid, first.batch(), first.steps());
    }

    /** Checks the input shapes (with batch axis) and returns the output shape; {@code -1} entries are free when {@code lenient}. */
    private int[] checkedShape(List<int[]> shapes, boolean lenient) {
        if (shapes.size() < 2 || (mode == Mode.SUBTRACT && shapes.size() != 2)) {
            throw new IllegalArgumentException(describe() + ": expected " + (mode == Mode.SUBTRACT ? "exactly 2" : "at least 2")
                    + " inputs, got " + shapes.size());
        }
        int[] first = shapes.get(0);
        int rank = first.length;
        int a = mode == Mode.CONCATENATE ? normalizedAxis(rank) : -1;
        if (mode == Mode.CONCATENATE && (a <= 0 || a >= rank)) {
            throw new IllegalArgumentException(describe() + ": axis " + axis + " does not fit inputs of rank " + rank
                    + " " + describeShapes(shapes));
        }
        int[] out = first.clone();
        for (int k = 1; k < shapes.size(); k++) {
            int[] s = shapes.get(k);
            boolean ok = s.length == rank;
            for (int d = 0; ok && d < rank; d++) {
                if (d == a) {
                    continue;
                }
                boolean free = lenient && (s[d] < 0 || out[d] < 0);
                ok = free || s[d] == out[d];
                if (ok && out[d] < 0) {
                    out[d] = s[d];
                }
            }
            if (!ok) {
                throw new IllegalArgumentException(describe() + ": input shapes " + describeShapes(shapes) + " do not fit; expected "
                        + (mode == Mode.CONCATENATE ? "equal shapes except on axis " + axis : "equal shapes"));
            }
            if (a >= 0) {
                out[a] = out[a] < 0 || s[a] < 0 ? -1 : out[a] + s[a];
            }
        }
        return out;
    }

    private static String describeShapes(List<int[]> shapes) {
        StringBuilder sb = new StringBuilder();
        for (int[] s : shapes) {
            sb.append(sb.length() == 0 ? "" : ", ").append(Arrays.toString(s));
        }
        return sb.toString();
    }
}
