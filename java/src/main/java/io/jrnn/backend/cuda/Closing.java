package io.jrnn.backend.cuda;

import io.jrnn.Tensor;
import java.util.List;

/** Reverse-order release shared by the GPU executors (no state; package-private). */
final class Closing {

    private Closing() {
    }

    /**
     * Closes {@code resources} last to first and empties the list, going on after a failure. Later failures are
     * added to {@code failure} (or to the first one when {@code failure} is null); with no {@code failure} given,
     * the first failure is thrown (a checked one wrapped in an {@link IllegalStateException}).
     */
    static void closeReversed(List<AutoCloseable> resources, Throwable failure) {
        Throwable first = failure;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception | Error e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (failure == null && first != null) {
            throw first instanceof RuntimeException r ? r : new IllegalStateException(first);
        }
    }

    /** Closes the non-null tensors of {@code tensors}, first to last (a call's partial results after a failure). */
    static void closeTensors(Tensor[] tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
