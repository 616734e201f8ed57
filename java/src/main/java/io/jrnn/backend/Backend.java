package io.jrnn.backend;

import io.jrnn.Device;

/**
 * A compute backend: the pure-Java reference (the oracle), oneDNN on the CPU, or (later) cuDNN.
 * Backends are long-lived and shared; the executors they compile are owned by layers.
 */
public interface Backend {

    /** The name used by {@code -Djrnn.backend=…} and {@code --backend}: {@code cpu}, {@code reference}. */
    String name();

    Device device();

    /** Compiles one recurrent layer. Never refuses: what the native library cannot express runs on a fallback path. */
    RecurrentExecutor compile(RecurrentSpec spec);

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
}
