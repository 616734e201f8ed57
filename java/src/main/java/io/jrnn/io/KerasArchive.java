package io.jrnn.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasConfig.LayerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The file half of the Keras importer: recognises a legacy HDF5 {@code .h5} (Keras 1.x–3.x
 * {@code model.save}) or a Keras 3 {@code .keras} zip by its first bytes, and hands out the model
 * config, the producing version and each layer's stored arrays. No JSON interpretation happens
 * here ({@link KerasConfig} does that).
 *
 * <p>Where the weights live:
 * <ul>
 *   <li>{@code .h5}: {@code model_weights/<layer name>/}, in the order of that group's
 *       {@code weight_names} attribute, each name a path relative to the group
 *       ({@code lstm_1/kernel:0} in Keras 2, {@code sequential/gru/gru_cell/kernel} in Keras 3).
 *   <li>{@code .keras}: {@code model.weights.h5} at {@code layers/<snake_case class>[_n]/vars/<i>},
 *       then the same under each child ({@code cell/vars/<i>} for recurrent layers).
 * </ul>
 * Every jhdf, JSON or zip failure (exceptions and {@link StackOverflowError}/{@link OutOfMemoryError})
 * becomes a {@link ModelFormatException} that names the file. Hostile input is bounded: zip entries
 * are read by exact name into memory (never extracted to disk), through a counting stream capped by
 * {@link LoadOptions#maxArchiveEntryBytes} and {@link LoadOptions#maxCompressionRatio}; entry names
 * that are absolute or climb out of the archive ({@code ..}) are refused; every stored array's
 * declared element count, and their running total, are checked against
 * {@link LoadOptions#maxParameters} before its data is read.
 */
final class KerasArchive implements AutoCloseable {
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /** Container format. */
    enum Format {
        H5("h5"), KERAS("keras");

        final String label;

        Format(String label) {
            this.label = label;
        }
    }

    private final String source;
    private final Format format;
    private final HdfFile hdf;
    private final String modelConfig;
    private final String kerasVersion;
    private final String backend;
    private final List<String> storedLayerNames;
    private long maxParameters = LoadOptions.DEFAULT_MAX_PARAMETERS;
    /** Elements of the arrays read so far (checked against {@link #maxParameters}). */
    private long elementsRead;

    private KerasArchive(String source, Format format, HdfFile hdf, String modelConfig, String kerasVersion, String backend,
            List<String> storedLayerNames) {
        this.source = source;
        this.format = format;
        this.hdf = hdf;
        this.modelConfig = modelConfig;
        this.kerasVersion = kerasVersion;
        this.backend = backend;
        this.storedLayerNames = storedLayerNames;
    }

    /** Opens {@code file} with the default limits, recognising the format from its content. */
    static KerasArchive open(Path file) {
        return open(file, LoadOptions.defaults());
    }

    /** Opens {@code file}, recognising the format from its content; {@code limits} bound what it may declare. */
    static KerasArchive open(Path file, LoadOptions limits) {
        String source = file.toString();
        KerasArchive archive;
        try {
            archive = openUnchecked(file, source, limits);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            if (e instanceof UncheckedIOException u) {
                throw u;
            }
            throw ModelFormatException.wrap(source, "cannot read the file (truncated or damaged?)", e);
        }
        archive.maxParameters = limits.maxParameters();
        return archive;
    }

    private static KerasArchive openUnchecked(Path file, String source, LoadOptions limits) {
        if (Files.isDirectory(file)) {
            throw new UnsupportedConfigurationException(source + " is a directory (a TensorFlow SavedModel?); jrnn reads"
                    + " Keras .h5 files and .keras zips");
        }
        byte[] head = new byte[2048];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(source + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot read: " + e.getMessage(), e);
        }
        if (isHdf5(head, n)) {
            return openH5(file, source);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) {
            return openKeras(file, source, limits);
        }
        String text = new String(head, 0, Math.max(0, n), StandardCharsets.ISO_8859_1).stripLeading();
        if (text.startsWith("{")) {
            throw new IllegalArgumentException(source + " is a JSON document (a model.to_json() architecture?), not a Keras"
                    + " model file with weights; jrnn reads .h5 files and .keras zips");
        }
        throw new ModelFormatException(source, "neither an HDF5 file nor a .keras zip (" + n + " bytes read, first bytes "
                + hex(head, Math.min(n, 8)) + "); expected the HDF5 signature 894844460d0a1a0a or a zip's 504b0304");
    }

    private static boolean isHdf5(byte[] head, int n) {
        // The superblock sits at 0, 512, 1024, 2048, ... (after an optional user block).
        for (int off = 0; off + HDF5_SIGNATURE.length <= n; off = off == 0 ? 512 : off * 2) {
            if (Arrays.equals(head, off, off + HDF5_SIGNATURE.length, HDF5_SIGNATURE, 0, HDF5_SIGNATURE.length)) {
                return true;
            }
        }
        return false;
    }

    private static KerasArchive openH5(Path file, String source) {
        HdfFile hdf = null;
        try {
            hdf = new HdfFile(file);
            String config = stringAttribute(hdf, "model_config");
            String version = stringAttribute(hdf, "keras_version");
            String backend = stringAttribute(hdf, "backend");
            Group weights = weightsRoot(hdf);
            if (version == null && weights != null) {
                version = stringAttribute(weights, "keras_version");
            }
            if (backend == null && weights != null) {
                backend = stringAttribute(weights, "backend");
            }
            List<String> names = weights == null ? List.of() : stringList(weights, "layer_names");
            return new KerasArchive(source, Format.H5, hdf, config, version, backend, names);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            RuntimeException failure = ModelFormatException.wrap(source, "cannot read the HDF5 file (truncated or damaged?)", e);
            if (hdf != null) {
                closeQuietly(hdf, failure);
            }
            throw failure;
        }
    }

    private static KerasArchive openKeras(Path file, String source, LoadOptions limits) {
        String config;
        String metadata;
        byte[] weights;
        List<String> entries = new ArrayList<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                checkEntryName(source, e.getName());
                entries.add(e.getName());
            }
            config = entryText(zip, "config.json", source, limits);
            metadata = entryText(zip, "metadata.json", source, limits);
            ZipEntry w = zip.getEntry("model.weights.h5");
            weights = w == null ? null : BoundedZip.read(zip, w, source, limits);
        } catch (IOException e) {
            throw new ModelFormatException(source, "cannot read the .keras zip (truncated or damaged?): " + e, e);
        }
        if (config == null) {
            throw new ModelFormatException(source, "the zip has no config.json (entries: " + entries + "); not a .keras model");
        }
        if (weights == null) {
            throw new UnsupportedConfigurationException(source + ": the .keras zip has no model.weights.h5 (entries: " + entries
                    + "); other weight stores are not supported");
        }
        String version = null;
        String backend = null;
        if (metadata != null) {
            try {
                JsonNode meta = KerasConfig.JSON.readTree(metadata);
                version = meta.path("keras_version").asText(null);
                backend = meta.path("backend").asText(null);
            } catch (IOException e) {
                throw new ModelFormatException(source, "metadata.json is not valid JSON: " + e.getMessage(), e);
            }
        }
        HdfFile hdf;
        try {
            hdf = HdfFile.fromBytes(weights);
            if (hdf.getChildren().get("layers") == null && !hdf.getChildren().isEmpty()) {
                throw new IllegalArgumentException("no 'layers' group (children: " + hdf.getChildren().keySet() + ")");
            }
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw ModelFormatException.wrap(source, "cannot read model.weights.h5 inside the .keras zip", e);
        }
        return new KerasArchive(source, Format.KERAS, hdf, config, version, backend, List.of());
    }

    private static String entryText(ZipFile zip, String name, String source, LoadOptions limits) throws IOException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            return null;
        }
        return new String(BoundedZip.read(zip, e, source, limits), StandardCharsets.UTF_8);
    }

    /**
     * Refuses entry names that would escape an extraction directory (jrnn never extracts, but such
     * a name marks a crafted archive, and tools downstream might): absolute paths, drive letters,
     * backslashes, {@code ..} segments and NUL characters.
     */
    static void checkEntryName(String source, String name) {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0
                || (name.length() > 1 && name.charAt(1) == ':');
        for (String part : name.split("/", -1)) {
            bad |= part.equals("..");
        }
        if (bad) {
            throw new ModelFormatException(source, "zip entry name '" + name.replace("\0", "\\0")
                    + "' is absolute or leaves the archive; expected relative names such as config.json");
        }
    }

    String source() {
        return source;
    }

    Format format() {
        return format;
    }

    /** The {@code keras_version} attribute / metadata entry, or {@code null}. */
    String kerasVersion() {
        return kerasVersion;
    }

    /** The {@code backend} attribute / metadata entry, or {@code null}. */
    String backend() {
        return backend;
    }

    /** The model config JSON, or {@code null} for a weights-only file. */
    String modelConfig() {
        return modelConfig;
    }

    /** The {@code layer_names} attribute of an {@code .h5} weights group (empty for {@code .keras}). */
    List<String> storedLayerNames() {
        return storedLayerNames;
    }

    /** One stored array: its name in the file, its shape, and its values (read on demand). */
    final class StoredArray {
        private final String name;
        private final Dataset dataset;
        private final int[] shape;

        private StoredArray(String name, Dataset dataset) {
            this.name = name;
            this.dataset = dataset;
            this.shape = dataset.getDimensions();
            for (int d : shape) {
                if (d < 0) {
                    throw new ModelFormatException(source, "array '" + name + "' declares a negative dimension "
                            + Arrays.toString(shape));
                }
            }
        }

        /** The declared element count (saturating at Long.MAX_VALUE). */
        long elements() {
            long n = 1;
            for (int d : shape) {
                n = d == 0 ? 0 : (n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d);
                if (n == 0) {
                    return 0;
                }
            }
            return n;
        }

        String name() {
            return name;
        }

        int[] shape() {
            return shape.clone();
        }

        /** The values as row-major float32 (float64 and integer arrays are converted). */
        float[] values() {
            long declared = elements();
            if (declared > Integer.MAX_VALUE - 8 || elementsRead + declared > maxParameters) {
                throw new ModelFormatException(source, "array '" + name + "' declares shape " + Arrays.toString(shape) + " ("
                        + declared + " elements); with the " + elementsRead + " read before it that passes the limit of "
                        + maxParameters + " parameters (LoadOptions.maxParameters, -Djrnn.maxParameters)");
            }
            Object flat;
            try {
                flat = dataset.getDataFlat();
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                throw ModelFormatException.wrap(source, "cannot read array '" + name + "' of declared shape " + Arrays.toString(shape), e);
            }
            elementsRead += declared;
            float[] out;
            if (flat instanceof float[] f) {
                out = f;
            } else if (flat instanceof double[] d) {
                out = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = (float) d[i];
                }
            } else if (flat instanceof int[] d) {
                out = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = d[i];
                }
            } else if (flat instanceof long[] d) {
                out = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = d[i];
                }
            } else {
                throw new ModelFormatException(source, "array '" + name + "' has an unsupported element type "
                        + (flat == null ? "(empty)" : flat.getClass().getSimpleName()) + "; expected float32, float64 or integers");
            }
            long expected = 1;
            for (int d : shape) {
                expected *= d;
            }
            if (out.length != expected) {
                throw new ModelFormatException(source, "array '" + name + "' of shape " + Arrays.toString(shape)
                        + " holds " + out.length + " values; expected " + expected);
            }
            return out;
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    /**
     * The stored arrays of {@code layers.get(index)}, in Keras order.
     *
     * @param layers the model's layers in order, without InputLayers (the {@code .keras} store numbers
     *               layers of the same class by their position)
     * @throws IllegalArgumentException when the layer's group is missing or unreadable
     */
    List<StoredArray> weights(List<LayerSpec> layers, int index) {
        LayerSpec layer = layers.get(index);
        try {
            return format == Format.H5 ? h5Weights(layer) : kerasWeights(layer, KerasConfig.kerasStorePaths(layers).get(index));
        } catch (IllegalArgumentException | UnsupportedConfigurationException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw ModelFormatException.wrap(source, "cannot read the weights of " + layer.describe(), e);
        }
    }

    private List<StoredArray> h5Weights(LayerSpec layer) {
        Group root = weightsRoot(hdf);
        if (root == null) {
            throw new IllegalArgumentException(source + ": no 'model_weights' group; cannot find the weights of " + layer.describe());
        }
        Node node = root.getChildren().get(layer.name());
        if (!(node instanceof Group group)) {
            // Nothing stored; a layer that needs weights fails the count check with the expected list.
            return List.of();
        }
        List<StoredArray> arrays = new ArrayList<>();
        for (String name : stringList(group, "weight_names")) {
            Node d = group.getByPath(name);
            if (!(d instanceof Dataset ds)) {
                throw new IllegalArgumentException(source + ": " + layer.describe() + " lists weight '" + name
                        + "' but '" + group.getPath() + name + "' is not a dataset");
            }
            arrays.add(new StoredArray(name, ds));
        }
        return arrays;
    }

    private List<StoredArray> kerasWeights(LayerSpec layer, String storePath) {
        Node layersGroup = hdf.getChildren().get("layers");
        Node node = layersGroup instanceof Group g ? g.getChildren().get(storePath) : null;
        if (!(node instanceof Group group)) {
            // A layer that owns no variables may be absent; one that does will fail the count check later.
            return List.of();
        }
        List<StoredArray> arrays = new ArrayList<>();
        collectVars(group, "layers/" + storePath, arrays);
        return arrays;
    }

    /** {@code vars/0, vars/1, …} by number (jhdf lists children alphabetically: 10 before 2), then each child group. */
    private void collectVars(Group group, String path, List<StoredArray> out) {
        Node vars = group.getChildren().get("vars");
        if (vars instanceof Group v) {
            int count = v.getChildren().size();
            for (int i = 0; i < count; i++) {
                Node d = v.getChildren().get(Integer.toString(i));
                if (!(d instanceof Dataset ds)) {
                    throw new IllegalArgumentException(source + ": '" + path + "/vars' has " + count + " entries but no '" + i + "'");
                }
                out.add(new StoredArray(path + "/vars/" + i, ds));
            }
        }
        List<String> children = new ArrayList<>(group.getChildren().keySet());
        // Keras visits attributes in sorted order with private ('_') ones last.
        children.sort((a, b) -> (a.startsWith("_") ? "~" + a : a).compareTo(b.startsWith("_") ? "~" + b : b));
        for (String child : children) {
            if (!child.equals("vars") && group.getChildren().get(child) instanceof Group g) {
                collectVars(g, path + "/" + child, out);
            }
        }
    }

    private static Group weightsRoot(HdfFile hdf) {
        Node mw = hdf.getChildren().get("model_weights");
        if (mw instanceof Group g) {
            return g;
        }
        // Keras save_weights() files keep the layer groups at the root.
        return hdf.getAttribute("layer_names") != null ? hdf : null;
    }

    /** A string attribute (fixed-length or variable-length), or {@code null} when absent. */
    private static String stringAttribute(Node node, String name) {
        Attribute a = node.getAttribute(name);
        if (a == null) {
            return null;
        }
        Object d = a.getData();
        if (d instanceof String s) {
            return s;
        }
        if (d instanceof String[] s && s.length == 1) {
            return s[0];
        }
        if (d instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return d == null ? null : String.valueOf(d);
    }

    /** A list-of-strings attribute; an absent or empty (float64, Keras's "no weights") attribute is an empty list. */
    private static List<String> stringList(Node node, String name) {
        Attribute a = node.getAttribute(name);
        if (a == null || a.isEmpty()) {
            return List.of();
        }
        Object d = a.getData();
        if (d instanceof String[] s) {
            return List.of(s);
        }
        if (d instanceof String s) {
            return List.of(s);
        }
        return List.of();
    }

    private static void closeQuietly(HdfFile hdf, RuntimeException failure) {
        try {
            hdf.close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        hdf.close();
    }
}
