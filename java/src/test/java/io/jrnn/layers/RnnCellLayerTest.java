package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.TestBackends;
import io.jrnn.backend.Backend;
import io.jrnn.backend.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** RNN(cell) with a built-in cell equals the corresponding layer (spec §2.7), fused and through the step loop. */
class RnnCellLayerTest {
    static final int N = 3;
    static final int T = 5;
    static final int C = 4;
    static final int H = 3;
    static final float TOL = 2e-5f;

    enum Kind { SIMPLE_RNN, GRU_AFTER, GRU_BEFORE, LSTM }

    /** A cell adapter that hides the jrnn type, so RNN takes the generic step loop through {@link Cell#step}. */
    static Cell foreign(Cell inner) {
        return new Cell() {
            @Override
            public String typeName() {
                return "Foreign" + inner.typeName();
            }

            @Override
            public int[] stateSizes() {
                return inner.stateSizes();
            }

            @Override
            public int outputSize() {
                return inner.outputSize();
            }

            @Override
            public Tensor[] step(Tensor x, List<Tensor> states) {
                return inner.step(x, states);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    static StandardCell cell(Kind kind, Activation act, Activation rec, boolean bias, long seed) {
        StandardCell c = switch (kind) {
            case SIMPLE_RNN -> SimpleRNNCell.builder().units(H).activation(act).useBias(bias).seed(seed).build();
            case GRU_AFTER -> GRUCell.builder().units(H).activation(act).recurrentActivation(rec).useBias(bias).resetAfter(true)
                    .seed(seed).build();
            case GRU_BEFORE -> GRUCell.builder().units(H).activation(act).recurrentActivation(rec).useBias(bias)
                    .resetAfter(false).seed(seed).build();
            case LSTM -> LSTMCell.builder().units(H).activation(act).recurrentActivation(rec).useBias(bias).seed(seed).build();
        };
        c.initializeWeights(C);
        if (bias) {
            // Non-trivial biases (the default ones are zeros).
            float[] b = c.weights().bias();
            float[] r = RecurrentLayerTest.random(b.length, seed + 1);
            c.setWeights(c.weights().kernel(), c.weights().recurrentKernel(), r);
        }
        return c;
    }

    /** The layer built independently from the cell's configuration, with its weights. */
    static RecurrentLayer layer(Kind kind, StandardCell c, boolean returnSequences, boolean goBackwards, Backend backend) {
        RecurrentLayer l = switch (kind) {
            case SIMPLE_RNN -> SimpleRNN.builder().units(H).activation(c.activation()).useBias(c.useBias())
                    .returnSequences(returnSequences).returnState(true).goBackwards(goBackwards).build();
            case GRU_AFTER, GRU_BEFORE -> GRU.builder().units(H).activation(c.activation())
                    .recurrentActivation(c.recurrentActivation()).useBias(c.useBias()).resetAfter(kind == Kind.GRU_AFTER)
                    .returnSequences(returnSequences).returnState(true).goBackwards(goBackwards).build();
            case LSTM -> LSTM.builder().units(H).activation(c.activation()).recurrentActivation(c.recurrentActivation())
                    .useBias(c.useBias()).returnSequences(returnSequences).returnState(true).goBackwards(goBackwards).build();
        };
        l.setWeights(c.weights());
        l.useBackend(backend);
        return l;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend b : TestBackends.all()) {
            for (Kind k : Kind.values()) {
                for (int flags = 0; flags < 4; flags++) {
                    out.add(Arguments.of(b, k, (flags & 1) != 0, (flags & 2) != 0, Activation.TANH, Activation.SIGMOID, true));
                }
                out.add(Arguments.of(b, k, true, false, Activation.RELU, Activation.HARD_SIGMOID_KERAS2, false));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} seq={2} back={3} {4}/{5} bias={6}")
    @MethodSource("cases")
    void rnnWithBuiltInCellEqualsLayer(Backend backend, Kind kind, boolean seq, boolean back, Activation act, Activation rec,
            boolean bias) {
        StandardCell c = cell(kind, act, rec, bias, 11);
        int states = kind == Kind.LSTM ? 2 : 1;
        try (RecurrentLayer l = layer(kind, c, seq, back, backend);
             RNN fused = RNN.builder(c).returnSequences(seq).goBackwards(back).returnState(true).build();
             RNN loop = RNN.builder(foreign(cell(kind, act, rec, bias, 11))).returnSequences(seq).goBackwards(back)
                     .returnState(true).build();
             Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 5), N, T, C);
             Tensor h0 = Tensor.of(RecurrentLayerTest.random(N * H, 6), N, H);
             Tensor c0 = Tensor.of(RecurrentLayerTest.random(N * H, 7), N, H)) {
            fused.useBackend(backend);
            Tensor[] init = states == 2 ? new Tensor[] {h0, c0} : new Tensor[] {h0};
            try (Outputs expected = l.forward(x, init); Outputs a = fused.forward(x, init); Outputs b = loop.forward(x, init)) {
                assertEquals(1 + states, a.size());
                assertEquals(1 + states, b.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i).shape(), a.get(i).shape());
                    assertArrayEquals(expected.get(i).toArray(), a.get(i).toArray(), TOL, "fused, tensor " + i);
                    assertArrayEquals(expected.get(i).toArray(), b.get(i).toArray(), TOL, "step loop, tensor " + i);
                }
            }
            assertTrue(fused.executionPath().startsWith("fused "), fused.executionPath());
            assertTrue(loop.executionPath().startsWith("java step loop"), loop.executionPath());
        }
    }

