package io.jrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jrnn.Sequential;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.fixtures.Fixture;
import org.junit.jupiter.api.Test;

/** The bundled model, run by jrnn, reproduces PyTorch's outputs recorded when it was trained. */
class DefaultModelTest {
    @Test
    void bundledModelMatchesPyTorch() throws Exception {
        Fixture f = Fixture.resource("/fixtures/default-model/sample.json");
        for (Backend backend : TestBackends.all()) {
            try (Sequential m = DemoCommand.loadBundledModel(); Tensor x = Fixture.tensor(f.root().get("input"))) {
                m.useBackend(backend);
                try (Tensor y = m.forward(x)) {
                    assertArrayEquals(Fixture.data(f.root().get("output")), y.toArray(), 1e-5f, backend.name());
                }
            }
        }
    }
}
