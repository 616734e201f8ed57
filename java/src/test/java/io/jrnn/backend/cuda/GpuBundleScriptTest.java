package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU bundle's library discovery ({@code tools/gpu-bundle/find-cuda-libs.sh}, sourced by
 * {@code run.sh}) against a fake file tree, and {@code run.sh}'s argument check. Needs bash.
 */
class GpuBundleScriptTest {
    private static final Path TOOLS = Path.of(System.getProperty("user.dir")).resolve("../tools/gpu-bundle").normalize();

    @TempDir
    Path root;

    @BeforeEach
    void needsBash() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")) || Files.isExecutable(Path.of("/usr/bin/bash")),
                "no bash here");
        assertTrue(Files.isRegularFile(TOOLS.resolve("find-cuda-libs.sh")), TOOLS + " has no find-cuda-libs.sh");
    }

    @Test
    void findsPipWheelsFirstThenToolkitsThenSystemFoldersAndKeepsTheCallersPath() throws Exception {
        Path site = root.resolve("opt/torch/.venv/lib/python3.12/site-packages/nvidia");
        touch(site.resolve("cu13/lib/libcudart.so.13"));
        touch(site.resolve("cu13/lib/libcublas.so.13"));
        touch(site.resolve("cudnn/lib/libcudnn.so.9"));
        touch(site.resolve("nccl/lib/libnccl.so.2")); // not a library jrnn needs: its folder stays out
        Path userSite = root.resolve("pyhome/nvidia");
        touch(userSite.resolve("cudnn/lib/libcudnn_ops.so.9"));
        touch(root.resolve("usr/local/cuda-13.0/targets/x86_64-linux/lib/libcudart.so.13"));
        // /usr/local/cuda is a link to cuda-13.0: the same folder, listed once (byte order: "cuda-13.0/" < "cuda/").
        Files.createSymbolicLink(root.resolve("usr/local/cuda"), root.resolve("usr/local/cuda-13.0"));
        touch(root.resolve("usr/local/cuda-12.4/lib64/libcublas.so.12"));
        touch(root.resolve("usr/lib/x86_64-linux-gnu/libcudnn.so.9"));
        touch(root.resolve("usr/lib64/libz.so.1"));
        // A python whose `nvidia` package spans two folders, one of them the venv's (seen twice, listed once).
        Path python = root.resolve("bin/python3");
        touch(python);
        Files.writeString(python, "#!/bin/sh\nprintf '%s\\n%s\\n' '" + userSite + "' '" + site + "'\n");
        Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwxr-xr-x"));

        String path = discover(Map.of("JRNN_PYTHON", python.toString(), "LD_LIBRARY_PATH", "/mine/lib"));
        assertEquals(String.join(":",
                "/mine/lib",
                userSite.resolve("cudnn/lib").toString(),
                site.resolve("cu13/lib").toString(),
                site.resolve("cudnn/lib").toString(),
                root.resolve("usr/local/cuda-13.0/targets/x86_64-linux/lib").toString(),
                root.resolve("usr/local/cuda-12.4/lib64").toString(),
                root.resolve("usr/lib/x86_64-linux-gnu").toString()), path);

        // Without a python and without a caller's path: the same folders from the fixed globs, no leading ':'.
        String withoutPython = discover(Map.of("JRNN_PYTHON", root.resolve("no-python").toString()));
        assertEquals(String.join(":",
                site.resolve("cu13/lib").toString(),
                site.resolve("cudnn/lib").toString(),
                root.resolve("usr/local/cuda-13.0/targets/x86_64-linux/lib").toString(),
                root.resolve("usr/local/cuda-12.4/lib64").toString(),
                root.resolve("usr/lib/x86_64-linux-gnu").toString()), withoutPython);
    }

    @Test
    void anEmptyTreeGivesTheCallersPathUnchanged() throws Exception {
        assertEquals("", discover(Map.of("JRNN_PYTHON", root.resolve("no-python").toString())));
        assertEquals("/a:/b", discover(Map.of("JRNN_PYTHON", root.resolve("no-python").toString(),
                "LD_LIBRARY_PATH", "/a:/b")));
    }

    @Test
    void runShRejectsUnknownArgumentsBeforeDoingAnything() throws Exception {
        Result r = bash(List.of(TOOLS.resolve("run.sh").toString(), "--bogus"), Map.of("REPORT_DIR",
                root.resolve("reports").toString()));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("unknown argument '--bogus'"), r.output());
        assertTrue(Files.notExists(root.resolve("reports")), "run.sh created its report folder before checking arguments");
    }

    @Test
    void theProfilerRunsOnlyWithProfileAfterTheBenchmark() throws Exception {
        Result help = bash(List.of(TOOLS.resolve("run.sh").toString(), "--help"), Map.of("REPORT_DIR",
                root.resolve("reports").toString()));
        assertEquals(0, help.exit(), help.output());
        assertTrue(help.output().contains("--profile"), help.output());
        Result bogus = bash(List.of(TOOLS.resolve("run.sh").toString(), "--bogus"), Map.of("REPORT_DIR",
                root.resolve("reports").toString()));
        assertTrue(bogus.output().contains("--profile"), "the valid-argument list names --profile: " + bogus.output());
        String run = Files.readString(TOOLS.resolve("run.sh"));
        assertTrue(run.contains("RUN_PROFILE=0\n"), "--profile must not be part of the default run");
        assertTrue(run.contains("--profile) RUN_PROFILE=1 ;;"), run);
        int bench = run.indexOf("io.jrnn.backend.cuda.GpuBenchmark");
        int profile = run.lastIndexOf("io.jrnn.backend.cuda.GpuProfile");
        assertTrue(bench > 0 && profile > bench, "GpuProfile runs after the benchmark");
        assertTrue(run.contains("grep '^GPU-PROFILE' \"$REPORT/gpu-profile.log\" >\"$REPORT/gpu-profile.txt\""), run);
        assertTrue(run.indexOf("cat \"$REPORT/gpu-profile.txt\"") > run.indexOf("SUMMARY"),
                "the summary carries the GPU-PROFILE lines");
    }

    @Test
    void thePyTorchPeerMeasuresTheSameCasesAsTheJavaBenchmark() throws Exception {
        Assumptions.assumeTrue(onPath("python3"), "no python3 here");
        for (boolean quick : new boolean[] {false, true}) {
            ProcessBuilder pb = new ProcessBuilder("python3", "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                    + " import torch_peer as t; print(' '.join(t.case_id(*c) for c in t.deep_bench(sys.argv[2] == 'quick')))",
                    TOOLS.toString(), quick ? "quick" : "full").redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertEquals(GpuBenchReport.deepBench(quick).stream().map(GpuBenchReport.Case::id)
                    .collect(java.util.stream.Collectors.joining(" ")), out);
        }
    }

    @Test
    void theSummaryGroupsParityLinesByTheirPrecisionFieldAndLeavesChecksOut() throws Exception {
        Path log = root.resolve("gpu-tests.log");
        Files.writeString(log, String.join("\n",
                "│  ├─ [1] LSTM ✔",
                GpuChecks.parityLine("LSTM tanh FP32", Precision.FP32, 3e-5, 1e-4),
                // Large outputs checked relative to max(1, |expected|): the absolute error may pass 1e-4.
                GpuChecks.parityLine("GRU exponential FP32", Precision.FP32, 2e-3, 5e-6, 1e-4),
                "GPU-PARITY-FAILED GRU_x output 0 element 1 expected 1.0 got 2.0",
                // Names that would fool a guess from the name: only the precision field counts.
                GpuChecks.parityLine("fp16 named but fp32", Precision.FP32, 1e-5, 1e-4),
                GpuChecks.parityLine("LSTM_precision", Precision.TF32, 1e-3, 2e-2),
                GpuChecks.parityLine("FP16 LSTM", Precision.FP16, 1e-2, 2e-2),
                GpuChecks.parityLine("BF16 GRU", Precision.BF16, 3e-2, 2e-2),
                "GPU-CHECK kernel_jrnn_f32_to_bf16_roundtrip maxRelErr=3.900e-03 bound=0.00390625",
                "GPU-CHECK kernel_jrnn_f32_to_f16_roundtrip maxRelErr=4.800e-04 bound=4.8828125E-4",
                "GPU-CHECK leak_200_cycles liveDeviceBytes=0",
                "GPU-BENCH-CHECK direct-lstm-x precision=fp16 maxAbsErr=1.000e-03 tolerance=0.02", ""));
        Result r = bash(List.of("-c", ". \"$1\" && jrnn_parity_summary GPU-PARITY parity '(none)' \"$2\""
                + " && jrnn_parity_summary GPU-BENCH-CHECK bench '(none)' \"$2\""
                + " && jrnn_parity_summary GPU-NOTHING other '(no lines)' \"$2\"", "test",
                TOOLS.resolve("parity-summary.sh").toString(), log.toString()), Map.of());
        assertEquals(0, r.exit(), r.output());
        assertEquals(List.of(
                "parity fp32: worst error 3e-05 (LSTM_tanh_FP32) over 3 cases, all within their tolerance",
                "parity tf32: worst error 0.001 (LSTM_precision) over 1 cases, all within their tolerance",
                "parity fp16: worst error 0.01 (FP16_LSTM) over 1 cases, all within their tolerance",
                "parity bf16: worst error 0.03 (BF16_GRU) over 1 cases, 1 OVER their tolerance, first BF16_GRU"
                        + " (0.03 > 0.02)",
                "bench fp16: worst error 0.001 (direct-lstm-x) over 1 cases, all within their tolerance",
                "other: (no lines)"), r.output().strip().lines().toList());
    }

    @Test
    void runShSummarisesWithTheSummaryScript() throws Exception {
        String run = Files.readString(TOOLS.resolve("run.sh"));
        assertTrue(run.contains(". \"$HERE/parity-summary.sh\""), "run.sh does not source parity-summary.sh");
        assertTrue(run.contains("jrnn_parity_summary GPU-PARITY "), "run.sh does not summarise GPU-PARITY lines");
        assertTrue(Files.readString(TOOLS.resolve("build.sh")).contains("\"$SRC/parity-summary.sh\""),
                "build.sh does not put parity-summary.sh into the bundle");
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private String discover(Map<String, String> env) throws Exception {
        Result r = bash(List.of("-c", ". \"$1\" && jrnn_ld_library_path", "test",
                TOOLS.resolve("find-cuda-libs.sh").toString()), env);
        assertEquals(0, r.exit(), r.output());
        return r.output().strip();
    }

    private Result bash(List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder();
        pb.command().add("bash");
        pb.command().addAll(args);
        Map<String, String> e = pb.environment();
        e.remove("LD_LIBRARY_PATH");
        e.remove("VIRTUAL_ENV");
        e.put("HOME", root.resolve("home").toString());
        e.put("JRNN_LIBSCAN_PREFIX", root.toString());
        e.putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash did not finish");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private record Result(int exit, String output) {
    }

    private static void touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[0]);
    }
}
