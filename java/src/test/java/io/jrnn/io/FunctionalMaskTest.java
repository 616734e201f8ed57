package io.jrnn.io;

import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jrnn.Mask;
import io.jrnn.Model;
import io.jrnn.Outputs;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A functional model with a real mask: Embedding(mask_zero) → LSTM(return_sequences), concatenated
 * with an unmasked second input, then a GRU. Keras's Concatenate mask is the AND of its inputs'
 * masks (an unmasked input counts as all valid), so the GRU sees the Embedding's mask.
 */
class FunctionalMaskTest {
    @TempDir
    Path tmp;

    private static final String CONFIG = ("{'class_name': 'Functional', 'config': {'name': 'masked', 'layers': ["
            + "{'name': 'tokens', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 6], 'name': 'tokens'},"
            + " 'inbound_nodes': []},"
            + "{'name': 'feats', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 6, 2], 'name': 'feats'},"
            + " 'inbound_nodes': []},"
            + "{'name': 'emb', 'class_name': 'Embedding', 'config': {'name': 'emb', 'input_dim': 10, 'output_dim': 3,"
            + " 'mask_zero': true}, 'inbound_nodes': [[['tokens', 0, 0, {}]]]},"
            + "{'name': 'lstm', 'class_name': 'LSTM', 'config': {'name': 'lstm', 'units': 4, 'return_sequences': true,"
            + " 'recurrent_activation': 'sigmoid'}, 'inbound_nodes': [[['emb', 0, 0, {}]]]},"
            + "{'name': 'cat', 'class_name': 'Concatenate', 'config': {'name': 'cat', 'axis': -1},"
            + " 'inbound_nodes': [[['lstm', 0, 0, {}], ['feats', 0, 0, {}]]]},"
            + "{'name': 'gru', 'class_name': 'GRU', 'config': {'name': 'gru', 'units': 3, 'recurrent_activation': 'sigmoid',"
            + " 'reset_after': true}, 'inbound_nodes': [[['cat', 0, 0, {}]]]}"
            + "], 'input_layers': [['tokens', 0, 0], ['feats', 0, 0]], 'output_layers': [['lstm', 0, 0], ['gru', 0, 0]]}}")
            .replace('\'', '"');

    @Test
    void embeddingMaskTravelsThroughConcatenateIntoTheGru() {
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("emb", List.of(random("emb/embeddings:0", 1, 10, 3)));
        w.put("lstm", List.of(random("lstm/kernel:0", 2, 3, 16), random("lstm/recurrent_kernel:0", 3, 4, 16),
                random("lstm/bias:0", 4, 16)));
        w.put("gru", List.of(random("gru/kernel:0", 5, 6, 9), random("gru/recurrent_kernel:0", 6, 3, 9),
                random("gru/bias:0", 7, 2, 9)));
        Path file = KerasFixtures.writeH5(tmp.resolve("masked.h5"), CONFIG, "2.10.0", w);
        // Right padding, a row with a zero inside, and a full row.
        float[] ids = {4, 2, 7, 0, 0, 0, 3, 0, 5, 9, 1, 0, 1, 2, 3, 4, 5, 6};
        try (Model m = KerasModels.loadModel(file); Tensor tokens = Tensor.of(ids, 3, 6);
             Tensor feats = FunctionalModelTest.randomTensor(9, 3, 6, 2)) {
            float[] expectedSeq;
            float[] expectedLast;
            try (Embedding emb = new Embedding("e", 10, 3, true);
                 LSTM lstm = LSTM.builder().units(4).returnSequences(true).build();
                 GRU gru = GRU.builder().units(3).resetAfter(true).build()) {
                emb.setWeights(w.get("emb").get(0).values());
                lstm.setWeights(w.get("lstm").get(0).values(), w.get("lstm").get(1).values(), w.get("lstm").get(2).values());
                gru.setWeights(w.get("gru").get(0).values(), w.get("gru").get(1).values(), w.get("gru").get(2).values());
                Mask mask = emb.outputMask(tokens, null);
                assertFalse(mask.valid(1, 1));
                try (Tensor e = emb.apply(tokens); Outputs seq = lstm.forward(e, mask)) {
                    expectedSeq = seq.output().toArray();
                    float[] f = feats.toArray();
                    float[] cat = new float[3 * 6 * 6];
                    for (int r = 0; r < 18; r++) {
                        System.arraycopy(expectedSeq, r * 4, cat, r * 6, 4);
                        System.arraycopy(f, r * 2, cat, r * 6 + 4, 2);
                    }
                    try (Tensor c = Tensor.of(cat, 3, 6, 6); Outputs last = gru.forward(c, mask)) {
                        expectedLast = last.output().toArray();
                    }
                    // Without the mask the GRU's result differs: the test sees whether the mask arrived.
                    try (Tensor c = Tensor.of(cat, 3, 6, 6); Tensor unmasked = gru.apply(c)) {
                        assertFalse(java.util.Arrays.equals(expectedLast, unmasked.toArray()));
                    }
                }
            }
            for (Backend backend : TestBackends.all()) {
                m.useBackend(backend);
                List<Tensor> out = m.forward(List.of(tokens, feats));
                try {
                    assertEquals(2, out.size());
                    assertArrayEquals(new int[] {3, 6, 4}, out.get(0).shape());
                    assertArrayEquals(expectedSeq, out.get(0).toArray(), 2e-6f, backend.name());
                    assertArrayEquals(expectedLast, out.get(1).toArray(), 2e-6f, backend.name());
                } finally {
                    out.forEach(Tensor::close);
                }
            }
        }
    }
}
