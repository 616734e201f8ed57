package io.jrnn.backend;

import io.jrnn.Precision;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.cuda.Cuda;
import io.jrnn.backend.cuda.CudaBackend;
import io.jrnn.backend.cuda.CudaStatus;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.List;
import java.util.Locale;

/** Backend selection: {@code -Djrnn.backend=auto|cpu|reference|cuda}, with a logged reason for each rejection. */
public final class Backends {
    /** The system property that overrides {@link Backend#auto()}. */
    public static final String PROPERTY = "jrnn.backend";
    /** Every name {@link #named(String)} accepts. */
    public static final List<String> NAMES = List.of("auto", "cpu", "reference", "cuda");

    private static final System.Logger LOG = System.getLogger("io.jrnn.backend");
    private static volatile String lastAutoReason = "";

    private Backends() {
    }

    /** The backend the system property names, or the best available one. */
    public static Backend auto() {
        String requested = System.getProperty(PROPERTY);
        if (requested != null && !requested.isBlank() && !requested.trim().equalsIgnoreCase("auto")) {
            return named(requested);
        }
        // cuDNN first when a GPU is really usable, then the CPU (oneDNN), then the pure-Java reference.
        CudaStatus cuda = Cuda.status();
        if (cuda.usable()) {
            try {
                Backend gpu = CudaBackend.instance();
                lastAutoReason = "chose cuda (" + cuda.reason() + ")";
                return gpu;
            } catch (RuntimeException e) {
                cuda = CudaStatus.unusableForAuto(e.getMessage());
            }
        }
        String cudaReason = "cuda: " + cuda.reason();
        try {
            Backend cpu = DnnlBackend.instance();
            lastAutoReason = cudaReason + "; chose cpu (oneDNN)";
            return cpu;
        } catch (Throwable t) {
            lastAutoReason = cudaReason + "; cpu: oneDNN unavailable (" + t + "); chose reference";
            LOG.log(System.Logger.Level.WARNING, "jrnn: " + lastAutoReason);
            return ReferenceBackend.instance();
        }
    }

    /** Why the last {@link #auto()} call chose what it chose. */
    public static String lastAutoReason() {
        return lastAutoReason;
    }

    /**
     * The backend with this name computing in {@code precision}: {@code cpu} through
     * {@link DnnlBackend#instance(Precision)} (fp32; bf16 where the CPU supports it), {@code cuda}
     * through {@link CudaBackend#instance(int, Precision)} (device 0), {@code reference} in fp32 only,
     * {@code auto} the device {@link #auto()} would pick, in {@code precision}. {@link Precision#FP32}
     * gives the same backend as {@link #named(String)}.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones)
     * @throws UnsupportedConfigurationException when the named backend cannot run here, or not in
     *         {@code precision} (the message names both)
     */
    public static Backend named(String name, Precision precision) {
        java.util.Objects.requireNonNull(precision, "precision");
        if (precision == Precision.FP32) {
            return named(name);
        }
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "auto": {
                String requested = System.getProperty(PROPERTY);
                if (requested != null && !requested.isBlank() && !requested.trim().equalsIgnoreCase("auto")) {
                    return named(requested, precision);
                }
                CudaStatus cuda = Cuda.status();
                if (cuda.usable()) {
                    lastAutoReason = "chose cuda in " + precision + " (" + cuda.reason() + ")";
                    return CudaBackend.instance(0, precision);
                }
                lastAutoReason = "cuda: " + cuda.reason() + "; chose cpu (oneDNN) in " + precision;
                return named("cpu", precision);
            }
            case "reference":
                throw new UnsupportedConfigurationException("Backend 'reference' runs fp32 only, not " + precision);
            case "cpu":
                try {
                    return DnnlBackend.instance(precision);
                } catch (UnsupportedConfigurationException e) {
                    throw e;
                } catch (LinkageError | RuntimeException e) {
                    throw new UnsupportedConfigurationException("Backend 'cpu' (oneDNN) cannot load here: " + e);
                }
            case "cuda":
                return CudaBackend.instance(0, precision);
            default:
                throw new IllegalArgumentException("Unknown backend '" + name + "'; valid names: " + NAMES);
        }
    }

    /**
     * The backend with this name.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones)
     * @throws UnsupportedConfigurationException when the named backend cannot run here
     */
    public static Backend named(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "auto":
                return auto();
            case "reference":
                return ReferenceBackend.instance();
            case "cpu":
                try {
                    return DnnlBackend.instance();
                } catch (LinkageError | RuntimeException e) {
                    throw new UnsupportedConfigurationException("Backend 'cpu' (oneDNN) cannot load here: " + e);
                }
            case "cuda":
                return CudaBackend.instance();
            default:
                throw new IllegalArgumentException("Unknown backend '" + name + "'; valid names: " + NAMES);
        }
    }
}
