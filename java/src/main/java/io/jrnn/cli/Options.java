package io.jrnn.cli;

import io.jrnn.backend.Backend;
import io.jrnn.backend.Backends;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model. */
final class Options {
    @Option(names = "--backend", paramLabel = "NAME",
            description = "auto (default: cuda when a GPU is usable, else cpu), cuda (cuDNN), cpu (oneDNN) or reference (pure Java). Also -Djrnn.backend=NAME.")
    String backend;

    @Option(names = "--batch-size", paramLabel = "N", description = "Run at most N samples at a time (default: all at once).")
    Integer batchSize;

    Backend backend() {
        return backend == null ? Backends.auto() : Backends.named(backend);
    }
}
