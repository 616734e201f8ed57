package io.jrnn.bench;

import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Paired CPU time (see {@link PairedCpuTime}) of the ways to run one Keras LSTM forward pass, for
 * choosing the weight format and path by shape: {@code ldigo} and {@code any} are the fused
 * {@code lstm_forward} primitive called directly (weights in Keras's plain layout, or the layout
 * oneDNN picks, reordered once); {@code composed} is jrnn's composed path (one matmul for the input
 * projection of all steps, one matmul per step for the recurrent product, sigmoid/tanh gates in
 * Java); {@code bf16} is jrnn's bf16 fused path. In one JVM, blocks of calls of every variant
 * alternate (order rotated every round); per variant the median CPU ms per call and the median and
 * quartiles of the per-round ratio to the first variant.
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=ACTIVE java -cp bench/target/benchmarks.jar io.jrnn.bench.LstmFormatPaired \
 *     [shapes=1024x4x25x1024,512x4x25x512] [variants=ldigo,any,composed,bf16] [rounds=20] [budgetMs=100]
 * </pre>
 * Shapes are {@code HxNxTxC}. Run with {@code OMP_NUM_THREADS=1}: worker threads' time is not counted.
 */
public final class LstmFormatPaired {
    private LstmFormatPaired() {
    }

    private interface Variant extends AutoCloseable {
        String name();

        String path();

        void call();

        @Override
        void close();
    }

    public static void main(String[] args) {
        List<String> shapes = List.of("1024x4x25x1024", "1024x1x25x1024", "512x4x25x512", "512x1x25x512");
        List<String> variants = List.of("ldigo", "any", "composed");
        int rounds = 20;
        double budgetMs = 100;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "shapes" -> shapes = List.of(kv[1].split(","));
                case "variants" -> variants = List.of(kv[1].split(","));
                case "rounds" -> rounds = Integer.parseInt(kv[1]);
                case "budgetMs" -> budgetMs = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        System.out.println("# " + DnnlBackend.instance().describe());
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        List<String> rows = new ArrayList<>();
        for (String shape : shapes) {
            List<Variant> built = new ArrayList<>();
            try {
                for (String v : variants) {
                    built.add(create(v, shape));
                }
                rows.addAll(measure(mx, shape, built, rounds, budgetMs));
            } finally {
                built.forEach(Variant::close);
            }
        }
        System.out.println();
        System.out.println("| shape (H, N, T, C) | variant | path | CPU ms/call | / " + variants.get(0) + " (median, IQR) |");
        System.out.println("| --- | --- | --- | ---: | ---: |");
        rows.forEach(System.out::println);
    }

    private static Variant create(String name, String shape) {
        switch (name) {
            case "ldigo", "any" -> {
                JrnnVsOneDnnBenchmark b = new JrnnVsOneDnnBenchmark();
                b.cell = JrnnVsOneDnnBenchmark.Cell.LSTM;
                b.shape = shape;
                b.weightFormat = name;
                b.setUp();
                return new Variant() {
                    public String name() {
                        return name;
                    }

                    public String path() {
                        return "lstm_forward (" + b.directPath() + ")";
                    }

                    public void call() {
                        b.directOneDnn();
                    }

                    public void close() {
                        b.tearDown();
                    }
                };
            }
            case "composed", "bf16" -> {
                int[] d = Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
                int h = d[0];
                int n = d[1];
                int t = d[2];
                int c = d[3];
                SplittableRandom rng = new SplittableRandom(20261122L);
                KerasRnnWeights w = KerasRnnWeights.of(CellType.LSTM, false, c, h,
                        uniform(rng, c * 4 * h, (float) Math.sqrt(6.0 / (c + 4 * h))),
                        uniform(rng, h * 4 * h, (float) (1 / Math.sqrt(h))), uniform(rng, 4 * h, 0.1f));
                RecurrentSpec spec = new RecurrentSpec("lstm", CellType.LSTM, Activation.TANH, Activation.SIGMOID, true,
                        false, false, true, w);
                RecurrentExecutor e = name.equals("composed") ? DnnlBackend.instance().compileComposed(spec)
                        : DnnlBackend.instance(Precision.BF16).compile(spec);
                Tensor x = Tensor.of(uniform(rng, n * t * c, 1f), n, t, c);
                return new Variant() {
                    public String name() {
                        return name;
                    }

                    public String path() {
                        return e.executionPath();
                    }

                    public void call() {
                        for (Tensor out : e.run(x, null)) {
                            out.close();
                        }
                    }

                    public void close() {
                        e.close();
                        x.close();
                    }
                };
            }
            default -> throw new IllegalArgumentException("unknown variant " + name + " (ldigo, any, composed, bf16)");
        }
    }

    private static List<String> measure(ThreadMXBean mx, String shape, List<Variant> variants, int rounds,
            double budgetMs) {
        int k = variants.size();
        double[] perCall = new double[k];
        for (int v = 0; v < k; v++) {
            long c0 = mx.getCurrentThreadCpuTime();
            int calls = 0;
            while (mx.getCurrentThreadCpuTime() - c0 < 500_000_000L || calls < 5) {
                variants.get(v).call();
                calls++;
            }
            perCall[v] = (mx.getCurrentThreadCpuTime() - c0) / 1e6 / calls;
        }
        int[] block = new int[k];
        for (int v = 0; v < k; v++) {
            block[v] = Math.max(1, (int) Math.round(budgetMs / perCall[v]));
        }
        double[][] ms = new double[k][rounds];
        double[][] ratio = new double[k][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < k; j++) {
                int v = (j + r) % k;
                long start = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < block[v]; i++) {
                    variants.get(v).call();
                }
                ms[v][r] = (mx.getCurrentThreadCpuTime() - start) / 1e6 / block[v];
            }
            for (int v = 0; v < k; v++) {
                ratio[v][r] = ms[v][r] / ms[0][r];
            }
        }
        List<String> rows = new ArrayList<>();
        for (int v = 0; v < k; v++) {
            Arrays.sort(ms[v]);
            Arrays.sort(ratio[v]);
            String row = String.format("| %s | %s | %s | %.2f | %.3f (%.3f–%.3f) |", shape.replace("x", ", "),
                    variants.get(v).name(), variants.get(v).path(), median(ms[v]), median(ratio[v]),
                    ratio[v][rounds / 4], ratio[v][(3 * rounds) / 4]);
            System.out.println(row);
            rows.add(row);
        }
        return rows;
    }

    private static float[] uniform(SplittableRandom rng, int count, float bound) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) rng.nextDouble(-bound, bound);
        }
        return v;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
