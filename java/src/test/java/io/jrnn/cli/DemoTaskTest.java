package io.jrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DemoTaskTest {

    @Test
    void shapesAndLabelRange() {
        DemoTask.Batch b = DemoTask.generate(500, 1L);
        assertEquals(500 * DemoTask.STEPS * DemoTask.FEATURES, b.inputs().length);
        assertEquals(500, b.labels().length);
        int[] counts = new int[DemoTask.CLASSES];
        for (int label : b.labels()) {
            assertTrue(label >= 0 && label < DemoTask.CLASSES, "label " + label);
            counts[label]++;
        }
        for (int c : counts) {
            assertTrue(c > 50, "every class appears: " + Arrays.toString(counts));
        }
        for (float v : b.inputs()) {
            assertTrue(Float.isFinite(v) && Math.abs(v) < 5f, "value " + v);
        }
        assertEquals(0, DemoTask.generate(0, 1L).labels().length);
        assertThrows(IllegalArgumentException.class, () -> DemoTask.generate(-1, 1L));
    }

    @Test
    void deterministicPerSeedAndPrefixStable() {
        DemoTask.Batch a = DemoTask.generate(64, 42L);
        DemoTask.Batch b = DemoTask.generate(64, 42L);
        assertArrayEquals(a.inputs(), b.inputs());
        assertArrayEquals(a.labels(), b.labels());
        DemoTask.Batch longer = DemoTask.generate(100, 42L);
        assertArrayEquals(a.inputs(), Arrays.copyOf(longer.inputs(), a.inputs().length));
        assertArrayEquals(a.labels(), Arrays.copyOf(longer.labels(), 64));
        assertFalse(Arrays.equals(a.inputs(), DemoTask.generate(64, 43L).inputs()));
    }

    @Test
    void matchesTheNumpyGeneratorOfTrainPy() {
        // Values printed by tools/default-model/train.py: generate(3, TEST_SEED).
        DemoTask.Batch b = DemoTask.generate(3, DemoTask.TEST_SEED);
        assertArrayEquals(new int[] {0, 4, 2}, b.labels());
        float[] x = b.inputs();
        int last = (2 * DemoTask.STEPS + 39) * DemoTask.FEATURES;
        assertArrayEquals(new float[] {-0.33200836181640625f, -0.2940804660320282f, -0.09570825845003128f},
                Arrays.copyOfRange(x, 0, 3));
        assertArrayEquals(new float[] {-0.4897071123123169f, -0.12363318353891373f, 0.19729287922382355f},
                Arrays.copyOfRange(x, last, last + 3));
    }

    @Test
    void matchesTheBundledModelSampleFixture() throws IOException {
        JsonNode root;
        try (InputStream in = DemoTaskTest.class.getResourceAsStream("/fixtures/default-model/sample.json")) {
            assertNotNull(in, "fixtures/default-model/sample.json is missing");
            root = new ObjectMapper().readTree(in);
        }
        int n = root.get("input").get("shape").get(0).asInt();
        DemoTask.Batch b = DemoTask.generate(n, root.get("seed").asLong());
        JsonNode data = root.get("input").get("data");
        assertEquals(b.inputs().length, data.size());
        for (int i = 0; i < data.size(); i++) {
            assertEquals(Float.floatToIntBits((float) data.get(i).asDouble()), Float.floatToIntBits(b.inputs()[i]),
                    "input " + i);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(root.get("labels").get(i).asInt(), b.labels()[i], "label " + i);
        }
    }

    @Test
    void accuracyOnHandMadeCase() {
        float[] p = {
            0.9f, 0.1f, 0f, 0f, 0f,       // argmax 0
            0f, 0f, 0.2f, 0.7f, 0.1f,     // argmax 3
            0.2f, 0.2f, 0.2f, 0.2f, 0.2f, // tie: first index, 0
            0f, 0f, 0f, 0f, 1f,           // argmax 4
        };
        assertEquals(0.75, DemoTask.accuracy(p, new int[] {0, 3, 0, 1}), 0.0);
        assertEquals(1.0, DemoTask.accuracy(p, new int[] {0, 3, 0, 4}), 0.0);
        assertEquals(0.0, DemoTask.accuracy(p, new int[] {1, 1, 1, 1}), 0.0);
        assertEquals(0.0, DemoTask.accuracy(new float[0], new int[0]), 0.0);
        assertThrows(IllegalArgumentException.class, () -> DemoTask.accuracy(p, new int[] {0, 1}));
    }

    @Test
    void describeIsOneLine() {
        String d = DemoTask.describe();
        assertTrue(d.startsWith("frequency classification"), d);
        assertFalse(d.contains("\n"));
    }
}
