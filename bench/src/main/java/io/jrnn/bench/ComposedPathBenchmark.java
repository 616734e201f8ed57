package io.jrnn.bench;

import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.LSTM;
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
 * The composed path against the fused primitive at the same shape: a {@code hard_sigmoid} (Keras 2)
 * LSTM, which {@code lstm_forward} cannot express (oneDNN matmuls + Java gate loops), and a
 * {@code sigmoid} LSTM on {@code lstm_forward}. Target: composed ≤ 1.5× fused (issue 3).
 *
 * <pre>
 * mvn -q -pl bench -am package -DskipTests
 * OMP_NUM_THREADS=1 java -jar bench/target/benchmarks.jar ComposedPathBenchmark -f 1 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ComposedPathBenchmark {
    @Param({"512"})
    public int units;
    @Param({"64"})
    public int batch;
    @Param({"25"})
    public int steps;
    @Param({"512"})
    public int features;

    private LSTM composed;
    private LSTM fused;
    private Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        composed = LSTM.builder().units(units).recurrentActivation(Activation.HARD_SIGMOID_KERAS2)
                .returnSequences(true).build();
        fused = LSTM.builder().units(units).recurrentActivation(Activation.SIGMOID).returnSequences(true).build();
        composed.initializeWeights(features);
        // Same weights: only the gate activation differs.
        fused.setWeights(composed.weights());
        composed.useBackend(DnnlBackend.instance());
        fused.useBackend(DnnlBackend.instance());
        SplittableRandom rng = new SplittableRandom(42);
        float[] values = new float[batch * steps * features];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextDouble(-1, 1);
        }
        x = Tensor.of(values, batch, steps, features);
        composed.forward(x).close();
        fused.forward(x).close();
        check(composed.executionPath().startsWith("oneDNN composed"), composed.executionPath());
        check(fused.executionPath().startsWith("oneDNN lstm_forward"), fused.executionPath());
        System.out.println("# composed: " + composed.executionPath());
        System.out.println("# fused:    " + fused.executionPath());
        System.out.println("# backend:  " + DnnlBackend.instance().describe());
    }

    private static void check(boolean condition, String path) {
        if (!condition) {
            throw new IllegalStateException("unexpected execution path: " + path);
        }
    }

    @Benchmark
    public float composedHardSigmoidLstm() {
        try (var out = composed.forward(x)) {
            return out.get(0).get(0, 0, 0);
        }
    }

    @Benchmark
    public float fusedSigmoidLstm() {
        try (var out = fused.forward(x)) {
            return out.get(0).get(0, 0, 0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        composed.close();
        fused.close();
        x.close();
    }
}
