package io.jrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jrnn.Mask;
import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.fixtures.Fixture;
import io.jrnn.layers.Layer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small Sequential models run by TensorFlow.js ({@code fixtures/tfjs-models}: Embedding(mask_zero) →
 * LSTM, Masking → GRU, LSTM → TimeDistributed(Dense)), written here as Keras {@code .h5} files from
 * the fixture's config and weights and loaded through the importer, so the whole path — config,
 * weights, mask creation and propagation — is checked against the third party.
 */
class KerasModelFixtureTest {
    @TempDir
    Path dir;

    @TestFactory
    Stream<DynamicTest> tensorflowJsModels() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Fixture f : Fixture.all("tfjs-models")) {
            for (Backend backend : TestBackends.all()) {
                tests.add(DynamicTest.dynamicTest(f.name() + " on " + backend.name(), () -> check(f, backend)));
            }
        }
        assertFalse(tests.isEmpty());
        return tests.stream();
    }

    private void check(Fixture f, Backend backend) {
        JsonNode root = f.root();
        ObjectNode model = KerasConfig.JSON.createObjectNode();
        model.put("class_name", "Sequential");
        ObjectNode config = model.putObject("config");
        config.put("name", f.name());
        // The fixtures annotate hard_sigmoid with the variant tfjs used (Keras 2's); a Keras 2.x file means the same.
        JsonNode layerList = root.get("config").get("layers").deepCopy();
        for (JsonNode l : layerList) {
            ((ObjectNode) l.get("config")).remove("hard_sigmoid_variant");
        }
        config.set("layers", layerList);
        Map<String, List<KerasFixtures.Array>> weights = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> layers = root.get("weights").fields();
        while (layers.hasNext()) {
            Map.Entry<String, JsonNode> layer = layers.next();
            List<KerasFixtures.Array> arrays = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> named = layer.getValue().fields();
            while (named.hasNext()) {
                Map.Entry<String, JsonNode> a = named.next();
                arrays.add(KerasFixtures.array(layer.getKey() + "/" + a.getKey() + ":0", Fixture.data(a.getValue()),
                        Fixture.shape(a.getValue())));
            }
            weights.put(layer.getKey(), arrays);
        }
        Path file = KerasFixtures.writeH5(dir.resolve(f.name() + "-" + backend.name() + ".h5"), model.toString(), "2.15.0", weights);
        try (Sequential m = KerasModels.load(file)) {
            m.useBackend(backend);
            for (JsonNode call : root.get("calls")) {
                try (Tensor x = Fixture.tensor(call.get("input"))) {
                    JsonNode perLayer = call.path("recurrent_layer_outputs");
                    // Layer by layer, threading the mask, so the recurrent layer's own output is checked too.
                    Tensor current = x.copy();
                    Mask mask = null;
                    for (Layer layer : m.layers()) {
                        Mask next = layer.outputMask(current, mask);
                        Tensor out = layer.forward(current, mask).output();
                        current.close();
                        current = out;
                        mask = next;
                        JsonNode expected = perLayer.get(layer.name());
                        if (expected != null) {
                            assertArrayEquals(Fixture.data(expected), current.toArray(), 1e-5f, layer.name() + " on " + backend.name());
                        }
                    }
                    try (Tensor y = current; Tensor whole = m.forward(x)) {
                        JsonNode expected = call.has("keras_expected") ? call.get("keras_expected") : call.get("outputs");
                        assertArrayEquals(Fixture.data(expected.get(0)), y.toArray(), 1e-5f, f.name() + " on " + backend.name());
                        assertArrayEquals(y.toArray(), whole.toArray(), 0f, "Sequential.forward threads the same masks");
                    }
                }
            }
        }
    }
}
