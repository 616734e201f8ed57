package io.jrnn.bench;

import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.ConvLSTM2D;
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
 * ConvLSTM2D forward (issue 4): N=8, T=10, 32×32×16 input, 32 filters, 3×3 kernel, 'same', last
 * output. {@code impl}: {@code onednn} (jrnn: one input convolution over all N·T frames + a
 * recurrent convolution per step), {@code naive} (oneDNN too, but the input convolution per step
 * over that step's N frames), {@code reference} (the pure-Java oracle).
 *
 * <pre>
 * mvn -q -pl bench -am package -DskipTests
 * OMP_NUM_THREADS=1 java -jar bench/target/benchmarks.jar ConvLstmBenchmark -f 1 -wi 2 -w 2s -i 3 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class ConvLstmBenchmark {
    @Param({"onednn", "naive", "reference"})
    public String impl;
    @Param({"8"})
    public int batch;
    @Param({"10"})
    public int steps;
    @Param({"32"})
    public int size;
    @Param({"16"})
    public int channels;
    @Param({"32"})
    public int filters;

    private ConvLSTM2D layer;
    private ConvLstmExecutor naive;
    private Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        layer = ConvLSTM2D.builder().filters(filters).kernelSize(3).padding("same").seed(1).build();
        layer.initializeWeights(channels);
        SplittableRandom rng = new SplittableRandom(42);
        float[] values = new float[batch * steps * size * size * channels];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextDouble(-1, 1);
        }
        x = Tensor.of(values, batch, steps, size, size, channels);
        switch (impl) {
            case "onednn" -> layer.useBackend(DnnlBackend.instance());
            case "reference" -> layer.useBackend(ReferenceBackend.instance());
            case "naive" -> naive = DnnlBackend.instance().compileConvLstmInputConvPerStep(layer.spec());
            default -> throw new IllegalArgumentException(impl);
        }
        run();
        System.out.println("# path:    " + (naive != null ? naive.executionPath() : layer.executionPath()));
        System.out.println("# backend: " + DnnlBackend.instance().describe());
    }

    private void run() {
        if (naive != null) {
            for (Tensor t : naive.run(x, null, null)) {
                t.close();
            }
        } else {
            layer.apply(x).close();
        }
    }

    @Benchmark
    public void forward() {
        run();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (naive != null) {
            naive.close();
        }
        layer.close();
        x.close();
    }
}
