package io.jrnn.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The weight lists of Keras 0.x/1.x recurrent layers (spec §2.9), in stored order:
 *
 * <table>
 *   <caption>Accepted lists</caption>
 *   <tr><th>layer</th><th>per gate ({@code consume_less='cpu'|'mem'}, and K0)</th><th>fused ({@code consume_less='gpu'})</th></tr>
 *   <tr><td>SimpleRNN</td><td colspan="2">3: {@code W [C,H], U [H,H], b [H]}</td></tr>
 *   <tr><td>GRU</td><td>9: {@code W_z,U_z,b_z, W_r,U_r,b_r, W_h,U_h,b_h}</td><td>3: {@code W [C,3H], U [H,3H], b [3H]} (z, r, h)</td></tr>
 *   <tr><td>LSTM</td><td>12: {@code W_i,U_i,b_i, W_c,U_c,b_c, W_f,U_f,b_f, W_o,U_o,b_o} (<b>i, c, f, o</b>)</td><td>3: {@code W [C,4H], U [H,4H], b [4H]} (i, f, c, o)</td></tr>
 * </table>
 * Per-gate shapes are {@code W [C,H]}, {@code U [H,H]}, {@code b [H]}. Keras 1 GRU is reset-before,
 * so it maps to {@code GRU(reset_after=False)}; every Keras 1 layer has a bias. {@link #fromKeras}
 * writes the per-gate form (the SimpleRNN form for SimpleRNN).
 */
public final class Keras1Weights {
    private static final String[] SIMPLE_RNN_NAMES = {"W", "U", "b"};
    private static final String[] GRU_NAMES = {"W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h"};
    private static final String[] LSTM_NAMES = {"W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f",
            "W_o", "U_o", "b_o"};
    /** Keras LSTM gate {@code g} (i, f, c, o) is stored gate {@code STORED_GATE_OF_KERAS_LSTM_GATE[g]} (i, c, f, o). */
    private static final int[] STORED_GATE_OF_KERAS_LSTM_GATE = {0, 2, 1, 3};
    /** Arrays per gate: W, U, b. */
    private static final int ARRAYS_PER_GATE = 3;

    private Keras1Weights() {
    }

    /**
     * Converts a Keras 0.x/1.x weight list to Keras standard weights.
     *
     * @param type   the layer
     * @param arrays the weights in stored order, each flat row-major
     * @param shapes the shape of each array, as stored in the file
     * @throws IllegalArgumentException if the number of arrays or any shape does not fit the layer
     */
    public static KerasRnnWeights toKeras(CellType type, float[][] arrays, int[][] shapes) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(arrays, "arrays");
        Objects.requireNonNull(shapes, "shapes");
        String layer = "Keras 1 " + type.kerasName();
        int gateCount = type.gateCount();
        int perGateCount = ARRAYS_PER_GATE * gateCount;
        boolean fused = type == CellType.SIMPLE_RNN || arrays.length == ARRAYS_PER_GATE;
        if (arrays.length != perGateCount && arrays.length != ARRAYS_PER_GATE) {
            throw new IllegalArgumentException(layer + " weights: expected " + describeCounts(type)
                    + " arrays, got " + arrays.length);
        }
        if (shapes.length != arrays.length) {
            throw new IllegalArgumentException(layer + " shapes: expected one shape per array (" + arrays.length
                    + "), got " + shapes.length);
        }
        String[] names = fused ? SIMPLE_RNN_NAMES : perGateNames(type);
        // The first array is W: [C, H] per gate or [C, G·H] fused.
        int[] firstShape = shapes[0];
        if (firstShape == null || firstShape.length != 2 || firstShape[0] <= 0 || firstShape[1] <= 0
                || (fused && firstShape[1] % gateCount != 0)) {
            throw new IllegalArgumentException(layer + " weight 0 (" + names[0] + "): expected shape "
                    + (fused ? "[C, " + gateCount + "*H]" : "[C, H]") + ", got " + Arrays.toString(firstShape));
        }
        int inputSize = firstShape[0];
        int hiddenSize = fused ? firstShape[1] / gateCount : firstShape[1];
        int[][] expectedShapes = fused ? fusedShapes(type, inputSize, hiddenSize)
                : shapes(type, inputSize, hiddenSize);
        for (int k = 0; k < arrays.length; k++) {
            if (!Arrays.equals(shapes[k], expectedShapes[k])) {
                throw new IllegalArgumentException(layer + " weight " + k + " (" + names[k] + "): expected shape "
                        + Arrays.toString(expectedShapes[k]) + ", got " + Arrays.toString(shapes[k]));
            }
            int expectedLength = Arrays.stream(expectedShapes[k]).reduce(1, (a, b) -> a * b);
            if (arrays[k] == null || arrays[k].length != expectedLength) {
                throw new IllegalArgumentException(layer + " weight " + k + " (" + names[k] + "): expected "
                        + expectedLength + " floats for shape " + Arrays.toString(expectedShapes[k]) + ", got "
                        + (arrays[k] == null ? "null" : arrays[k].length + " floats"));
            }
        }
        if (fused) {
            return KerasRnnWeights.of(type, false, inputSize, hiddenSize, arrays[0], arrays[1], arrays[2]);
        }
        int width = gateCount * hiddenSize;
        float[] kernel = new float[inputSize * width];
        float[] recurrentKernel = new float[hiddenSize * width];
        float[] bias = new float[width];
        for (int gate = 0; gate < gateCount; gate++) {
            int first = ARRAYS_PER_GATE * storedGate(type, gate);
            Layouts.putColumnBlock(kernel, inputSize, gateCount, hiddenSize, gate, arrays[first]);
            Layouts.putColumnBlock(recurrentKernel, hiddenSize, gateCount, hiddenSize, gate, arrays[first + 1]);
            System.arraycopy(arrays[first + 2], 0, bias, gate * hiddenSize, hiddenSize);
        }
        return KerasRnnWeights.wrap(type, false, inputSize, hiddenSize, kernel, recurrentKernel, bias);
    }

    /**
     * Converts Keras standard weights to the per-gate Keras 1 list (shapes: {@link #shapes}). A layer
     * without a bias gets zero biases.
     *
     * @throws IllegalArgumentException for GRU with {@code reset_after=True}, which Keras 1 does not have
     */
    public static float[][] fromKeras(KerasRnnWeights keras) {
        Objects.requireNonNull(keras, "keras");
        CellType type = keras.type();
        if (keras.resetAfter()) {
            throw new IllegalArgumentException("Keras 1 GRU from Keras GRU: expected reset_after=False (Keras 1 GRU is"
                    + " reset-before), got reset_after=True");
        }
        int inputSize = keras.inputSize();
        int hiddenSize = keras.hiddenSize();
        int gateCount = type.gateCount();
        float[] bias = keras.withZeroBiasIfAbsent().biasView();
        float[][] arrays = new float[ARRAYS_PER_GATE * gateCount][];
        for (int gate = 0; gate < gateCount; gate++) {
            int first = ARRAYS_PER_GATE * storedGate(type, gate);
            arrays[first] = Layouts.columnBlock(keras.kernelView(), inputSize, gateCount, hiddenSize, gate);
            arrays[first + 1] = Layouts.columnBlock(keras.recurrentKernelView(), hiddenSize, gateCount, hiddenSize,
                    gate);
            arrays[first + 2] = Layouts.slice(bias, gate * hiddenSize, hiddenSize);
        }
        return arrays;
    }

    /** The per-gate shapes in stored order: {@code [C,H], [H,H], [H]} for each gate (3, 9 or 12 entries). */
    public static int[][] shapes(CellType type, int inputSize, int hiddenSize) {
        Objects.requireNonNull(type, "type");
        int[][] shapes = new int[ARRAYS_PER_GATE * type.gateCount()][];
        for (int gate = 0; gate < type.gateCount(); gate++) {
            shapes[ARRAYS_PER_GATE * gate] = new int[] {inputSize, hiddenSize};
            shapes[ARRAYS_PER_GATE * gate + 1] = new int[] {hiddenSize, hiddenSize};
            shapes[ARRAYS_PER_GATE * gate + 2] = new int[] {hiddenSize};
        }
        return shapes;
    }

    /** The names of the per-gate arrays in stored order, e.g. {@code W_i, U_i, b_i, W_c, …} for LSTM. */
    public static String[] perGateNames(CellType type) {
        Objects.requireNonNull(type, "type");
        return switch (type) {
            case SIMPLE_RNN -> SIMPLE_RNN_NAMES.clone();
            case GRU -> GRU_NAMES.clone();
            case LSTM -> LSTM_NAMES.clone();
        };
    }

    private static int[][] fusedShapes(CellType type, int inputSize, int hiddenSize) {
        int width = type.gateCount() * hiddenSize;
        return new int[][] {{inputSize, width}, {hiddenSize, width}, {width}};
    }

    /** The stored position of Keras gate {@code gate}: only LSTM differs (i, c, f, o). */
    private static int storedGate(CellType type, int gate) {
        return type == CellType.LSTM ? STORED_GATE_OF_KERAS_LSTM_GATE[gate] : gate;
    }

    private static String describeCounts(CellType type) {
        return switch (type) {
            case SIMPLE_RNN -> "3 (W, U, b)";
            case GRU -> "9 (per gate) or 3 (consume_less='gpu')";
            case LSTM -> "12 (per gate) or 3 (consume_less='gpu')";
        };
    }
}
