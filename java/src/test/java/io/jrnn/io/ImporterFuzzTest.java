package io.jrnn.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jrnn.Model;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasConfig.LayerSpec;
import io.jrnn.io.KerasConfig.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzz targets for the importers and the {@code .npy} reader (Jazzer). In a plain
 * {@code mvn verify} each target runs once per input of its committed seed corpus
 * ({@code src/test/resources/io/jrnn/io/ImporterFuzzTestInputs/<method>/}); with
 * {@code JAZZER_FUZZ=1} the selected target is fuzzed (docs/reliability.md has the commands).
 *
 * <p>The contract under test: whatever the bytes, only jrnn's documented exceptions leave the
 * importers: {@link IllegalArgumentException} (incl. {@link ModelFormatException}) and
 * {@link UnsupportedConfigurationException}, each naming the file. Anything else (an index error,
 * a {@link StackOverflowError}, an {@link OutOfMemoryError}, a native crash) is a finding.
 */
class ImporterFuzzTest {
    /** Fuzzing time per target when JAZZER_FUZZ is set (CI's short run). */
    static final String DURATION = "30s";

    private static Path dir;

    @BeforeAll
    static void createDir() throws IOException {
        dir = Files.createTempDirectory("jrnn-fuzz");
    }

    @AfterAll
    static void deleteDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    private static Path file(String name, byte[] data) {
        try {
            return Files.write(dir.resolve(name), data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code body}; documented exceptions that name {@code file} are fine, anything else propagates. */
    private static void expectOnlyDocumented(String file, Runnable body) {
        try {
            body.run();
        } catch (IllegalArgumentException | UnsupportedConfigurationException e) {
            if (e.getMessage() == null || !e.getMessage().contains(file)) {
                throw new AssertionError("exception does not name " + file + ": " + e, e);
            }
        }
    }

    /** The Keras config parser: parseModel, parseGraph and the mapping of every layer, with no file around it. */
    @FuzzTest(maxDuration = DURATION)
    void kerasConfig(byte[] data) {
        String json = new String(data, StandardCharsets.UTF_8);
        String source = "fuzz.json";
        expectOnlyDocumented(source, () -> {
            ModelSpec model = KerasConfig.parseModel(json, source);
            KerasConfig config = new KerasConfig(source, KerasConfig.KerasVersion.parse("2.4.0"), io.jrnn.layers.HardSigmoid.forKerasVersion("2"));
            for (LayerSpec spec : model.layers()) {
                try {
                    config.resolve(spec);
                } catch (IllegalArgumentException | UnsupportedConfigurationException e) {
                    if (!e.getMessage().contains(source)) {
                        throw new AssertionError("exception does not name " + source + ": " + e, e);
                    }
                }
            }
        });
        expectOnlyDocumented(source, () -> KerasConfig.parseGraph(json, source));
    }

    /** Whole-file import of HDF5 bytes (the seeds are Keras .h5 files). */
    @FuzzTest(maxDuration = DURATION)
    void h5(byte[] data) {
        importFile(file("fuzz.h5", data));
    }

    /** Whole-file import of .keras zip bytes (the seeds are small Keras 3 archives). */
    @FuzzTest(maxDuration = DURATION)
    void keras(byte[] data) {
        importFile(file("fuzz.keras", data));
    }

    private static void importFile(Path f) {
        String name = f.toString();
        expectOnlyDocumented(name, () -> KerasModels.inspect(f));
        expectOnlyDocumented(name, () -> {
            try (Model m = KerasModels.loadModel(f)) {
                m.outputNames();
            }
        });
    }

    /** {@code Npy.read} / {@code Tensor.readNpy}, and the same bytes as the only entry of an .npz. */
    @FuzzTest(maxDuration = DURATION)
    void npy(byte[] data) {
        Path f = file("fuzz.npy", data);
        expectOnlyDocumented(f.toString(), () -> Tensor.readNpy(f).close());
        expectOnlyDocumented(f.toString(), () -> {
            try (Tensor t = Npy.read(f)) {
                if (t.size() > 0) {
                    t.toArray();
                }
            }
        });
    }
}
