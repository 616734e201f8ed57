package io.jrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jrnn bench}'s argument validation: one line on stderr, exit 1, nothing run. */
class BenchCommandTest {
    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    static void assertOneLineError(String expected, String... args) {
        String[] r = run(args);
        assertEquals("1", r[0], r[2]);
        assertEquals("jrnn bench: " + expected + System.lineSeparator(), r[2]);
        assertEquals("", r[1]);
    }

    @Test
    void badArgumentsGiveOneClearLine(@TempDir Path dir) throws Exception {
        assertOneLineError("--threads: expected positive integers, got '0'", "bench", "--threads", "0");
        assertOneLineError("--peers: expected some of onednn,ort,dl4j,torch (or none), got 'mxnet'", "bench", "--peers",
                "ort,mxnet");
        assertOneLineError("--shapes: expected HxNxTxC (e.g. 512x64x25x512), got '512x64'", "bench", "--shapes", "512x64");
        assertOneLineError("--cells: expected some of lstm,gru,rnn,lstm-hs, got 'conv'", "bench", "--cells", "lstm,conv");
        assertOneLineError("--rounds: expected a positive integer, got 0", "bench", "--rounds", "0");
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertOneLineError("--out: expected a directory, got the file " + file, "bench", "--out", file.toString());
    }

    @Test
    void helpListsTheOptions() {
        String[] r = run("bench", "--help");
        assertEquals("0", r[0]);
        for (String option : new String[] {"--quick", "--peers", "--shapes", "--cells", "--threads", "--out"}) {
            assertTrue(r[1].contains(option), r[1]);
        }
    }
}
