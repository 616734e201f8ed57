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
     * @param torchDir   where to write the Python peer's {@code .npy} files, or {@code null}
     * @param precisions {@code fp32} (always: jrnn fp32 is the reference) and optionally {@code bf16}
     *                   (row {@code jrnn-bf16}, or its "n/a" row on a CPU without bf16)
     */
    public record ChildPlan(int threads, List<BenchCell> cells, List<String> peers, Sampler sampler, long peakMs,
            String torchDir, List<String> precisions) {
        public ChildPlan {
            precisions = precisions == null ? List.of("fp32") : List.copyOf(precisions);
        }

        /** fp32 only. */
        public ChildPlan(int threads, List<BenchCell> cells, List<String> peers, Sampler sampler, long peakMs,
                String torchDir) {
            this(threads, cells, peers, sampler, peakMs, torchDir, List.of("fp32"));
        }

        boolean bf16() {
            return precisions.contains("bf16");
        }
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
     * @param bf16Ratios  for {@code jrnn-bf16} only (else {@code null}): per other system ({@code jrnn} = jrnn
     *                    fp32, {@code onednn}, {@code ort}, …), that system's ms ÷ bf16 ms per round (&gt; 1:
     *                    bf16 is faster); {@code torch} divides by bf16's median (separate process)
     */
    public record SystemResult(String system, String label, String detail, Sampler.Stats ms, Sampler.Stats speedRatio,
            boolean interleaved, Double maxAbsDiff, String note, Map<String, Sampler.Stats> bf16Ratios) {
        /** A row without bf16 ratios. */
        public SystemResult(String system, String label, String detail, Sampler.Stats ms, Sampler.Stats speedRatio,
                boolean interleaved, Double maxAbsDiff, String note) {
            this(system, label, detail, ms, speedRatio, interleaved, maxAbsDiff, note, null);
        }

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
