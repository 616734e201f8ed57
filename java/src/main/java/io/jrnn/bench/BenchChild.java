package io.jrnn.bench;

import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.io.Npy;
import io.jrnn.weights.PyTorchRnnWeights;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The child JVM of {@code jrnn bench}: one per thread count, because oneDNN's OpenMP pool is sized
 * once per process ({@code OMP_NUM_THREADS}, set by the parent). Usage:
 * {@code java -cp … io.jrnn.cli.BenchChildMain PLAN.json RESULT.json}. Reports progress on stderr
 * as lines {@code @progress <cell>}.
 */
public final class BenchChild {
    static final String PROGRESS = "@progress ";

    private BenchChild() {
    }

    /** The child JVM's entry point (in the CLI: only the CLI may end the JVM). */
    public static final String MAIN_CLASS = "io.jrnn.cli.BenchChildMain";

    /**
     * Runs the plan in {@code args[0]} and writes the result to {@code args[1]}; returns the process
     * exit status (2 for bad arguments). The caller ends the JVM, since OpenMP and ONNX Runtime
     * threads must not keep it alive.
     */
    public static int runFiles(String[] args, PrintStream err) throws Exception {
        if (args.length != 2) {
            err.println("usage: BenchChildMain PLAN.json RESULT.json");
            return 2;
        }
        BenchResults.ChildPlan plan = BenchResults.read(Path.of(args[0]), BenchResults.ChildPlan.class);
        BenchResults.RunResult result = run(plan, err);
        Files.writeString(Path.of(args[1]), BenchResults.write(result));
        return 0;
    }

    static BenchResults.RunResult run(BenchResults.ChildPlan plan, PrintStream progress) throws Exception {
        List<MatmulPeak.Peak> peaks = new ArrayList<>();
        for (boolean bf16 : new boolean[] {false, true}) {
            MatmulPeak.Peak p = MatmulPeak.measure(bf16, 1024, plan.peakMs());
            if (p != null) {
                peaks.add(p);
            }
        }
        progress.println(PROGRESS + "matmul peak");

        Map<String, String> status = new LinkedHashMap<>();
        List<Peer> peers = new ArrayList<>();
        for (String name : plan.peers()) {
            if (name.equals("torch")) {
                continue; // run by the parent in its own process
            }
            Peer peer = peer(name);
            String why = peer == null ? notBuilt(name) : peer.unavailableReason();
            if (why == null) {
                peers.add(peer);
                status.put(name, peer.label());
            } else {
                status.put(name, "unavailable: " + why);
            }
        }

        List<BenchResults.CellResult> cells = new ArrayList<>();
        for (BenchCell cell : plan.cells()) {
            cells.add(runCell(cell, peers, plan));
            progress.println(PROGRESS + cell + " threads=" + plan.threads());
        }
        return new BenchResults.RunResult(plan.threads(), Machine.cpuModel(), peaks, status, cells);
    }

    /** What the table says for a peer that is not on the classpath. */
    static String notBuilt(String name) {
        return name.equals("dl4j") ? "not built (mvn -Pdl4j)" : "not on the classpath";
    }

    /** A built-in peer, or one registered through {@link ServiceLoader}; {@code null} if none has that name. */
    static Peer peer(String name) {
        try {
            switch (name) {
                case "onednn":
                    return new OneDnnPeer();
                case "ort":
                    Class.forName("ai.onnxruntime.OrtEnvironment");
                    return new OrtPeer();
                default:
                    for (Peer p : ServiceLoader.load(Peer.class)) {
                        if (p.name().equals(name)) {
                            return p;
                        }
                    }
                    return null;
            }
        } catch (ClassNotFoundException | LinkageError | java.util.ServiceConfigurationError e) {
            // ServiceConfigurationError: a registration without its class, e.g. a -Pdl4j build's leftover
            // META-INF/services file after a plain rebuild; the peer is then simply not available.
            return null;
        }
    }

    /** The name of jrnn's bf16 row. */
    static final String BF16 = "jrnn-bf16";

