package io.jrnn.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The JSON documents {@code jrnn bench} passes between its processes and writes to {@code --out}. */
public final class BenchResults {
    private BenchResults() {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * What a child JVM is asked to do.
     *
     * @param torchDir where to write the Python peer's {@code .npy} files, or {@code null}
     */
    public record ChildPlan(int threads, List<BenchCell> cells, List<String> peers, Sampler sampler, long peakMs,
            String torchDir) {
    }

    /**
     * One system on one cell.
     *
     * @param system      {@code jrnn}, {@code onednn}, {@code ort}, {@code dl4j}, {@code torch}
     * @param ms          milliseconds per forward, or {@code null} when it did not run
     * @param speedRatio  for a peer: peer ms ÷ jrnn ms per round (&gt; 1: jrnn is faster); {@code null} for jrnn
     * @param interleaved whether the ratio pairs rounds measured moments apart in one process
     * @param maxAbsDiff  max |output − jrnn's output|, or {@code null}
     * @param note        why it did not run, or a remark
     */
    public record SystemResult(String system, String label, String detail, Sampler.Stats ms, Sampler.Stats speedRatio,
            boolean interleaved, Double maxAbsDiff, String note) {
        boolean ran() {
            return ms != null;
        }
    }

    /** All systems on one cell. */
    public record CellResult(BenchCell cell, List<SystemResult> systems) {
        SystemResult system(String name) {
            return systems.stream().filter(s -> s.system().equals(name)).findFirst().orElse(null);
        }
    }

    /**
     * One thread count (one child JVM).
     *
     * @param peers each requested peer's label, or {@code "unavailable: why"}
     */
    public record RunResult(int threads, String cpu, List<MatmulPeak.Peak> peaks, Map<String, String> peers,
            List<CellResult> cells) {
        MatmulPeak.Peak peak(String dataType) {
            return peaks.stream().filter(p -> p.dataType().equals(dataType)).findFirst().orElse(null);
        }
    }

    /** The whole benchmark. */
    public record Report(String date, String commandLine, String cpu, String java, String environment,
            List<RunResult> runs) {
    }

    static <T> T read(Path file, Class<T> type) {
        try {
            return JSON.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
