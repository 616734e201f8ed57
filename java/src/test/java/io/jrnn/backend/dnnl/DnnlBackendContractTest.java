package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import io.jrnn.backend.BackendContractTest;

/**
 * The backend contract on oneDNN: every configuration runs on oneDNN and matches the reference; the
 * activations the fused primitives have run fused (or composed for a small batch where that measured
 * faster, {@link WeightFormat#composedFaster}: here gru_forward at batch <= 4; the sizes with batch 17
 * and 40 keep it fused), every other one on the composed path.
 */
class DnnlBackendContractTest extends BackendContractTest {
    @Override
    protected Backend backend() {
        return DnnlBackend.instance();
    }

    @Override
    protected void checkExecutionPath(Cell cell, String path) {
        assertTrue(path.startsWith("oneDNN "), cell + " should run on oneDNN, ran on: " + path);
        assertFalse(path.startsWith(ComposedRecurrentExecutor.PATH_PREFIX) && !smallBatch(path),
                cell + " should run fused, ran on: " + path);
    }

    /** A small batch the dispatch rule sends to the composed path (it names the fused primitive it beat). */
    private static boolean smallBatch(String path) {
        return path.startsWith(ComposedRecurrentExecutor.PATH_PREFIX)
                && path.contains(DnnlRecurrentExecutor.SMALL_BATCH_REASON_PREFIX);
    }

    @Override
    protected void checkActivationExecutionPath(ActivationCase c, boolean fusedActivations, String path) {
        assertTrue(path.startsWith("oneDNN "), c + " should run on oneDNN, ran on: " + path);
        assertEquals(!fusedActivations, path.startsWith(ComposedRecurrentExecutor.PATH_PREFIX) && !smallBatch(path),
                c + (fusedActivations ? " should run fused" : " should run composed") + ", ran on: " + path);
    }
}
