package io.jrnn.cli;

import io.jrnn.Precision;
import io.jrnn.backend.Backend;
import io.jrnn.backend.Backends;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model. */
final class Options {
    /** The system property read when {@code --precision} is not given. */
    static final String PRECISION_PROPERTY = "jrnn.precision";

    @Option(names = "--backend", paramLabel = "NAME",
            description = "auto (default: cuda when a GPU is usable, else cpu), cuda (cuDNN), cpu (oneDNN) or reference (pure Java). Also -Djrnn.backend=NAME.")
    String backend;

    @Option(names = "--precision", paramLabel = "P",
            description = "fp32 (default, exact Keras semantics), bf16 (cpu with AVX512-BF16/AMX, or cuda), tf32 or fp16 (cuda)."
                    + " Also -Djrnn.precision=P; `jrnn env` lists what this machine supports.")
    String precision;

    @Option(names = "--batch-size", paramLabel = "N", description = "Run at most N samples at a time (default: all at once).")
    Integer batchSize;

    /** {@code --precision}, else {@code -Djrnn.precision}, else fp32. */
    Precision precision() {
        String p = precision != null ? precision : System.getProperty(PRECISION_PROPERTY);
        return p == null || p.isBlank() ? Precision.FP32 : Precision.parse(p);
    }

    Backend backend() {
        Precision p = precision();
        if (p == Precision.FP32) {
            return backend == null ? Backends.auto() : Backends.named(backend);
        }
        return Backends.named(backend == null ? "auto" : backend, p);
    }
}
