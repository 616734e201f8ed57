package io.jrnn.io;

import static io.jrnn.io.KerasFixtures.random;

import io.jrnn.io.KerasFixtures.Array;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the seed corpus of {@link ImporterFuzzTest} (committed under
 * {@code src/test/resources/io/jrnn/io/ImporterFuzzTestInputs/}); rerun after changing it:
 * {@code java -cp <test classpath> io.jrnn.io.FuzzSeeds java/src/test/resources/io/jrnn/io/ImporterFuzzTestInputs}.
 * Seeds are small valid files of every kind the importers accept; Jazzer mutates from there.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    static final String BIDI_TD = q("{'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': ["
            + "{'class_name': 'Bidirectional', 'config': {'name': 'bi', 'batch_input_shape': [null, 4, 3], 'merge_mode': 'concat',"
            + " 'layer': {'class_name': 'GRU', 'config': {'name': 'g', 'units': 2, 'reset_after': true, 'return_sequences': true}}}},"
            + "{'class_name': 'TimeDistributed', 'config': {'name': 'td', 'layer': {'class_name': 'Dense',"
            + " 'config': {'name': 'd', 'units': 2, 'activation': 'softmax'}}}}]}}");
    static final String EMB_MASK = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
            + "{'class_name': 'Embedding', 'config': {'name': 'emb', 'batch_input_shape': [null, 5], 'input_dim': 7, 'output_dim': 3,"
            + " 'mask_zero': true}},"
            + "{'class_name': 'SimpleRNN', 'config': {'name': 'rnn', 'units': 2, 'activation': 'relu', 'go_backwards': true}},"
            + "{'class_name': 'Dropout', 'config': {'name': 'drop', 'rate': 0.5}},"
            + "{'class_name': 'Activation', 'config': {'name': 'act', 'activation': 'sigmoid'}}]}}");
    static final String RNN_CELLS = q("{'class_name': 'Sequential', 'config': {'name': 's', 'layers': ["
            + "{'class_name': 'Masking', 'config': {'name': 'm', 'batch_input_shape': [null, 4, 3], 'mask_value': 0.0}},"
            + "{'class_name': 'RNN', 'config': {'name': 'r', 'return_sequences': true, 'cell': {'class_name': 'StackedRNNCells',"
            + " 'config': {'cells': [{'class_name': 'LSTMCell', 'config': {'name': 'c1', 'units': 2}},"
            + " {'class_name': 'GRUCell', 'config': {'name': 'c2', 'units': 2, 'reset_after': false}}]}}}},"
            + "{'class_name': 'GlobalAveragePooling1D', 'config': {'name': 'p'}},"
            + "{'class_name': 'RepeatVector', 'config': {'name': 'rv', 'n': 2}},"
            + "{'class_name': 'Flatten', 'config': {'name': 'f'}}]}}");
    static final String CONV_LSTM = q("{'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'c', 'layers': ["
            + "{'class_name': 'InputLayer', 'config': {'batch_shape': [null, 3, 5, 5, 2], 'name': 'in'}},"
            + "{'class_name': 'ConvLSTM2D', 'config': {'name': 'cl', 'filters': 2, 'kernel_size': [3, 3], 'padding': 'same',"
            + " 'data_format': 'channels_last', 'return_sequences': false}}]}}");

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "java/src/test/resources/io/jrnn/io/ImporterFuzzTestInputs");
        Path configs = Files.createDirectories(root.resolve("kerasConfig"));
        Path h5 = Files.createDirectories(root.resolve("h5"));
        Path keras = Files.createDirectories(root.resolve("keras"));
        Path npy = Files.createDirectories(root.resolve("npy"));

        byte[] defaultModel;
        try (InputStream in = FuzzSeeds.class.getResourceAsStream("/io/jrnn/cli/default-model.h5")) {
            defaultModel = in.readAllBytes();
        }
        Files.write(h5.resolve("default-model.h5"), defaultModel);
        Path tmp = Files.createTempFile("seed", ".h5");
        Files.write(tmp, defaultModel);
        String defaultConfig;
        try (KerasArchive a = KerasArchive.open(tmp)) {
            defaultConfig = a.modelConfig();
        }
        Files.delete(tmp);

        Map<String, String> json = new LinkedHashMap<>();
        json.put("default-model", defaultConfig);
        json.put("keras3-lstm-dense", HostileModelFilesTest.kerasConfig(4, "tanh"));
        json.put("bidirectional-timedistributed", BIDI_TD);
        json.put("embedding-mask-simplernn", EMB_MASK);
        json.put("rnn-stacked-cells", RNN_CELLS);
        json.put("convlstm2d", CONV_LSTM);
        json.put("functional-two-inputs", FunctionalModelTest.TWO_INPUTS);
        json.put("functional-encoder-decoder", FunctionalModelTest.ENCODER_DECODER);
        json.put("functional-keras3", FunctionalModelTest.KERAS3_GRAPH);
        for (Map.Entry<String, String> e : json.entrySet()) {
            Files.writeString(configs.resolve(e.getKey() + ".json"), e.getValue(), StandardCharsets.UTF_8);
        }

        Map<String, List<Array>> bidi = new LinkedHashMap<>();
        bidi.put("bi", List.of(random("bi/forward_g/kernel:0", 1, 3, 6), random("bi/forward_g/recurrent_kernel:0", 2, 2, 6),
                random("bi/forward_g/bias:0", 3, 2, 6), random("bi/backward_g/kernel:0", 4, 3, 6),
                random("bi/backward_g/recurrent_kernel:0", 5, 2, 6), random("bi/backward_g/bias:0", 6, 2, 6)));
        bidi.put("td", List.of(random("td/kernel:0", 7, 4, 2), random("td/bias:0", 8, 2)));
        KerasFixtures.writeH5(h5.resolve("bidirectional-gru.h5"), BIDI_TD, "2.4.0", bidi);
        Map<String, List<Array>> emb = new LinkedHashMap<>();
        emb.put("emb", List.of(random("emb/embeddings:0", 1, 7, 3)));
        emb.put("rnn", List.of(random("rnn/kernel:0", 2, 3, 2), random("rnn/recurrent_kernel:0", 3, 2, 2), random("rnn/bias:0", 4, 2)));
        KerasFixtures.writeH5(h5.resolve("embedding-simplernn.h5"), EMB_MASK, "2.2.4", emb);

        KerasFixtures.writeKeras(keras.resolve("lstm-dense.keras"), HostileModelFilesTest.kerasConfig(4, "tanh"), "3.4.1",
                HostileModelFilesTest.kerasVars());
        Map<String, List<Array>> small = new LinkedHashMap<>();
        small.put("lstm/cell", List.of(random("k", 1, 3, 4), random("r", 2, 1, 4), random("b", 3, 4)));
        small.put("dense", List.of(random("k", 4, 1, 2), random("b", 5, 2)));
        KerasFixtures.writeKeras(keras.resolve("tiny-lstm.keras"), HostileModelFilesTest.kerasConfig(1, "relu"), "3.1.0", small);

        Files.write(npy.resolve("f4-2x3.npy"), NpyHostileTest.npy("<f4", false, "(2, 3)",
                NpyHostileTest.bytes(ByteOrder.LITTLE_ENDIAN, 4, 1, 2, 3, 4, 5, 6)));
        Files.write(npy.resolve("f8-fortran-2x2x2.npy"), NpyHostileTest.npy(">f8", true, "(2, 2, 2)",
                NpyHostileTest.bytes(ByteOrder.BIG_ENDIAN, 8, 1, 2, 3, 4, 5, 6, 7, 8)));
        Files.write(npy.resolve("i8-tokens.npy"), NpyHostileTest.npy("<i8", false, "(1, 3)",
                NpyHostileTest.bytes(ByteOrder.LITTLE_ENDIAN, 8, 0, 0, 0)));
        Files.write(npy.resolve("f2.npy"), NpyHostileTest.npy("<f2", false, "(2,)", new byte[] {0, 0x3c, 0, (byte) 0xc0}));
        Files.write(npy.resolve("b1-scalar.npy"), NpyHostileTest.npy("|b1", false, "()", new byte[] {1}));
        Files.write(npy.resolve("f4-empty.npy"), NpyHostileTest.npy("<f4", false, "(0, 4, 3)", new byte[0]));
        Files.write(npy.resolve("u2-le.npy"), NpyHostileTest.npy("<u2", false, "(3,)", new byte[] {1, 0, 2, 0, 3, 0}));
        System.out.println("seeds written under " + root);
    }
}
