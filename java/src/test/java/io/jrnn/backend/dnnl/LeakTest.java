package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.io.KerasModels;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Native memory and open files stay flat: every create → forward → close cycle returns what it took
 * (JavaCPP counts the bytes it allocated in {@link Pointer#totalBytes()}; open descriptors are the
 * entries of {@code /proc/self/fd}). The {@code long} tests (100 000 cycles, 1 000 000 forwards on
 * one model) run with {@code mvn -pl java test -Dgroups=long} (docs/reliability.md).
 */
class LeakTest {
    private static void cycle(int i) {
        RecurrentLayer layer = i % 2 == 0
                ? LSTM.builder().units(16).returnSequences(true).returnState(true).seed(i).build()
                : GRU.builder().units(16).goBackwards(true).seed(i).build();
        try (layer; Tensor x = Tensor.zeros(3 + i % 4, 5, 7)) {
            layer.useBackend(DnnlBackend.instance());
            layer.forward(x).close();
            layer.forward(x).close();
        }
    }

    /** Open file descriptors of this process (Linux). */
    static long openFiles() {
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd (Linux)");
        try (Stream<Path> s = Files.list(fds)) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertCyclesFlat(int cycles) {
        for (int i = 0; i < 50; i++) {
            cycle(i);
        }
        long before = Pointer.totalBytes();
        long files = openFiles();
        for (int i = 0; i < cycles; i++) {
            cycle(i);
        }
        assertNotGrown(before, "JavaCPP bytes outstanding after " + cycles
                + " create/forward/close cycles");
        assertEquals(files, openFiles(), "open files after " + cycles + " cycles");
        System.out.println("leaks: " + cycles + " create/forward/close cycles, native bytes and open files flat");
    }

    @Test
    void createForwardCloseCyclesKeepNativeMemoryAndFilesFlat() {
        assertCyclesFlat(1000);
    }

    @Test
    @Tag("long")
    void hundredThousandCreateForwardCloseCycles() {
        assertCyclesFlat(100_000);
    }

    @Test
    void manyForwardsOnOneLayerKeepNativeMemoryFlat() {
        try (LSTM lstm = LSTM.builder().units(32).returnSequences(true).seed(1).build(); Tensor x = Tensor.zeros(8, 10, 12)) {
            lstm.useBackend(DnnlBackend.instance());
            lstm.forward(x).close();
            long before = Pointer.totalBytes();
            for (int i = 0; i < 5000; i++) {
                lstm.forward(x).close();
            }
            assertNotGrown(before, "bytes outstanding after 5000 forwards");
            assertTrue(Pointer.physicalBytes() > 0);
        }
    }

    private static Path defaultModel() throws Exception {
        return Path.of(LeakTest.class.getResource("/io/jrnn/cli/default-model.h5").toURI());
    }

    private static void loadForwardClose(Path file) {
        try (Sequential model = KerasModels.load(file).useBackend(DnnlBackend.instance());
                Tensor x = Tensor.zeros(2, 7, model.inputShape()[model.inputShape().length - 1]);
                Tensor y = model.forward(x)) {
            assertTrue(y.size() > 0);
        }
    }

    @Test
    void loadingAKerasFileRepeatedlyKeepsNativeMemoryAndFilesFlat() throws Exception {
        Path file = defaultModel();
        for (int i = 0; i < 5; i++) {
            loadForwardClose(file);
        }
        long before = Pointer.totalBytes();
        long files = openFiles();
        for (int i = 0; i < 200; i++) {
            loadForwardClose(file);
        }
        assertNotGrown(before, "JavaCPP bytes outstanding after 200 loads");
        assertEquals(files, openFiles(), "open files after 200 loads");
    }

    @Test
    @Tag("long")
    void millionForwardsOnOneModel() throws Exception {
        try (Sequential model = KerasModels.load(defaultModel()).useBackend(DnnlBackend.instance())) {
            int features = model.inputShape()[model.inputShape().length - 1];
            Tensor[] inputs = new Tensor[4];
            for (int b = 0; b < inputs.length; b++) {
                inputs[b] = Tensor.zeros(1 + b, 5 + b, features);
                model.forward(inputs[b]).close();
            }
            long before = Pointer.totalBytes();
            long files = openFiles();
            for (int i = 0; i < 1_000_000; i++) {
                model.forward(inputs[i % inputs.length]).close();
            }
            assertNotGrown(before, "JavaCPP bytes outstanding after 1 000 000 forwards");
            assertEquals(files, openFiles(), "open files after 1 000 000 forwards");
            for (Tensor t : inputs) {
                t.close();
            }
            System.out.println("leaks: 1000000 forwards on one model, native bytes and open files flat");
        }
    }

    /**
     * Native bytes did not grow: objects collected earlier in the JVM may be freed in the background
     * meanwhile (bytes going down), but what these cycles allocated must all be back.
     */
    private static void assertNotGrown(long before, String what) {
        long after = Pointer.totalBytes();
        assertTrue(after <= before, what + ": " + before + " bytes before, " + after + " after");
    }
}
