package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import io.jrnn.backend.BackendContractTest;

/** The backend contract on oneDNN: every configuration must run natively (no fallback) and match the reference. */
class DnnlBackendContractTest extends BackendContractTest {
    @Override
    protected Backend backend() {
        return DnnlBackend.instance();
    }

    @Override
    protected void checkExecutionPath(Cell cell, String path) {
        assertTrue(path.startsWith("oneDNN "), cell + " should run on oneDNN, ran on: " + path);
    }
}
