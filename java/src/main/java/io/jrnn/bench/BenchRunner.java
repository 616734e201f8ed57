package io.jrnn.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The parent process of {@code jrnn bench}: one child JVM per thread count (oneDNN's OpenMP pool
 * and ONNX Runtime's are sized once per process), then the PyTorch peer per thread count, then the
 * report. The parent itself runs no native code, so nothing of its own spins beside the children.
 */
public final class BenchRunner {
    private BenchRunner() {
    }

    /**
     * Everything a run needs; {@code python} may be {@code null} (auto).
     *
     * @param precisions {@code fp32} and optionally {@code bf16} ({@link BenchArgs#precisions})
     */
    public record Plan(List<BenchCell> cells, List<Integer> threads, List<String> peers, Sampler sampler,
            long peakMs, String python, String commandLine, List<String> precisions) {
        /** fp32 only. */
        public Plan(List<BenchCell> cells, List<Integer> threads, List<String> peers, Sampler sampler, long peakMs,
                String python, String commandLine) {
            this(cells, threads, peers, sampler, peakMs, python, commandLine, List.of("fp32"));
        }
    }

    /** Default {@code GOMP_SPINCOUNT} of the children when the caller sets none (see docs/bench.md). */
    static final String SPIN_COUNT = "10000";

    public static BenchResults.Report run(Plan plan, Path workDir, PrintWriter err) throws Exception {
        Files.createDirectories(workDir);
        String python = null;
        boolean torch = plan.peers().contains("torch");
        if (torch) {
            python = TorchPeer.findPython(plan.python());
        }
        int perRun = plan.cells().size() + 1 + (python != null ? 1 : 0);
        ProgressBar bar = new ProgressBar(perRun * plan.threads().size(), err);
        List<BenchResults.RunResult> runs = new ArrayList<>();
        for (int threads : plan.threads()) {
            BenchResults.ChildPlan childPlan = new BenchResults.ChildPlan(threads, plan.cells(), plan.peers(),
                    plan.sampler(), plan.peakMs(), python != null ? workDir.toString() : null, plan.precisions());
            BenchResults.RunResult run = runChild(childPlan, workDir, bar, null);
            if (torch) {
                if (python == null) {
                    run = withPeerStatus(run, "torch", "unavailable: " + TorchPeer.NOT_FOUND);
                } else {
                    bar.label("PyTorch, threads=" + threads);
                    try {
                        run = withTorch(run, TorchPeer.run(python, workDir, threads, plan.cells(), plan.sampler()));
                    } catch (RuntimeException | IOException e) {
                        run = withPeerStatus(run, "torch", "failed: " + e.getMessage());
                    }
                    bar.step("PyTorch, threads=" + threads);
                }
            }
            runs.add(run);
        }
        bar.done();
        String env = "OMP_WAIT_POLICY=" + env("OMP_WAIT_POLICY", "ACTIVE") + ", GOMP_SPINCOUNT="
                + env("GOMP_SPINCOUNT", SPIN_COUNT) + ", OMP_NUM_THREADS = the thread count (one child JVM each)"
                + (childVectorApi() ? "; child JVMs with --add-modules " + VECTOR_MODULE
                        + " (jrnn's batch-1 Java step multiplies with the Vector API)" : "; child JVMs without the Vector API");
        return new BenchResults.Report(LocalDate.now().toString(), plan.commandLine(), Machine.cpuModel(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"), env, runs);
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /**
     * The child's command: same JVM, same classpath, the Vector API module ({@link #childVectorApi}),
     * which jrnn's batch-1 Java step uses when the JVM has it (docs/bench.md), and the oneDNN backend's
     * switches ({@code jrnn.composed.…}, {@code jrnn.dnnl.…}: {@link #FORWARDED_PREFIXES}) given to this
     * JVM, e.g. through {@code JRNN_JAVA_OPTS}.
     */
    static List<String> childCommand(Path planFile, Path resultFile) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx3g"));
        if (childVectorApi()) {
            command.addAll(List.of("--add-modules", VECTOR_MODULE));
        }
        System.getProperties().stringPropertyNames().stream()
                .filter(n -> FORWARDED_PREFIXES.stream().anyMatch(n::startsWith)).sorted()
                .forEach(n -> command.add("-D" + n + "=" + System.getProperty(n)));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchChild.MAIN_CLASS,
                planFile.toString(), resultFile.toString()));
        return command;
    }

    /**
     * Whether the children run with {@code --add-modules jdk.incubator.vector}: the JDK has the module
     * and {@code -Djrnn.composed.vectorProduct=false} was not given (JRNN_JAVA_OPTS passes it).
     */
    static boolean childVectorApi() {
        return !"false".equalsIgnoreCase(System.getProperty(VECTOR_PROPERTY))
                && ModuleFinder.ofSystem().find(VECTOR_MODULE).isPresent();
    }

    // Compile-time constants: reading them does not initialise DnnlBackend (the parent loads no native code).
    /**
     * System properties with these prefixes (the composed path's switches and the batch split's,
     * {@code jrnn.dnnl.batchSplit}) are passed on to the children.
     */
    static final List<String> FORWARDED_PREFIXES = List.of("jrnn.composed.", "jrnn.dnnl.");
    static final String VECTOR_MODULE = io.jrnn.backend.dnnl.DnnlBackend.VECTOR_MODULE;
    static final String VECTOR_PROPERTY = io.jrnn.backend.dnnl.DnnlBackend.VECTOR_PRODUCT_PROPERTY;
    /** The JVM's one-line notice on stderr for an incubator module; not a message of the child's. */
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules";

    /** The child's environment settings: thread count fixed at process start, active waiting. */
    static Map<String, String> childEnvironment(int threads) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OMP_NUM_THREADS", Integer.toString(threads));
        env.put("OMP_WAIT_POLICY", env("OMP_WAIT_POLICY", "ACTIVE"));
        env.put("GOMP_SPINCOUNT", env("GOMP_SPINCOUNT", SPIN_COUNT));
        return env;
    }

    /** Runs one child ({@code command == null}: {@link #childCommand}) and reads its result. */
    static BenchResults.RunResult runChild(BenchResults.ChildPlan plan, Path workDir, ProgressBar bar,
            List<String> command) throws IOException, InterruptedException {
        Path planFile = workDir.resolve("plan-" + plan.threads() + ".json");
        Path resultFile = workDir.resolve("result-" + plan.threads() + ".json");
        Files.deleteIfExists(resultFile);
        Files.writeString(planFile, BenchResults.write(plan));
        ProcessBuilder pb = new ProcessBuilder(command != null ? command : childCommand(planFile, resultFile))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(childEnvironment(plan.threads()));
        bar.label("threads=" + plan.threads() + ": starting");
        Process p = pb.start();
        String lastLine = "";
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(BenchChild.PROGRESS)) {
                    bar.step(line.substring(BenchChild.PROGRESS.length()));
                } else if (!line.isBlank() && !line.startsWith(INCUBATOR_WARNING)) {
                    lastLine = line;
                    bar.message(line);
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 || !Files.exists(resultFile)) {
            throw new IllegalStateException("benchmark child for " + plan.threads() + " thread(s) failed (exit "
                    + code + ")" + (lastLine.isEmpty() ? "" : ": " + lastLine));
        }
        return BenchResults.read(resultFile, BenchResults.RunResult.class);
    }

    static BenchResults.RunResult withPeerStatus(BenchResults.RunResult run, String peer, String status) {
        Map<String, String> peers = new LinkedHashMap<>(run.peers());
        peers.put(peer, status);
        return new BenchResults.RunResult(run.threads(), run.cpu(), run.peaks(), peers, run.cells());
    }

    /** Adds the PyTorch rows: ratio = torch ms per round ÷ jrnn's median ms (not interleaved). */
    static BenchResults.RunResult withTorch(BenchResults.RunResult run, TorchPeer.Run torch) {
        List<BenchResults.CellResult> cells = new ArrayList<>();
        for (BenchResults.CellResult cell : run.cells()) {
            List<BenchResults.SystemResult> rows = new ArrayList<>(cell.systems());
            double[] ms = torch.ms().get(cell.cell().id());
            BenchResults.SystemResult jrnn = cell.system("jrnn");
            BenchResults.SystemResult bf16 = cell.system(BenchChild.BF16);
            if (ms != null && bf16 != null && bf16.ran() && bf16.bf16Ratios() != null) {
                Map<String, Sampler.Stats> ratios = new LinkedHashMap<>(bf16.bf16Ratios());
                double[] r = new double[ms.length];
                for (int i = 0; i < ms.length; i++) {
                    r[i] = ms[i] / bf16.ms().median();
                }
                ratios.put("torch", Sampler.Stats.of(r));
                rows.set(rows.indexOf(bf16), new BenchResults.SystemResult(bf16.system(), bf16.label(), bf16.detail(),
                        bf16.ms(), bf16.speedRatio(), bf16.interleaved(), bf16.maxAbsDiff(), bf16.note(), ratios));
            }
            if (ms == null || jrnn == null || !jrnn.ran()) {
                rows.add(new BenchResults.SystemResult("torch", torch.label(), "", null, null, false, null,
                        cell.cell().hardSigmoid() ? "torch.nn.LSTM has no hard_sigmoid" : "not run"));
            } else {
                double[] ratio = new double[ms.length];
                for (int i = 0; i < ms.length; i++) {
                    ratio[i] = ms[i] / jrnn.ms().median();
                }
                rows.add(new BenchResults.SystemResult("torch", torch.label(), "BLAS " + torch.blas(),
                        Sampler.Stats.of(ms), Sampler.Stats.of(ratio), false, torch.maxAbsDiff().get(cell.cell().id()),
                        null));
            }
            cells.add(new BenchResults.CellResult(cell.cell(), rows));
        }
        BenchResults.RunResult withRows = new BenchResults.RunResult(run.threads(), run.cpu(), run.peaks(), run.peers(),
                cells);
        return withPeerStatus(withRows, "torch", torch.label() + " (BLAS " + torch.blas() + ")");
    }

    /** Deletes a work directory made by {@link #run}. */
    public static void cleanUp(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A one-line progress bar on stderr, redrawn in place. */
    static final class ProgressBar {
        private final int total;
        private final PrintWriter err;
        private int done;
        private String label = "";

        ProgressBar(int total, PrintWriter err) {
            this.total = Math.max(1, total);
            this.err = err;
            draw();
        }

        void step(String what) {
            done = Math.min(total, done + 1);
            label = what;
            draw();
        }

        void label(String what) {
            label = what;
            draw();
        }

        void message(String line) {
            err.print("\r" + " ".repeat(100) + "\r" + line + "\n");
            draw();
        }

        void done() {
            err.println();
            err.flush();
        }

        static String render(int done, int total, String label) {
            int width = 30;
            int filled = (int) ((long) done * width / total);
            String text = "[" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + done + "/" + total + " " + label;
            return text.length() > 99 ? text.substring(0, 99) : text;
        }

        private void draw() {
            String text = render(done, total, label);
            err.print("\r" + text + " ".repeat(Math.max(0, 99 - text.length())));
            err.flush();
        }
    }
}
