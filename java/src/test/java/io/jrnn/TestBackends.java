package io.jrnn;

import io.jrnn.backend.Backend;
import io.jrnn.backend.dnnl.DnnlBackend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.List;

/** The backends every contract and fixture test runs on. oneDNN must load here: its absence fails the tests. */
public final class TestBackends {
    private TestBackends() {
    }

    public static List<Backend> all() {
        return List.of(ReferenceBackend.instance(), DnnlBackend.instance());
    }
}
