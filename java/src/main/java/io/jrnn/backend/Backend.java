package io.jrnn.backend;

import io.jrnn.Device;
import io.jrnn.layers.Bidirectional;

/**
 * A compute backend: the pure-Java reference (the oracle), oneDNN on the CPU, or cuDNN on an NVIDIA GPU.
 * Backends are long-lived and shared; the executors they compile are owned by layers.
 */
public interface Backend {

    /** The name used by {@code -Djrnn.backend=…} and {@code --backend}: {@code cpu}, {@code reference}. */
    String name();

    Device device();

    /** The arithmetic this backend computes in ({@link Precision#FP32} unless it was asked for another). */
    default io.jrnn.Precision precision() {
        return io.jrnn.Precision.FP32;
    }

    /**
     * Compiles one recurrent layer. Never refuses: what the native library's fused primitives cannot
     * express runs on another path (oneDNN: the composed path).
     */
    RecurrentExecutor compile(RecurrentSpec spec);

    /**
     * Compiles both directions of a {@code Bidirectional} as one executor, or returns {@code null}
     * when this backend has no single-executor form for them (the wrapper then runs the two layers
     * through {@link #compile} each). The executor's {@code run(x, initialStates)} takes {@code null}
     * or the forward layer's initial states followed by the backward layer's, and returns
     * {@code [merged output, *forward states, *backward states]}; it runs unmasked (or all-valid)
     * calls only.
     *
     * @param forward   the forward layer ({@code goBackwards} false)
     * @param backward  the backward layer ({@code goBackwards} true)
     * @param mergeMode how the two outputs are merged
     */
    default RecurrentExecutor compileBidirectional(RecurrentSpec forward, RecurrentSpec backward,
            Bidirectional.MergeMode mergeMode) {
        return null;
    }

    /**
     * Compiles one {@code ConvLSTM2D} layer (spec §2.6). A backend without a convolutional path
     * throws {@link io.jrnn.UnsupportedConfigurationException} (the default); the layer then runs on
     * the reference backend and says so in its execution path.
     */
    default ConvLstmExecutor compileConvLstm(ConvLstmSpec spec) {
        throw new io.jrnn.UnsupportedConfigurationException("Backend '" + name() + "' has no ConvLSTM2D path");
    }

    /**
     * Compiles a stack of layers fed one into the next (an {@code RNN(StackedRNNCells)} of built-in
     * cells, spec §2.8) as one executor, or returns {@code null} when this backend has no
     * single-executor form for them (the stack then runs as successive layers through
     * {@link #compile} each). Every layer but the last returns sequences. The executor's
     * {@code run(x, initialStates)} takes {@code null} or the layers' initial states layer by layer
     * (each layer's own order: {@code [h1, c1, h2, c2, …]}) and returns {@code [output, *states]} in
     * the same order; it runs unmasked (or all-valid) calls only.
     *
     * @param layers the layers in application order
     */
    default RecurrentExecutor compileStack(java.util.List<RecurrentSpec> layers) {
        return null;
    }

    /** Versions and settings for {@code jrnn env} and bug reports. */
    String describe();

    /** The backend {@code -Djrnn.backend} names, or the best available one. */
    static Backend auto() {
        return Backends.auto();
    }

    /** The backend with this name ({@code cpu}, {@code reference}, {@code auto}). */
    static Backend named(String name) {
        return Backends.named(name);
    }

    /** The backend with this name computing in {@code precision} (see {@link Backends#named(String, io.jrnn.Precision)}). */
    static Backend named(String name, io.jrnn.Precision precision) {
        return Backends.named(name, precision);
    }
}
