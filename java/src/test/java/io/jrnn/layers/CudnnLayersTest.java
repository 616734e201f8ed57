package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.UnsupportedConfigurationException;
import io.jrnn.backend.Backend;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasCudnnWeights;
import io.jrnn.weights.KerasRnnWeights;
import org.junit.jupiter.api.Test;

/**
 * CuDNNLSTM/CuDNNGRU: given the cuDNN-layout arrays of a standard network, they compute what the
 * standard LSTM / GRU(reset_after) computes, on every backend (the {@code LayoutEquivalenceTest}
 * pattern).
 */
class CudnnLayersTest {
    private static final int N = 2;
    private static final int T = 5;
    private static final int C = 3;
    private static final int H = 4;

    @Test
    void cudnnLstmEqualsLstmWithConvertedWeights() {
        for (Backend backend : TestBackends.all()) {
            try (LSTM standard = LSTM.builder().units(H).returnSequences(true).returnState(true).seed(1).build();
                 CuDNNLSTM cudnn = CuDNNLSTM.builder().units(H).returnSequences(true).returnState(true).build()) {
                check(backend, standard, cudnn, CellType.LSTM);
                assertEquals("CuDNNLSTM", cudnn.typeName());
                assertEquals(2, cudnn.stateCount());
            }
        }
    }

    @Test
    void cudnnGruEqualsResetAfterGruWithConvertedWeights() {
        for (Backend backend : TestBackends.all()) {
            try (GRU standard = GRU.builder().units(H).resetAfter(true).returnSequences(true).returnState(true).seed(2).build();
                 CuDNNGRU cudnn = CuDNNGRU.builder().units(H).returnSequences(true).returnState(true).build()) {
                check(backend, standard, cudnn, CellType.GRU);
                assertTrue(cudnn.resetAfter());
                assertEquals(Activation.SIGMOID, cudnn.recurrentActivation());
            }
        }
    }

    private static void check(Backend backend, RecurrentLayer standard, RecurrentLayer cudnn, CellType type) {
        standard.useBackend(backend);
        cudnn.useBackend(backend);
        standard.initializeWeights(C);
        KerasRnnWeights w = standard.weights();
        float[] bias = RecurrentLayerTest.random(w.bias().length, 4);
        standard.setWeights(w.kernel(), w.recurrentKernel(), bias);
        KerasCudnnWeights stored = KerasCudnnWeights.fromKeras(standard.weights());
        // The stored form really is another layout: the kernel blocks are not the standard ones.
        assertTrue(!java.util.Arrays.equals(stored.kernel(), standard.weights().kernel()));
        if (cudnn instanceof CuDNNLSTM l) {
            l.setCudnnWeights(stored);
        } else {
            ((CuDNNGRU) cudnn).setCudnnWeights(stored);
        }
        try (Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 9), N, T, C);
             Outputs a = standard.forward(x);
             Outputs b = cudnn.forward(x)) {
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i).toArray(), b.get(i).toArray(), 1e-6f,
                        type + " output " + i + " on " + backend.name());
            }
        }
    }

    @Test
    void cudnnLayersRefuseEveryMaskLikeKeras() {
        try (CuDNNLSTM l = CuDNNLSTM.builder().name("c").units(H).build();
             Tensor x = Tensor.of(new float[N * T * C], N, T, C)) {
            UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                    () -> l.forward(x, Mask.fromLengths(new int[] {T, T}, T)));
            assertTrue(e.getMessage().contains("CuDNNLSTM 'c'") && e.getMessage().contains("Masking is not supported for CuDNN RNNs"),
                    e.getMessage());
            try (Outputs plain = l.forward(x, (Mask) null)) {
                assertArrayEquals(new int[] {N, H}, plain.output().shape());
            }
        }
        try (CuDNNGRU g = CuDNNGRU.builder().units(H).build(); Tensor x = Tensor.of(new float[N * T * C], N, T, C)) {
            assertThrows(UnsupportedConfigurationException.class, () -> g.forward(x, Mask.fromLengths(new int[] {1, 2}, T)));
        }
    }

    @Test
    void fixedSettingsAndWrongWeightsAreRefused() {
        IllegalArgumentException act = assertThrows(IllegalArgumentException.class,
                () -> CuDNNLSTM.builder().name("c").units(2).activation(Activation.RELU).build());
        assertTrue(act.getMessage().contains("CuDNNLSTM 'c'") && act.getMessage().contains("tanh"), act.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CuDNNGRU.builder().units(2).useBias(false).build());
        assertThrows(IllegalArgumentException.class, () -> CuDNNGRU.builder().units(0).build());
        try (CuDNNGRU g = CuDNNGRU.builder().name("g").units(2).build()) {
            KerasCudnnWeights lstmWeights = KerasCudnnWeights.of(CellType.LSTM, 1, 2, new float[8], new float[16], new float[16]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.setCudnnWeights(lstmWeights));
            assertTrue(e.getMessage().contains("CuDNNGRU 'g'") && e.getMessage().contains("LSTM"), e.getMessage());
        }
    }
}
