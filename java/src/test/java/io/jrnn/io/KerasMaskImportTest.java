package io.jrnn.io;

import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Embedding;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.Masking;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keras files with Masking, Embedding(mask_zero) and zero_output_for_mask load and run masked. */
class KerasMaskImportTest {
    @TempDir
    Path tmp;

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    @Test
    void maskingLayerAndZeroOutputForMaskImport() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
                + "{'class_name': 'Masking', 'config': {'name': 'masking_1', 'mask_value': -1.0, 'batch_input_shape': [null, 3, 2]}},"
                + "{'class_name': 'LSTM', 'config': {'name': 'lstm_1', 'units': 2, 'return_sequences': true,"
                + " 'zero_output_for_mask': true, 'recurrent_activation': 'sigmoid'}}]}}");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("masking_1", List.of());
        w.put("lstm_1", List.of(random("lstm_1/kernel:0", 1, 2, 8), random("lstm_1/recurrent_kernel:0", 2, 2, 8),
                random("lstm_1/bias:0", 3, 8)));
        Path file = KerasFixtures.writeH5(tmp.resolve("masking.h5"), config, "2.4.0", w);
        float[] x = {0.5f, 0.2f, -1f, -1f, 0.3f, 0.1f, -1f, -1f, -1f, -1f, 0.4f, -0.6f};
        try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(x, 2, 3, 2)) {
            m.useBackend(ReferenceBackend.instance());
            Masking masking = assertInstanceOf(Masking.class, m.layers().get(0));
            assertEquals(-1f, masking.maskValue());
            LSTM lstm = assertInstanceOf(LSTM.class, m.layers().get(1));
            assertTrue(lstm.zeroOutputForMask());
            try (Tensor y = m.forward(in); Outputs expected = lstm.forward(in,
                    Mask.of(new boolean[] {true, false, true, false, false, true}, 2, 3))) {
                assertArrayEquals(expected.output().toArray(), y.toArray(), 0f);
                float[] out = y.toArray();
                // zero_output_for_mask: the masked steps (sample 0 step 1, sample 1 steps 0 and 1) are zeros.
                for (int i : new int[] {2, 3, 6, 7, 8, 9}) {
                    assertEquals(0f, out[i], "element " + i);
                }
            }
        }
    }

    @Test
    void embeddingMaskZeroRunsWithItsMask() {
        String config = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
                + "{'class_name': 'Embedding', 'config': {'name': 'emb', 'input_dim': 6, 'output_dim': 3, 'mask_zero': true,"
                + " 'batch_input_shape': [null, 4]}},"
                + "{'class_name': 'GRU', 'config': {'name': 'gru_1', 'units': 2, 'reset_after': true,"
                + " 'recurrent_activation': 'sigmoid'}}]}}");
        Map<String, List<Array>> w = new LinkedHashMap<>();
        w.put("emb", List.of(random("emb/embeddings:0", 4, 6, 3)));
        w.put("gru_1", List.of(random("gru_1/kernel:0", 5, 3, 6), random("gru_1/recurrent_kernel:0", 6, 2, 6),
                random("gru_1/bias:0", 7, 2, 6)));
        Path file = KerasFixtures.writeH5(tmp.resolve("emb.h5"), config, "2.4.0", w);
        float[] ids = {1, 5, 0, 0, 0, 2, 3, 0};
        try (Sequential m = KerasModels.load(file); Tensor in = Tensor.of(ids, 2, 4)) {
            Embedding emb = assertInstanceOf(Embedding.class, m.layers().get(0));
            assertTrue(emb.maskZero());
            GRU gru = assertInstanceOf(GRU.class, m.layers().get(1));
            try (Tensor y = m.forward(in); Tensor vectors = emb.apply(in);
                 Outputs expected = gru.forward(vectors, Mask.of(new boolean[] {true, true, false, false,
                         false, true, true, false}, 2, 4))) {
                assertArrayEquals(expected.output().toArray(), y.toArray(), 0f);
            }
        }
    }
}
