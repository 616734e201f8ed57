package io.jrnn.io;

import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasArchive.StoredArray;
import io.jrnn.layers.ActivationLayer;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.CuDNNGRU;
import io.jrnn.layers.CuDNNLSTM;
import io.jrnn.layers.Flatten;
import io.jrnn.layers.GlobalPooling1D;
import io.jrnn.layers.RepeatVector;
import io.jrnn.layers.Reshape;
import io.jrnn.layers.SpatialDropout1D;
import io.jrnn.layers.TimeDistributed;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Dropout;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Merge;
import io.jrnn.layers.RNN;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.Cell;
import io.jrnn.layers.StackedRNNCells;
import io.jrnn.layers.StandardCell;
import io.jrnn.weights.CellType;
import io.jrnn.weights.Keras1Weights;
import io.jrnn.weights.KerasRnnWeights;
import io.jrnn.weights.KerasCudnnWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Checks a layer's stored Keras arrays against its config and hands them to the jrnn layer (spec
 * §2.2–2.4 layouts: {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]}, {@code bias [G·H]}
 * or {@code [2, 3H]} for GRU {@code reset_after}) and the Keras 0.x/1.x per-gate lists (spec §2.9,
 * converted by {@link Keras1Weights}). Conversions of other layouts (CuDNN layers, Bidirectional
 * halves) belong here.
 */
final class KerasWeights {
    private KerasWeights() {
    }

    /**
     * Sets {@code layer}'s weights from {@code arrays}.
     *
     * @param inputFeatures the size of the layer's input's last axis when known, else −1
     * @return the size of the layer's output's last axis, or −1 when unknown
     * @throws IllegalArgumentException when the count or a shape disagrees with the config (names the
     *                                  layer, the expected and the actual shape)
     */
    static int assign(String source, Layer layer, List<StoredArray> arrays, int inputFeatures) {
        return assign(source, layer, arrays, inputFeatures, false);
    }

    /**
     * As {@link #assign(String, Layer, List, int)}; {@code theanoKernels}: the file's {@code backend}
     * is Theano, whose convolution kernels are flipped (K2 {@code conv_utils.convert_kernel}).
     */
    static int assign(String source, Layer layer, List<StoredArray> arrays, int inputFeatures, boolean theanoKernels) {
        String who = source + ": layer '" + layer.name() + "' (" + layer.typeName() + ")";
        if (layer instanceof Bidirectional b) {
            return assignBidirectional(source, who, b, arrays, inputFeatures);
        }
        if (layer instanceof TimeDistributed t) {
            return assign(source, t.layer(), arrays, inputFeatures);
        }
        if (layer instanceof CuDNNLSTM || layer instanceof CuDNNGRU) {
            return assignCudnn(who, (RecurrentLayer) layer, arrays, inputFeatures);
        }
        if (layer instanceof RecurrentLayer r) {
            return assignRecurrent(who, r, arrays, inputFeatures);
        }
        if (layer instanceof RNN rnn) {
            return assignRnn(who, rnn, arrays, inputFeatures);
        }
        if (layer instanceof io.jrnn.layers.ConvLSTM2D c) {
            if (arrays.size() == 12) {
                return assignKeras1ConvLstm(who, c, arrays, inputFeatures, theanoKernels);
            }
            return assignConvLstm(who, c, arrays, inputFeatures, theanoKernels);
        }
        if (layer instanceof io.jrnn.layers.MaxPooling3D p) {
            requireCount(who, arrays, 0, "no weights");
            return p.channelsFirst() ? -1 : inputFeatures;
        }
        if (layer instanceof Dense d) {
            requireCount(who, arrays, d.useBias() ? 2 : 1, d.useBias() ? "kernel, bias" : "kernel");
            requireShape(who, "kernel", arrays.get(0), inputFeatures, d.units());
            float[] bias = null;
            if (d.useBias()) {
                requireShape(who, "bias", arrays.get(1), new int[] {d.units()});
                bias = arrays.get(1).values();
            }
            d.setWeights(arrays.get(0).values(), bias);
            return d.units();
        }
        if (layer instanceof Embedding e) {
            requireCount(who, arrays, 1, "embeddings");
            requireShape(who, "embeddings", arrays.get(0), new int[] {e.inputDim(), e.outputDim()});
            e.setWeights(arrays.get(0).values());
            return e.outputDim();
        }
        if (layer instanceof Dropout || layer instanceof ActivationLayer || layer instanceof Merge
                || layer instanceof SpatialDropout1D || layer instanceof RepeatVector || layer instanceof io.jrnn.layers.Masking) {
            requireCount(who, arrays, 0, "no weights");
            return inputFeatures;
        }
        if (layer instanceof GlobalPooling1D || layer instanceof Flatten || layer instanceof Reshape) {
            requireCount(who, arrays, 0, "no weights");
            // Only the last axis is tracked: pooling over time keeps it (channels_last), Reshape may fix it,
            // Flatten's depends on the whole input shape (the next layer's kernel then sets it).
            if (layer instanceof GlobalPooling1D p) {
                return p.channelsFirst() ? -1 : inputFeatures;
            }
            if (layer instanceof Reshape r) {
                int[] target = r.targetShape();
                return Math.max(-1, target[target.length - 1]);
            }
            return -1;
        }
        throw new UnsupportedConfigurationException(who + ": no weight mapping for this layer type");
    }

