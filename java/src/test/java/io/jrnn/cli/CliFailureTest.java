package io.jrnn.cli;

import static io.jrnn.cli.CliTest.jrnn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.cli.CliTest.Result;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every CLI failure: non-zero exit, exactly one line on stderr (a trace only with --debug), no partial output file. */
class CliFailureTest {
    @TempDir
    Path dir;
    Path model;
    Path x;

    @BeforeEach
    void setUp() throws IOException {
        model = dir.resolve("m.h5");
        try (InputStream in = CliFailureTest.class.getResourceAsStream(DemoCommand.MODEL_RESOURCE)) {
            Files.copy(in, model);
        }
        x = dir.resolve("x.npy");
        try (Tensor t = Tensor.zeros(2, DemoTask.STEPS, DemoTask.FEATURES)) {
            t.writeNpy(x);
        }
    }

    static void oneLine(Result r, int code, String... mentions) {
        assertEquals(code, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "exactly one line on stderr: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        for (String m : mentions) {
            assertTrue(r.err().contains(m), "'" + m + "' missing from: " + r.err());
        }
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void usageErrorsAreOneLineWithExitCodeTwo() {
        oneLine(jrnn("predict", "--input", "x.npy", "--output", "y.npy"), 2, "jrnn predict:", "--model", "jrnn predict --help");
        oneLine(jrnn("predict", "--model", "m.h5", "--input", "x.npy", "--output", "y.npy", "--bogus"), 2, "--bogus");
        oneLine(jrnn("inspect"), 2, "FILE");
        oneLine(jrnn("nosuchcommand"), 2, "nosuchcommand");
        oneLine(jrnn("demo", "--samples", "many"), 2, "many");
    }

    @Test
    void hostileModelsAndInputsAreOneLineErrorsNamingTheFile() throws IOException {
        byte[] all = Files.readAllBytes(model);
        Path cut = Files.write(dir.resolve("cut.h5"), java.util.Arrays.copyOf(all, all.length / 2));
        Path y = dir.resolve("y.npy");
        oneLine(jrnn("predict", "--model", cut.toString(), "--input", x.toString(), "--output", y.toString()), 1, cut.toString());
        oneLine(jrnn("inspect", cut.toString()), 1, cut.toString());
        Path garbage = Files.write(dir.resolve("g.keras"), new byte[] {'P', 'K', 3, 4, 0, 0});
        oneLine(jrnn("inspect", garbage.toString()), 1, garbage.toString());
        Path badNpy = Files.write(dir.resolve("bad.npy"), "\u0093NUMPY junk".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        oneLine(jrnn("predict", "--model", model.toString(), "--input", badNpy.toString(), "--output", y.toString()), 1,
                badNpy.toString());
        assertFalse(Files.exists(y));
    }

    @Test
    void debugAddsTheStackTrace() throws IOException {
        Path cut = Files.write(dir.resolve("cut.h5"), new byte[] {1, 2, 3});
        Result r = jrnn("inspect", "--debug", cut.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().lines().count() > 3 && r.err().contains("\tat "), r.err());
        assertTrue(r.err().lines().findFirst().orElseThrow().startsWith("jrnn inspect: " + cut), r.err());
        r = jrnn("--debug", "inspect", cut.toString());
        assertTrue(r.err().contains("\tat "), "--debug before the subcommand works too: " + r.err());
    }

    @Test
    void unwritableOutputIsOneLineAndLeavesNoFile() throws IOException {
        Path blocker = Files.writeString(dir.resolve("blocker"), "a file, not a directory");
        Path y = blocker.resolve("y.npy");
        oneLine(jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString()), 1,
                "Cannot write", y.toString());
        // The target is a non-empty directory: the move fails after the data was written; the temporary file goes.
        Path taken = Files.createDirectories(dir.resolve("taken.npy"));
        Files.writeString(taken.resolve("keep"), "x");
        List<Path> before = files();
        oneLine(jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", taken.toString()), 1,
                taken.toString());
        assertEquals(before, files(), "no temporary file left");
        assertTrue(Files.isDirectory(taken));
    }

    @Test
    void aFailedRunLeavesThePreviousOutputUntouched() throws IOException {
        Path y = dir.resolve("y.npy");
        assertEquals(0, jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString()).code());
        byte[] good = Files.readAllBytes(y);
        try (Tensor wrong = Tensor.zeros(2, DemoTask.STEPS, DemoTask.FEATURES + 1)) {
            wrong.writeNpy(x);
        }
        oneLine(jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString()), 1, "features");
        assertArrayEquals(good, Files.readAllBytes(y));
        assertEquals(List.of(model, x, y), files());
    }
}
