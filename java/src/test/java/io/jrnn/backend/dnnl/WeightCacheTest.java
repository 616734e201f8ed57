package io.jrnn.backend.dnnl;

import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_get_data_handle;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Test;

/** {@link WeightCache#columns}: a strided view of an uploaded matrix, reordered like any source. */
class WeightCacheTest {
    private static final DnnlBackend CPU = DnnlBackend.instance();

    @Test
    void columnsAreAViewThatReordersIntoTheirOwnDenseMatrix() {
        int rows = 3;
        int width = 7;
        float[] m = new float[rows * width];
        for (int i = 0; i < m.length; i++) {
            m[i] = i;
        }
        try (NativeScope scope = new NativeScope()) {
            dnnl_stream stream = Dnnl.stream(scope, CPU.engine());
            WeightCache cache = new WeightCache(CPU.engine(), stream);
            scope.defer(cache::close);
            WeightCache.Source source = cache.upload(m, dnnl_ab, rows, width);
            WeightCache.Source view = cache.columns(source, rows, width, 2, 4);
            NativeScope user = scope.child();
            dnnl_memory dense = cache.in(user, view, Dnnl.desc(user, dnnl_ab, rows, 4));
            assertEquals(1, cache.conversions());
            float[] actual = new float[rows * 4];
            try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
                Dnnl.check(dnnl_memory_get_data_handle(dense, out), "dnnl_memory_get_data_handle");
                new FloatPointer(out.get(0)).get(actual);
            }
            assertArrayEquals(new float[] {2, 3, 4, 5, 9, 10, 11, 12, 16, 17, 18, 19}, actual);
            user.close();
        }
    }

    @Test
    void columnsOutsideTheMatrixAreRefused() {
        try (NativeScope scope = new NativeScope()) {
            WeightCache cache = new WeightCache(CPU.engine(), Dnnl.stream(scope, CPU.engine()));
            scope.defer(cache::close);
            WeightCache.Source source = cache.upload(new float[12], dnnl_ab, 3, 4);
            assertThrows(IllegalArgumentException.class, () -> cache.columns(source, 3, 4, 2, 3));
            assertThrows(IllegalArgumentException.class, () -> cache.columns(source, 3, 4, -1, 2));
            assertThrows(IllegalArgumentException.class, () -> cache.columns(source, 3, 4, 0, 0));
        }
    }
}
