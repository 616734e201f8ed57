package io.jrnn.bench;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;
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
 * jrnn's public API against the same oneDNN primitive called directly: forward inference of one
 * Keras recurrent layer, {@code return_sequences=true}, fp32, batch-major ({@code ntc}).
 *
 * <ul>
 *   <li>{@link #jrnn}: {@code layer.forward(x)} on a warmed layer (its per-shape plan is compiled;
 *       every call allocates and returns fresh output tensors, closed here).</li>
 *   <li>{@link #directOneDnn}: the floor, {@link DirectOneDnnRnn} (shared with {@code jrnn bench}):
 *       the same primitive ({@code lstm_forward}, {@code lbr_gru_forward} for GRU
 *       {@code reset_after=true}, {@code gru_forward} for {@code reset_after=false},
 *       {@code vanilla_rnn_forward} for SimpleRNN) with the weight format jrnn reports for the shape,
 *       weights reordered once, buffers bound once; a call is execute + wait.</li>
 * </ul>
 *
 * <p>Setup checks that both produce the same sequence (max |diff| ≤ 1e-5) and that jrnn reports the
 * same oneDNN implementation and weight format. The shapes are {@code jrnn bench}'s. Run with
 * {@code OMP_NUM_THREADS=1 OMP_WAIT_POLICY=ACTIVE} (see bench/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class JrnnVsOneDnnBenchmark {

    /** The cell, and so the oneDNN primitive. */
    public enum Cell {
        /** Keras LSTM → {@code lstm_forward}. */
        LSTM(DirectOneDnnRnn.Primitive.LSTM),
        /** Keras GRU, {@code reset_after=true} (Keras 3 default) → {@code lbr_gru_forward}. */
        GRU(DirectOneDnnRnn.Primitive.LBR_GRU),
        /** Keras GRU, {@code reset_after=false} (Keras 2 default) → {@code gru_forward}. */
        GRU_RESET_BEFORE(DirectOneDnnRnn.Primitive.GRU),
        /** Keras SimpleRNN → {@code vanilla_rnn_forward}. */
        SIMPLE_RNN(DirectOneDnnRnn.Primitive.VANILLA_RNN);

        final DirectOneDnnRnn.Primitive primitive;

        Cell(DirectOneDnnRnn.Primitive primitive) {
            this.primitive = primitive;
        }
    }

    /**
     * The direct primitive's weight format: {@code rule} (jrnn's {@code WeightFormat} rule, the
     * default), or {@code any} / {@code ldigo} forced (for format comparisons, see
     * {@link LstmFormatPaired}; setup then skips the same-path check).
     */
    public String weightFormat = "rule";

    /** Maximum |jrnn − direct| accepted in setup. */
    static final float TOLERANCE = 1e-5f;

    @Param
    public Cell cell;

    /** {@code HxNxTxC}: units, batch, time steps, input features ({@code jrnn bench}'s shapes). */
    @Param({"128x32x50x64", "256x1x150x256", "512x4x25x512", "512x64x25x512", "1024x4x25x1024", "1024x64x25x1024"})
    public String shape;

    private RecurrentLayer layer;
    private Tensor x;
    private DirectOneDnnRnn direct;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int h = Integer.parseInt(dims[0]);
        int n = Integer.parseInt(dims[1]);
        int t = Integer.parseInt(dims[2]);
        int c = Integer.parseInt(dims[3]);
        BenchCell.Kind kind = switch (cell) {
            case LSTM -> BenchCell.Kind.LSTM;
            case GRU, GRU_RESET_BEFORE -> BenchCell.Kind.GRU;
            case SIMPLE_RNN -> BenchCell.Kind.RNN;
        };
        BenchWeights w = BenchWeights.of(new BenchCell(kind, false, h, n, t, c));
        float[] bias = w.bias();
        if (cell == Cell.GRU_RESET_BEFORE) {
            bias = java.util.Arrays.copyOf(bias, 3 * h); // one [3H] bias
        }
        layer = switch (cell) {
            case LSTM -> LSTM.builder().units(h).returnSequences(true).build();
            case GRU -> GRU.builder().units(h).resetAfter(true).returnSequences(true).build();
            case GRU_RESET_BEFORE -> GRU.builder().units(h).resetAfter(false).returnSequences(true).build();
            case SIMPLE_RNN -> SimpleRNN.builder().units(h).returnSequences(true).build();
        };
        layer.setWeights(w.kernel(), w.recurrent(), bias);
        layer.useBackend(DnnlBackend.instance());
        x = Tensor.of(w.input(), n, t, c);
        float[] viaJrnn;
        try (Outputs out = layer.forward(x)) {
            viaJrnn = out.output().toArray();
        }
        String path = layer.executionPath();
        direct = new DirectOneDnnRnn(cell.primitive, path.contains("weights any"), h, n, t, c, w.kernel(),
                w.recurrent(), bias, w.input());
        direct.run();
        float[] viaDirect = direct.output();
        float maxDiff = 0;
        for (int i = 0; i < viaDirect.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(viaDirect[i] - viaJrnn[i]));
        }
        System.out.println();
        System.out.println("# " + DnnlBackend.instance().describe());
        System.out.println("# jrnn:   " + path);
        System.out.println("# direct: " + direct.path() + "; max |jrnn - direct| = " + maxDiff);
        if (!(maxDiff <= TOLERANCE)) {
            throw new IllegalStateException(cell + " " + shape + ": jrnn and direct oneDNN differ by " + maxDiff);
        }
        // Small batches of large LSTMs run on jrnn's composed path (faster there, see WeightFormat.composedFaster).
        boolean jrnnComposed = path.startsWith("oneDNN composed");
        if (!jrnnComposed && !path.equals(direct.path())) {
            throw new IllegalStateException(cell + " " + shape + ": jrnn runs '" + path + "', direct runs '"
                    + direct.path() + "'");
        }
    }

    /** The direct primitive's implementation and weight format, e.g. {@code brgemm:avx512_core, weights any}. */
    public String directPath() {
        return direct.path();
    }

    @Benchmark
    public float jrnn() {
        try (Outputs out = layer.forward(x)) {
            return out.output().pointer().get(0);
        }
    }

    @Benchmark
    public float directOneDnn() {
        direct.run();
        return direct.first();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
        x.close();
        direct.close();
    }
}
