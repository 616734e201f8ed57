package io.jrnn.cli;

import io.jrnn.Sequential;
import io.jrnn.Tensor;
import io.jrnn.io.KerasModels;
import io.jrnn.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jrnn predict}: a Keras file and an input array in, the model's output array out (written atomically). */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Run a Keras model on an .npy/.npz input and write its output as .npy/.npz.")
final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Keras .h5 or .keras file.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "float32 [batch, time, features], or int token ids [batch, time] for models starting with Embedding; .npz with one array.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = ".npy, or .npz (one array named after the output layer).")
    Path output;

    @Mixin
    Options options;

    @Override
    public Integer call() throws IOException {
        String outName = output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!outName.endsWith(".npy") && !outName.endsWith(".npz")) {
            throw new IllegalArgumentException("--output must end in .npy or .npz, got " + output);
        }
        try (Sequential m = KerasModels.load(model); Tensor x = readInput()) {
            m.useBackend(options.backend());
            try (Tensor y = options.batchSize == null ? m.forward(x) : m.forward(x, options.batchSize)) {
                writeAtomically(y, m.layers().get(m.layers().size() - 1).name());
                spec.commandLine().getOut().printf("wrote %s %s%n", output, java.util.Arrays.toString(y.shape()));
            }
        }
        return 0;
    }

    private Tensor readInput() {
        if (input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz")) {
            Map<String, Tensor> arrays = Npy.readNpz(input);
            if (arrays.size() != 1) {
                arrays.values().forEach(Tensor::close);
                throw new IllegalArgumentException(input + " holds " + arrays.size() + " arrays " + arrays.keySet()
                        + "; this model has one input, so give exactly one");
            }
            return arrays.values().iterator().next();
        }
        return Npy.read(input);
    }

    /** Writes to a temporary file beside the target and moves it into place, so a failure leaves no partial file. */
    private void writeAtomically(Tensor y, String outputName) throws IOException {
        Path dir = output.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        boolean npz = output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz");
        Path tmp = Files.createTempFile(dir, ".jrnn-", npz ? ".npz" : ".npy");
        try {
            if (npz) {
                Npy.writeNpz(tmp, Map.of(outputName, y));
            } else {
                Npy.write(tmp, y);
            }
            Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