    /**
     * Keras stores the forward layer's list, then the backward layer's ({@code .h5}: names under
     * {@code forward_<name>/} and {@code backward_<name>/}). A Keras 3 {@code .keras} store visits the
     * wrapper's attributes alphabetically ({@code backward_layer} before {@code forward_layer}), so
     * arrays found under {@code forward_layer/} are put first.
     */
    private static int assignBidirectional(String source, String who, Bidirectional b, List<StoredArray> arrays,
            int inputFeatures) {
        List<StoredArray> ordered = new ArrayList<>();
        List<StoredArray> rest = new ArrayList<>();
        for (StoredArray a : arrays) {
            (a.name().contains("/forward_layer/") ? ordered : rest).add(a);
        }
        ordered.addAll(rest);
        if (ordered.size() % 2 != 0) {
            throw new IllegalArgumentException(who + ": expected an even number of weight arrays (the forward layer's,"
                    + " then as many for the backward layer), the file has " + ordered.size() + ": " + ordered);
        }
        int half = ordered.size() / 2;
        try {
            assign(source, b.forwardLayer(), ordered.subList(0, half), inputFeatures);
            assign(source, b.backwardLayer(), ordered.subList(half, ordered.size()), inputFeatures);
        } catch (UnsupportedConfigurationException e) {
            throw new UnsupportedConfigurationException(who + ": " + withoutSource(source, e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(who + ": " + withoutSource(source, e.getMessage()), e);
        }
        return b.mergeMode() == Bidirectional.MergeMode.NONE ? -1 : b.outputSize();
    }

    private static String withoutSource(String source, String message) {
        String prefix = source + ": ";
        return message != null && message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }

    /** CuDNN layers store {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]}, {@code bias [2·G·H]} in cuDNN layout (spec §2.5). */
    private static int assignCudnn(String who, RecurrentLayer r, List<StoredArray> arrays, int inputFeatures) {
        int units = r.units();
        int gh = r.cellType().gateCount() * units;
        requireCount(who, arrays, 3, "kernel, recurrent_kernel, bias (cuDNN layout)");
        requireShape(who, "kernel", arrays.get(0), inputFeatures, gh);
        requireShape(who, "recurrent_kernel", arrays.get(1), new int[] {units, gh});
        requireShape(who, "bias (cuDNN: input biases, then recurrent biases)", arrays.get(2), new int[] {2 * gh});
        int c = arrays.get(0).shape()[0];
        KerasCudnnWeights stored = KerasCudnnWeights.of(r.cellType(), c, units, arrays.get(0).values(),
                arrays.get(1).values(), arrays.get(2).values());
        if (r instanceof CuDNNLSTM l) {
            l.setCudnnWeights(stored);
        } else {
            ((CuDNNGRU) r).setCudnnWeights(stored);
        }
        return units;
    }

    /**
     * {@code RNN(cell)}: the cells' lists (kernel, recurrent_kernel[, bias] each, Keras standard
     * layout) concatenated in cell order, whatever the stack's state order (spec §2.8); each cell's
     * kernel has the previous cell's width as its row count. A Keras 3 {@code .keras} store keeps a
     * stack's cells under {@code cells/<snake_case class>[_n]/}, which sorts by class name, so the
     * arrays are put back in cell order by those names.
     */
    private static int assignRnn(String who, RNN rnn, List<StoredArray> arrays, int inputFeatures) {
        List<StandardCell> cells = new ArrayList<>();
        flattenCells(who, rnn.cell(), cells);
        int total = 0;
        StringBuilder roles = new StringBuilder();
        for (StandardCell c : cells) {
            total += c.useBias() ? 3 : 2;
            roles.append(roles.length() == 0 ? "" : "; ").append(c.typeName()).append(" '").append(c.name())
                    .append(c.useBias() ? "': kernel, recurrent_kernel, bias" : "': kernel, recurrent_kernel");
        }
        requireCount(who, arrays, total, roles.toString());
        List<StoredArray> ordered = kerasStackOrder(cells, arrays);
        int width = inputFeatures;
        int position = 0;
        for (int k = 0; k < cells.size(); k++) {
            StandardCell c = cells.get(k);
            String cellWho = who + ": cell " + k + " " + c.typeName() + " '" + c.name() + "'";
            int gh = c.cellType().gateCount() * c.units();
            StoredArray kernel = ordered.get(position);
            StoredArray recurrent = ordered.get(position + 1);
            requireShape(cellWho, "kernel", kernel, width, gh);
            requireShape(cellWho, "recurrent_kernel", recurrent, new int[] {c.units(), gh});
            float[] bias = null;
            if (c.useBias()) {
                StoredArray b = ordered.get(position + 2);
                requireShape(cellWho, "bias" + (c.resetAfter() ? " (reset_after=true)" : ""), b,
                        c.resetAfter() ? new int[] {2, gh} : new int[] {gh});
                bias = b.values();
            }
            c.setWeights(kernel.values(), recurrent.values(), bias);
            position += c.useBias() ? 3 : 2;
            width = c.units();
        }
        return rnn.cell().outputSize();
    }

    private static void flattenCells(String who, Cell cell, List<StandardCell> out) {
        if (cell instanceof StandardCell s) {
            out.add(s);
        } else if (cell instanceof StackedRNNCells stack) {
            for (Cell c : stack.cells()) {
                flattenCells(who, c, out);
            }
        } else {
            throw new UnsupportedConfigurationException(who + ": no weight mapping for cell " + cell.typeName());
        }
    }

    /** Keras 3 {@code .keras}: arrays of {@code …/cells/<store name>/vars/i} in cell order; anything else as stored. */
    private static List<StoredArray> kerasStackOrder(List<StandardCell> cells, List<StoredArray> arrays) {
        if (cells.size() < 2 || !arrays.stream().allMatch(a -> a.name().contains("/cells/"))) {
            return arrays;
        }
        Map<String, List<StoredArray>> byCell = new java.util.HashMap<>();
        for (StoredArray a : arrays) {
            String rest = a.name().substring(a.name().lastIndexOf("/cells/") + "/cells/".length());
            byCell.computeIfAbsent(rest.substring(0, Math.max(0, rest.indexOf('/'))), k -> new ArrayList<>()).add(a);
        }
        Map<String, Integer> used = new java.util.HashMap<>();
        List<StoredArray> ordered = new ArrayList<>();
        for (StandardCell c : cells) {
            String base = KerasConfig.toSnakeCase(c.typeName());
            Integer n = used.get(base);
            used.put(base, n == null ? 0 : n + 1);
            List<StoredArray> part = byCell.get(n == null ? base : base + "_" + (n + 1));
            if (part == null) {
                return arrays;
            }
            ordered.addAll(part);
        }
        return ordered.size() == arrays.size() ? ordered : arrays;
    }

    private static int assignRecurrent(String who, RecurrentLayer r, List<StoredArray> arrays, int inputFeatures) {
        r.setWeights(recurrentWeights(who, r, arrays, inputFeatures));
        return r.units();
    }

    /**
     * One recurrent layer's stored arrays in Keras standard layout: the Keras 2/3 list
     * ({@code kernel, recurrent_kernel[, bias]}), or a Keras 0.x/1.x per-gate list (GRU 9 arrays
     * z, r, h; LSTM 12 arrays in the stored order i, c, f, o; spec §2.9) converted through
     * {@link Keras1Weights}. A Keras 1 {@code consume_less='gpu'} list has the Keras 2 shapes and
     * needs no conversion. Wrappers (Bidirectional) call this once per direction with that half of
     * the list.
     *
     * @param who           the file and layer, for messages
     * @param inputFeatures the size of the layer's input's last axis when known, else −1
     * @throws IllegalArgumentException when the count or a shape disagrees with the config
     */
    static KerasRnnWeights recurrentWeights(String who, RecurrentLayer r, List<StoredArray> arrays, int inputFeatures) {
        int gates = r.cellType().gateCount();
        int units = r.units();
        int gh = gates * units;
        if (arrays.size() == 3 * gates && gates > 1) {
            return perGateWeights(who, r, arrays, inputFeatures);
        }
        int expectedCount = r.useBias() ? 3 : 2;
        requireCount(who, arrays, expectedCount, r.useBias() ? "kernel, recurrent_kernel, bias" : "kernel, recurrent_kernel");
        requireShape(who, "kernel", arrays.get(0), inputFeatures, gh);
        requireShape(who, "recurrent_kernel", arrays.get(1), new int[] {units, gh});
        float[] bias = null;
        if (r.useBias()) {
            int[] biasShape = r.resetAfter() ? new int[] {2, gh} : new int[] {gh};
            requireShape(who, "bias" + (r.resetAfter() ? " (reset_after=true)" : ""), arrays.get(2), biasShape);
            bias = arrays.get(2).values();
        }
        float[] kernel = arrays.get(0).values();
        return KerasRnnWeights.of(r.cellType(), r.resetAfter(), kernel.length / gh, units, kernel, arrays.get(1).values(), bias);
    }

    /** Keras 0.x/1.x {@code consume_less='cpu'|'mem'}: one W, U, b per gate. */
    private static KerasRnnWeights perGateWeights(String who, RecurrentLayer r, List<StoredArray> arrays, int inputFeatures) {
        CellType type = r.cellType();
        String[] roles = Keras1Weights.perGateNames(type);
        if (!r.useBias()) {
            throw new IllegalArgumentException(who + " has use_bias=false but stores " + arrays.size()
                    + " per-gate arrays with biases (Keras 1 layout: " + arrays + ")");
        }
        if (r.resetAfter()) {
            throw new IllegalArgumentException(who + " has reset_after=true but stores the Keras 1 per-gate layout "
                    + arrays + ", which is reset-before (reset_after=false)");
        }
        int units = r.units();
        for (int g = 0; g < type.gateCount(); g++) {
            requireShape(who, roles[3 * g], arrays.get(3 * g), inputFeatures, units);
            requireShape(who, roles[3 * g + 1], arrays.get(3 * g + 1), new int[] {units, units});
            requireShape(who, roles[3 * g + 2], arrays.get(3 * g + 2), new int[] {units});
        }
        int inputSize = arrays.get(0).shape()[0];
        for (int g = 1; g < type.gateCount(); g++) {
            if (arrays.get(3 * g).shape()[0] != inputSize) {
                throw new IllegalArgumentException(who + ": " + roles[3 * g] + " '" + arrays.get(3 * g).name() + "' has shape "
                        + Arrays.toString(arrays.get(3 * g).shape()) + ", expected [" + inputSize + ", " + units
                        + "] like " + roles[0]);
            }
        }
        float[][] values = new float[arrays.size()][];
        int[][] shapes = new int[arrays.size()][];
        for (int k = 0; k < values.length; k++) {
            values[k] = arrays.get(k).values();
            shapes[k] = arrays.get(k).shape();
        }
        return Keras1Weights.toKeras(type, values, shapes);
    }

    /**
     * ConvLSTM2D (spec §2.6): {@code kernel [kr, kc, C, 4F]}, {@code recurrent_kernel [kr, kc, F, 4F]},
     * {@code bias [4F]}, HWIO for both data formats. {@code inputFeatures} is C only for channels_last.
     */
    private static int assignConvLstm(String who, io.jrnn.layers.ConvLSTM2D c, List<StoredArray> arrays, int inputFeatures,
            boolean theanoKernels) {
        requireCount(who, arrays, c.useBias() ? 3 : 2, c.useBias() ? "kernel, recurrent_kernel, bias" : "kernel, recurrent_kernel");
        int[] k = c.kernelSize();
        int g = 4 * c.filters();
        int[] ks = arrays.get(0).shape();
        boolean channelsLast = c.dataFormat().equals("channels_last");
        if (ks.length != 4 || ks[0] != k[0] || ks[1] != k[1] || ks[3] != g || ks[2] < 1
                || (channelsLast && inputFeatures > 0 && ks[2] != inputFeatures)) {
            throw new IllegalArgumentException(who + ": kernel '" + arrays.get(0).name() + "' has shape " + Arrays.toString(ks)
                    + ", expected [" + k[0] + ", " + k[1] + ", "
                    + (channelsLast && inputFeatures > 0 ? Integer.toString(inputFeatures) : "C") + ", " + g + "]");
        }
        requireShape(who, "recurrent_kernel", arrays.get(1), new int[] {k[0], k[1], c.filters(), g});
        float[] bias = null;
        if (c.useBias()) {
            requireShape(who, "bias", arrays.get(2), new int[] {g});
            bias = arrays.get(2).values();
        }
        float[] kernel = arrays.get(0).values();
        float[] recurrent = arrays.get(1).values();
        if (theanoKernels) {
            kernel = flipHwio(kernel, k[0], k[1], ks[2] * g);
            recurrent = flipHwio(recurrent, k[0], k[1], c.filters() * g);
        }
        c.setWeights(kernel, recurrent, bias);
        return channelsLast ? c.filters() : -1;
    }

    /**
     * Keras 1 ConvLSTM2D (spec §2.6): 12 arrays {@code W, U, b} per gate in order i, c, f, o;
     * kernels {@code (F, C, kr, kc)} with {@code dim_ordering='th'} (the layer's channels_first),
     * {@code (kr, kc, C, F)} with {@code 'tf'}. Converted to HWIO {@code [kr, kc, C, 4F]} with gate
     * blocks i, f, c, o, as K2's loader intends; Theano-trained kernels are flipped.
     */
    private static int assignKeras1ConvLstm(String who, io.jrnn.layers.ConvLSTM2D c, List<StoredArray> arrays,
            int inputFeatures, boolean theanoKernels) {
        if (!c.useBias()) {
            throw new IllegalArgumentException(who + ": 12 Keras 1 arrays (W, U, b per gate) but the layer has use_bias=false");
        }
        int[] k = c.kernelSize();
        int f = c.filters();
        int g4 = 4 * f;
        boolean th = c.dataFormat().equals("channels_first");
        int[] first = arrays.get(0).shape();
        int ch = first.length == 4 ? (th ? first[1] : first[2]) : -1;
        if (ch < 1 || (!th && inputFeatures > 0 && ch != inputFeatures)) {
            throw new IllegalArgumentException(who + ": Keras 1 W_i '" + arrays.get(0).name() + "' has shape "
                    + Arrays.toString(first) + ", expected " + (th ? "[" + f + ", C, " + k[0] + ", " + k[1] + "] (dim_ordering 'th')"
                    : "[" + k[0] + ", " + k[1] + ", " + (inputFeatures > 0 ? inputFeatures : "C") + ", " + f
                    + "] (dim_ordering 'tf')"));
        }
        String[] stored = {"i", "c", "f", "o"};
        int[] fusedBlock = {0, 2, 1, 3}; // stored gate → block in i, f, c, o
        float[] kernel = new float[k[0] * k[1] * ch * g4];
        float[] recurrent = new float[k[0] * k[1] * f * g4];
        float[] bias = new float[g4];
        for (int s = 0; s < 4; s++) {
            int block = fusedBlock[s];
            int[] wShape = th ? new int[] {f, ch, k[0], k[1]} : new int[] {k[0], k[1], ch, f};
            int[] uShape = th ? new int[] {f, f, k[0], k[1]} : new int[] {k[0], k[1], f, f};
            requireShape(who, "W_" + stored[s], arrays.get(3 * s), wShape);
            requireShape(who, "U_" + stored[s], arrays.get(3 * s + 1), uShape);
            requireShape(who, "b_" + stored[s], arrays.get(3 * s + 2), new int[] {f});
            placeGate(arrays.get(3 * s).values(), kernel, th, k, ch, f, block);
            placeGate(arrays.get(3 * s + 1).values(), recurrent, th, k, f, f, block);
            System.arraycopy(arrays.get(3 * s + 2).values(), 0, bias, block * f, f);
        }
        if (theanoKernels) {
            kernel = flipHwio(kernel, k[0], k[1], ch * g4);
            recurrent = flipHwio(recurrent, k[0], k[1], f * g4);
        }
        c.setWeights(kernel, recurrent, bias);
        return th ? -1 : f;
    }

    /** One gate's kernel ({@code (F, C, kr, kc)} or {@code (kr, kc, C, F)}) into block {@code block} of an HWIO {@code [kr, kc, C, 4F]}. */
    private static void placeGate(float[] w, float[] dst, boolean th, int[] k, int ch, int f, int block) {
        int g4 = 4 * f;
        for (int a = 0; a < k[0]; a++) {
            for (int b = 0; b < k[1]; b++) {
                for (int q = 0; q < ch; q++) {
                    for (int j = 0; j < f; j++) {
                        float v = th ? w[((j * ch + q) * k[0] + a) * k[1] + b] : w[((a * k[1] + b) * ch + q) * f + j];
                        dst[((a * k[1] + b) * ch + q) * g4 + block * f + j] = v;
                    }
                }
            }
        }
    }

    /** {@code conv_utils.convert_kernel} on an HWIO kernel: both spatial axes reversed. */
    private static float[] flipHwio(float[] w, int rows, int cols, int inner) {
        float[] out = new float[w.length];
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < cols; b++) {
                System.arraycopy(w, (a * cols + b) * inner, out, ((rows - 1 - a) * cols + (cols - 1 - b)) * inner, inner);
            }
        }
        return out;
    }

