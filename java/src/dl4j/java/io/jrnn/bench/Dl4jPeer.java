package io.jrnn.bench;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.LSTMParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Deeplearning4j 1.0.0-M2.1 ({@code deeplearning4j-nn} on {@code nd4j-native}, CPU): a
 * {@link MultiLayerNetwork} holding one {@link LSTM} layer (activation tanh, gate activation sigmoid,
 * or Keras 2's hard sigmoid {@code clip(0.2x + 0.5, 0, 1)}, which is ND4J's {@code HARDSIGMOID}),
 * called as {@code output(x, false)} (inference mode, DL4J's default inference workspaces). Input in
 * DL4J's default recurrent layout NCW {@code [N, C, T]}, transposed once outside the timed call.
 * Threads: {@code OMP_NUM_THREADS} (set by the parent for the child JVM) plus ND4J's own
 * {@code setMaxThreads}/{@code setMaxMasterThreads} and OpenBLAS's thread count, all = the run's threads.
 *
 * <p>Only built with {@code mvn -Pdl4j} (source folder {@code src/dl4j}); found by {@code BenchChild}
 * through {@code META-INF/services/io.jrnn.bench.Peer}.
 *
 * <p>Weights: DL4J stores an LSTM as {@code W [C, 4H]}, {@code RW [H, 4H]}, {@code b [4H]} with the
 * gate blocks in the order (c, f, o, i) (block-input, forget, output, input gate), where Keras has
 * (i, f, c, o); {@link #toDl4jGateOrder} moves the blocks ({@code Dl4jPeerTest} proves the order against
 * jrnn's reference backend).
 */
public final class Dl4jPeer implements Peer {
    static final String VERSION = "1.0.0-M2.1";

    /** Keras gate block (i=0, f=1, c=2, o=3) at each DL4J block position (c, f, o, i). */
    private static final int[] KERAS_BLOCK_OF_DL4J = {2, 1, 3, 0};

    @Override
    public String name() {
        return "dl4j";
    }

    @Override
    public String label() {
        return "Deeplearning4j " + VERSION;
    }

    @Override
    public String unavailableReason() {
        try {
            Nd4j.create(DataType.FLOAT, 1, 1);
            return null;
        } catch (LinkageError | RuntimeException e) {
            return "ND4J (nd4j-native) did not load: " + e;
        }
    }

    @Override
    public String unsupportedReason(BenchCell cell) {
        return cell.kind() == BenchCell.Kind.LSTM ? null : "dl4j peer runs LSTM only";
    }

    @Override
    public Instance open(BenchCell cell, BenchWeights weights, int threads, String jrnnPath) {
        String why = unsupportedReason(cell);
        if (why != null) {
            throw new IllegalArgumentException("dl4j peer: " + why + ", got " + cell);
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("dl4j peer threads: expected >= 1, got " + threads);
        }
        setThreads(threads);
        return new Dl4jInstance(cell, weights);
    }

    /** ND4J's op threads, its master threads and OpenBLAS's threads (OMP_NUM_THREADS comes from the parent). */
    static void setThreads(int threads) {
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /**
     * Keras's {@code [rows, 4H]} with gate blocks (i, f, c, o) → DL4J's {@code [rows, 4H]} with (c, f, o, i),
     * row-major both.
     */
    static float[] toDl4jGateOrder(float[] keras, int rows, int h) {
        int gh = 4 * h;
        if (keras.length != rows * gh) {
            throw new IllegalArgumentException("dl4j peer weights: expected " + rows + "x" + gh + " = " + rows * gh
                    + " values, got " + keras.length);
        }
        float[] out = new float[keras.length];
        for (int r = 0; r < rows; r++) {
            for (int block = 0; block < 4; block++) {
                System.arraycopy(keras, r * gh + KERAS_BLOCK_OF_DL4J[block] * h, out, r * gh + block * h, h);
            }
        }
        return out;
    }

    /** The network for a cell, weights set (no training configuration: it only ever runs inference). */
    static MultiLayerNetwork network(BenchCell cell, BenchWeights weights) {
        int h = cell.h();
        int c = cell.c();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .list()
                .layer(new LSTM.Builder()
                        .nIn(c)
                        .nOut(h)
                        .activation(Activation.TANH)
                        .gateActivationFunction(cell.hardSigmoid() ? Activation.HARDSIGMOID : Activation.SIGMOID)
                        .dataFormat(RNNFormat.NCW)
                        .build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Layer lstm = net.getLayer(0);
        assign(lstm, LSTMParamInitializer.INPUT_WEIGHT_KEY, toDl4jGateOrder(weights.kernel(), c, h), c, 4 * h);
        assign(lstm, LSTMParamInitializer.RECURRENT_WEIGHT_KEY, toDl4jGateOrder(weights.recurrent(), h, h), h, 4 * h);
        assign(lstm, LSTMParamInitializer.BIAS_KEY, toDl4jGateOrder(weights.bias(), 1, h), 1, 4 * h);
        return net;
    }

    /** Sets a parameter in place; the bias is {@code [4H]} in M2.1 (a row {@code [1, 4H]} is accepted too). */
    private static void assign(Layer layer, String key, float[] values, int rows, int cols) {
        INDArray param = layer.getParam(key);
        long[] shape = param.shape();
        boolean matrix = shape.length == 2 && shape[0] == rows && shape[1] == cols;
        boolean vector = rows == 1 && shape.length == 1 && shape[0] == cols;
        if (!matrix && !vector) {
            throw new IllegalStateException("dl4j peer: LSTM parameter " + key + ": expected [" + rows + ", " + cols
                    + "]" + (rows == 1 ? " or [" + cols + "]" : "") + ", got " + java.util.Arrays.toString(shape));
        }
        param.assign(Nd4j.create(values, shape, 'c'));
    }

    static final class Dl4jInstance implements Instance {
        private final BenchCell cell;
        private final MultiLayerNetwork net;
        private final INDArray x;
        private INDArray last;
        private boolean closed;

        Dl4jInstance(BenchCell cell, BenchWeights weights) {
            this.cell = cell;
            this.net = network(cell, weights);
            float[] nct = transposeLastTwo(weights.input(), cell.n(), cell.t(), cell.c());
            this.x = Nd4j.create(nct, new long[] {cell.n(), cell.c(), cell.t()}, 'c');
        }

        @Override
        public void run() {
            if (closed) {
                throw new IllegalStateException("dl4j peer is closed");
            }
            last = net.output(x, false);
        }

        @Override
        public float[] outputNth() {
            if (closed) {
                throw new IllegalStateException("dl4j peer is closed");
            }
            if (last == null) {
                last = net.output(x, false);
            }
            long[] shape = last.shape();
            if (shape.length != 3 || shape[0] != cell.n() || shape[1] != cell.h() || shape[2] != cell.t()) {
                throw new IllegalStateException("dl4j peer output: expected [" + cell.n() + ", " + cell.h() + ", "
                        + cell.t() + "], got " + java.util.Arrays.toString(shape));
            }
            float[] nht = last.dup('c').data().asFloat();
            return transposeLastTwo(nht, cell.n(), cell.h(), cell.t());
        }

        @Override
        public String detail() {
            Object helper = ((org.deeplearning4j.nn.layers.recurrent.LSTM) net.getLayer(0)).getHelper();
            return "MultiLayerNetwork LSTM, output(x, false), input NCW [N,C,T], "
                    + (helper == null ? "built-in LSTMHelpers" : helper.getClass().getSimpleName()) + ", ND4J "
                    + Nd4j.getBackend().getClass().getSimpleName();
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            last = null;
            x.close();
            net.close();
        }
    }

    /** {@code [A, B, D]} → {@code [A, D, B]} (NWC ↔ NCW). */
    static float[] transposeLastTwo(float[] v, int a, int b, int d) {
        float[] out = new float[v.length];
        for (int i = 0; i < a; i++) {
            int base = i * b * d;
            for (int j = 0; j < b; j++) {
                for (int k = 0; k < d; k++) {
                    out[base + k * b + j] = v[base + j * d + k];
                }
            }
        }
        return out;
    }
}
