package io.jrnn.backend.cuda;

import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;

/** Chooses cuDNN's fused forward or the GPU composed path for one layer. */
final class CudaExecutors {
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
            return new CudnnRecurrentExecutor(backend, spec, plan, CudnnPlan.AlgoChoice.fromSystemProperty());
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
     * {@code spec} on the GPU composed path (cuBLAS GEMMs plus jrnn's gate kernels), which runs
     * every configuration and every mask; {@code reason} says why cuDNN's fused forward does not.
     */
    static RecurrentExecutor composed(CudaBackend backend, RecurrentSpec spec, String reason) {
        throw new UnsupportedConfigurationException(spec.describe() + " needs the GPU composed path (" + reason
                + "), which is not built yet");
    }
}
