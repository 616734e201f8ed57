package io.jrnn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.bench.BenchResults.RunResult;
import io.jrnn.bench.BenchResults.SystemResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The parent/child protocol, peers that are missing, the sampler and the progress bar. */
class BenchRunnerTest {
    static final Sampler TINY = new Sampler(1, 2, 1, 0);

    @Test
    void childProcessRunsAndItsJsonRoundTrips(@TempDir Path dir) throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.GRU, false, 8, 2, 3, 5);
        StringWriter err = new StringWriter();
        BenchResults.Report report = BenchRunner.run(new BenchRunner.Plan(List.of(cell), List.of(1),
                List.of("onednn", "dl4j"), TINY, 5, null, "jrnn bench test"), dir, new PrintWriter(err, true));
        assertEquals(1, report.runs().size());
        RunResult run = report.runs().get(0);
        assertEquals(1, run.threads());
        assertEquals("unavailable: not built (mvn -Pdl4j)", run.peers().get("dl4j"));
        assertTrue(run.peak("fp32").medianGflops() > 0, run.peaks().toString());
        SystemResult jrnn = run.cells().get(0).system("jrnn");
        SystemResult direct = run.cells().get(0).system("onednn");
        assertTrue(jrnn.detail().startsWith("oneDNN lbr_gru_forward ("), jrnn.detail());
        assertEquals(jrnn.detail(), direct.detail(), "the direct peer runs jrnn's primitive and weight format");
        assertEquals(0.0, direct.maxAbsDiff(), 1e-6);
        assertEquals(2, jrnn.ms().count());
        assertTrue(direct.speedRatio().median() > 0);
        assertTrue(err.toString().contains("] 2/2 GRU (8, 2, 3, 5) threads=1"), err.toString());
        // What the child wrote is what the parent read: JSON round trip of the whole report.
        String json = BenchResults.write(report);
        Path file = dir.resolve("again.json");
        Files.writeString(file, json);
        assertEquals(report, BenchResults.read(file, BenchResults.Report.class));
    }

    @Test
    void bf16RowIsTimedInTheSameChildAgainstJrnnFp32(@TempDir Path dir) throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.LSTM, false, 16, 2, 3, 8);
        BenchCell hs = new BenchCell(BenchCell.Kind.LSTM, true, 16, 2, 3, 8);
        BenchResults.Report report = BenchRunner.run(new BenchRunner.Plan(List.of(cell, hs), List.of(1),
                List.of("onednn"), TINY, 5, null, "jrnn bench test", List.of("fp32", "bf16")), dir,
                new PrintWriter(new StringWriter(), true));
        RunResult run = report.runs().get(0);
        boolean bf16 = io.jrnn.backend.dnnl.DnnlBackend.supportedPrecisions().contains(io.jrnn.Precision.BF16);
        for (BenchResults.CellResult c : run.cells()) {
            SystemResult row = c.system(BenchChild.BF16);
            assertEquals(List.of("jrnn", BenchChild.BF16), c.systems().stream().map(SystemResult::system).limit(2)
                    .toList(), "bf16 comes right after jrnn fp32");
            if (!bf16) {
                assertTrue(row.note().startsWith("this CPU has no bf16 ("), row.note());
                continue;
            }
            assertTrue(row.ran(), String.valueOf(row.note()));
            assertTrue(row.detail().contains("bf16"), row.detail());
            assertEquals(2, row.ms().count());
            assertTrue(row.maxAbsDiff() > 0 && row.maxAbsDiff() <= 1e-2, "bf16 differs from fp32, within 1e-2: "
                    + row.maxAbsDiff());
            assertTrue(row.bf16Ratios().get("jrnn").median() > 0);
            assertEquals(!c.cell().hardSigmoid(), row.bf16Ratios().containsKey("onednn"), row.bf16Ratios().toString());
        }
        if (bf16) {
            assertTrue(run.peak("bf16") != null, "the bf16 peak is measured where bf16 runs");
        }
        Path file = dir.resolve("again.json");
        Files.writeString(file, BenchResults.write(report));
        assertEquals(report, BenchResults.read(file, BenchResults.Report.class));
    }

    @Test
    void bf16RowSaysNaWhereOneDnnFindsNoBf16(@TempDir Path dir) throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.GRU, false, 8, 2, 3, 5);
        BenchResults.ChildPlan plan = new BenchResults.ChildPlan(1, List.of(cell), List.of(), TINY, 5, null,
                List.of("fp32", "bf16"));
        List<String> command = new ArrayList<>(List.of("env", "ONEDNN_MAX_CPU_ISA=AVX2"));
        command.addAll(BenchRunner.childCommand(dir.resolve("plan-1.json"), dir.resolve("result-1.json")));
        RunResult run = BenchRunner.runChild(plan, dir, new BenchRunner.ProgressBar(2,
                new PrintWriter(new StringWriter())), command);
        SystemResult row = run.cells().get(0).system(BenchChild.BF16);
        assertEquals(null, row.ms());
        assertTrue(row.note().startsWith("this CPU has no bf16 (Precision bf16 is not supported"), row.note());
        assertTrue(row.note().contains("avx2"), row.note());
        assertTrue(run.cells().get(0).system("jrnn").ran());
    }

    @Test
    void fp32OnlyPlanHasNoBf16Row(@TempDir Path dir) throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.RNN, false, 8, 2, 3, 5);
        RunResult run = BenchRunner.run(new BenchRunner.Plan(List.of(cell), List.of(1), List.of(), TINY, 5, null,
                "t", List.of("fp32")), dir, new PrintWriter(new StringWriter(), true)).runs().get(0);
        assertEquals(List.of("jrnn"), run.cells().get(0).systems().stream().map(SystemResult::system).toList());
    }

    @Test
    void childFailureIsOneLine(@TempDir Path dir) {
        BenchResults.ChildPlan plan = new BenchResults.ChildPlan(2, List.of(), List.of(), TINY, 5, null);
        StringWriter err = new StringWriter();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> BenchRunner.runChild(plan, dir,
                new BenchRunner.ProgressBar(1, new PrintWriter(err)), List.of("sh", "-c", "echo boom >&2; exit 3")));
        assertEquals("benchmark child for 2 thread(s) failed (exit 3): boom", e.getMessage());
        assertTrue(err.toString().contains("boom\n"), "the child's stderr is passed through");
    }

    @Test
    void theJvmsIncubatorNoticeIsNotAChildMessage(@TempDir Path dir) {
        BenchResults.ChildPlan plan = new BenchResults.ChildPlan(1, List.of(), List.of(), TINY, 5, null);
        StringWriter err = new StringWriter();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> BenchRunner.runChild(plan, dir,
                new BenchRunner.ProgressBar(1, new PrintWriter(err)), List.of("sh", "-c",
                        "echo boom >&2; echo 'WARNING: Using incubator modules: jdk.incubator.vector' >&2; exit 3")));
        assertEquals("benchmark child for 1 thread(s) failed (exit 3): boom", e.getMessage());
        assertFalse(err.toString().contains("incubator"), err.toString());
    }

    @Test
    void childEnvironmentFixesThreadsAndWaitPolicy() {
        Map<String, String> env = BenchRunner.childEnvironment(2);
        assertEquals("2", env.get("OMP_NUM_THREADS"));
        assertTrue(env.containsKey("OMP_WAIT_POLICY") && env.containsKey("GOMP_SPINCOUNT"));
        List<String> cmd = BenchRunner.childCommand(Path.of("p.json"), Path.of("r.json"));
        assertEquals(List.of(BenchChild.MAIN_CLASS, "p.json", "r.json"), cmd.subList(cmd.size() - 3, cmd.size()));
        assertEquals(System.getProperty("java.class.path"), cmd.get(cmd.indexOf("-cp") + 1));
        // JDK 17+ has the incubator module: the children multiply with the Vector API unless told not to.
        assertTrue(BenchRunner.childVectorApi());
        assertEquals(BenchRunner.VECTOR_MODULE, cmd.get(cmd.indexOf("--add-modules") + 1));
        String before = System.getProperty(BenchRunner.VECTOR_PROPERTY);
        try {
            // Like the other jrnn.composed switches, only "false" (any case) turns it off.
            System.setProperty(BenchRunner.VECTOR_PROPERTY, "yes");
            assertTrue(BenchRunner.childVectorApi());
            System.setProperty(BenchRunner.VECTOR_PROPERTY, "FALSE");
            assertFalse(BenchRunner.childVectorApi());
            System.setProperty(BenchRunner.VECTOR_PROPERTY, "false");
            assertFalse(BenchRunner.childVectorApi());
            cmd = BenchRunner.childCommand(Path.of("p.json"), Path.of("r.json"));
            assertFalse(cmd.contains("--add-modules"), cmd.toString());
            assertTrue(cmd.contains("-D" + BenchRunner.VECTOR_PROPERTY + "=false"), cmd.toString());
        } finally {
            if (before == null) {
                System.clearProperty(BenchRunner.VECTOR_PROPERTY);
            } else {
                System.setProperty(BenchRunner.VECTOR_PROPERTY, before);
            }
        }
    }

    /** The oneDNN backend's switches reach the children (a before/after run); the JVM's own properties do not. */
    @ParameterizedTest
    @ValueSource(strings = {"jrnn.composed.javaProjection", "jrnn.dnnl.batchSplit"})
    void childrenGetTheBackendSwitches(String property) {
        String before = System.getProperty(property);
        System.setProperty(property, "false");
        try {
            List<String> cmd = BenchRunner.childCommand(Path.of("p.json"), Path.of("r.json"));
            assertTrue(cmd.contains("-D" + property + "=false"), cmd.toString());
            assertTrue(cmd.indexOf("-D" + property + "=false") < cmd.indexOf(BenchChild.MAIN_CLASS), cmd.toString());
            assertFalse(cmd.stream().anyMatch(a -> a.startsWith("-Djava.")), // java.class.path and the like stay here
                    cmd.toString());
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    @Test
    void missingPeersSayWhy() {
        assertNull(BenchChild.peer("dl4j"), "dl4j is compiled only with -Pdl4j");
        assertEquals("not built (mvn -Pdl4j)", BenchChild.notBuilt("dl4j"));
        assertNull(TorchPeer.findPython("/nonexistent/python3"));
        assertTrue(TorchPeer.NOT_FOUND.startsWith("python3 with torch not found"));
        RunResult run = new RunResult(1, "cpu", List.of(), Map.of(), List.of());
        assertEquals("unavailable: " + TorchPeer.NOT_FOUND,
                BenchRunner.withPeerStatus(run, "torch", "unavailable: " + TorchPeer.NOT_FOUND).peers().get("torch"));
    }

    @Test
    void torchRowsComeFromTheScriptsJson() throws Exception {
        BenchCell cell = new BenchCell(BenchCell.Kind.LSTM, false, 4, 2, 3, 5);
        BenchCell hs = new BenchCell(BenchCell.Kind.LSTM, true, 4, 2, 3, 5);
        TorchPeer.Run torch = TorchPeer.parse("{\"label\":\"PyTorch 1.13\",\"blas\":\"/x/libopenblas.so\",\"cells\":"
                + "[{\"id\":\"" + cell.id() + "\",\"ms\":[4.0,6.0,5.0],\"maxAbsDiff\":1e-7}]}");
        assertArrayEquals(new double[] {4, 6, 5}, torch.ms().get(cell.id()));
        Sampler.Stats jrnnMs = new Sampler.Stats(2, 2, 2, 2, 3);
        RunResult run = new RunResult(1, "cpu", List.of(), Map.of(), List.of(
                new BenchResults.CellResult(cell, List.of(new SystemResult("jrnn", "jrnn", "", jrnnMs, null, true, null, null))),
                new BenchResults.CellResult(hs, List.of(new SystemResult("jrnn", "jrnn", "", jrnnMs, null, true, null, null)))));
        RunResult merged = BenchRunner.withTorch(run, torch);
        SystemResult row = merged.cells().get(0).system("torch");
        assertEquals(5.0, row.ms().median());
        assertEquals(2.5, row.speedRatio().median(), 1e-12);
        assertEquals(false, row.interleaved());
        assertEquals("torch.nn.LSTM has no hard_sigmoid", merged.cells().get(1).system("torch").note());
        assertEquals("PyTorch 1.13 (BLAS /x/libopenblas.so)", merged.peers().get("torch"));
        // jrnn-bf16 gains a torch ratio: torch ms per round ÷ bf16's median.
        RunResult withBf16 = new RunResult(1, "cpu", List.of(), Map.of(), List.of(new BenchResults.CellResult(cell,
                List.of(new SystemResult("jrnn", "jrnn", "", jrnnMs, null, true, null, null),
                        new SystemResult(BenchChild.BF16, "jrnn bf16", "", new Sampler.Stats(0.5, 0.5, 0.5, 0.5, 3),
                                null, true, 1e-3, null, Map.of("jrnn", jrnnMs))))));
        SystemResult bf16 = BenchRunner.withTorch(withBf16, torch).cells().get(0).system(BenchChild.BF16);
        assertEquals(10.0, bf16.bf16Ratios().get("torch").median(), 1e-12);
        assertEquals(2.0, bf16.bf16Ratios().get("jrnn").median(), 1e-12);
    }

    @Test
    void samplerRotatesOrderAndTimesEverySystemEveryRound() throws Exception {
        List<String> calls = new ArrayList<>();
        List<Peer.Instance> systems = List.of(fake("a", calls), fake("b", calls));
        double[][] ms = new Sampler(0, 3, 1, 0).sample(systems, 1);
        assertEquals(2, ms.length);
        assertEquals(3, ms[0].length);
        // after warm-up, the first system of each round alternates: a, b, a
        String joined = String.join("", calls);
        assertTrue(joined.startsWith("aabb"), joined);
        Sampler.Stats s = Sampler.Stats.of(new double[] {4, 1, 3, 2});
        assertEquals(2.5, s.median());
        assertEquals(1.75, s.q1());
        assertEquals(3.25, s.q3());
        assertEquals(1, s.min());
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 0, 1, 0));
    }

    private static Peer.Instance fake(String name, List<String> calls) {
        return new Peer.Instance() {
            @Override
            public void run() throws Exception {
                calls.add(name);
                Thread.sleep(1);
            }

            @Override
            public float[] outputNth() {
                return new float[0];
            }

            @Override
            public String detail() {
                return name;
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void progressBarRendersDoneOfTotal() {
        assertEquals("[###############---------------] 1/2 LSTM", BenchRunner.ProgressBar.render(1, 2, "LSTM"));
        assertEquals(99, BenchRunner.ProgressBar.render(0, 3, "x".repeat(200)).length());
    }
}
