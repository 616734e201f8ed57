package io.jrnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import io.jrnn.layers.ActivationLayer;
import io.jrnn.layers.Activation;
import io.jrnn.layers.Dense;
import io.jrnn.layers.Dropout;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Layer;
import io.jrnn.layers.Masking;
import io.jrnn.layers.SimpleRNN;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Masks made by Embedding(mask_zero) and Masking, threaded through Sequential (spec §3.3). */
class SequentialMaskTest {
    static List<Backend> backends() {
        return TestBackends.all();
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    private static Embedding embedding(boolean maskZero) {
        Embedding e = new Embedding("emb", 5, 3, maskZero);
        e.setWeights(random(15, 1));
        return e;
    }

    /** Ids [2, 4]: sample 0 right-padded (length 2), sample 1 with a zero inside. */
    private static final float[] IDS = {3, 1, 0, 0, 2, 0, 4, 1};

    @Test
    void embeddingMaskZeroMasksTheZeroIdsAndStillEmbedsThem() {
        try (Embedding e = embedding(true); Embedding plain = embedding(false); Tensor ids = Tensor.of(IDS, 2, 4)) {
            Mask m = e.outputMask(ids, null);
            assertEquals(Mask.of(new boolean[] {true, true, false, false, true, false, true, true}, 2, 4), m);
            assertNull(plain.outputMask(ids, null));
            try (Tensor a = e.apply(ids); Tensor b = plain.apply(ids)) {
                assertArrayEquals(b.toArray(), a.toArray());
            }
        }
    }

    @Test
    void maskingMasksStepsEqualToTheValueAndZeroesThem() {
        float nan = Float.NaN;
        // [1, 4, 2]: steps (7,7), (7,1), (nan,7), (0,0).
        float[] x = {7, 7, 7, 1, nan, 7, 0, 0};
        try (Masking m = new Masking(7f); Tensor in = Tensor.of(x, 1, 4, 2); Tensor y = m.apply(in)) {
            assertEquals(Mask.of(new boolean[] {false, true, true, true}, 1, 4), m.outputMask(in, null));
            float[] out = y.toArray();
            assertArrayEquals(new float[] {0, 0, 7, 1}, java.util.Arrays.copyOf(out, 4));
            assertTrue(Float.isNaN(out[4]));
            assertEquals(7f, out[5]);
        }
        try (Masking m = new Masking("m", 0f); Tensor in = Tensor.zeros(2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.apply(in));
            assertTrue(e.getMessage().contains("Masking 'm'") && e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }

    /** Embedding(mask_zero) → LSTM(seq) → Dropout → GRU → Dense, against the layers run by hand with the mask. */
    @ParameterizedTest
    @MethodSource("backends")
    void embeddingMaskFlowsThroughRecurrentAndPassThroughLayers(Backend backend) {
        Mask mask = Mask.of(new boolean[] {true, true, false, false, true, false, true, true}, 2, 4);
        LSTM lstm = LSTM.builder().units(4).returnSequences(true).seed(3).build();
        GRU gru = GRU.builder().units(3).seed(4).build();
        Dense dense = Dense.builder().units(2).build();
        dense.setWeights(random(6, 5), random(2, 6));
        lstm.initializeWeights(3);
        gru.initializeWeights(4);
        try (Sequential model = Sequential.of(embedding(true), lstm, new Dropout(0.5), new ActivationLayer(Activation.LINEAR),
                gru, dense).useBackend(backend); Tensor ids = Tensor.of(IDS, 2, 4); Tensor y = model.forward(ids)) {
            try (Embedding e = embedding(true); Tensor emb = e.apply(ids);
                 Outputs l1 = lstm.forward(emb, mask); Outputs g = gru.forward(l1.output(), mask);
                 Tensor expected = dense.apply(g.output())) {
                assertArrayEquals(expected.toArray(), y.toArray(), 0f);
            }
            // Without the mask the result differs: the mask really arrived.
            try (Embedding e = embedding(true); Tensor emb = e.apply(ids); Tensor l1 = lstm.apply(emb);
                 Tensor g = gru.apply(l1); Tensor unmasked = dense.apply(g)) {
                assertTrue(!java.util.Arrays.equals(unmasked.toArray(), y.toArray()));
            }
            // Sliced batches compute each slice's own mask.
            try (Tensor sliced = model.forward(ids, 1)) {
                assertArrayEquals(y.toArray(), sliced.toArray(), 1e-6f);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void maskingFlowsIntoARecurrentLayer(Backend backend) {
        float[] x = random(2 * 5 * 3, 8);
        // Sample 0: steps 3 and 4 padded with the mask value; sample 1: step 1 padded (not a prefix mask).
        for (int i : new int[] {9, 10, 11, 12, 13, 14, 18, 19, 20}) {
            x[i] = -1f;
        }
        SimpleRNN rnn = SimpleRNN.builder().units(4).returnSequences(true).seed(9).build();
        rnn.initializeWeights(3);
        try (Sequential model = Sequential.of(new Masking(-1f), rnn).useBackend(backend); Tensor in = Tensor.of(x, 2, 5, 3);
             Tensor y = model.forward(in)) {
            Mask mask = Mask.of(new boolean[] {true, true, true, false, false, true, false, true, true, true}, 2, 5);
            try (Masking m = new Masking(-1f); Tensor masked = m.apply(in); Outputs expected = rnn.forward(masked, mask)) {
                assertArrayEquals(expected.output().toArray(), y.toArray(), 0f);
            }
            float[] out = y.toArray();
            // Canonical carry: padded steps 3, 4 of sample 0 repeat step 2.
            for (int j = 0; j < 4; j++) {
                assertEquals(out[2 * 4 + j], out[3 * 4 + j]);
                assertEquals(out[2 * 4 + j], out[4 * 4 + j]);
            }
        }
    }

    @Test
    void explicitMaskForAModelThatStartsWithARecurrentLayer() {
        LSTM lstm = LSTM.builder().units(2).seed(1).build();
        lstm.initializeWeights(3);
        Mask mask = Mask.fromLengths(new int[] {2, 4}, 4);
        try (Sequential model = Sequential.of(lstm); Tensor x = Tensor.of(random(24, 2), 2, 4, 3);
             Tensor y = model.forward(x, mask); Outputs expected = lstm.forward(x, mask)) {
            assertArrayEquals(expected.output().toArray(), y.toArray(), 0f);
        }
    }

    @Test
    void aLayerThatCannotApplyAMaskRefusesIt() {
        try (Sequential model = Sequential.of(embedding(true), noMasks()); Tensor ids = Tensor.of(IDS, 2, 4)) {
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> model.forward(ids));
            assertTrue(e.getMessage().contains("Custom 'custom'"), e.getMessage());
        }
        // A recurrent layer without return_sequences ends the mask: the next layer gets none.
        LSTM last = LSTM.builder().units(2).seed(1).build();
        try (Sequential model = Sequential.of(embedding(true), last, noMasks()); Tensor ids = Tensor.of(IDS, 2, 4);
             Tensor y = model.forward(ids)) {
            assertArrayEquals(new int[] {2, 2}, y.shape());
        }
    }

    /** A layer with the default mask handling (refuses real masks). */
    private static Layer noMasks() {
        return new Layer("custom", "custom") {
            @Override
            public String typeName() {
                return "Custom";
            }

            @Override
            public Outputs forward(Tensor x, Tensor... initialStates) {
                ensureOpen();
                return new Outputs(List.of(x.copy()));
            }

            @Override
            public int[] outputShape(int[] inputShape) {
                return inputShape;
            }
        };
    }

    @Test
    void denseRefusesAMaskOnAFlatInput() {
        Dense d = Dense.builder().name("head").units(1).build();
        d.setWeights(new float[] {1, 1}, new float[] {0});
        try (d; Tensor x = Tensor.zeros(2, 2); Tensor seq = Tensor.zeros(2, 3, 2)) {
            Mask m = Mask.fromLengths(new int[] {1, 2}, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.forward(x, m));
            assertTrue(e.getMessage().contains("Dense 'head'"), e.getMessage());
            Mask wrong = Mask.fromLengths(new int[] {1, 2}, 2);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> d.forward(seq, wrong)).getMessage()
                    .contains("[2, 3], got [2, 2]"));
            try (Outputs o = d.forward(seq, m)) {
                assertEquals(m, d.outputMask(seq, m));
            }
        }
    }
}
