package io.jrnn.bench;

import io.jrnn.backend.dnnl.DnnlBackend;
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
 * {@code jrnn bench}'s cells under JMH, for rigorous runs: jrnn ({@code layer.forward}) against
 * ONNX Runtime on the model {@link OnnxModelWriter} writes with the same weights (the classes
 * {@code jrnn bench} uses). {@code threads} sets ONNX Runtime's intra-op threads; set
 * {@code OMP_NUM_THREADS} to the same value for oneDNN (it is read once per JVM, and JMH forks
 * inherit the environment):
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=ACTIVE java -jar bench/target/benchmarks.jar Peers -p threads=1
 * </pre>
 * The direct-oneDNN floor is {@link JrnnVsOneDnnBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PeersBenchmark {
    /** {@code LSTM_HS}: hard_sigmoid LSTM (jrnn's composed path). */
    public enum Cell { LSTM, GRU, RNN, LSTM_HS }

    @Param
    public Cell cell;

    @Param({"128x32x50x64", "256x1x150x256", "512x4x25x512", "512x64x25x512", "1024x4x25x1024", "1024x64x25x1024"})
    public String shape;

    @Param({"1"})
    public int threads;

    private JrnnInstance jrnn;
    private Peer.Instance ort;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        String[] d = shape.split("x");
        BenchCell.Kind kind = cell == Cell.LSTM_HS ? BenchCell.Kind.LSTM : BenchCell.Kind.valueOf(cell.name());
        BenchCell c = new BenchCell(kind, cell == Cell.LSTM_HS, Integer.parseInt(d[0]), Integer.parseInt(d[1]),
                Integer.parseInt(d[2]), Integer.parseInt(d[3]));
        BenchWeights w = BenchWeights.of(c);
        jrnn = new JrnnInstance(c, w, DnnlBackend.instance());
        ort = new OrtPeer().open(c, w, threads, jrnn.detail());
        ort.run();
        float diff = BenchChild.maxAbsDiff(jrnn.outputNth(), ort.outputNth());
        System.out.println();
        System.out.println("# jrnn: " + jrnn.detail() + "; max |jrnn - ort| = " + diff);
        if (!(diff <= 1e-4f)) {
            throw new IllegalStateException(c + ": jrnn and ONNX Runtime differ by " + diff);
        }
    }

    @Benchmark
    public void jrnn() {
        jrnn.run();
    }

    @Benchmark
    public void onnxRuntime() throws Exception {
        ort.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        jrnn.close();
        ort.close();
    }
}
