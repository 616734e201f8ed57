package io.jrnn.cli;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.io.KerasModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jrnn demo} (also {@code jrnn} alone): batch inference on the bundled default model, a
 * small LSTM classifier trained with PyTorch by {@code tools/default-model/train.py}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Batch inference on the bundled default model: backend, summary, shapes, accuracy, sequences/s.")
final class DemoCommand implements Callable<Integer> {
    static final String MODEL_RESOURCE = "/io/jrnn/cli/default-model.h5";

    @Spec
    CommandSpec spec;

    @Option(names = "--samples", defaultValue = "8192", description = "Sequences to generate (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch-size", defaultValue = "256", description = "Sequences per forward call (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--backend", paramLabel = "NAME", description = "auto (default), cpu (oneDNN) or reference (pure Java).")
    String backendName;

    @Option(names = "--precision", paramLabel = "P",
            description = "fp32 (default), bf16 (cpu with AVX512-BF16/AMX, or cuda), tf32 or fp16 (cuda). Also -Djrnn.precision=P.")
    String precision;

    @Option(names = "--seed", defaultValue = "2026", description = "Seed of the generated inputs (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (samples <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("--samples and --batch-size must be > 0, got " + samples + " and " + batchSize);
        }
        PrintWriter out = spec.commandLine().getOut();
        Options o = new Options();
        o.backend = backendName;
        o.precision = precision;
        Backend backend = o.backend();
        try (Sequential model = loadBundledModel()) {
            model.useBackend(backend);
            out.println("jrnn demo — " + DemoTask.describe());
            out.println("Backend: " + backend.name() + " (" + backend.precision() + ") — " + backend.describe());
            out.print(model.summary());
            DemoTask.Batch batch = DemoTask.generate(samples, seed);
            try (Tensor x = Tensor.of(batch.inputs(), samples, DemoTask.STEPS, DemoTask.FEATURES)) {
                // Warm-up: builds primitives and packs weights once.
                model.forward(x, batchSize).close();
                long best = Long.MAX_VALUE;
                long[] runs = new long[5];
                float[] probabilities = null;
                for (int r = 0; r < runs.length; r++) {
                    long t0 = System.nanoTime();
                    try (Tensor y = model.forward(x, batchSize)) {
                        runs[r] = System.nanoTime() - t0;
                        if (probabilities == null) {
                            probabilities = y.toArray();
                            out.println("Input:  " + Arrays.toString(x.shape()) + " float32");
                            out.println("Output: " + Arrays.toString(y.shape()) + " class probabilities");
                        }
                    }
                    best = Math.min(best, runs[r]);
                }
                Arrays.sort(runs);
                double median = runs[runs.length / 2] / 1e9;
                out.printf("Accuracy: %.2f%% on %d generated sequences%n", 100 * DemoTask.accuracy(probabilities, batch.labels()), samples);
                out.printf("Throughput: %.0f sequences/s (batch %d, median of %d runs, %.1f ms per run)%n",
                        samples / median, batchSize, runs.length, median * 1e3);
            }
            out.println("Execution plan:");
            for (String line : model.executionPlan()) {
                out.println("  " + line);
            }
        }
        return 0;
    }

    static Sequential loadBundledModel() throws IOException {
        Path tmp = Files.createTempFile("jrnn-default-model", ".h5");
        try (InputStream in = DemoCommand.class.getResourceAsStream(MODEL_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled model " + MODEL_RESOURCE + " is missing from the jar");
            }
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return KerasModels.load(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
