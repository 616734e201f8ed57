package io.jrnn.cli;

import io.jrnn.Model;
import io.jrnn.Tensor;
import io.jrnn.io.KerasModels;
import io.jrnn.io.LoadOptions;
import io.jrnn.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jrnn predict}: a Keras file and its input arrays in, the model's output arrays out (written
 * atomically); file conventions in {@code shared/notes/cli-conventions.md}: {@code .npy} for one
 * input/output, {@code .npz} named after the input/output layers for several.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Run a Keras model on .npy/.npz inputs and write its outputs as .npy/.npz.")
final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Keras .h5 or .keras file.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "X.npy|X.npz",
            description = "float32 [batch, time, features], or int token ids [batch, time] for models starting with Embedding;"
                    + " .npz with one array per model input, named after the input layers.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy|Y.npz",
            description = ".npy for a model with one output, or .npz with one array per output, named after the output layers.")
    Path output;

    @Option(names = "--config", paramLabel = "FILE.json",
            description = "Architecture (model.to_json()) for a weights-only Keras 1 file; default: the .json of the same base name beside it.")
    Path config;

    @Mixin
    Options options;

    @Override
    public Integer call() throws IOException {
        String outName = output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!outName.endsWith(".npy") && !outName.endsWith(".npz")) {
            throw new IllegalArgumentException("--output must end in .npy or .npz, got " + output);
        }
        boolean npzOut = outName.endsWith(".npz");
        try (Model m = KerasModels.loadModel(model, LoadOptions.defaults().withConfig(config))) {
            if (!npzOut && m.outputNames().size() != 1) {
                throw new IllegalArgumentException(model + " has " + m.outputNames().size() + " outputs " + m.outputNames()
                        + "; write them to an .npz (--output Y.npz)");
            }
            m.useBackend(options.backend());
            Map<String, Tensor> inputs = readInputs(m.inputNames());
            Map<String, Tensor> outputs = null;
            try {
                outputs = options.batchSize == null ? m.forward(inputs) : m.forward(inputs, options.batchSize);
                writeAtomically(outputs, npzOut);
                for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
                    spec.commandLine().getOut().printf("wrote %s%s %s%n", output, npzOut ? "[" + e.getKey() + "]" : "",
                            java.util.Arrays.toString(e.getValue().shape()));
                }
            } finally {
                inputs.values().forEach(Tensor::close);
                if (outputs != null) {
                    outputs.values().forEach(Tensor::close);
                }
            }
        }
        return 0;
    }

    /** One array per model input: an .npy for a one-input model, else an .npz whose names are the input layers'. */
    private Map<String, Tensor> readInputs(List<String> expected) {
        Map<String, Tensor> arrays;
        if (input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz")) {
            arrays = Npy.readNpz(input);
        } else {
            if (expected.size() != 1) {
                throw new IllegalArgumentException(model + " has " + expected.size() + " inputs " + expected + "; give an .npz"
                        + " with one array per input, named after them");
            }
            return new LinkedHashMap<>(Map.of(expected.get(0), Npy.read(input)));
        }
        if (expected.size() == 1 && arrays.size() == 1) {
            // One input: the array's name does not matter.
            return new LinkedHashMap<>(Map.of(expected.get(0), arrays.values().iterator().next()));
        }
        List<String> missing = expected.stream().filter(n -> !arrays.containsKey(n)).toList();
        List<String> extra = arrays.keySet().stream().filter(n -> !expected.contains(n)).sorted().toList();
        if (!missing.isEmpty() || !extra.isEmpty()) {
            arrays.values().forEach(Tensor::close);
            throw new IllegalArgumentException(input + " holds arrays " + arrays.keySet().stream().sorted().toList()
                    + "; the model's inputs are " + expected + (missing.isEmpty() ? "" : " (missing " + missing + ")")
                    + (extra.isEmpty() ? "" : " (unknown " + extra + ")"));
        }
        return arrays;
    }

    /** Npy writes through a temporary file beside the target moved into place, so a failure leaves no partial file. */
    private void writeAtomically(Map<String, Tensor> outputs, boolean npz) {
        if (npz) {
            Npy.writeNpz(output, outputs);
        } else {
            Npy.write(output, outputs.values().iterator().next());
        }
    }
}