    private static void requireCount(String who, List<StoredArray> arrays, int expected, String roles) {
        if (arrays.size() != expected) {
            throw new IllegalArgumentException(who + ": expected " + expected + " weight array" + (expected == 1 ? "" : "s")
                    + " (" + roles + "), the file has " + (arrays.isEmpty() ? "none for this layer" : arrays.size() + ": " + arrays));
        }
    }

    /** A 2-D {@code [C, width]} array whose C must equal {@code rows} when that is known. */
    private static void requireShape(String who, String role, StoredArray a, int rows, int width) {
        int[] s = a.shape();
        boolean ok = s.length == 2 && s[1] == width && s[0] > 0 && (rows < 0 || s[0] == rows);
        if (!ok) {
            throw new IllegalArgumentException(who + ": " + role + " '" + a.name() + "' has shape " + Arrays.toString(s)
                    + ", expected [" + (rows < 0 ? "C" : Integer.toString(rows)) + ", " + width + "]");
        }
    }

    private static void requireShape(String who, String role, StoredArray a, int[] expected) {
        if (!Arrays.equals(a.shape(), expected)) {
            throw new IllegalArgumentException(who + ": " + role + " '" + a.name() + "' has shape " + Arrays.toString(a.shape())
                    + ", expected " + Arrays.toString(expected));
        }
    }
}
