package io.jrnn.io;

import io.jrnn.layers.HardSigmoid;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link KerasModels#inspect} found in a Keras file: the producing Keras version and backend,
 * the container format, and per layer its class, the settings jrnn resolved from the config, the
 * stored weight shapes and, where jrnn cannot load it, why. {@link #describe()} prints it.
 *
 * @param file              the file
 * @param format            {@code "h5"} or {@code "keras"}
 * @param kerasVersion      the {@code keras_version} recorded in the file, or {@code null}
 * @param backend           the recorded backend, or {@code null}
 * @param modelClass        {@code Sequential}, {@code Model}, {@code Functional}, or {@code null} for a weights-only file
 * @param modelName         the model's name, or {@code null}
 * @param inputShape        the input shape without the batch axis ({@code -1} where free), or {@code null}
 * @param batchSize         the fixed batch size, or {@code null}
 * @param hardSigmoid       the {@code hard_sigmoid} definition a load would use
 * @param hardSigmoidSource where that choice came from
 * @param layers            the layers in data-flow order (InputLayers excluded)
 * @param problem           why the model as a whole cannot load (graph shape, missing config), or {@code null}
 */
public record ModelInfo(Path file, String format, String kerasVersion, String backend, String modelClass, String modelName,
        int[] inputShape, Integer batchSize, HardSigmoid hardSigmoid, String hardSigmoidSource, List<LayerInfo> layers,
        String problem) {

    /**
     * One layer.
     *
     * @param name      the Keras layer name
     * @param className the Keras class
     * @param summary   the resolved settings ({@code units=64, activation=tanh, …}), empty when unsupported
     * @param weights   the stored arrays with their shapes, or {@code null} when not read
     * @param problem   why this layer cannot load, or {@code null}
     */
    public record LayerInfo(String name, String className, String summary, String weights, String problem) {
    }

    /** Whether {@link KerasModels#load} is expected to succeed (no model or layer problem). */
    public boolean loadable() {
        return problem == null && layers.stream().allMatch(l -> l.problem() == null);
    }

    /** A human-readable report, one layer a line. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("file:         ").append(file).append('\n');
        sb.append("format:       ").append(format).append(" (Keras ").append(kerasVersion == null ? "version unknown" : kerasVersion)
                .append(", backend ").append(backend == null ? "unknown" : backend).append(")\n");
        sb.append("model:        ").append(modelClass == null ? "(none: weights only)" : modelClass);
        if (modelName != null) {
            sb.append(" '").append(modelName).append('\'');
        }
        sb.append(", input ").append(inputShape == null ? "unknown" : shape(inputShape));
        sb.append(", batch size ").append(batchSize == null ? "free" : batchSize.toString()).append('\n');
        sb.append("hard_sigmoid: ").append(hardSigmoid).append(" (").append(hardSigmoidSource).append(")\n");
        sb.append("layers:\n");
        for (LayerInfo l : layers) {
            sb.append("  ").append(l.name()).append(" (").append(l.className()).append(")");
            if (l.summary() != null && !l.summary().isEmpty()) {
                sb.append(": ").append(l.summary());
            }
            if (l.weights() != null) {
                sb.append("; weights ").append(l.weights());
            }
            sb.append('\n');
            if (l.problem() != null) {
                sb.append("    NOT LOADABLE: ").append(l.problem()).append('\n');
            }
        }
        if (problem != null) {
            sb.append("NOT LOADABLE: ").append(problem).append('\n');
        }
        return sb.toString();
    }

    private static String shape(int[] s) {
        StringBuilder sb = new StringBuilder("(None");
        for (int d : s) {
            sb.append(", ").append(d < 0 ? "None" : Integer.toString(d));
        }
        return sb.append(')').toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
