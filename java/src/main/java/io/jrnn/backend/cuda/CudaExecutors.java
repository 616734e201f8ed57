package io.jrnn.backend.cuda;

import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Chooses cuDNN's fused forward or the GPU composed path for one layer. */
final class CudaExecutors {
    private static final System.Logger LOG = System.getLogger("io.jrnn.backend.cuda");
    private static final Set<String> LOGGED_REASONS = ConcurrentHashMap.newKeySet();

    private CudaExecutors() {
    }

    static RecurrentExecutor compile(CudaBackend backend, RecurrentSpec spec) {
        return composed(backend, spec, "the cuDNN fused executor is not wired in yet");
    }

    /**
     * {@code spec} on the GPU composed path (cuBLAS GEMMs + jrnn's gate kernels), which runs every
     * configuration and every mask; {@code reason} says why cuDNN's fused forward does not, and is
     * logged once per distinct reason.
     */
    static RecurrentExecutor composed(CudaBackend backend, RecurrentSpec spec, String reason) {
        CudaComposedExecutor executor = new CudaComposedExecutor(backend.device().index(), backend.precision(), spec,
                reason);
        if (LOGGED_REASONS.add(reason)) {
            LOG.log(System.Logger.Level.INFO, "jrnn: " + spec.describe() + " runs on the " + executor.executionPath());
        }
        return executor;
    }
}
