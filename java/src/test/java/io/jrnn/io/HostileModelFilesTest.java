package io.jrnn.io;

import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jrnn.Model;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.io.KerasFixtures.Array;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and damaged model files: every one ends in a clear exception that names the file (never
 * a JVM error, never unbounded memory). Variants of the bundled default model and of small
 * synthetic {@code .keras} zips.
 */
class HostileModelFilesTest {
    @TempDir
    Path tmp;

    static final String KERAS_CONFIG = ("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
            + "{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [null, 5, 3], 'name': 'input_layer'}},"
            + "{'module': 'keras.layers', 'class_name': 'LSTM', 'config': {'name': 'lstm', 'units': UNITS,"
            + " 'activation': 'ACT', 'return_sequences': false}},"
            + "{'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'dense', 'units': 2, 'activation': 'linear'}}"
            + "]}}").replace('\'', '"');

    static String kerasConfig(long units, String activation) {
        return KERAS_CONFIG.replace("UNITS", Long.toString(units)).replace("ACT", activation);
    }

    static Map<String, List<Array>> kerasVars() {
        Map<String, List<Array>> v = new LinkedHashMap<>();
        v.put("lstm/cell", List.of(random("k", 1, 3, 16), random("r", 2, 4, 16), random("b", 3, 16)));
        v.put("dense", List.of(random("k", 4, 4, 2), random("b", 5, 2)));
        return v;
    }

    static byte[] defaultModel() throws IOException {
        try (InputStream in = HostileModelFilesTest.class.getResourceAsStream("/io/jrnn/cli/default-model.h5")) {
            return in.readAllBytes();
        }
    }

    /**
     * Loads {@code file} as a graph and as a chain and inspects it: each either succeeds or throws
     * one of the documented exceptions, whose message names the file. Returns a bit per success:
     * 1 loadModel, 2 load, 4 inspect (which reads shapes, not values).
     */
    static int loadsOrFailsCleanly(Path file) {
        int ok = 0;
        for (int how = 0; how < 3; how++) {
            try {
                switch (how) {
                    case 0 -> KerasModels.loadModel(file).close();
                    case 1 -> KerasModels.load(file).close();
                    default -> KerasModels.inspect(file);
                }
                ok |= 1 << how;
            } catch (IllegalArgumentException | UnsupportedConfigurationException e) {
                if (e.getMessage() == null || !e.getMessage().contains(file.toString())) {
                    throw new AssertionError("message does not name " + file + ": " + e.getMessage(), e);
                }
            } catch (Throwable t) {
                throw new AssertionError(file + ": undocumented failure " + t, t);
            }
        }
        return ok;
    }

    @Test
    void everyTruncationOfTheDefaultModelFailsCleanly() throws IOException {
        byte[] all = defaultModel();
        int failed = 0;
        // Every 97th cut plus the first bytes: the superblock, the object headers, the B-trees and the data.
        for (int cut = 0; cut < all.length; cut += cut < 64 ? 1 : 97) {
            Path f = tmp.resolve("cut.h5");
            Files.write(f, java.util.Arrays.copyOf(all, cut));
            if ((loadsOrFailsCleanly(f) & 1) == 0) {
                failed++;
            } else {
                fail("the default model cut at " + cut + " of " + all.length + " bytes loads");
            }
        }
        assertTrue(failed > 400, "every truncation fails, failed " + failed);
    }

