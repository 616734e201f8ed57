package io.jrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code jrnn} command line, run in-process through {@link Main#run}. */
class CliTest {
    @TempDir
    static Path dir;
    static Path model;

    record Result(int code, String out, String err) {
    }

    static Result jrnn(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void extractBundledModel() throws IOException {
        model = dir.resolve("default-model.h5");
        try (InputStream in = CliTest.class.getResourceAsStream(DemoCommand.MODEL_RESOURCE)) {
            Files.copy(in, model);
        }
    }

    @Test
    void predictWritesTheModelsOutput() throws IOException {
        DemoTask.Batch b = DemoTask.generate(10, 5);
        Path x = dir.resolve("x.npy");
        Path y = dir.resolve("y.npy");
        try (Tensor in = Tensor.of(b.inputs(), 10, DemoTask.STEPS, DemoTask.FEATURES)) {
            in.writeNpy(x);
        }
        Result r = jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString(),
                "--batch-size", "3");
        assertEquals(0, r.code(), r.err());
        try (Tensor out = Npy.read(y); Sequential m = DemoCommand.loadBundledModel(); Tensor in = Npy.read(x);
             Tensor expected = m.forward(in)) {
            assertArrayEquals(new int[] {10, DemoTask.CLASSES}, out.shape());
            assertArrayEquals(expected.toArray(), out.toArray(), 1e-6f);
        }
        Path z = dir.resolve("y.npz");
        assertEquals(0, jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", z.toString()).code());
        assertEquals(List.of("dense"), List.copyOf(Npy.readNpz(z).keySet()));
    }

    @Test
    void failedPredictWritesNothingAndSaysWhyOnOneLine() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("fail"));
        Path x = sub.resolve("x.npy");
        try (Tensor wrong = Tensor.zeros(2, DemoTask.STEPS, 7)) {
            wrong.writeNpy(x);
        }
        Path y = sub.resolve("y.npy");
        Result r = jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString());
        assertNotEquals(0, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("expected 3 input features"), r.err());
        assertFalse(Files.exists(y));
        try (Stream<Path> left = Files.list(sub)) {
            assertEquals(List.of(x), left.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void missingFilesAndBadNamesAreOneLineErrors() {
        Result r = jrnn("predict", "--model", dir.resolve("nope.h5").toString(), "--input", "x.npy", "--output", "y.npy");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("nope.h5"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = jrnn("demo", "--backend", "tpu", "--samples", "4");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("Unknown backend 'tpu'") && r.err().contains("reference"), r.err());
    }

    @Test
    void predictTakesIntegerTokenIdsForEmbeddingModels() throws IOException {
        Path gru = Path.of(System.getProperty("jrnn.sharedModels", "../../shared/models"), "r03_k224_emb_gru_resetafter_false.h5");
        assumeTrue(Files.isRegularFile(gru), "shared models absent; skipping");
        Path x = dir.resolve("ids.npy");
        int[] ids = {5, 17, 250, 3, 9, 1, 42, 7, 4, 11, 12, 13};
        org.jetbrains.bio.npy.NpyFile.write(x, ids, new int[] {2, 6});
        Path y = dir.resolve("ids-out.npy");
        Result r = jrnn("predict", "--model", gru.toString(), "--input", x.toString(), "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        try (Tensor out = Npy.read(y)) {
            assertEquals(2, out.dim(0));
        }
    }

    @Test
    void inspectShowsTheExecutionPlan() {
        Result r = jrnn("inspect", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Execution plan"), r.out());
        assertTrue(r.out().contains("lstm (LSTM): oneDNN lstm_forward"), r.out());
    }

    @Test
    void inspectOfAnUnsupportedFileExitsNonZeroNamingTheLayer() {
        String config = ("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': [{'class_name': 'Conv3D',"
                + " 'config': {'name': 'conv3d_1', 'filters': 2, 'kernel_size': [1, 1, 1],"
                + " 'batch_input_shape': [null, 2, 3, 3, 1]}}]}}").replace('\'', '"');
        Path file = io.jrnn.io.KerasFixtures.writeH5(dir.resolve("conv3d.h5"), config, "2.7.0", java.util.Map.of());
        Result r = jrnn("inspect", file.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("Conv3D") && r.err().contains("conv3d_1"), r.err());
    }

    /** r07 (four ConvLSTM2D, Keras 2.7): 5-D .npy input through {@code jrnn predict}, same numbers as the API. */
    @Test
    void predictRunsAConvLstmModelOnFiveDimensionalInput() throws IOException {
        Path r07 = Path.of(System.getProperty("jrnn.sharedModels", "../../shared/models"), "r07_k27_convlstm2d_stack.h5");
        assumeTrue(Files.isRegularFile(r07), "shared models absent; skipping");
        float[] v = new float[2 * 10 * 128 * 128 * 3];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextDouble();
        }
        Path x = dir.resolve("frames.npy");
        Path y = dir.resolve("frames-out.npy");
        try (Tensor in = Tensor.of(v, 2, 10, 128, 128, 3)) {
            in.writeNpy(x);
        }
        Result r = jrnn("predict", "--model", r07.toString(), "--input", x.toString(), "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        try (Tensor out = Npy.read(y); Sequential m = io.jrnn.io.KerasModels.load(r07); Tensor in = Npy.read(x);
                Tensor expected = m.forward(in)) {
            assertArrayEquals(new int[] {2, 1}, out.shape());
            assertArrayEquals(expected.toArray(), out.toArray(), 1e-6f);
        }
    }

    @Test
    void demoAndEnvRun() {
        Result r = jrnn("demo", "--samples", "64", "--batch-size", "32");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Accuracy:") && r.out().contains("sequences/s"), r.out());
        r = jrnn("env");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("oneDNN"), r.out());
    }
}
