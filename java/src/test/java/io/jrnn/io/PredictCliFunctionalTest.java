package io.jrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Model;
import io.jrnn.Tensor;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jrnn predict}/{@code inspect} on functional and Keras 1 weights-only files (here rather
 * than in the cli package because the files are written with this package's fixtures).
 */
class PredictCliFunctionalTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result jrnn(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    private Path inputs(String name, Map<String, Tensor> arrays) {
        Path p = dir.resolve(name);
        Npy.writeNpz(p, arrays);
        arrays.values().forEach(Tensor::close);
        return p;
    }

    @Test
    void npzInputsAndOutputsAreNamedAfterTheInputAndOutputLayers() {
        Path model = FunctionalModelTest.writeTwoInputModel(dir.resolve("two.h5"));
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("b", FunctionalModelTest.randomTensor(2, 3, 4, 2));
        in.put("a", FunctionalModelTest.randomTensor(1, 3, 4, 3));
        Path x = inputs("x.npz", in);
        Path y = dir.resolve("y.npz");
        Result r = jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString(),
                "--backend", "reference", "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        Map<String, Tensor> got = Npy.readNpz(y);
        Map<String, Tensor> xs = Npy.readNpz(x);
        try (Model m = KerasModels.loadModel(model)) {
            m.useBackend(ReferenceBackend.instance());
            Map<String, Tensor> expected = m.forward(xs);
            assertEquals(List.of("d1", "d2"), got.keySet().stream().sorted().toList());
            for (String k : List.of("d1", "d2")) {
                assertArrayEquals(expected.get(k).shape(), got.get(k).shape());
                assertArrayEquals(expected.get(k).toArray(), got.get(k).toArray(), 1e-6f);
            }
            expected.values().forEach(Tensor::close);
        } finally {
            got.values().forEach(Tensor::close);
            xs.values().forEach(Tensor::close);
        }
    }

    @Test
    void wrongInputNamesAndFileKindsAreOneLineErrorsListingTheExpectedNames() throws IOException {
        Path model = FunctionalModelTest.writeTwoInputModel(dir.resolve("two.h5"));
        Path y = dir.resolve("y.npz");
        Map<String, Tensor> onlyA = new LinkedHashMap<>();
        onlyA.put("a", FunctionalModelTest.randomTensor(1, 3, 4, 3));
        onlyA.put("c", FunctionalModelTest.randomTensor(2, 3, 4, 2));
        Result r = jrnn("predict", "--model", model.toString(), "--input", inputs("bad.npz", onlyA).toString(), "--output", y.toString());
        assertNotEquals(0, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("[a, b]") && r.err().contains("missing [b]") && r.err().contains("unknown [c]"), r.err());

        Path npy = dir.resolve("x.npy");
        try (Tensor t = FunctionalModelTest.randomTensor(1, 3, 4, 3)) {
            t.writeNpy(npy);
        }
        r = jrnn("predict", "--model", model.toString(), "--input", npy.toString(), "--output", y.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("2 inputs [a, b]") && r.err().contains(".npz"), r.err());

        Map<String, Tensor> both = new LinkedHashMap<>();
        both.put("a", FunctionalModelTest.randomTensor(1, 3, 4, 3));
        both.put("b", FunctionalModelTest.randomTensor(2, 3, 4, 2));
        Path ynpy = dir.resolve("y.npy");
        r = jrnn("predict", "--model", model.toString(), "--input", inputs("ok.npz", both).toString(), "--output", ynpy.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("2 outputs [d1, d2]") && r.err().contains(".npz"), r.err());
        assertFalse(Files.exists(ynpy));
        assertFalse(Files.exists(y));
    }

    @Test
    void keras1WeightsOnlyFileTakesConfigFromTheOption() throws IOException {
        Path weights = Keras1ImportTest.writeWeightsOnly(dir.resolve("k1.h5"), Keras1ImportTest.keras1Weights());
        Path x = dir.resolve("x.npy");
        try (Tensor t = FunctionalModelTest.randomTensor(3, 2, 5, 2)) {
            t.writeNpy(x);
        }
        Path y = dir.resolve("y.npy");
        Result r = jrnn("predict", "--model", weights.toString(), "--input", x.toString(), "--output", y.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("model_config") && r.err().contains("--config"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Path arch = dir.resolve("architecture.json");
        Files.writeString(arch, Keras1ImportTest.keras1Config(true), StandardCharsets.UTF_8);
        r = jrnn("predict", "--model", weights.toString(), "--config", arch.toString(), "--input", x.toString(),
                "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        try (Tensor out = Npy.read(y)) {
            assertArrayEquals(new int[] {2, 2}, out.shape());
        }
        r = jrnn("inspect", "--config", arch.toString(), weights.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gru_1 (GRU)") && r.out().contains("Execution plan"), r.out());
    }

    @Test
    void inspectPrintsFunctionalModels() {
        Path model = FunctionalModelTest.writeTwoInputModel(dir.resolve("two.h5"));
        Result r = jrnn("inspect", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cat (Concatenate)") && r.out().contains("Execution plan")
                && r.out().contains("Inputs: [a, b]; outputs: [d1, d2]"), r.out());
    }
}
