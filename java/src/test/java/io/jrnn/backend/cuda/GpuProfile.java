package io.jrnn.backend.cuda;

import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where jrnn's end-to-end GPU time goes (run by the check bundle with {@code --profile}): for a few
 * LSTM shapes, the median time of {@code layer.forward(x)} under every host-transfer strategy
 * ({@code -Djrnn.cuda.transfer}), with a pageable and a pinned input tensor, and a stack sample of
 * the calling thread (every 0.2 ms) that shows which calls the time is spent in. Prints
 * {@code GPU-PROFILE} lines.
 */
public final class GpuProfile {
    private GpuProfile() {
    }

    public static void main(String[] args) throws Exception {
        if (!Cuda.usable()) {
            System.out.println("GPU-PROFILE skipped: " + Cuda.status().reason());
            return;
        }
        int[][] shapes = {{512, 1, 25}, {1024, 64, 50}};
        for (int[] s : shapes) {
            profile(s[0], s[1], s[2]);
        }
    }

    private static void profile(int h, int n, int t) throws Exception {
        SplittableRandom rng = new SplittableRandom(7);
        float[] input = new float[n * t * h];
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        String id = "lstm-h" + h + "-n" + n + "-t" + t;
        try (RecurrentLayer layer = LSTM.builder().units(h).returnSequences(true).build();
                Tensor x = Tensor.of(input, n, t, h);
                Tensor pinned = CudaBackend.pinnedTensor(n, t, h)) {
            pinned.pointer().put(input);
            layer.useBackend(CudaBackend.instance(0, Precision.FP32));
            for (String strategy : List.of("staged", "chunked", "direct", "auto")) {
                System.setProperty(HostTransfers.PROPERTY, strategy);
                for (boolean usePinned : new boolean[] {false, true}) {
                    Tensor in = usePinned ? pinned : x;
                    double[] ms = sortedMillis(layer, in);
                    System.out.printf(Locale.ROOT, "GPU-PROFILE %s transfer=%s input=%s median=%.3fms p10=%.3f p90=%.3f%n",
                            id, strategy, usePinned ? "pinned" : "pageable", ms[ms.length / 2], ms[ms.length / 10],
                            ms[ms.length * 9 / 10]);
                }
            }
            System.setProperty(HostTransfers.PROPERTY, "auto");
            for (String pinnedOutputs : List.of("false", "true")) {
                System.setProperty("jrnn.cuda.pinnedOutputs", pinnedOutputs);
                double[] ms = sortedMillis(layer, pinned);
                System.out.printf(Locale.ROOT, "GPU-PROFILE %s input=pinned pinnedOutputs=%s median=%.3fms%n", id,
                        pinnedOutputs, ms[ms.length / 2]);
            }
            sample(id + "-pageable", layer, x);
            sample(id + "-pinned", layer, pinned);
            System.out.println("GPU-PROFILE " + id + " path: " + layer.executionPath());
        }
    }

    /** 20 warm-up calls, then 60 timed ones: their times in milliseconds, sorted. */
    private static double[] sortedMillis(RecurrentLayer layer, Tensor in) {
        for (int i = 0; i < 20; i++) {
            run(layer, in);
        }
        double[] ms = new double[60];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            run(layer, in);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    private static void run(RecurrentLayer layer, Tensor x) {
        try (Outputs o = layer.forward(x)) {
            o.output();
        }
    }

    /** Samples the calling thread's stack while it runs forward 400 times; prints the hottest frames. */
    private static void sample(String id, RecurrentLayer layer, Tensor x) throws Exception {
        Thread worker = Thread.currentThread();
        Map<String, Integer> top = new HashMap<>();
        Map<String, Integer> leaf = new HashMap<>();
        int[] samples = {0};
        Flag.running = true;
        Thread sampler = new Thread(() -> {
            while (Flag.running) {
                StackTraceElement[] st = worker.getStackTrace();
                if (st.length > 0) {
                    samples[0]++;
                    leaf.merge(frame(st[0]), 1, Integer::sum);
                    for (StackTraceElement e : st) {
                        if (e.getClassName().startsWith("io.jrnn") && !e.getClassName().endsWith("GpuProfile")) {
                            top.merge(frame(st[0]) + " <- " + frame(e), 1, Integer::sum);
                            break;
                        }
                    }
                }
                try {
                    Thread.sleep(0, 200_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        for (int i = 0; i < 1000; i++) {
            run(layer, x);
        }
        Flag.running = false;
        sampler.join();
        print(id, "leaf", leaf, samples[0]);
        print(id, "leaf<-jrnn", top, samples[0]);
    }

    private static String frame(StackTraceElement e) {
        String c = e.getClassName();
        return c.substring(c.lastIndexOf('.') + 1) + "." + e.getMethodName() + ":" + e.getLineNumber();
    }

    private static void print(String id, String kind, Map<String, Integer> counts, int total) {
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(12).forEach(e ->
                System.out.printf(Locale.ROOT, "GPU-PROFILE %s %s %5.1f%% %s%n", id, kind,
                        100.0 * e.getValue() / Math.max(1, total), e.getKey()));
    }

    private static final class Flag {
        static volatile boolean running;
    }
}
