package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchChildPeerTest {
    @Test
    void aRegistrationWhoseClassIsMissingMeansThePeerIsUnavailable(@TempDir Path dir) throws Exception {
        // What a plain rebuild after a -Pdl4j build leaves behind: the service file without its class.
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(Peer.class.getName()), "io.jrnn.bench.NoSuchPeer\n");
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, old)) {
            t.setContextClassLoader(loader);
            assertNull(BenchChild.peer("dl4j"));
        } finally {
            t.setContextClassLoader(old);
        }
    }

    @Test
    void theChildEntryPointIsTheClisAndBadArgumentsAreStatusTwoWithoutExiting() throws Exception {
        org.junit.jupiter.api.Assertions.assertEquals(BenchChild.MAIN_CLASS,
                Class.forName(BenchChild.MAIN_CLASS).getName());
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        org.junit.jupiter.api.Assertions.assertEquals(2,
                BenchChild.runFiles(new String[] {"only-one"}, new java.io.PrintStream(err, true)));
        org.junit.jupiter.api.Assertions.assertTrue(err.toString().startsWith("usage: BenchChildMain"), err.toString());
    }
}