    @Test
    void bitFlippedDefaultModelsLoadOrFailCleanly() throws IOException {
        byte[] all = defaultModel();
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 400; i++) {
            byte[] b = all.clone();
            int flips = 1 + rng.nextInt(4);
            for (int k = 0; k < flips; k++) {
                // Half the flips in the metadata-heavy first 4 KiB, half anywhere.
                int pos = rng.nextBoolean() ? rng.nextInt(Math.min(4096, b.length)) : rng.nextInt(b.length);
                b[pos] ^= (byte) (1 << rng.nextInt(8));
            }
            Path f = tmp.resolve("flip" + i + ".h5");
            Files.write(f, b);
            loadsOrFailsCleanly(f);
            Files.delete(f);
        }
    }

    @Test
    void truncatedAndBitFlippedKerasZipsFailCleanly() throws IOException {
        Path good = KerasFixtures.writeKeras(tmp.resolve("good.keras"), kerasConfig(4, "tanh"), "3.4.1", kerasVars());
        assertEquals(7, loadsOrFailsCleanly(good), "the unmodified archive loads");
        byte[] all = Files.readAllBytes(good);
        for (int cut = 0; cut < all.length; cut += 53) {
            Path f = tmp.resolve("cut.keras");
            Files.write(f, java.util.Arrays.copyOf(all, cut));
            assertEquals(0, loadsOrFailsCleanly(f), "cut at " + cut);
        }
        SplittableRandom rng = new SplittableRandom(11);
        for (int i = 0; i < 300; i++) {
            byte[] b = all.clone();
            b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
            Path f = tmp.resolve("flip.keras");
            Files.write(f, b);
            loadsOrFailsCleanly(f);
        }
    }

    @Test
    void hugeDeclaredUnitsAreRefusedBeforeAllocating() {
        for (long units : new long[] {2_000_000_000L, 1L << 40, 100_000, -4, 0}) {
            Path f = KerasFixtures.writeKeras(tmp.resolve("units" + Math.abs(units) + ".keras"), kerasConfig(units, "tanh"), "3.4.1",
                    kerasVars());
            long before = Runtime.getRuntime().totalMemory();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.loadModel(f).close(),
                    "units " + units);
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("lstm"), e.getMessage());
            if (units > KerasConfig.MAX_SIZE) {
                assertTrue(e.getMessage().contains("at most " + KerasConfig.MAX_SIZE), e.getMessage());
            }
            assertTrue(Runtime.getRuntime().totalMemory() - before < 512L << 20, "no big allocation for units " + units);
        }
    }

    @Test
    void maxParametersLimitsWhatAFileMayDeclare() throws IOException {
        Path f = tmp.resolve("default.h5");
        Files.write(f, defaultModel());
        KerasModels.loadModel(f).close();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> KerasModels.loadModel(f, LoadOptions.defaults().withMaxParameters(100)).close());
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("maxParameters")
                && e.getMessage().contains("declares shape"), e.getMessage());
        assertEquals(f.toString(), e.file());
        String old = System.getProperty("jrnn.maxParameters");
        System.setProperty("jrnn.maxParameters", "1000");
        try {
            assertThrows(ModelFormatException.class, () -> KerasModels.loadModel(f).close());
            System.setProperty("jrnn.maxParameters", "lots");
            assertTrue(assertThrows(IllegalArgumentException.class, LoadOptions::defaults).getMessage().contains("jrnn.maxParameters"));
        } finally {
            if (old == null) {
                System.clearProperty("jrnn.maxParameters");
            } else {
                System.setProperty("jrnn.maxParameters", old);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.defaults().withMaxParameters(0));
    }

    @Test
    void absurdDeclaredDatasetDimensionsAreRefused() throws IOException {
        // Patch the dataspace of the 4x16 recurrent kernel ("r") to declare 4 x 2^31-1 (and 2^40) elements.
        Path good = KerasFixtures.writeKeras(tmp.resolve("good.keras"), kerasConfig(4, "tanh"), "3.4.1", kerasVars());
        Path weights = tmp.resolve("w.h5");
        byte[] h5;
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(good.toFile())) {
            h5 = z.getInputStream(z.getEntry("model.weights.h5")).readAllBytes();
        }
        int patched = 0;
        for (long huge : new long[] {Integer.MAX_VALUE, 1L << 40, -1L}) {
            byte[] b = h5.clone();
            int at = indexOfDims(b, 4, 16);
            if (at < 0) {
                fail("dataspace [4, 16] not found in the weights file");
            }
            putLong(b, at + 8, huge);
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("config.json", kerasConfig(4, "tanh").getBytes(StandardCharsets.UTF_8));
            entries.put("model.weights.h5", b);
            Path f = tmp.resolve("huge" + patched++ + ".keras");
            KerasFixtures.writeZip(f, entries);
            long before = Runtime.getRuntime().totalMemory();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.loadModel(f).close());
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            assertTrue(Runtime.getRuntime().totalMemory() - before < 512L << 20, "no big allocation for " + huge);
            loadsOrFailsCleanly(f);
        }
        Files.deleteIfExists(weights);
    }

    private static int indexOfDims(byte[] b, long d0, long d1) {
        outer:
        for (int i = 0; i + 16 <= b.length; i++) {
            for (int k = 0; k < 8; k++) {
                if (b[i + k] != (byte) (d0 >>> (8 * k)) || b[i + 8 + k] != (byte) (d1 >>> (8 * k))) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int k = 0; k < 8; k++) {
            b[at + k] = (byte) (v >>> (8 * k));
        }
    }

    @Test
    void unknownActivationAndLayerNameTheLayer() {
        Path f = KerasFixtures.writeKeras(tmp.resolve("act.keras"), kerasConfig(4, "swishy"), "3.4.1", kerasVars());
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.loadModel(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("lstm") && e.getMessage().contains("swishy"),
                e.getMessage());
        String unknown = kerasConfig(4, "tanh").replace("\"Dense\"", "\"FancyDense\"");
        Path g = KerasFixtures.writeKeras(tmp.resolve("layer.keras"), unknown, "3.4.1", kerasVars());
        e = assertThrows(UnsupportedConfigurationException.class, () -> KerasModels.loadModel(g));
        assertTrue(e.getMessage().contains(g.toString()) && e.getMessage().contains("FancyDense"), e.getMessage());
    }

    @Test
    void pathTraversalEntryNamesAreRefused() throws IOException {
        Path good = KerasFixtures.writeKeras(tmp.resolve("good.keras"), kerasConfig(4, "tanh"), "3.4.1", kerasVars());
        Map<String, byte[]> base = new LinkedHashMap<>();
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(good.toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                base.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        for (String evil : new String[] {"../../etc/passwd", "/tmp/evil", "a/../../b", "..\\win.ini", "C:/x", "assets/.."}) {
            Map<String, byte[]> entries = new LinkedHashMap<>(base);
            entries.put(evil, new byte[] {1});
            Path f = tmp.resolve("evil.keras");
            KerasFixtures.writeZip(f, entries);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> KerasModels.loadModel(f), evil);
            assertTrue(e.getMessage().contains(evil) && e.getMessage().startsWith(f.toString()), e.getMessage());
        }
        // Dots inside names are fine.
        Map<String, byte[]> entries = new LinkedHashMap<>(base);
        entries.put("assets/..hidden/x.txt", new byte[] {1});
        Path f = tmp.resolve("dots.keras");
        KerasFixtures.writeZip(f, entries);
        KerasModels.loadModel(f).close();
    }

    @Test
    void decompressionBombsAreStoppedWhileInflating() throws IOException {
        Path bomb = tmp.resolve("bomb.keras");
        try (OutputStream out = Files.newOutputStream(bomb); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("config.json"));
            zip.write(kerasConfig(4, "tanh").getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.setLevel(9);
            zip.putNextEntry(new ZipEntry("model.weights.h5"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros); // 64 MiB of zeros: about 64 KiB compressed
            }
            zip.closeEntry();
        }
        assertTrue(Files.size(bomb) < 1 << 20);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> KerasModels.loadModel(bomb));
        assertTrue(e.getMessage().contains("decompression bomb") && e.getMessage().contains("model.weights.h5"), e.getMessage());
        // The absolute cap, with the ratio guard relaxed.
        e = assertThrows(ModelFormatException.class,
                () -> KerasModels.loadModel(bomb, LoadOptions.defaults().withArchiveLimits(10 << 20, Integer.MAX_VALUE)));
        assertTrue(e.getMessage().contains("inflates past " + (10 << 20)), e.getMessage());
        // A config.json bomb is capped too.
        Path jsonBomb = tmp.resolve("jsonbomb.keras");
        try (OutputStream out = Files.newOutputStream(jsonBomb); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("config.json"));
            byte[] spaces = new byte[1 << 20];
            java.util.Arrays.fill(spaces, (byte) ' ');
            for (int i = 0; i < 32; i++) {
                zip.write(spaces);
            }
            zip.closeEntry();
        }
        e = assertThrows(ModelFormatException.class, () -> KerasModels.loadModel(jsonBomb));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void jsonNestingBombsFailCleanly() {
        int[] depths = {2_000, 200_000};
        for (int depth : depths) {
            String deep = "[".repeat(depth) + "]".repeat(depth);
            String config = kerasConfig(4, "tanh").replace("\"return_sequences\": false", "\"return_sequences\": false, \"x\": " + deep);
            Path f = KerasFixtures.writeKeras(tmp.resolve("deep" + depth + ".keras"), config, "3.4.1", kerasVars());
            assertEquals(0, loadsOrFailsCleanly(f));
            Path h = KerasFixtures.writeH5(tmp.resolve("deep" + depth + ".h5"), deep, "2.2.4", Map.of());
            assertEquals(0, loadsOrFailsCleanly(h));
        }
        // Wrappers nested deeper than the JSON limit allows recursion: Bidirectional(Bidirectional(...)).
        String layer = "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"l\", \"units\": 4}}";
        for (int i = 0; i < 900; i++) {
            layer = "{\"class_name\": \"Bidirectional\", \"config\": {\"name\": \"b" + i + "\", \"layer\": " + layer + "}}";
        }
        String config = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [" + layer + "]}}";
        Path f = KerasFixtures.writeKeras(tmp.resolve("wrappers.keras"), config, "3.4.1", Map.of());
        assertEquals(0, loadsOrFailsCleanly(f));
    }

    @Test
    void modelFormatExceptionWrapsReaderErrorsWithTheFile() {
        RuntimeException e = ModelFormatException.wrap("m.h5", "cannot read", new StackOverflowError());
        assertInstanceOf(ModelFormatException.class, e);
        assertTrue(e.getMessage().startsWith("m.h5: cannot read: nesting too deep"), e.getMessage());
        e = ModelFormatException.wrap("m.h5", "cannot read", new OutOfMemoryError("Java heap space"));
        assertTrue(e.getMessage().contains("declared size"), e.getMessage());
        e = ModelFormatException.wrap("m.h5", "cannot read", new NegativeArraySizeException("-3"));
        assertTrue(e.getMessage().contains("NegativeArraySizeException: -3"), e.getMessage());
        IllegalArgumentException named = new IllegalArgumentException("m.h5: already named");
        assertTrue(ModelFormatException.wrap("m.h5", "x", named) == named);
    }

    @Test
    void loadedModelsStillRun() throws IOException {
        Path f = tmp.resolve("default.h5");
        Files.write(f, defaultModel());
        try (Model m = KerasModels.loadModel(f)) {
            assertEquals(1, m.outputNames().size());
        }
    }
}
