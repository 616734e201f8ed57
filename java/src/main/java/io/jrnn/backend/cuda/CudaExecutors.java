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

    /**
     * cuDNN's fused forward ({@link CudnnRecurrentExecutor}) when {@link CudnnPlan} says cuDNN can
     * express the layer and cuDNN accepts it in the backend's precision; otherwise the composed path.
     */
    static RecurrentExecutor compile(CudaBackend backend, RecurrentSpec spec) {
        CudnnPlan plan = CudnnPlan.of(spec, backend.precision());
        if (!plan.fused()) {
            return composed(backend, spec, plan.reason());
        }
        try {
            RecurrentExecutor fused = new CudnnRecurrentExecutor(backend, spec, plan,
                    CudnnPlan.AlgoChoice.fromSystemProperty());
            if (spec.fusedReluZeroesNaN()) {
                // A call whose input holds NaN/Inf runs composed: the jrnn kernels' relu keeps NaN, as Keras does.
                return new io.jrnn.backend.NonFiniteGuardExecutor(fused, () -> new CudaComposedExecutor(
                        backend.device().index(), backend.precision(), spec,
                        "the input holds NaN or an infinity, which a fused relu may turn into 0"));
            }
            return fused;
        } catch (CudnnRefusedException e) {
            return composed(backend, spec, e.getMessage());
        } catch (CudaException e) {
            if (backend.precision() != io.jrnn.Precision.BF16) {
                throw e;
            }
            // bf16 RNNs are not on every GPU and cuDNN version; whatever status it refuses them with, run composed.
            return composed(backend, spec, "cuDNN refused bf16 for " + plan.mode().label() + ": " + e.getMessage());
        }
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
