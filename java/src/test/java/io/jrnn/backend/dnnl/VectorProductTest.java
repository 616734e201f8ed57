package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.layers.Activation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java step's Vector API product: packing, padding, both sweep directions, and when it is available. */
class VectorProductTest {
    /** Surefire starts the test JVM with --add-modules jdk.incubator.vector; FMA and AVX2 or better are given here. */
    @Test
    void theTestJvmHasTheVectorApi() {
        assertTrue(JavaRecurrentStep.FMA, "this project's machines have FMA3");
        assertTrue(JavaRecurrentStep.VECTOR, "the test JVM lacks jdk.incubator.vector (pom.xml argLine)");
        assertTrue(VectorProduct.LANES >= 8, "lanes " + VectorProduct.LANES);
        assertEquals(4 * VectorProduct.LANES, VectorProduct.BLOCK);
    }

    /**
     * One unit range of a [rows, gates·hidden] kernel, packed and multiplied for 1 to 4 batch rows,
     * against the scalar product's arithmetic (the same fused multiply-adds in the same row order:
     * equal to the bit) and against double precision.
     */
    @ParameterizedTest(name = "rows {0} hidden {1} gates {2} from {3} width {4}")
    @CsvSource({"7, 7, 4, 0, 7", "40, 40, 3, 16, 16", "40, 40, 3, 32, 8", "256, 256, 4, 128, 128", "96, 96, 3, 0, 96"})
    void matchesTheScalarProductBitForBitAndDoublePrecision(int rows, int hidden, int gates, int from, int width) {
        SplittableRandom rng = new SplittableRandom(rows * 31L + width);
        int gh = gates * hidden;
        float[] kernel = uniform(rng, rows * gh, 1);
        int gw = gates * width;
        int padded = VectorProduct.padded(gw);
        assertEquals(0, padded % VectorProduct.BLOCK);
        assertTrue(padded >= gw && padded < gw + VectorProduct.BLOCK);
        float[] packed = VectorProduct.pack(kernel, rows, hidden, gates, from, width);
        assertEquals(rows * padded, packed.length);
        for (int n = 1; n <= 4; n++) {
            float[] h = new float[n * rows];
            for (int i = 0; i < h.length; i++) {
                h[i] = (float) rng.nextDouble(-2, 2);
            }
            float[][] start = new float[n][padded];
            for (float[] row : start) {
                for (int j = 0; j < gw; j++) {
                    row[j] = (float) rng.nextDouble(-1, 1);
                }
            }
            float[][] forward = copy(start);
            VectorProduct.product(packed, rows, padded, h, n, forward, false);
            float[][] backward = copy(start);
            VectorProduct.product(packed, rows, padded, h, n, backward, true);
            for (int b = 0; b < n; b++) {
                String where = "batch " + n + " row " + b;
                assertArrayEquals(forward[b], backward[b], where + ": the block order does not change a column's sum");
                for (int j = 0; j < gw; j++) {
                    // The scalar path's arithmetic: a = fma(h_i, r_i, a) for rows i in order.
                    float scalar = start[b][j];
                    double expected = start[b][j];
                    for (int i = 0; i < rows; i++) {
                        float w = kernel[i * gh + (j / width) * hidden + from + j % width];
                        scalar = Math.fma(h[b * rows + i], w, scalar);
                        expected += (double) h[b * rows + i] * w;
                    }
                    assertEquals(scalar, forward[b][j], 0f, where + " column " + j);
                    assertEquals(expected, forward[b][j], 1e-5 * rows, where + " column " + j + " in double precision");
                }
                for (int j = gw; j < padded; j++) {
                    assertEquals(0f, forward[b][j], where + " padding column " + j + " (zero weights, zero start)");
                }
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> VectorProduct.product(packed, rows, padded, new float[5 * rows], 5, new float[5][padded], false));
    }

    /**
     * The input projection of one unit range: rows in sixes and the remainder one by one (1, 6, 7, 13
     * rows), against the same fused multiply-adds in input order from the bias (equal to the bit) and
     * against double precision; padding columns hold the zero bias.
     */
    @ParameterizedTest(name = "rows {0} inputs {1} hidden {2} gates {3} from {4} width {5}")
    @CsvSource({"1, 5, 7, 4, 0, 7", "6, 3, 40, 3, 16, 16", "7, 9, 40, 3, 32, 8", "13, 33, 24, 4, 0, 24",
            "150, 256, 256, 4, 128, 128"})
    void projectsEveryRowLikeTheScalarSumAndDoublePrecision(int rows, int inputs, int hidden, int gates, int from,
            int width) {
        SplittableRandom rng = new SplittableRandom(rows * 17L + inputs);
        int gh = gates * hidden;
        float[] kernel = uniform(rng, inputs * gh, 1);
        int gw = gates * width;
        int padded = VectorProduct.padded(gw);
        float[] bias = new float[padded];
        for (int j = 0; j < gw; j++) {
            bias[j] = (float) rng.nextDouble(-1, 1);
        }
        float[] x = uniform(rng, rows * inputs, 2);
        float[] packed = VectorProduct.pack(kernel, inputs, hidden, gates, from, width);
        float[] out = new float[rows * padded];
        java.util.Arrays.fill(out, Float.NaN);
        VectorProduct.project(x, rows, inputs, packed, bias, padded, out);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < gw; j++) {
                float scalar = bias[j];
                double expected = bias[j];
                for (int i = 0; i < inputs; i++) {
                    float w = kernel[i * gh + (j / width) * hidden + from + j % width];
                    scalar = Math.fma(x[r * inputs + i], w, scalar);
                    expected += (double) x[r * inputs + i] * w;
                }
                assertEquals(scalar, out[r * padded + j], 0f, "row " + r + " column " + j);
                assertEquals(expected, out[r * padded + j], 1e-5 * inputs, "row " + r + " column " + j + " in double");
            }
            for (int j = gw; j < padded; j++) {
                assertEquals(0f, out[r * padded + j], "row " + r + " padding column " + j);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> VectorProduct.project(x, rows + 1, inputs, packed, bias, padded, new float[(rows + 1) * padded]));
    }

