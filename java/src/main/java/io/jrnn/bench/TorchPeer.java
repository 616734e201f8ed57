package io.jrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch through {@code tools/bench/torch_peer.py} (bundled in the jar), run by the parent process
 * after the thread count's child JVM has finished (so no oneDNN thread spins beside it), on the
 * {@code .npy} files the child wrote: same weights, inputs and thread count, same sampler settings;
 * not interleaved with jrnn (another process), so its ratio compares medians of the same run.
 */
final class TorchPeer {
    static final String SCRIPT = "/io/jrnn/bench/torch_peer.py";
    static final String NOT_FOUND = "python3 with torch not found (Debian: apt-get install python3-torch"
            + " libopenblas0-pthread; or --python PATH)";

    private TorchPeer() {
    }

    /** The first of {@code configured} (if given) or {@code python3}, {@code /usr/bin/python3} that imports torch, else {@code null}. */
    static String findPython(String configured) {
        List<String> candidates = configured != null ? List.of(configured) : List.of("python3", "/usr/bin/python3");
        for (String python : candidates) {
            try {
                Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return python;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // not installed: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** The result of one script run: label, BLAS library, and per cell id its ms per round and max |Δ|. */
    record Run(String label, String blas, Map<String, double[]> ms, Map<String, Double> maxAbsDiff) {
    }

    static Run run(String python, Path workDir, int threads, List<BenchCell> cells, Sampler sampler)
            throws IOException, InterruptedException {
        Path script = workDir.resolve("torch_peer.py");
        if (!Files.exists(script)) {
            try (InputStream in = TorchPeer.class.getResourceAsStream(SCRIPT)) {
                if (in == null) {
                    throw new IllegalStateException("torch peer script " + SCRIPT + " is not in the jar");
                }
                Files.copy(in, script);
            }
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("threads", threads);
        spec.put("dir", workDir.toString());
        List<Map<String, Object>> list = new ArrayList<>();
        for (BenchCell c : cells) {
            if (!c.hardSigmoid()) {
                list.add(Map.of("id", c.id(), "kind", c.kind().name(), "h", c.h(), "n", c.n(), "t", c.t(), "c", c.c()));
            }
        }
        spec.put("cells", list);
        spec.put("sampler", sampler);
        Path specFile = workDir.resolve("torch-" + threads + ".json");
        Files.writeString(specFile, BenchResults.write(spec));
        Path log = workDir.resolve("torch-" + threads + ".log");
        ProcessBuilder pb = new ProcessBuilder(python, script.toString(), specFile.toString())
                .redirectError(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            List<String> lines = Files.readAllLines(log);
            throw new IllegalStateException("torch peer failed: "
                    + (lines.isEmpty() ? "no message" : lines.get(lines.size() - 1)));
        }
        return parse(new String(out, StandardCharsets.UTF_8));
    }

    static Run parse(String json) throws IOException {
        JsonNode root = BenchResults.JSON.readTree(json);
        Map<String, double[]> ms = new LinkedHashMap<>();
        Map<String, Double> diff = new LinkedHashMap<>();
        for (JsonNode cell : root.path("cells")) {
            JsonNode m = cell.path("ms");
            double[] v = new double[m.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = m.get(i).asDouble();
            }
            ms.put(cell.path("id").asText(), v);
            diff.put(cell.path("id").asText(), cell.path("maxAbsDiff").asDouble());
        }
        return new Run(root.path("label").asText("PyTorch"), root.path("blas").asText(""), ms, diff);
    }
}
