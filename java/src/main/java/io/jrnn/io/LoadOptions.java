package io.jrnn.io;

import io.jrnn.layers.HardSigmoid;
import java.nio.file.Path;

/**
 * Options for {@link KerasModels#load(java.nio.file.Path, LoadOptions)} and
 * {@link KerasModels#loadModel(java.nio.file.Path, LoadOptions)}.
 *
 * <pre>{@code
 * // A Keras 3 file whose hard_sigmoid should be read with the Keras 2 slope:
 * Sequential m = KerasModels.load(path, LoadOptions.defaults().withHardSigmoid(HardSigmoid.KERAS2));
 * // A Keras 1 save_weights() file whose architecture (model.to_json()) lives elsewhere:
 * Model k1 = KerasModels.loadModel(weights, LoadOptions.defaults().withConfig(Path.of("arch.json")));
 * }</pre>
 *
 * @param hardSigmoid the {@code hard_sigmoid} definition to use for every layer, or {@code null} to
 *                    pick it from the file's Keras version ({@link HardSigmoid#forKerasVersion})
 * @param config      a {@code model.to_json()} architecture file to use instead of the file's own
 *                    {@code model_config}, or {@code null}: then a weights-only file takes the
 *                    {@code .json} of the same base name beside it
 * @param maxParameters the most weight elements a file may declare: any one stored array, and all
 *                    arrays of the model together, are checked against it from their declared
 *                    shapes before anything is read or allocated (default 2³¹, or the system
 *                    property {@code jrnn.maxParameters})
 * @param maxArchiveEntryBytes the most bytes one entry of a {@code .keras} zip may inflate to,
 *                    counted while reading (the zip's own size fields are not trusted); default
 *                    2³¹ − 9 (a Java array's limit), or the system property {@code jrnn.maxArchiveEntryBytes}
 * @param maxCompressionRatio the largest uncompressed/compressed ratio allowed for a zip entry
 *                    bigger than 1 MiB: a decompression-bomb guard (Keras stores its entries
 *                    uncompressed, ratio 1); default 100, or the system property {@code jrnn.maxCompressionRatio}
 */
public record LoadOptions(HardSigmoid hardSigmoid, Path config, long maxParameters, long maxArchiveEntryBytes,
        int maxCompressionRatio) {
    /** The default of {@link #maxParameters}: 2³¹ elements (8 GiB of float32). */
    public static final long DEFAULT_MAX_PARAMETERS = 1L << 31;
    /** The default of {@link #maxArchiveEntryBytes}: the largest Java byte array. */
    public static final long DEFAULT_MAX_ARCHIVE_ENTRY_BYTES = Integer.MAX_VALUE - 8;
    /** The default of {@link #maxCompressionRatio}. */
    public static final int DEFAULT_MAX_COMPRESSION_RATIO = 100;

    public LoadOptions {
        if (maxParameters <= 0 || maxArchiveEntryBytes <= 0 || maxCompressionRatio <= 0) {
            throw new IllegalArgumentException("LoadOptions limits must be > 0, got maxParameters=" + maxParameters
                    + ", maxArchiveEntryBytes=" + maxArchiveEntryBytes + ", maxCompressionRatio=" + maxCompressionRatio);
        }
    }

    /** Forces a {@code hard_sigmoid} variant and reads the architecture from {@code config}; default limits. */
    public LoadOptions(HardSigmoid hardSigmoid, Path config) {
        this(hardSigmoid, config, property("jrnn.maxParameters", DEFAULT_MAX_PARAMETERS),
                property("jrnn.maxArchiveEntryBytes", DEFAULT_MAX_ARCHIVE_ENTRY_BYTES),
                (int) Math.min(Integer.MAX_VALUE, property("jrnn.maxCompressionRatio", DEFAULT_MAX_COMPRESSION_RATIO)));
    }

    /** Forces a {@code hard_sigmoid} variant; the architecture comes from the file. */
    public LoadOptions(HardSigmoid hardSigmoid) {
        this(hardSigmoid, null);
    }

    /** Everything from the file; limits from the system properties or their defaults. */
    public static LoadOptions defaults() {
        return new LoadOptions(null, null);
    }

    /** A copy that forces {@code variant} (or, with {@code null}, takes it from the file again). */
    public LoadOptions withHardSigmoid(HardSigmoid variant) {
        return new LoadOptions(variant, config, maxParameters, maxArchiveEntryBytes, maxCompressionRatio);
    }

    /** A copy that reads the architecture from {@code architectureJson} (or, with {@code null}, from the file again). */
    public LoadOptions withConfig(Path architectureJson) {
        return new LoadOptions(hardSigmoid, architectureJson, maxParameters, maxArchiveEntryBytes, maxCompressionRatio);
    }

    /** A copy with another {@link #maxParameters} limit. */
    public LoadOptions withMaxParameters(long limit) {
        return new LoadOptions(hardSigmoid, config, limit, maxArchiveEntryBytes, maxCompressionRatio);
    }

    /** A copy with other zip limits ({@link #maxArchiveEntryBytes}, {@link #maxCompressionRatio}). */
    public LoadOptions withArchiveLimits(long maxEntryBytes, int maxRatio) {
        return new LoadOptions(hardSigmoid, config, maxParameters, maxEntryBytes, maxRatio);
    }

    private static long property(String name, long fallback) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n <= 0) {
                throw new NumberFormatException("not > 0");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " must be a positive integer, got '" + v + "'", e);
        }
    }
}
