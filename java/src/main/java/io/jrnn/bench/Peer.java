package io.jrnn.bench;

/**
 * A system {@code jrnn bench} runs in its child JVM next to jrnn, interleaved with it. Built-in:
 * direct oneDNN and ONNX Runtime; others (Deeplearning4j, built with {@code mvn -Pdl4j}) are found
 * with {@link java.util.ServiceLoader} ({@code META-INF/services/io.jrnn.bench.Peer}).
 */
public interface Peer {
    /** The short name used by {@code --peers}: {@code onednn}, {@code ort}, {@code dl4j}. */
    String name();

    /** A label with the version, for the table: {@code ONNX Runtime 1.29.0}. */
    String label();

    /** {@code null} when this peer can run here, else why not (one line). */
    String unavailableReason();

    /** {@code null} when this peer runs {@code cell}, else why not (e.g. "no hard_sigmoid"). */
    String unsupportedReason(BenchCell cell);

    /**
     * Builds the model for {@code cell} with {@code weights} on {@code threads} threads.
     *
     * @param jrnnPath jrnn's execution path for this cell (the direct oneDNN peer copies its primitive and weight format)
     */
    Instance open(BenchCell cell, BenchWeights weights, int threads, String jrnnPath) throws Exception;

    /** A built model: {@link #run} is one timed forward. */
    interface Instance extends AutoCloseable {
        /** One forward on the cell's input. */
        void run() throws Exception;

        /** The last output as {@code [N, T, H]} (for the max |Δ| check against jrnn). */
        float[] outputNth() throws Exception;

        /** What ran, e.g. the implementation; may be empty. */
        String detail();

        @Override
        void close() throws Exception;
    }
}
