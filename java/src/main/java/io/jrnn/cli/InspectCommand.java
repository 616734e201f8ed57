package io.jrnn.cli;

import io.jrnn.Model;
import io.jrnn.io.KerasModels;
import io.jrnn.io.LoadOptions;
import io.jrnn.io.ModelInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jrnn inspect FILE}: what the file holds, the resolved layer settings, and for a loadable
 * model its summary and the execution path each layer takes. Exits 1 when the model cannot load.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a Keras file's layers, settings, shapes and each layer's execution path.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "Keras .h5 or .keras file.")
    Path model;

    @Option(names = "--config", paramLabel = "FILE.json",
            description = "Architecture (model.to_json()) for a weights-only Keras 1 file; default: the .json of the same base name beside it.")
    Path config;

    @Mixin
    Options options;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        LoadOptions load = LoadOptions.defaults().withConfig(config);
        ModelInfo info = KerasModels.inspect(model, load);
        out.print(info.describe());
        if (!info.loadable()) {
            String why = info.problem() != null ? info.problem()
                    : info.layers().stream().filter(l -> l.problem() != null).findFirst().orElseThrow().problem();
            spec.commandLine().getErr().println("jrnn inspect: " + model + " cannot be loaded: " + why);
            return 1;
        }
        try (Model m = KerasModels.loadModel(model, load)) {
            m.useBackend(options.backend());
            out.print(m.summary());
            out.println("Execution plan (backend " + m.layers().get(0).backend().name() + "):");
            for (String line : m.executionPlan()) {
                out.println("  " + line);
            }
        }
        return 0;
    }
}
