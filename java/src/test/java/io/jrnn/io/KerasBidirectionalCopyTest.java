package io.jrnn.io;

import static io.jrnn.io.KerasConfigTest.assertMentions;
import static io.jrnn.io.KerasFixtures.random;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Sequential;
import io.jrnn.io.KerasFixtures.Array;
import io.jrnn.layers.Bidirectional;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backward copy of a Bidirectional without {@code backward_layer}: Keras 1/2 negate go_backwards, Keras 3 sets it (spec §3.7). */
class KerasBidirectionalCopyTest {
    @TempDir
    Path tmp;

    private static String config(boolean forwardGoesBackwards) {
        return ("{'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': [{'class_name': 'Bidirectional', 'config':"
                + " {'name': 'bi', 'batch_input_shape': [null, 4, 3], 'merge_mode': 'concat', 'layer': {'class_name': 'LSTM',"
                + " 'config': {'name': 'lstm', 'units': 2, 'recurrent_activation': 'sigmoid', 'go_backwards': "
                + (forwardGoesBackwards ? "true" : "false") + "}}}}]}}").replace('\'', '"');
    }

    private static Map<String, List<Array>> weights() {
        return Map.of("bi", List.of(random("bi/forward_lstm/kernel:0", 1, 3, 8), random("bi/forward_lstm/recurrent_kernel:0", 2, 2, 8),
                random("bi/forward_lstm/bias:0", 3, 8), random("bi/backward_lstm/kernel:0", 4, 3, 8),
                random("bi/backward_lstm/recurrent_kernel:0", 5, 2, 8), random("bi/backward_lstm/bias:0", 6, 8)));
    }

    @Test
    void keras3CopyGoesBackwardsAndKeras2CopyNegates() {
        for (String version : List.of("3.1.0", "2.2.4", "2.10.0")) {
            Path file = KerasFixtures.writeH5(tmp.resolve("fwd" + version + ".h5"), config(false), version, weights());
            try (Sequential m = KerasModels.load(file)) {
                Bidirectional bi = assertInstanceOf(Bidirectional.class, m.layers().get(0));
                assertFalse(bi.forwardLayer().goBackwards(), version);
                assertTrue(bi.backwardLayer().goBackwards(), version);
            }
        }
        // A forward layer that goes backwards: Keras 2 pairs it with a forward-going copy ...
        Path k2 = KerasFixtures.writeH5(tmp.resolve("bwd2.h5"), config(true), "2.2.4", weights());
        try (Sequential m = KerasModels.load(k2)) {
            Bidirectional bi = (Bidirectional) m.layers().get(0);
            assertTrue(bi.forwardLayer().goBackwards());
            assertFalse(bi.backwardLayer().goBackwards());
        }
        // ... Keras 3 makes the copy go backwards too, which it refuses.
        Path k3 = KerasFixtures.writeH5(tmp.resolve("bwd3.h5"), config(true), "3.1.0", weights());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasModels.load(k3));
        assertMentions(e, k3.toString(), "'bi'", "Bidirectional", "'lstm'", "go_backwards", "backward_layer", "Keras 3.1.0");
        assertTrue(KerasModels.inspect(k3).describe().contains("go_backwards"), KerasModels.inspect(k3).describe());
    }

    @Test
    void builderAppliesTheKeras3RuleOnRequest() {
        try (Bidirectional keras2 = Bidirectional.builder()
                .layer(GRU.builder().name("g").units(2).goBackwards(true).build()).build()) {
            assertFalse(keras2.backwardLayer().goBackwards());
        }
        try (Bidirectional keras3 = Bidirectional.builder().keras3BackwardCopy(true)
                .layer(LSTM.builder().name("f").units(2).build()).build()) {
            assertTrue(keras3.backwardLayer().goBackwards());
        }
        LSTM backwards = LSTM.builder().name("already_backwards").units(2).goBackwards(true).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bidirectional.builder().name("bi3").keras3BackwardCopy(true).layer(backwards).build());
        assertMentions(e, "'bi3'", "already_backwards", "go_backwards=true", "Keras 3", "backward layer explicitly");
        backwards.close();
        // An explicit backward layer is taken as given, with or without the rule.
        try (Bidirectional explicit = Bidirectional.builder().keras3BackwardCopy(true)
                .layer(LSTM.builder().units(2).goBackwards(true).build())
                .backwardLayer(LSTM.builder().units(2).build()).build()) {
            assertTrue(explicit.forwardLayer().goBackwards());
            assertFalse(explicit.backwardLayer().goBackwards());
        }
    }
}
