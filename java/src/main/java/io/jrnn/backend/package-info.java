/**
 * The {@link io.jrnn.backend.Backend} contract, what a backend is asked to run
 * ({@link io.jrnn.backend.RecurrentSpec}) and backend selection ({@link io.jrnn.backend.Backends}).
 * Native presets are imported only in the sub-packages {@code dnnl} (and later {@code cuda}).
 */
package io.jrnn.backend;
