package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** TimeDistributed under a mask: per-step layers pass it through, mask-consuming inner layers are refused. */
class TimeDistributedMaskTest {
    private static float[] random(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() - 0.5);
        }
        return v;
    }

    @Test
    void timeDistributedDenseAfterAMaskedLstmEqualsDenseOnTheMaskedSequence() {
        // Embedding(mask_zero) → LSTM(return_sequences) → TimeDistributed(Dense): the Dense runs on every
        // step (masked ones too, on the LSTM's carried outputs) and the mask comes out unchanged.
        float[] tokens = {3, 1, 4, 0, 0, 2, 0, 5, 1, 0};
        for (Backend backend : TestBackends.all()) {
            Embedding emb = new Embedding("emb", 6, 3, true);
            emb.setWeights(random(18, 1));
            LSTM lstm = LSTM.builder().name("lstm").units(4).returnSequences(true).build();
            lstm.setWeights(random(3 * 16, 2), random(4 * 16, 3), random(16, 4));
            Dense dense = Dense.builder().name("dense").units(2).activation(Activation.TANH).build();
            dense.setWeights(random(8, 5), random(2, 6));
            try (Sequential m = Sequential.of(emb, lstm, new TimeDistributed("td", dense));
                 Tensor x = Tensor.of(tokens, 2, 5)) {
                m.useBackend(backend);
                float[] expected;
                Mask mask;
                try (Tensor e = emb.apply(x)) {
                    mask = emb.outputMask(x, null);
                    try (Outputs seq = lstm.forward(e, mask); Tensor d = dense.apply(seq.output())) {
                        expected = d.toArray();
                    }
                }
                assertTrue(!mask.allValid() && !mask.valid(0, 3) && !mask.valid(1, 1) && mask.valid(1, 2));
                try (Tensor y = m.forward(x)) {
                    assertArrayEquals(new int[] {2, 5, 2}, y.shape());
                    assertArrayEquals(expected, y.toArray(), 1e-6f, backend.name());
                }
                TimeDistributed td = (TimeDistributed) m.layers().get(2);
                try (Tensor h = Tensor.zeros(2, 5, 4); Outputs o = td.forward(h, mask)) {
                    assertArrayEquals(new int[] {2, 5, 2}, o.output().shape());
                    assertSame(mask, td.outputMask(h, mask));
                }
            }
        }
    }

    @Test
    void innerLayerThatWouldConsumeTheMaskIsRefusedNamingBothLayers() {
        try (TimeDistributed td = new TimeDistributed("td", LSTM.builder().name("inner_lstm").units(2).build());
             Tensor x = Tensor.of(random(2 * 3 * 4 * 5, 7), 2, 3, 4, 5)) {
            Mask masked = Mask.fromLengths(new int[] {3, 1}, 3);
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> td.forward(x, masked));
            assertTrue(e.getMessage().contains("'td'") && e.getMessage().contains("inner_lstm")
                    && e.getMessage().contains("Dense"), e.getMessage());
            // An all-valid mask changes nothing: the inner LSTM runs on every [4, 5] slice.
            try (Outputs o = td.forward(x, Mask.fromLengths(new int[] {3, 3}, 3))) {
                assertArrayEquals(new int[] {2, 3, 2}, o.output().shape());
            }
        }
    }

    @Test
    void maskOfTheWrongShapeIsRefused() {
        try (TimeDistributed td = new TimeDistributed("td", Dense.builder().units(2).build());
             Tensor x = Tensor.zeros(2, 3, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> td.forward(x, Mask.fromLengths(new int[] {1, 2}, 4)));
            assertTrue(e.getMessage().contains("'td'") && e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }
}
