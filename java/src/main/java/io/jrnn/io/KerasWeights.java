package io.jrnn.io;

import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasArchive.StoredArray;
import io.jrnn.layers.ActivationLayer;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Dropout;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.Layer;
import io.jrnn.layers.RecurrentLayer;
import java.util.Arrays;
import java.util.List;

/**
 * Checks a layer's stored Keras arrays against its config and hands them to the jrnn layer (spec
 * §2.2–2.4 layouts: {@code kernel [C, G·H]}, {@code recurrent_kernel [H, G·H]}, {@code bias [G·H]}
 * or {@code [2, 3H]} for GRU {@code reset_after}). Conversions of other layouts (Keras 1 per-gate
 * arrays, CuDNN layers, Bidirectional halves) belong here.
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
        String who = source + ": layer '" + layer.name() + "' (" + layer.typeName() + ")";
        if (layer instanceof RecurrentLayer r) {
            return assignRecurrent(who, r, arrays, inputFeatures);
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
        if (layer instanceof Dropout || layer instanceof ActivationLayer || layer instanceof io.jrnn.layers.Masking) {
            requireCount(who, arrays, 0, "no weights");
            return inputFeatures;
        }
        throw new UnsupportedConfigurationException(who + ": no weight mapping for this layer type");
    }

    private static int assignRecurrent(String who, RecurrentLayer r, List<StoredArray> arrays, int inputFeatures) {
        int gates = r.cellType().gateCount();
        int units = r.units();
        int gh = gates * units;
        int expectedCount = r.useBias() ? 3 : 2;
        if (arrays.size() == 3 * gates && gates > 1) {
            // Keras 0.x/1.x consume_less='cpu'|'mem': one W, U, b per gate (spec §2.9).
            throw new UnsupportedConfigurationException(who + " stores " + arrays.size()
                    + " per-gate arrays (Keras 1 layout: " + arrays + "); converting them is not supported yet");
        }
        requireCount(who, arrays, expectedCount, r.useBias() ? "kernel, recurrent_kernel, bias" : "kernel, recurrent_kernel");
        requireShape(who, "kernel", arrays.get(0), inputFeatures, gh);
        requireShape(who, "recurrent_kernel", arrays.get(1), new int[] {units, gh});
        float[] bias = null;
        if (r.useBias()) {
            int[] biasShape = r.resetAfter() ? new int[] {2, gh} : new int[] {gh};
            requireShape(who, "bias" + (r.resetAfter() ? " (reset_after=true)" : ""), arrays.get(2), biasShape);
            bias = arrays.get(2).values();
        }
        r.setWeights(arrays.get(0).values(), arrays.get(1).values(), bias);
        return units;
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
