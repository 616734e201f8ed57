package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import org.junit.jupiter.api.Test;

/** TimeDistributed and the small shape layers that sit around RNNs. */
class WrapperLayersTest {
    private static Dense dense(int in, int units) {
        Dense d = Dense.builder().units(units).activation(Activation.TANH).build();
        d.setWeights(RecurrentLayerTest.random(in * units, 5), RecurrentLayerTest.random(units, 6));
        return d;
    }

    @Test
    void timeDistributedDenseEqualsDenseOnThreeDimensions() {
        try (Dense plain = dense(4, 3);
             TimeDistributed td = new TimeDistributed("td", dense(4, 3));
             Tensor x = Tensor.of(RecurrentLayerTest.random(2 * 5 * 4, 7), 2, 5, 4);
             Tensor expected = plain.apply(x);
             Tensor got = td.apply(x)) {
            assertArrayEquals(new int[] {2, 5, 3}, got.shape());
            assertArrayEquals(expected.toArray(), got.toArray(), 0f);
            assertArrayEquals(new int[] {5, 3}, td.outputShape(new int[] {5, 4}));
            assertEquals(4 * 3 + 3, td.parameterCount());
            assertEquals("td", td.name());
        }
    }

    @Test
    void timeDistributedFoldsEveryTrailingAxis() {
        // TimeDistributed(Flatten) on [N, T, 2, 3] → [N, T, 6]; the values keep their order.
        float[] v = RecurrentLayerTest.random(2 * 4 * 6, 9);
        try (TimeDistributed td = new TimeDistributed(new Flatten());
             Tensor x = Tensor.of(v, 2, 4, 2, 3);
             Tensor y = td.apply(x)) {
            assertArrayEquals(new int[] {2, 4, 6}, y.shape());
            assertArrayEquals(v, y.toArray(), 0f);
            assertArrayEquals(new int[] {4, 6}, td.outputShape(new int[] {4, 2, 3}));
        }
    }

    @Test
    void timeDistributedPassesTheMaskOnAndOwnsItsLayer() {
        Dense inner = dense(2, 2);
        TimeDistributed td = new TimeDistributed(inner);
        Mask m = Mask.fromLengths(new int[] {1, 3}, 3);
        try (Tensor x = Tensor.of(RecurrentLayerTest.random(12, 3), 2, 3, 2);
             Tensor plain = td.apply(x);
             Outputs masked = td.forward(x, m)) {
            assertArrayEquals(plain.toArray(), masked.output().toArray(), 0f, "Dense runs on every step");
            assertEquals(m, td.outputMask(x, m));
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> td.apply(Tensor.of(new float[4], 2, 2)));
            assertTrue(rank.getMessage().contains("TimeDistributed") && rank.getMessage().contains("rank >= 3"),
                    rank.getMessage());
        }
        td.close();
        td.close();
        assertTrue(inner.isClosed());
    }

    @Test
    void repeatVectorRepeatsEachSample() {
        try (RepeatVector r = new RepeatVector("rep", 3);
             Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
             Tensor y = r.apply(x)) {
            assertArrayEquals(new int[] {2, 3, 2}, y.shape());
            assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, y.toArray(), 0f);
            assertArrayEquals(new int[] {3, 2}, r.outputShape(new int[] {2}));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> r.apply(Tensor.of(new float[8], 2, 2, 2)));
            assertTrue(e.getMessage().contains("'rep'") && e.getMessage().contains("[2, 2, 2]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new RepeatVector(0));
    }

    @Test
    void flattenKeepsChannelsLastOrder() {
        float[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        try (Flatten last = new Flatten(); Tensor x = Tensor.of(v, 2, 3, 2); Tensor y = last.apply(x)) {
            assertArrayEquals(new int[] {2, 6}, y.shape());
            assertArrayEquals(v, y.toArray(), 0f);
            assertArrayEquals(new int[] {6}, last.outputShape(new int[] {3, 2}));
            assertArrayEquals(new int[] {-1}, last.outputShape(new int[] {-1, 2}));
        }
        // channels_first [N, C=2, S=3] is read as [N, S, C] before flattening (Keras permutes first).
        try (Flatten first = new Flatten("f", true); Tensor x = Tensor.of(v, 2, 2, 3); Tensor y = first.apply(x)) {
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12}, y.toArray(), 0f);
        }
    }

    @Test
    void reshapeInfersOneAxis() {
        try (Reshape r = new Reshape("r", -1, 2); Tensor x = Tensor.of(new float[12], 2, 6); Tensor y = r.apply(x)) {
            assertArrayEquals(new int[] {2, 3, 2}, y.shape());
            assertArrayEquals(new int[] {3, 2}, r.outputShape(new int[] {6}));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> r.apply(Tensor.of(new float[10], 2, 5)));
            assertTrue(e.getMessage().contains("'r'") && e.getMessage().contains("[-1, 2]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Reshape("two", -1, -1));
        assertThrows(IllegalArgumentException.class, () -> new Reshape("zero", 0, 2));
    }

    @Test
    void spatialDropoutIsTheIdentityAndKeepsTheMask() {
        Mask m = Mask.fromLengths(new int[] {2}, 3);
        try (SpatialDropout1D d = new SpatialDropout1D("sd", 0.4);
             Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 3, 2);
             Outputs y = d.forward(x, m)) {
            assertArrayEquals(x.toArray(), y.output().toArray(), 0f);
            assertEquals(m, d.outputMask(x, m));
            assertEquals(0.4, d.rate());
        }
    }

    @Test
    void globalPoolingOverTime() {
        float[] v = {1, -1, 3, 5, 2, 0, /* sample 2 */ -4, 2, 0, 0, 6, 1};
        try (GlobalPooling1D max = new GlobalPooling1D(GlobalPooling1D.Kind.MAX);
             GlobalPooling1D avg = new GlobalPooling1D(GlobalPooling1D.Kind.AVERAGE);
             Tensor x = Tensor.of(v, 2, 3, 2);
             Tensor ymax = max.apply(x);
             Tensor yavg = avg.apply(x)) {
            assertArrayEquals(new float[] {3, 5, 6, 2}, ymax.toArray(), 0f);
            assertArrayEquals(new float[] {2, 4f / 3, 2f / 3, 1}, yavg.toArray(), 1e-6f);
            assertEquals("GlobalMaxPooling1D", max.typeName());
            assertArrayEquals(new int[] {2}, avg.outputShape(new int[] {3, 2}));
            // The average honours a mask (Σ x·m / Σ m); the max refuses one.
            Mask m = Mask.fromLengths(new int[] {2, 1}, 3);
            try (Outputs masked = avg.forward(x, m)) {
                assertArrayEquals(new float[] {2, 2, -4, 2}, masked.output().toArray(), 1e-6f);
            }
            assertThrows(UnsupportedConfigurationException.class, () -> max.forward(x, m));
        }
        // channels_first [N, C, T] with keepdims → [N, C, 1].
        try (GlobalPooling1D avg = new GlobalPooling1D("g", GlobalPooling1D.Kind.AVERAGE, true, true);
             Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
             Tensor y = avg.apply(x)) {
            assertArrayEquals(new int[] {1, 2, 1}, y.shape());
            assertArrayEquals(new float[] {2, 5}, y.toArray(), 1e-6f);
        }
    }
}
