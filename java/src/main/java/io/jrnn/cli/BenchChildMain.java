package io.jrnn.cli;

import io.jrnn.bench.BenchChild;

/**
 * The entry point of {@code jrnn bench}'s child JVMs (one per thread count): runs
 * {@link BenchChild#runFiles} and ends the JVM with its status, so that OpenMP and ONNX Runtime
 * worker threads cannot keep it alive. Only the CLI ends the JVM; the library never does.
 */
public final class BenchChildMain {
    private BenchChildMain() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(BenchChild.runFiles(args, System.err));
    }
}