    @Test
    void cellStepEqualsOneStepLayer() {
        for (Kind kind : Kind.values()) {
            try (StandardCell c = cell(kind, Activation.TANH, Activation.SIGMOID, true, 3);
                 RecurrentLayer l = layer(kind, c, false, false, ReferenceBackend.instance());
                 Tensor x = Tensor.of(RecurrentLayerTest.random(N * C, 8), N, C);
                 Tensor x3 = x.reshape(N, 1, C);
                 Outputs expected = l.forward(x3)) {
                Tensor[] zero = c.zeroState(N);
                Tensor[] got = c.step(x, List.of(zero));
                assertEquals(1 + c.stateSizes().length, got.length);
                for (int i = 0; i < got.length; i++) {
                    assertArrayEquals(expected.get(i).toArray(), got[i].toArray(), 1e-6f, kind + " tensor " + i);
                    got[i].close();
                }
                for (Tensor z : zero) {
                    assertArrayEquals(new float[N * H], z.toArray());
                    z.close();
                }
            }
        }
    }

    @Test
    void timeMajorTransposesInputAndSequenceOnly() {
        try (StandardCell c1 = cell(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, 4);
             StandardCell c2 = cell(Kind.LSTM, Activation.TANH, Activation.SIGMOID, true, 4);
             RNN batchMajor = RNN.builder(c1).returnSequences(true).returnState(true).build();
             RNN timeMajor = RNN.builder(foreign(c2)).returnSequences(true).returnState(true).timeMajor(true).build();
             Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 9), N, T, C);
             Tensor xt = Tensor.of(CellMath.swapFirstAxes(x.toArray(), N, T, C), T, N, C);
             Outputs a = batchMajor.forward(x);
             Outputs b = timeMajor.forward(xt)) {
            assertArrayEquals(new int[] {T, N, H}, b.output().shape());
            assertArrayEquals(CellMath.swapFirstAxes(a.output().toArray(), N, T, H), b.output().toArray(), TOL);
            assertArrayEquals(a.get(1).toArray(), b.get(1).toArray(), TOL);
            assertArrayEquals(a.get(2).toArray(), b.get(2).toArray(), TOL);
        }
    }

    @Test
    void statefulCarriesStatesAcrossCallsAndResets() {
        for (boolean viaLoop : new boolean[] {false, true}) {
            StandardCell c = cell(Kind.GRU_AFTER, Activation.TANH, Activation.SIGMOID, true, 12);
            StandardCell whole = cell(Kind.GRU_AFTER, Activation.TANH, Activation.SIGMOID, true, 12);
            try (RNN stateful = RNN.builder(viaLoop ? foreign(c) : c).stateful(true).batchSize(N).returnSequences(true).build();
                 RNN once = RNN.builder(whole).returnSequences(true).build();
                 Tensor x = Tensor.of(RecurrentLayerTest.random(N * 2 * T * C, 13), N, 2 * T, C)) {
                stateful.useBackend(ReferenceBackend.instance());
                once.useBackend(ReferenceBackend.instance());
                float[] all = x.toArray();
                float[] first = new float[N * T * C];
                float[] second = new float[N * T * C];
                for (int n = 0; n < N; n++) {
                    System.arraycopy(all, n * 2 * T * C, first, n * T * C, T * C);
                    System.arraycopy(all, n * 2 * T * C + T * C, second, n * T * C, T * C);
                }
                try (Tensor a = Tensor.of(first, N, T, C); Tensor b = Tensor.of(second, N, T, C);
                     Tensor full = once.apply(x); Tensor ya = stateful.apply(a); Tensor yb = stateful.apply(b)) {
                    float[] expected = full.toArray();
                    float[] got = new float[expected.length];
                    for (int n = 0; n < N; n++) {
                        System.arraycopy(ya.toArray(), n * T * H, got, n * 2 * T * H, T * H);
                        System.arraycopy(yb.toArray(), n * T * H, got, n * 2 * T * H + T * H, T * H);
                    }
                    assertArrayEquals(expected, got, TOL);
                    Tensor[] stored = stateful.storedStates();
                    for (int n = 0; n < N; n++) {
                        for (int j = 0; j < H; j++) {
                            assertEquals(expected[(n * 2 * T + 2 * T - 1) * H + j], stored[0].get(n, j), TOL);
                        }
                    }
                    stored[0].close();
                    stateful.resetStates();
                    try (Tensor again = stateful.apply(a)) {
                        assertArrayEquals(ya.toArray(), again.toArray(), 0f);
                    }
                    try (Tensor wrong = Tensor.zeros(N + 1, T, C)) {
                        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> stateful.forward(wrong));
                        assertTrue(e.getMessage().contains("stateful with batch size 3 but got a batch of 4"), e.getMessage());
                    }
                }
            }
        }
    }
}