    /** {@code n} floats uniform in {@code [-bound, bound)}. */
    private static float[] uniform(SplittableRandom rng, int n, double bound) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) rng.nextDouble(-bound, bound);
        }
        return out;
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    @Test
    void eachStepUsesTheProductItWasBuiltFor() {
        for (boolean vector : new boolean[] {false, true}) {
            try (JavaRecurrentStep step = new JavaRecurrentStep(JavaRecurrentStep.Kind.LSTM, 16, Activation.SIGMOID,
                    Activation.TANH, new float[16 * 64], null, 1, vector, "test")) {
                assertEquals(vector, step.vector());
            }
        }
    }

    /** A step that projects the input needs the Vector API and an input kernel and bias that fit C, G and H. */
    @Test
    void aProjectingStepChecksItsInputKernel() {
        JavaRecurrentStep.Kind lstm = JavaRecurrentStep.Kind.LSTM;
        float[] recurrent = new float[16 * 64];
        try (JavaRecurrentStep step = new JavaRecurrentStep(lstm, 16, Activation.SIGMOID, Activation.TANH, recurrent,
                null, new float[3 * 64], new float[64], 3, 2, true, "test")) {
            assertTrue(step.projects());
        }
        try (JavaRecurrentStep step = new JavaRecurrentStep(lstm, 16, Activation.SIGMOID, Activation.TANH, recurrent,
                null, 2, true, "test")) {
            assertFalse(step.projects());
            JavaRecurrentStep.Task task = step.task(1, 3);
            assertNull(task.input);
            assertThrows(IllegalStateException.class, () -> step.project(task, false));
        }
        IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class,
                () -> new JavaRecurrentStep(lstm, 16, Activation.SIGMOID, Activation.TANH, recurrent, null,
                        new float[3 * 64], new float[64], 3, 2, false, "test"));
        assertTrue(scalar.getMessage().contains("Vector API"), scalar.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> new JavaRecurrentStep(lstm, 16, Activation.SIGMOID, Activation.TANH, recurrent, null,
                        new float[4 * 64], new float[64], 3, 2, true, "test"));
        assertTrue(size.getMessage().contains("C = 3") && size.getMessage().contains("256 floats"), size.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new JavaRecurrentStep(lstm, 16, Activation.SIGMOID, Activation.TANH, recurrent, null,
                        new float[3 * 64], null, 3, 2, true, "test"));
    }

    /**
     * A JVM without the module (or with {@code -Djrnn.composed.vectorProduct=false}) runs the
     * auto-vectorised product, says so in the execution path, refuses a Vector API step by name, and
     * gets the reference backend's numbers ({@link VectorlessMain}).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"without the module, ''", "property false, -Djrnn.composed.vectorProduct=false"})
    void aJvmWithoutTheVectorApiRunsTheScalarProduct(String name, String option) throws Exception {
        String javaBinary = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(javaBinary, "-Xmx512m"));
        if (!option.isEmpty()) {
            command.addAll(List.of("--add-modules", DnnlBackend.VECTOR_MODULE, option));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), VectorlessMain.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("VECTOR=false"), out);
        assertTrue(out.contains("refused: the Vector API product needs a JVM started with --add-modules jdk.incubator.vector"), out);
        assertTrue(out.contains("recurrent product and gates in Java, 1 thread(s)"), out);
        assertTrue(out.contains("batch-1 Java step product auto-vectorised (the Vector API needs --add-modules "
                + "jdk.incubator.vector)"), out);
        Matcher m = Pattern.compile("max abs diff ([0-9.eE+-]+)").matcher(out);
        assertTrue(m.find(), out);
        double diff = Double.parseDouble(m.group(1));
        assertTrue(diff < 1e-5, out);
    }
}
