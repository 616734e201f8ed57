package io.jrnn.bench;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_ITER_C;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_LAYER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_ITER;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS_LAYER;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lbr_gru_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lstm_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_rnn_flags_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_left2right;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
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
 *   <li>{@link #directOneDnn}: the floor. The same primitive ({@code lstm_forward},
 *       {@code lbr_gru_forward} for GRU {@code reset_after=true}, {@code gru_forward} for
 *       {@code reset_after=false}), with the weight format jrnn's {@code WeightFormat} rule picks for
 *       the shape, built here through the JavaCPP oneDNN C API: weights reordered once, source,
 *       destination and state buffers preallocated and bound once; a call is
 *       {@code dnnl_primitive_execute} + {@code dnnl_stream_wait}.</li>
 * </ul>
 *
 * <p>Setup checks that both produce the same sequence (max |diff| ≤ 1e-5) and that jrnn reports the
 * same oneDNN implementation and weight format. Run with {@code OMP_NUM_THREADS=1
 * OMP_WAIT_POLICY=ACTIVE} (see bench/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class JrnnVsOneDnnBenchmark {

    /** The cell, and so the oneDNN primitive. */
    public enum Cell {
        /** Keras LSTM → {@code lstm_forward}. */
        LSTM("lstm_forward", 4, 4),
        /** Keras GRU, {@code reset_after=true} (Keras 3 default) → {@code lbr_gru_forward}. */
        GRU("lbr_gru_forward", 3, 4),
        /** Keras GRU, {@code reset_after=false} (Keras 2 default) → {@code gru_forward}. */
        GRU_RESET_BEFORE("gru_forward", 3, 3);

        final String primitive;
        final int gates;
        final int biasGates;

        Cell(String primitive, int gates, int biasGates) {
            this.primitive = primitive;
            this.gates = gates;
            this.biasGates = biasGates;
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

    /** {@code HxNxTxC}: units, batch, time steps, input features. */
    @Param({"512x64x25x512", "128x32x50x64"})
    public String shape;

    private int h;
    private int n;
    private int t;
    private int c;

    // jrnn
    private RecurrentLayer layer;
    private Tensor x;

    // direct oneDNN
    private final Deque<Runnable> releases = new ArrayDeque<>();
    private dnnl_stream stream;
    private dnnl_primitive primitive;
    private dnnl_exec_arg_t args;
    private int argCount;
    private BytePointer dst;
    private String directImpl;
    private String directFormat;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        h = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        t = Integer.parseInt(dims[2]);
        c = Integer.parseInt(dims[3]);

        // Keras-layout weights: kernel [C, G·H], recurrent_kernel [H, G·H], bias [G·H] (GRU reset_after: [2, 3H]).
        SplittableRandom rng = new SplittableRandom(20261122L);
        int gh = cell.gates * h;
        float[] kernel = uniform(rng, c * gh, (float) Math.sqrt(6.0 / (c + gh)));
        float[] recurrent = uniform(rng, h * gh, (float) (1 / Math.sqrt(h)));
        float[] bias = uniform(rng, cell == Cell.GRU ? 2 * gh : gh, 0.1f);
        float[] input = uniform(rng, n * t * c, 1f);

        // jrnn: the public API.
        layer = switch (cell) {
            case LSTM -> LSTM.builder().units(h).returnSequences(true).build();
            case GRU -> GRU.builder().units(h).resetAfter(true).returnSequences(true).build();
            case GRU_RESET_BEFORE -> GRU.builder().units(h).resetAfter(false).returnSequences(true).build();
        };
        layer.setWeights(kernel, recurrent, bias);
        layer.useBackend(DnnlBackend.instance());
        x = Tensor.of(input, n, t, c);
        float[] viaJrnn;
        try (Outputs out = layer.forward(x)) {
            viaJrnn = out.output().toArray();
        }

        // Direct oneDNN.
        buildDirect(kernel, recurrent, oneDnnBias(bias, gh), input);
        directOneDnn();
        float[] viaDirect = new float[n * t * h];
        floats(dst).get(viaDirect);

        float maxDiff = 0;
        for (int i = 0; i < viaDirect.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(viaDirect[i] - viaJrnn[i]));
        }
        String path = layer.executionPath();
        String expected = "oneDNN " + cell.primitive + " (" + directImpl + ", weights " + directFormat + ")";
        System.out.println();
        System.out.println("# " + DnnlBackend.instance().describe());
        System.out.println("# jrnn:   " + path);
        System.out.println("# direct: " + expected + "; max |jrnn - direct| = " + maxDiff);
        if (!(maxDiff <= TOLERANCE)) {
            throw new IllegalStateException(cell + " " + shape + ": jrnn and direct oneDNN differ by " + maxDiff);
        }
        // Small batches of large LSTMs run on jrnn's composed path (faster there, see WeightFormat.composedFaster).
        boolean jrnnComposed = path.startsWith("oneDNN composed");
        if (weightFormat.equals("rule") && !jrnnComposed && !path.equals(expected)) {
            throw new IllegalStateException(cell + " " + shape + ": jrnn runs '" + path + "', direct runs '" + expected + "'");
        }
    }

    /** The direct primitive's implementation and weight format, e.g. {@code brgemm:avx512_core, weights any}. */
    public String directPath() {
        return directImpl + ", weights " + directFormat;
    }

    @Benchmark
    public float jrnn() {
        try (Outputs out = layer.forward(x)) {
            return out.output().pointer().get(0);
        }
    }

    @Benchmark
    public float directOneDnn() {
        check(dnnl_primitive_execute(primitive, stream, argCount, args), "dnnl_primitive_execute");
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        return dst.getFloat(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
        x.close();
        while (!releases.isEmpty()) {
            releases.pop().run();
        }
    }

    // ---------------------------------------------------------------- direct oneDNN

    /**
     * jrnn's {@code WeightFormat} rule (the library keeps it package-private): LSTM asks for
     * {@code format_tag::any}; lbr_gru (and vanilla RNN) ask for {@code any} below batch 32 and
     * {@code ldigo} from 32 on; gru_forward keeps {@code ldigo}. Setup checks that jrnn reports the
     * same choice.
     */
    private static boolean wantsAny(Cell cell, int batch) {
        return switch (cell) {
            case LSTM -> true;
            case GRU -> batch < 32;
            case GRU_RESET_BEFORE -> false;
        };
    }

    /** Keras bias → oneDNN {@code ldgo}: as is, except lbr_gru's {@code {1,1,4,H}} = [b_z+r_z, b_r+r_r, b_h, r_h]. */
    private float[] oneDnnBias(float[] keras, int gh) {
        if (cell != Cell.GRU) {
            return keras;
        }
        float[] b = new float[4 * h];
        for (int i = 0; i < 2 * h; i++) {
            b[i] = keras[i] + keras[gh + i];
        }
        System.arraycopy(keras, 2 * h, b, 2 * h, h);
        System.arraycopy(keras, gh + 2 * h, b, 3 * h, h);
        return b;
    }

    private void buildDirect(float[] kernel, float[] recurrent, float[] bias, float[] input) {
        dnnl_engine engine;
        try (PointerPointer<dnnl_engine> out = new PointerPointer<>(1)) {
            check(dnnl_engine_create(out, dnnl_cpu, 0), "dnnl_engine_create");
            engine = out.get(dnnl_engine.class, 0);
            releases.push(() -> check(dnnl_engine_destroy(engine), "dnnl_engine_destroy"));
        }
        try (PointerPointer<dnnl_stream> out = new PointerPointer<>(1)) {
            check(dnnl_stream_create(out, engine, dnnl_stream_default_flags), "dnnl_stream_create");
            stream = out.get(dnnl_stream.class, 0);
            dnnl_stream s = stream;
            releases.push(() -> check(dnnl_stream_destroy(s), "dnnl_stream_destroy"));
        }
        long g = cell.gates;
        boolean any = weightFormat.equals("rule") ? wantsAny(cell, n) : weightFormat.equals("any");
        directFormat = any ? "any" : "ldigo";
        int weightTag = any ? dnnl_format_tag_any : dnnl_ldigo;
        dnnl_memory_desc srcLayerMd = desc(dnnl_ntc, t, n, c);
        dnnl_memory_desc dstLayerMd = desc(dnnl_ntc, t, n, h);
        dnnl_memory_desc stateMd = desc(dnnl_ldnc, 1, 1, n, h);
        dnnl_memory_desc wLayerUser = desc(dnnl_ldigo, 1, 1, c, g, h);
        dnnl_memory_desc wIterUser = desc(dnnl_ldigo, 1, 1, h, g, h);
        dnnl_memory_desc biasMd = desc(dnnl_ldgo, 1, 1, cell.biasGates, h);
        dnnl_memory_desc wLayerMd = desc(weightTag, 1, 1, c, g, h);
        dnnl_memory_desc wIterMd = desc(weightTag, 1, 1, h, g, h);

        dnnl_primitive_desc pd;
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            int dir = dnnl_unidirectional_left2right;
            int status = switch (cell) {
                case LSTM -> dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dir,
                        srcLayerMd, stateMd, stateMd, wLayerMd, wIterMd, null, null, biasMd, dstLayerMd, stateMd, stateMd,
                        dnnl_rnn_flags_undef, null);
                case GRU -> dnnl_lbr_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dir,
                        srcLayerMd, stateMd, wLayerMd, wIterMd, biasMd, dstLayerMd, stateMd, dnnl_rnn_flags_undef, null);
                case GRU_RESET_BEFORE -> dnnl_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dir,
                        srcLayerMd, stateMd, wLayerMd, wIterMd, biasMd, dstLayerMd, stateMd, dnnl_rnn_flags_undef, null);
            };
            check(status, "dnnl_" + cell.primitive + "_primitive_desc_create");
            pd = out.get(dnnl_primitive_desc.class, 0);
            releases.push(() -> check(dnnl_primitive_desc_destroy(pd), "dnnl_primitive_desc_destroy"));
        }
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query");
            directImpl = new BytePointer(out.get(0)).getString();
        }
        try (PointerPointer<dnnl_primitive> out = new PointerPointer<>(1)) {
            check(dnnl_primitive_create(out, pd), "dnnl_primitive_create");
            primitive = out.get(dnnl_primitive.class, 0);
            dnnl_primitive p = primitive;
            releases.push(() -> check(dnnl_primitive_destroy(p), "dnnl_primitive_destroy"));
        }

        // Weights: Keras arrays are ldigo as they are; reorder once into the layout the primitive wants.
        dnnl_memory wLayer = weights(engine, wLayerUser, kernel, pd, DNNL_ARG_WEIGHTS_LAYER);
        dnnl_memory wIter = weights(engine, wIterUser, recurrent, pd, DNNL_ARG_WEIGHTS_ITER);
        dnnl_memory biasMem = weights(engine, biasMd, bias, pd, DNNL_ARG_BIAS);

        // Preallocated, bound once.
        BytePointer src = buffer((long) n * t * c);
        floats(src).put(input);
        dst = buffer((long) n * t * h);
        long stateFloats = (long) n * h;
        boolean lstm = cell == Cell.LSTM;
        argCount = lstm ? 9 : 7;
        args = own(new dnnl_exec_arg_t(argCount));
        int i = 0;
        i = arg(i, DNNL_ARG_SRC_LAYER, memory(engine, query(pd, DNNL_ARG_SRC_LAYER), src));
        i = arg(i, DNNL_ARG_SRC_ITER, memory(engine, query(pd, DNNL_ARG_SRC_ITER), buffer(stateFloats)));
        i = arg(i, DNNL_ARG_WEIGHTS_LAYER, wLayer);
        i = arg(i, DNNL_ARG_WEIGHTS_ITER, wIter);
        i = arg(i, DNNL_ARG_BIAS, biasMem);
        i = arg(i, DNNL_ARG_DST_LAYER, memory(engine, query(pd, DNNL_ARG_DST_LAYER), dst));
        i = arg(i, DNNL_ARG_DST_ITER, memory(engine, query(pd, DNNL_ARG_DST_ITER), buffer(stateFloats)));
        if (lstm) {
            i = arg(i, DNNL_ARG_SRC_ITER_C, memory(engine, query(pd, DNNL_ARG_SRC_ITER_C), buffer(stateFloats)));
            arg(i, DNNL_ARG_DST_ITER_C, memory(engine, query(pd, DNNL_ARG_DST_ITER_C), buffer(stateFloats)));
        }
    }

    private int arg(int index, int arg, dnnl_memory memory) {
        args.getPointer(index).arg(arg).memory(memory);
        return index + 1;
    }

    /** Weights in the layout {@code pd} wants for {@code arg}: the user memory, or a reordered copy. */
    private dnnl_memory weights(dnnl_engine engine, dnnl_memory_desc userMd, float[] values, dnnl_primitive_desc pd, int arg) {
        BytePointer userBuf = buffer(values.length);
        floats(userBuf).put(values);
        dnnl_memory user = memory(engine, userMd, userBuf);
        dnnl_memory_desc wanted = query(pd, arg);
        if (org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal(userMd, wanted) != 0) {
            return user;
        }
        dnnl_memory packed = memory(engine, wanted, buffer(dnnl_memory_desc_get_size(wanted) / Float.BYTES));
        try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
            check(dnnl_reorder_primitive_desc_create(out, userMd, engine, wanted, engine, null), "dnnl_reorder_primitive_desc_create");
            dnnl_primitive_desc rpd = out.get(dnnl_primitive_desc.class, 0);
            try (PointerPointer<dnnl_primitive> p = new PointerPointer<>(1); dnnl_exec_arg_t a = new dnnl_exec_arg_t(2)) {
                check(dnnl_primitive_create(p, rpd), "dnnl_primitive_create(reorder)");
                dnnl_primitive reorder = p.get(dnnl_primitive.class, 0);
                a.getPointer(0).arg(DNNL_ARG_FROM).memory(user);
                a.getPointer(1).arg(DNNL_ARG_TO).memory(packed);
                check(dnnl_primitive_execute(reorder, stream, 2, a), "dnnl_primitive_execute(reorder)");
                check(dnnl_stream_wait(stream), "dnnl_stream_wait");
                check(dnnl_primitive_destroy(reorder), "dnnl_primitive_destroy");
            } finally {
                check(dnnl_primitive_desc_destroy(rpd), "dnnl_primitive_desc_destroy");
            }
        }
        return packed;
    }

    private static dnnl_memory_desc query(dnnl_primitive_desc pd, int arg) {
        return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    }

    private dnnl_memory_desc desc(int tag, long... dims) {
        try (PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1)) {
            check(dnnl_memory_desc_create_with_tag(out, dims.length, dims, dnnl_f32, tag), "dnnl_memory_desc_create_with_tag");
            dnnl_memory_desc md = out.get(dnnl_memory_desc.class, 0);
            releases.push(() -> check(dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy"));
            return md;
        }
    }

    private dnnl_memory memory(dnnl_engine engine, dnnl_memory_desc md, Pointer data) {
        try (PointerPointer<dnnl_memory> out = new PointerPointer<>(1)) {
            check(dnnl_memory_create(out, md, engine, data), "dnnl_memory_create");
            dnnl_memory m = out.get(dnnl_memory.class, 0);
            releases.push(() -> check(dnnl_memory_destroy(m), "dnnl_memory_destroy"));
            return m;
        }
    }

    /** A zeroed, 64-byte aligned buffer of {@code count} floats. */
    private BytePointer buffer(long count) {
        long bytes = count * Float.BYTES;
        BytePointer raw = own(new BytePointer(bytes + 64));
        raw.zero();
        long start = (64 - raw.address() % 64) % 64;
        return raw.position(start).limit(start + bytes);
    }

    private static FloatBuffer floats(BytePointer buffer) {
        return buffer.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private <P extends Pointer> P own(P pointer) {
        releases.push(pointer::close);
        return pointer;
    }

    private static void check(int status, String function) {
        if (status != dnnl_success) {
            throw new IllegalStateException(function + " failed with status " + status);
        }
    }

    private static float[] uniform(SplittableRandom rng, int count, float limit) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        return v;
    }
}
