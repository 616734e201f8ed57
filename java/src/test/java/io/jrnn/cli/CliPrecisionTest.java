package io.jrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Accuracy;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --precision} and {@code -Djrnn.precision} on predict, demo and env. */
class CliPrecisionTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path x;

    @BeforeAll
    static void modelAndInput() throws IOException {
        model = dir.resolve("default-model.h5");
        try (InputStream in = CliPrecisionTest.class.getResourceAsStream(DemoCommand.MODEL_RESOURCE)) {
            Files.copy(in, model);
        }
        DemoTask.Batch b = DemoTask.generate(12, 7);
        x = dir.resolve("x.npy");
        try (Tensor in = Tensor.of(b.inputs(), 12, DemoTask.STEPS, DemoTask.FEATURES)) {
            in.writeNpy(x);
        }
    }

    static Tensor predict(String name, String... extra) {
        Path y = dir.resolve(name);
        String[] base = {"predict", "--model", model.toString(), "--input", x.toString(), "--output", y.toString()};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra))
                .toArray(String[]::new);
        CliTest.Result r = CliTest.jrnn(args);
        assertEquals(0, r.code(), r.err());
        return Npy.read(y);
    }

    @Test
    void predictInBf16IsCloseToFp32ButNotIdentical() {
        assertTrue(DnnlBackend.supportedPrecisions().contains(Precision.BF16), "this CPU has AVX512-BF16");
        try (Tensor fp32 = predict("fp32.npy", "--backend", "cpu");
                Tensor bf16 = predict("bf16.npy", "--backend", "cpu", "--precision", "bf16");
                Tensor bf16Auto = predict("bf16auto.npy", "--precision", "BF16")) {
            double error = Accuracy.maxAbsError(fp32, bf16);
            assertTrue(error <= 1e-2 && error > 0, "bf16 vs fp32 max abs error " + error);
            assertArrayEquals(bf16.toArray(), bf16Auto.toArray(), 0f);
        }
    }

    @Test
    void thePrecisionPropertyIsTheDefaultAndTheOptionWins() {
        String old = System.getProperty(Options.PRECISION_PROPERTY);
        System.setProperty(Options.PRECISION_PROPERTY, "bf16");
        try (Tensor viaProperty = predict("prop.npy", "--backend", "cpu");
                Tensor fp32 = predict("prop32.npy", "--backend", "cpu", "--precision", "fp32");
                Tensor bf16 = predict("opt16.npy", "--backend", "cpu", "--precision", "bf16")) {
            assertArrayEquals(bf16.toArray(), viaProperty.toArray(), 0f);
            assertNotEquals(0.0, Accuracy.maxAbsError(fp32, viaProperty));
        } finally {
            if (old == null) {
                System.clearProperty(Options.PRECISION_PROPERTY);
            } else {
                System.setProperty(Options.PRECISION_PROPERTY, old);
            }
        }
    }

    @Test
    void unsupportedOrUnknownPrecisionsAreOneLineErrors() {
        CliTest.Result r = CliTest.jrnn("predict", "--model", model.toString(), "--input", x.toString(), "--output",
                dir.resolve("no.npy").toString(), "--backend", "cpu", "--precision", "tf32");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("tf32") && r.err().contains("'cpu'") && r.err().lines().count() == 1, r.err());
        r = CliTest.jrnn("demo", "--samples", "8", "--backend", "reference", "--precision", "bf16");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("'reference'") && r.err().contains("bf16"), r.err());
        r = CliTest.jrnn("demo", "--samples", "8", "--precision", "fp8");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("fp8") && r.err().contains("valid: fp32"), r.err());
        assertTrue(Files.notExists(dir.resolve("no.npy")));
    }

    @Test
    void demoSaysItsPrecisionAndEnvListsTheCpuPrecisions() {
        CliTest.Result r = CliTest.jrnn("demo", "--samples", "64", "--batch-size", "32", "--backend", "cpu",
                "--precision", "bf16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Backend: cpu (bf16)") && r.out().contains(", bf16)"), r.out());
        r = CliTest.jrnn("env");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cpu precisions: fp32, bf16"), r.out());
    }
}
