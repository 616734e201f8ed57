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
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldgo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldigo;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ldnc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_lstm_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ntc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_rnn_flags_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unidirectional_left2right;

import java.util.ArrayList;
import java.util.List;
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
import org.bytedeco.javacpp.FloatPointer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Is oneDNN's multi-layer RNN primitive ({@code L > 1}, one primitive for a stack of identical
 * layers whose input width equals the units) worth using for {@code RNN(StackedRNNCells)}? This
 * compares, on the raw oneDNN API (no jrnn code on either side), one {@code lstm_forward} with
 * {@code L = layers} against {@code layers} calls of an {@code L = 1} {@code lstm_forward}, each
 * layer's output sequence feeding the next; both with {@code format_tag::any} weights reordered once,
 * zero initial states, output sequence and final states written.
 *
 * <pre>
 * mvn -q -pl bench -am package -DskipTests
 * OMP_NUM_THREADS=1 java -jar bench/target/benchmarks.jar MultiLayerPrimitiveBenchmark -f 1 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"}) // as jrnn bench's children: the Vector API product
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MultiLayerPrimitiveBenchmark {
    @Param({"2"})
    public int layers = 2;
    @Param({"256"})
    public int units = 256;
    @Param({"32"})
    public int batch = 32;
    @Param({"50"})
    public int steps = 50;

    private final List<Pointer> keep = new ArrayList<>();
    private dnnl_engine engine;
    private dnnl_stream stream;
    private Run multiLayer;
    private Run[] perLayer;

    /** One primitive with its argument list. */
    private record Run(dnnl_primitive primitive, dnnl_exec_arg_t args, int count) {
    }

    private static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException(what + " failed with status " + status);
        }
    }

    private dnnl_memory_desc desc(int tag, long... dims) {
        PointerPointer<dnnl_memory_desc> out = new PointerPointer<>(1);
        check(dnnl_memory_desc_create_with_tag(out, dims.length, dims, dnnl_f32, tag), "memory_desc_create");
        return out.get(dnnl_memory_desc.class, 0);
    }

    private dnnl_memory memory(dnnl_memory_desc md, Pointer data) {
        PointerPointer<dnnl_memory> out = new PointerPointer<>(1);
        check(dnnl_memory_create(out, md, engine, data), "memory_create");
        return out.get(dnnl_memory.class, 0);
    }

    private BytePointer buffer(dnnl_memory_desc md) {
        BytePointer b = new BytePointer(dnnl_memory_desc_get_size(md));
        b.zero();
        keep.add(b);
        return b;
    }

    private dnnl_primitive primitive(dnnl_primitive_desc pd) {
        PointerPointer<dnnl_primitive> out = new PointerPointer<>(1);
        check(dnnl_primitive_create(out, pd), "primitive_create");
        return out.get(dnnl_primitive.class, 0);
    }

    private void execute(dnnl_primitive p, int count, dnnl_exec_arg_t args) {
        check(dnnl_primitive_execute(p, stream, count, args), "execute");
        check(dnnl_stream_wait(stream), "stream_wait");
    }

    /** Random Keras-scale weights in ldigo, reordered into what the primitive wants. */
    private dnnl_memory weights(dnnl_primitive_desc pd, int arg, long[] dims, SplittableRandom rng) {
        dnnl_memory_desc user = desc(dnnl_ldigo, dims);
        long count = 1;
        for (long d : dims) {
            count *= d;
        }
        FloatPointer values = new FloatPointer(count);
        keep.add(values);
        float scale = (float) (1 / Math.sqrt(dims[2]));
        for (long i = 0; i < count; i++) {
            values.put(i, (float) rng.nextDouble(-scale, scale));
        }
        dnnl_memory from = memory(user, values);
        dnnl_memory_desc wanted = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
        dnnl_memory to = memory(wanted, buffer(wanted));
        PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1);
        check(dnnl_reorder_primitive_desc_create(out, user, engine, wanted, engine, null), "reorder_pd");
        dnnl_primitive reorder = primitive(out.get(dnnl_primitive_desc.class, 0));
        dnnl_exec_arg_t args = new dnnl_exec_arg_t(2);
        args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
        args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
        execute(reorder, 2, args);
        return to;
    }

    /** An lstm_forward of {@code l} layers from {@code src} (a [T, N, H] ntc buffer) into a new dst buffer. */
    private Run lstm(int l, BytePointer src, BytePointer[] dstOut, SplittableRandom rng) {
        long t = steps;
        long n = batch;
        long h = units;
        dnnl_memory_desc srcLayer = desc(dnnl_ntc, t, n, h);
        dnnl_memory_desc dstLayer = desc(dnnl_ntc, t, n, h);
        dnnl_memory_desc state = desc(dnnl_ldnc, l, 1, n, h);
        dnnl_memory_desc wl = desc(dnnl_format_tag_any, l, 1, h, 4, h);
        dnnl_memory_desc wi = desc(dnnl_format_tag_any, l, 1, h, 4, h);
        dnnl_memory_desc bias = desc(dnnl_ldgo, l, 1, 4, h);
        PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1);
        check(dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference, dnnl_unidirectional_left2right,
                srcLayer, state, state, wl, wi, null, null, bias, dstLayer, state, state, dnnl_rnn_flags_undef, null),
                "lstm_forward_primitive_desc_create L=" + l);
        dnnl_primitive_desc pd = out.get(dnnl_primitive_desc.class, 0);
        PointerPointer<BytePointer> info = new PointerPointer<>(1);
        check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl_info");
        System.out.println("# L=" + l + ": lstm_forward " + new BytePointer(info.get(0)).getString());
        dnnl_memory w1 = weights(pd, DNNL_ARG_WEIGHTS_LAYER, new long[] {l, 1, h, 4, h}, rng);
        dnnl_memory w2 = weights(pd, DNNL_ARG_WEIGHTS_ITER, new long[] {l, 1, h, 4, h}, rng);
        dnnl_memory b = memory(bias, buffer(bias));
        BytePointer dst = buffer(dstLayer);
        dstOut[0] = dst;
        int[] argIds = {DNNL_ARG_SRC_LAYER, DNNL_ARG_SRC_ITER, DNNL_ARG_SRC_ITER_C, DNNL_ARG_WEIGHTS_LAYER,
            DNNL_ARG_WEIGHTS_ITER, DNNL_ARG_BIAS, DNNL_ARG_DST_LAYER, DNNL_ARG_DST_ITER, DNNL_ARG_DST_ITER_C};
        dnnl_memory[] mems = {memory(srcLayer, src), memory(state, buffer(state)), memory(state, buffer(state)), w1, w2,
            b, memory(dstLayer, dst), memory(state, buffer(state)), memory(state, buffer(state))};
        dnnl_exec_arg_t args = new dnnl_exec_arg_t(argIds.length);
        for (int i = 0; i < argIds.length; i++) {
            args.getPointer(i).arg(argIds[i]).memory(mems[i]);
        }
        return new Run(primitive(pd), args, argIds.length);
    }

    @Setup(Level.Trial)
    public void setUp() {
        PointerPointer<dnnl_engine> e = new PointerPointer<>(1);
        check(dnnl_engine_create(e, dnnl_cpu, 0), "engine_create");
        engine = e.get(dnnl_engine.class, 0);
        PointerPointer<dnnl_stream> s = new PointerPointer<>(1);
        check(dnnl_stream_create(s, engine, dnnl_stream_default_flags), "stream_create");
        stream = s.get(dnnl_stream.class, 0);
        SplittableRandom rng = new SplittableRandom(7);
        long floats = (long) steps * batch * units;
        FloatPointer x = new FloatPointer(floats);
        keep.add(x);
        for (long i = 0; i < floats; i++) {
            x.put(i, (float) rng.nextDouble(-1, 1));
        }
        BytePointer input = new BytePointer(x);
        keep.add(input);
        BytePointer[] dst = new BytePointer[1];
        multiLayer = lstm(layers, input, dst, rng);
        perLayer = new Run[layers];
        BytePointer src = input;
        for (int i = 0; i < layers; i++) {
            perLayer[i] = lstm(1, src, dst, rng);
            src = dst[0];
        }
        System.out.println("# layers=" + layers + " H=C=" + units + " N=" + batch + " T=" + steps);
    }

    @Benchmark
    public void multiLayerPrimitive() {
        execute(multiLayer.primitive(), multiLayer.count(), multiLayer.args());
    }

    @Benchmark
    public void oneCallPerLayer() {
        for (Run r : perLayer) {
            execute(r.primitive(), r.count(), r.args());
        }
    }

    /**
     * Interleaved timing for a shared, noisy machine: the two variants alternate call by call so both
     * see the same load; prints min and median per variant and their ratios. Args: rounds (default 30),
     * then {@code field=value} to override a parameter (e.g. {@code units=512}).
     * {@code OMP_NUM_THREADS=1 java -cp bench/target/benchmarks.jar io.jrnn.bench.MultiLayerPrimitiveBenchmark 30}
     */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        MultiLayerPrimitiveBenchmark bench = new MultiLayerPrimitiveBenchmark();
        Interleaved.override(bench, args);
        bench.setUp();
        Interleaved.compare(rounds, "multiLayerPrimitive", bench::multiLayerPrimitive, "oneCallPerLayer", bench::oneCallPerLayer);
    }
}
