package io.jrnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * ONNX Runtime Java ({@code com.microsoft.onnxruntime:onnxruntime}) on a one-node model written by
 * {@link OnnxModelWriter}: CPU execution provider, all graph optimisations, sequential execution,
 * {@code intra_op_num_threads} = the thread count, one inter-op thread. Input time-major
 * {@code [T, N, C]} (the operator's native layout: no transpose is timed), output bound once to a
 * preallocated direct buffer, so a call is {@code session.run} alone.
 */
final class OrtPeer implements Peer {
    static final String VERSION = "1.29.0";

    @Override
    public String name() {
        return "ort";
    }

    @Override
    public String label() {
        return "ONNX Runtime " + VERSION;
    }

    @Override
    public String unavailableReason() {
        try {
            OrtEnvironment.getEnvironment();
            return null;
        } catch (LinkageError | RuntimeException e) {
            return "ONNX Runtime did not load: " + e;
        }
    }

    @Override
    public String unsupportedReason(BenchCell cell) {
        return null;
    }

    @Override
    public Instance open(BenchCell cell, BenchWeights weights, int threads, String jrnnPath) throws Exception {
        return new OrtInstance(cell, weights, threads);
    }

    static final class OrtInstance implements Instance {
        private final BenchCell cell;
        private final OrtSession session;
        private final OnnxTensor x;
        private final OnnxTensor y;
        private final FloatBuffer yBuffer;
        private final Map<String, OnnxTensor> inputs;
        private final Map<String, OnnxValue> outputs;
        private boolean closed;

        OrtInstance(BenchCell cell, BenchWeights weights, int threads) throws Exception {
            this.cell = cell;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(OnnxModelWriter.write(cell, weights), options);
            }
            float[] tnc = weights.inputTimeMajor(cell);
            FloatBuffer xb = direct(tnc.length);
            xb.put(tnc).rewind();
            x = OnnxTensor.createTensor(env, xb, new long[] {cell.t(), cell.n(), cell.c()});
            yBuffer = direct(cell.t() * cell.n() * cell.h());
            y = OnnxTensor.createTensor(env, yBuffer, new long[] {cell.t(), 1, cell.n(), cell.h()});
            inputs = Map.of("X", x);
            outputs = Map.of("Y", y);
        }

        private static FloatBuffer direct(int floats) {
            return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Override
        public void run() throws Exception {
            if (closed) {
                throw new IllegalStateException("ONNX Runtime peer is closed");
            }
            session.run(inputs, outputs).close();
        }

        @Override
        public float[] outputNth() {
            float[] tnh = new float[yBuffer.capacity()];
            yBuffer.duplicate().rewind().get(tnh);
            return BenchWeights.transposeNt(tnh, cell.t(), cell.n(), cell.h());
        }

        @Override
        public String detail() {
            return "CPU EP, intra-op threads = run's threads, sequential, input [T,N,C]";
        }

        @Override
        public void close() throws Exception {
            if (closed) {
                return;
            }
            closed = true;
            x.close();
            y.close();
            session.close();
        }
    }
}
