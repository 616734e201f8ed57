package io.jrnn.backend.dnnl;

import io.jrnn.Device;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;

/** TEMPORARY stub; the oneDNN adapter replaces it. */
public final class DnnlBackend implements Backend {
    public static DnnlBackend instance() {
        throw new UnsupportedOperationException("oneDNN backend not written yet");
    }

    @Override public String name() { return "cpu"; }
    @Override public Device device() { return Device.cpu(); }
    @Override public RecurrentExecutor compile(RecurrentSpec spec) { throw new UnsupportedOperationException(); }
    @Override public String describe() { return "oneDNN (stub)"; }
}
