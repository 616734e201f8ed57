package io.jrnn.bench;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import java.util.Arrays;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The machine's matrix-multiply peak as oneDNN reaches it: a square {@code M = N = K} matmul
 * (weights in the layout oneDNN prefers, reordered once), timed as the median of repeated calls.
 * fp32 always; bf16 (bf16 inputs, f32 output) where oneDNN has a native bf16 implementation (it
 * refuses or falls back to a reference kernel otherwise: {@link #measure} returns {@code null} then).
 */
public final class MatmulPeak extends DirectOneDnn {
    private final int size;
    private final dnnl_primitive prim;
    private final dnnl_exec_arg_t args;
    /** oneDNN's implementation name. */
    public final String impl;

    private MatmulPeak(int size, boolean bf16) {
        this.size = size;
        try {
            int dt = bf16 ? dnnl_bf16 : dnnl_f32;
            dnnl_memory_desc src = desc(dt, dnnl_ab, size, size);
            dnnl_memory_desc wAny = desc(dt, dnnl_format_tag_any, size, size);
            dnnl_memory_desc dst = desc(dnnl_f32, dnnl_ab, size, size);
            dnnl_primitive_desc pd;
            try (PointerPointer<dnnl_primitive_desc> out = new PointerPointer<>(1)) {
                int status = dnnl_matmul_primitive_desc_create(out, engine, src, wAny, null, dst, null);
                if (status != dnnl_success) {
                    throw new UnsupportedOperationException("oneDNN matmul " + (bf16 ? "bf16" : "f32")
                            + " unavailable (status " + status + ")");
                }
                pd = primitiveDesc(out);
            }
            try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
                check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query");
                impl = new BytePointer(out.get(0)).getString();
            }
            prim = primitive(pd);
            long elemBytes = bf16 ? 2 : 4;
            BytePointer a = buffer((long) size * size * elemBytes);
            BytePointer w = buffer(org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size(query(pd, DNNL_ARG_WEIGHTS)));
            // Small nonzero inputs (0x3C00 is bf16 0.0078125; fp32 0.01): the values do not matter for speed.
            if (bf16) {
                for (long i = 0; i < (long) size * size; i++) {
                    a.putShort(i * 2, (short) 0x3C00);
                }
            } else {
                float[] row = new float[size];
                Arrays.fill(row, 0.01f);
                for (int i = 0; i < size; i++) {
                    floats(a).position(i * size).put(row);
                }
            }
            dnnl_memory aMem = memory(query(pd, DNNL_ARG_SRC), a);
            dnnl_memory wMem = memory(query(pd, DNNL_ARG_WEIGHTS), w);
            dnnl_memory dMem = memory(query(pd, DNNL_ARG_DST), buffer((long) size * size * 4));
            args = own(new dnnl_exec_arg_t(3));
            int i = arg(args, 0, DNNL_ARG_SRC, aMem);
            i = arg(args, i, DNNL_ARG_WEIGHTS, wMem);
            arg(args, i, DNNL_ARG_DST, dMem);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** One matmul. */
    public void run() {
        execute(prim, 3, args);
    }

    /** {@code 2·size³}. */
    public double flops() {
        return 2.0 * size * size * size;
    }

    /**
     * Median GFLOP/s of a {@code size}³ matmul over about {@code millis} ms of calls (after one
     * warm-up call), or {@code null} when oneDNN has no fast implementation for this data type.
     */
    public static Peak measure(boolean bf16, int size, long millis) {
        MatmulPeak mm;
        try {
            mm = new MatmulPeak(size, bf16);
        } catch (UnsupportedOperationException e) {
            return null;
        }
        try (mm) {
            if (bf16 && mm.impl.contains("ref")) {
                return null; // emulated, not a peak
            }
            mm.run();
            long end = System.nanoTime() + millis * 1_000_000L;
            double[] gflops = new double[10_000];
            int k = 0;
            do {
                long t0 = System.nanoTime();
                mm.run();
                gflops[k++] = mm.flops() / (System.nanoTime() - t0);
            } while (System.nanoTime() < end && k < gflops.length);
            double[] sorted = Arrays.copyOf(gflops, k);
            Arrays.sort(sorted);
            return new Peak(bf16 ? "bf16" : "fp32", size, sorted[k / 2], sorted[k - 1], mm.impl);
        }
    }

    /** A measured peak: median and best GFLOP/s. */
    public record Peak(String dataType, int size, double medianGflops, double bestGflops, String impl) {
    }
}
