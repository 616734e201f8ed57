package io.jrnn.io;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes tiny Keras-shaped files with jhdf, so the importer's tests need no Python. jhdf writes
 * string attributes as fixed-length byte strings, which is exactly the Keras 2.0–2.2 dialect. Layers
 * without weights get no group at all (jhdf 0.13 writes an unreadable file when an empty group sits
 * beside nested ones), which the importer treats like Keras's empty groups.
 */
public final class KerasFixtures {
    private KerasFixtures() {
    }

    /** One stored array: its path under the layer group (e.g. {@code lstm_1/kernel:0}), shape and values. */
    record Array(String name, int[] shape, float[] values) {
    }

    static Array array(String name, float[] values, int... shape) {
        return new Array(name, shape, values);
    }

    /** Uniform values in [−0.5, 0.5) from a fixed seed. */
    static Array random(String name, long seed, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() - 0.5);
        }
        return new Array(name, shape, v);
    }

    /**
     * A {@code model.save()} file: root attributes {@code model_config}, {@code keras_version},
     * {@code backend}; {@code model_weights/<layer>/} with a {@code weight_names} attribute per layer.
     */
    public static Path writeH5(Path file, String modelConfig, String kerasVersion, Map<String, List<Array>> weightsByLayer) {
        return writeH5(file, modelConfig, kerasVersion, "tensorflow", weightsByLayer);
    }

    /** As {@link #writeH5(Path, String, String, Map)} with the root {@code backend} attribute given. */
    static Path writeH5(Path file, String modelConfig, String kerasVersion, String backend,
            Map<String, List<Array>> weightsByLayer) {
        try (WritableHdfFile h = HdfFile.write(file)) {
            if (modelConfig != null) {
                h.putAttribute("model_config", modelConfig);
            }
            h.putAttribute("keras_version", kerasVersion);
            h.putAttribute("backend", backend);
            WritableGroup mw = h.putGroup("model_weights");
            if (!weightsByLayer.isEmpty()) {
                mw.putAttribute("layer_names", weightsByLayer.keySet().toArray(new String[0]));
            }
            mw.putAttribute("keras_version", kerasVersion);
            for (Map.Entry<String, List<Array>> layer : weightsByLayer.entrySet()) {
                List<Array> arrays = layer.getValue();
                if (arrays.isEmpty()) {
                    // Keras writes an empty group with an empty float64 weight_names; jhdf 0.13 can write neither an
                    // empty array attribute nor an empty group beside nested ones (the file becomes unreadable).
                    continue;
                }
                WritableGroup g = mw.putGroup(layer.getKey());
                g.putAttribute("weight_names", arrays.stream().map(Array::name).toArray(String[]::new));
                Map<String, WritableGroup> groups = new HashMap<>();
                for (Array a : arrays) {
                    putArray(g, groups, a.name(), a);
                }
            }
        }
        return file;
    }

    /**
     * A Keras 3 {@code .keras} zip: {@code config.json}, {@code metadata.json} and
     * {@code model.weights.h5} whose keys are store paths ({@code lstm}, {@code lstm/cell}) and
     * whose arrays become {@code layers/<key>/vars/0..}.
     */
    static Path writeKeras(Path file, String configJson, String kerasVersion, Map<String, List<Array>> vars) {
        try {
            Path weights = Files.createTempFile(file.getParent(), "weights", ".h5");
            try (WritableHdfFile h = HdfFile.write(weights)) {
                WritableGroup layers = h.putGroup("layers");
                Map<String, WritableGroup> groups = new HashMap<>();
                for (Map.Entry<String, List<Array>> e : vars.entrySet()) {
                    if (e.getValue().isEmpty()) {
                        continue; // see writeH5: no empty groups
                    }
                    WritableGroup owner = group(layers, groups, e.getKey());
                    WritableGroup v = owner.putGroup("vars");
                    int i = 0;
                    for (Array a : e.getValue()) {
                        putData(v, Integer.toString(i++), a);
                    }
                }
            }
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("metadata.json", ("{\"keras_version\": \"" + kerasVersion + "\", \"date_saved\": \"2024-01-01@00:00:00\"}")
                    .getBytes(StandardCharsets.UTF_8));
            entries.put("config.json", configJson.getBytes(StandardCharsets.UTF_8));
            entries.put("model.weights.h5", Files.readAllBytes(weights));
            Files.delete(weights);
            writeZip(file, entries);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeZip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
    }

    /** A copy of the first {@code bytes} bytes of {@code source}. */
    static Path truncate(Path source, Path target, int bytes) throws IOException {
        byte[] all = Files.readAllBytes(source);
        Files.write(target, java.util.Arrays.copyOf(all, Math.min(bytes, all.length)));
        return target;
    }

    private static void putArray(WritableGroup root, Map<String, WritableGroup> groups, String path, Array a) {
        int slash = path.lastIndexOf('/');
        WritableGroup parent = slash < 0 ? root : group(root, groups, path.substring(0, slash));
        putData(parent, path.substring(slash + 1), a);
    }

    private static WritableGroup group(WritableGroup root, Map<String, WritableGroup> groups, String path) {
        WritableGroup g = groups.get(path);
        if (g != null) {
            return g;
        }
        int slash = path.lastIndexOf('/');
        WritableGroup parent = slash < 0 ? root : group(root, groups, path.substring(0, slash));
        g = parent.putGroup(path.substring(slash + 1));
        groups.put(path, g);
        return g;
    }

    private static void putData(WritableGroup g, String name, Array a) {
        if (a.shape().length == 1) {
            g.putDataset(name, a.values().clone());
        } else if (a.shape().length == 2) {
            int rows = a.shape()[0];
            int cols = a.shape()[1];
            float[][] m = new float[rows][cols];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(a.values(), r * cols, m[r], 0, cols);
            }
            g.putDataset(name, m);
        } else if (a.shape().length == 4) {
            // Convolution kernels (ConvLSTM2D: [kr, kc, C, 4F] or Keras 1 'th' [F, C, kr, kc]).
            int[] s = a.shape();
            float[][][][] m = new float[s[0]][s[1]][s[2]][s[3]];
            int k = 0;
            for (int i = 0; i < s[0]; i++) {
                for (int j = 0; j < s[1]; j++) {
                    for (int l = 0; l < s[2]; l++) {
                        System.arraycopy(a.values(), k, m[i][j][l], 0, s[3]);
                        k += s[3];
                    }
                }
            }
            g.putDataset(name, m);
        } else {
            throw new IllegalArgumentException("fixtures write rank 1, 2 or 4 arrays, got " + java.util.Arrays.toString(a.shape()));
        }
    }
}