    private static BenchResults.CellResult runCell(BenchCell cell, List<Peer> peers, BenchResults.ChildPlan plan)
            throws Exception {
        BenchWeights w = BenchWeights.of(cell);
        List<BenchResults.SystemResult> rows = new ArrayList<>();
        List<Peer.Instance> running = new ArrayList<>();
        List<Peer> runningPeers = new ArrayList<>();
        try (JrnnInstance jrnn = new JrnnInstance(cell, w, DnnlBackend.instance())) {
            float[] expected = jrnn.outputNth();
            String path = jrnn.detail();
            running.add(jrnn);
            String bf16Note = null;
            if (plan.bf16()) {
                bf16Note = bf16Unsupported();
                if (bf16Note == null) {
                    try {
                        running.add(new JrnnInstance(cell, w, DnnlBackend.instance(Precision.BF16)));
                    } catch (RuntimeException e) {
                        bf16Note = "failed to build: " + e.getMessage();
                    }
                }
            }
            int first = running.size(); // index of the first peer
            if (plan.torchDir() != null && !cell.hardSigmoid()) {
                writeTorchFiles(Path.of(plan.torchDir()), cell, w, expected);
            }
            Map<Peer, String> notes = new LinkedHashMap<>();
            for (Peer peer : peers) {
                String why = peer.unsupportedReason(cell);
                if (why == null) {
                    try {
                        running.add(peer.open(cell, w, plan.threads(), path));
                        runningPeers.add(peer);
                        continue;
                    } catch (Exception | LinkageError e) {
                        why = "failed to build: " + e.getMessage();
                    }
                }
                notes.put(peer, why);
            }
            double[][] ms = plan.sampler().sample(running, plan.threads());
            rows.add(new BenchResults.SystemResult("jrnn", "jrnn", path, Sampler.Stats.of(ms[0]), null, true, null,
                    null));
            if (first == 2) {
                Peer.Instance bf16 = running.get(1);
                Map<String, Sampler.Stats> ratios = new LinkedHashMap<>();
                ratios.put("jrnn", Sampler.Stats.of(perRound(ms[0], ms[1])));
                for (int i = 0; i < runningPeers.size(); i++) {
                    ratios.put(runningPeers.get(i).name(), Sampler.Stats.of(perRound(ms[first + i], ms[1])));
                }
                rows.add(new BenchResults.SystemResult(BF16, "jrnn bf16", bf16.detail(), Sampler.Stats.of(ms[1]), null,
                        true, (double) maxAbsDiff(expected, bf16.outputNth()), null, ratios));
            } else if (bf16Note != null) {
                rows.add(new BenchResults.SystemResult(BF16, "jrnn bf16", "", null, null, false, null, bf16Note));
            }
            for (int i = 0; i < runningPeers.size(); i++) {
                Peer peer = runningPeers.get(i);
                Peer.Instance inst = running.get(first + i);
                rows.add(new BenchResults.SystemResult(peer.name(), peer.label(), inst.detail(),
                        Sampler.Stats.of(ms[first + i]), Sampler.Stats.of(perRound(ms[first + i], ms[0])), true,
                        (double) maxAbsDiff(expected, inst.outputNth()), null));
            }
            notes.forEach((peer, why) -> rows.add(new BenchResults.SystemResult(peer.name(), peer.label(), "", null,
                    null, false, null, why)));
        } finally {
            for (int i = 1; i < running.size(); i++) {
                try {
                    running.get(i).close();
                } catch (Exception e) {
                    // closing a peer must not lose the results
                }
            }
        }
        return new BenchResults.CellResult(cell, rows);
    }

    /** {@code null} when this CPU runs bf16, else the row's note: "this CPU has no bf16 (…)". */
    static String bf16Unsupported() {
        if (DnnlBackend.supportedPrecisions().contains(Precision.BF16)) {
            return null;
        }
        try {
            DnnlBackend.instance(Precision.BF16);
            return null;
        } catch (RuntimeException e) {
            return noBf16(e.getMessage());
        }
    }

    /** The note of the bf16 row on a CPU without bf16. */
    static String noBf16(String why) {
        return "this CPU has no bf16 (" + why + ")";
    }

    /** Per round: {@code num[r] ÷ den[r]}. */
    static double[] perRound(double[] num, double[] den) {
        double[] out = new double[num.length];
        for (int r = 0; r < out.length; r++) {
            out[r] = num[r] / den[r];
        }
        return out;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Float.POSITIVE_INFINITY;
        }
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** {@code DIR/<cell id>/{w_ih,w_hh,b_ih,b_hh,x,y}.npy}: PyTorch-layout weights, input, jrnn's output. */
    static void writeTorchFiles(Path dir, BenchCell cell, BenchWeights w, float[] expected) throws IOException {
        Path d = dir.resolve(cell.id());
        if (Files.exists(d.resolve("y.npy"))) {
            return;
        }
        Files.createDirectories(d);
        PyTorchRnnWeights pt = PyTorchRnnWeights.fromKeras(w.keras(cell));
        int gh = cell.kind().gates * cell.h();
        npy(d.resolve("w_ih.npy"), pt.weightIh(), gh, cell.c());
        npy(d.resolve("w_hh.npy"), pt.weightHh(), gh, cell.h());
        npy(d.resolve("b_ih.npy"), pt.biasIh(), gh);
        npy(d.resolve("b_hh.npy"), pt.biasHh(), gh);
        npy(d.resolve("x.npy"), w.input(), cell.n(), cell.t(), cell.c());
        npy(d.resolve("y.npy"), expected, cell.n(), cell.t(), cell.h()); // last: marks the set complete
    }

    private static void npy(Path file, float[] values, int... shape) {
        try (Tensor t = Tensor.of(values, shape)) {
            Npy.write(file, t);
        }
    }
}
