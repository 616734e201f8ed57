package io.jrnn.weights;

import java.util.Arrays;

/**
 * Package-private array helpers shared by the converters: transposes, gate-block permutations,
 * slices and length checks. Every method returns a new array and never modifies its arguments.
 */
final class Layouts {

    private Layouts() {
    }

    /** {@code m [rows, cols]} → {@code mᵀ [cols, rows]}. */
    static float[] transpose(float[] m, int rows, int cols) {
        float[] transposed = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                transposed[c * rows + r] = m[r * cols + c];
            }
        }
        return transposed;
    }

    /**
     * Reorders the column blocks of {@code m [rows, G·H]}: target block {@code j} is source block
     * {@code sourceGateOfTarget[j]}. A bias vector is the case {@code rows = 1}.
     */
    static float[] permuteColumnBlocks(float[] m, int rows, int hiddenSize, int[] sourceGateOfTarget) {
        int gateCount = sourceGateOfTarget.length;
        int width = gateCount * hiddenSize;
        float[] permuted = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < gateCount; j++) {
                System.arraycopy(m, r * width + sourceGateOfTarget[j] * hiddenSize,
                        permuted, r * width + j * hiddenSize, hiddenSize);
            }
        }
        return permuted;
    }

    /** Column block {@code gate} of {@code m [rows, G·H]}, as a {@code [rows, H]} matrix. */
    static float[] columnBlock(float[] m, int rows, int gateCount, int hiddenSize, int gate) {
        int width = gateCount * hiddenSize;
        float[] block = new float[rows * hiddenSize];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(m, r * width + gate * hiddenSize, block, r * hiddenSize, hiddenSize);
        }
        return block;
    }

    /** Writes {@code block [rows, H]} into column block {@code gate} of {@code m [rows, G·H]}. */
    static void putColumnBlock(float[] m, int rows, int gateCount, int hiddenSize, int gate, float[] block) {
        int width = gateCount * hiddenSize;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(block, r * hiddenSize, m, r * width + gate * hiddenSize, hiddenSize);
        }
    }

    /** {@code a[from : from + length]}. */
    static float[] slice(float[] a, int from, int length) {
        return Arrays.copyOfRange(a, from, from + length);
    }

    /** Elementwise {@code a + b}. */
    static float[] add(float[] a, float[] b) {
        float[] sum = new float[a.length];
        for (int k = 0; k < a.length; k++) {
            sum[k] = a[k] + b[k];
        }
        return sum;
    }

    /** Elementwise {@code a − b}. */
    static float[] subtract(float[] a, float[] b) {
        float[] difference = new float[a.length];
        for (int k = 0; k < a.length; k++) {
            difference[k] = a[k] - b[k];
        }
        return difference;
    }

    /** The parts one after another. */
    static float[] concat(float[]... parts) {
        int total = 0;
        for (float[] part : parts) {
            total += part.length;
        }
        float[] joined = new float[total];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, joined, at, part.length);
            at += part.length;
        }
        return joined;
    }

    /** The inverse of a permutation: {@code inverse[perm[k]] = k}. */
    static int[] inverse(int[] permutation) {
        int[] inverse = new int[permutation.length];
        for (int k = 0; k < permutation.length; k++) {
            inverse[permutation[k]] = k;
        }
        return inverse;
    }

    /** {@code a.clone()}, or {@code null} for {@code null}. */
    static float[] copyOrNull(float[] a) {
        return a == null ? null : a.clone();
    }

    /** Checks that a size is positive. */
    static void requirePositive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + ": expected a positive value, got " + value);
        }
    }

    /**
     * Checks that {@code array} is present and holds {@code rows·cols} floats.
     *
     * @param what  the thing, e.g. {@code "PyTorch LSTM weight_ih"}
     * @param shape the expected shape in symbols, e.g. {@code "[G*H, C]"}
     */
    static void requireMatrix(String what, float[] array, String shape, int rows, int cols) {
        long expected = (long) rows * cols;
        if (array == null) {
            throw new IllegalArgumentException(what + ": expected " + shape + " = [" + rows + ", " + cols + "] = "
                    + expected + " floats, got null");
        }
        if (array.length != expected) {
            throw new IllegalArgumentException(what + ": expected " + shape + " = [" + rows + ", " + cols + "] = "
                    + expected + " floats, got " + array.length + " floats");
        }
    }

    /** Checks that {@code array} is present and holds {@code length} floats. */
    static void requireVector(String what, float[] array, String shape, int length) {
        if (array == null) {
            throw new IllegalArgumentException(what + ": expected " + shape + " = [" + length + "] floats, got null");
        }
        if (array.length != length) {
            throw new IllegalArgumentException(what + ": expected " + shape + " = [" + length + "] floats, got "
                    + array.length + " floats");
        }
    }

    /** The largest {@code |a[k] − b[k]|}; NaN if any difference is NaN. */
    static double maxAbsDifference(float[] a, float[] b) {
        double max = 0;
        for (int k = 0; k < a.length; k++) {
            double difference = Math.abs((double) a[k] - (double) b[k]);
            if (Double.isNaN(difference)) {
                return Double.NaN;
            }
            max = Math.max(max, difference);
        }
        return max;
    }

    /**
     * Keras {@code x·K} form {@code [in, G·H]} → {@code W·x} form {@code [G·H, in]} with the gate
     * blocks reordered: target block {@code j} is Keras block {@code kerasGateOfTarget[j]}.
     */
    static float[] kerasToWx(float[] kerasMatrix, int inputWidth, int hiddenSize, int[] kerasGateOfTarget) {
        float[] reordered = permuteColumnBlocks(kerasMatrix, inputWidth, hiddenSize, kerasGateOfTarget);
        return transpose(reordered, inputWidth, kerasGateOfTarget.length * hiddenSize);
    }

    /** The inverse of {@link #kerasToWx}: {@code W·x} form {@code [G·H, in]} → Keras {@code [in, G·H]}. */
    static float[] wxToKeras(float[] wxMatrix, int inputWidth, int hiddenSize, int[] kerasGateOfTarget) {
        float[] kerasOrderTransposed = transpose(wxMatrix, kerasGateOfTarget.length * hiddenSize, inputWidth);
        return permuteColumnBlocks(kerasOrderTransposed, inputWidth, hiddenSize, inverse(kerasGateOfTarget));
    }

    /** The identity permutation of {@code gateCount} gates. */
    static int[] identity(int gateCount) {
        int[] identity = new int[gateCount];
        for (int g = 0; g < gateCount; g++) {
            identity[g] = g;
        }
        return identity;
    }
}
