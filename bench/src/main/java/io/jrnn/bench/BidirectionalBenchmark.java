package io.jrnn.bench;

import io.jrnn.Device;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Bidirectional} on one oneDNN {@code bidirectional_concat}/{@code _sum} primitive against the
 * two-executor path (one fused primitive per direction, then the backward flip and the merge in Java)
 * with the same weights, through the public layer API.
 *
 * <pre>
 * mvn -q -pl bench -am package -DskipTests
 * OMP_NUM_THREADS=1 java -jar bench/target/benchmarks.jar BidirectionalBenchmark -f 1 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BidirectionalBenchmark {
    @Param({"lstm"})
    public String cell = "lstm";
    @Param({"concat"})
    public String mergeMode = "concat";
    @Param({"true"})
    public boolean returnSequences = true;
    @Param({"256"})
    public int units = 256;
    @Param({"32"})
    public int batch = 32;
    @Param({"50"})
    public int steps = 50;
    @Param({"128"})
    public int features = 128;

    private Bidirectional primitive;
    private Bidirectional twoLayers;
    private Tensor x;

    /** oneDNN without {@link Backend#compileBidirectional}: what Bidirectional ran before (two executors). */
    static final class TwoExecutorsBackend implements Backend {
        private final Backend cpu = DnnlBackend.instance();

        @Override
        public String name() {
            return "cpu-two-executors";
        }

        @Override
        public Device device() {
            return cpu.device();
        }

        @Override
        public RecurrentExecutor compile(RecurrentSpec spec) {
            return cpu.compile(spec);
        }

        @Override
        public String describe() {
            return cpu.describe();
        }
    }

    private RecurrentLayer layer(long seed) {
        RecurrentLayer.Builder<?, ?> b = cell.equals("gru") ? GRU.builder() : LSTM.builder();
        return b.units(units).returnSequences(returnSequences).seed(seed).build();
    }

    @Setup(Level.Trial)
    public void setUp() {
        primitive = Bidirectional.of(layer(1), Bidirectional.MergeMode.fromKeras(mergeMode));
        twoLayers = Bidirectional.of(layer(1), Bidirectional.MergeMode.fromKeras(mergeMode));
        primitive.forwardLayer().initializeWeights(features);
        primitive.backwardLayer().initializeWeights(features);
        twoLayers.forwardLayer().setWeights(primitive.forwardLayer().weights());
        twoLayers.backwardLayer().setWeights(primitive.backwardLayer().weights());
        primitive.useBackend(DnnlBackend.instance());
        twoLayers.useBackend(new TwoExecutorsBackend());
        SplittableRandom rng = new SplittableRandom(42);
        float[] values = new float[batch * steps * features];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextDouble(-1, 1);
        }
        x = Tensor.of(values, batch, steps, features);
        float[] a = primitive.apply(x).toArray();
        float[] b = twoLayers.apply(x).toArray();
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > 1e-4f) {
                throw new IllegalStateException("paths differ at " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
        check(primitive.executionPath().contains(" bidirectional_"), primitive.executionPath());
        check(twoLayers.executionPath().startsWith("forward: oneDNN "), twoLayers.executionPath());
        System.out.println("# primitive:  " + primitive.executionPath());
        System.out.println("# two layers: " + twoLayers.executionPath());
        System.out.println("# backend:    " + DnnlBackend.instance().describe());
    }

    private static void check(boolean condition, String path) {
        if (!condition) {
            throw new IllegalStateException("unexpected execution path: " + path);
        }
    }

    @Benchmark
    public float bidirectionalPrimitive() {
        try (var out = primitive.forward(x)) {
            return out.get(0).view().get(0);
        }
    }

    @Benchmark
    public float twoExecutors() {
        try (var out = twoLayers.forward(x)) {
            return out.get(0).view().get(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        primitive.close();
        twoLayers.close();
        x.close();
    }

    /**
     * Interleaved timing for a shared, noisy machine: the two variants alternate call by call so both
     * see the same load; prints min and median per variant and their ratios. Args: rounds (default 30),
     * then {@code field=value} to override a parameter (e.g. {@code units=512}).
     * {@code OMP_NUM_THREADS=1 java -cp bench/target/benchmarks.jar io.jrnn.bench.BidirectionalBenchmark 30}
     */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        BidirectionalBenchmark bench = new BidirectionalBenchmark();
        Interleaved.override(bench, args);
        bench.setUp();
        Interleaved.compare(rounds, "bidirectionalPrimitive", bench::bidirectionalPrimitive, "twoExecutors", bench::twoExecutors);
    }
}
