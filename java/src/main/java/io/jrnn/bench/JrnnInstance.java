package io.jrnn.bench;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.RecurrentLayer;
import io.jrnn.layers.SimpleRNN;

/**
 * jrnn through its public API: a Keras layer ({@code return_sequences=true}) on a backend, called
 * as {@code layer.forward(x)}, which allocates and returns fresh outputs every call (closed here).
 */
final class JrnnInstance implements Peer.Instance {
    private final RecurrentLayer layer;
    private final Tensor x;
    private float[] last;
    private boolean closed;

    JrnnInstance(BenchCell cell, BenchWeights weights, Backend backend) {
        layer = layer(cell);
        try {
            layer.setWeights(weights.kernel(), weights.recurrent(), weights.bias());
            layer.useBackend(backend);
            x = Tensor.of(weights.input(), cell.n(), cell.t(), cell.c());
        } catch (RuntimeException e) {
            layer.close();
            throw e;
        }
    }

    /** The Keras layer of a cell: GRU with {@code reset_after=true}, hard-sigmoid LSTM with Keras 2's definition. */
    static RecurrentLayer layer(BenchCell cell) {
        return switch (cell.kind()) {
            case LSTM -> {
                LSTM.Builder b = LSTM.builder().units(cell.h()).returnSequences(true);
                if (cell.hardSigmoid()) {
                    b.recurrentActivation(Activation.HARD_SIGMOID_KERAS2);
                }
                yield b.build();
            }
            case GRU -> GRU.builder().units(cell.h()).resetAfter(true).returnSequences(true).build();
            case RNN -> SimpleRNN.builder().units(cell.h()).returnSequences(true).build();
        };
    }

    @Override
    public void run() {
        if (closed) {
            throw new IllegalStateException("jrnn instance is closed");
        }
        try (Outputs out = layer.forward(x)) {
            last = null;
            out.output().pointer().get(0);
        }
    }

    @Override
    public float[] outputNth() {
        if (last == null) {
            try (Outputs out = layer.forward(x)) {
                last = out.output().toArray();
            }
        }
        return last.clone();
    }

    @Override
    public String detail() {
        return layer.executionPath();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        layer.close();
        x.close();
    }
}
