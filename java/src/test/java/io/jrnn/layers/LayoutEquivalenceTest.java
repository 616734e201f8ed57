package io.jrnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrnn.Outputs;
import io.jrnn.TestBackends;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.weights.PyTorchRnnWeights;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** One network expressed in Keras layout and in PyTorch layout gives the same outputs, on every backend. */
class LayoutEquivalenceTest {
    private static final int N = 3;
    private static final int T = 6;
    private static final int C = 5;
    private static final int H = 4;

    @Test
    void lstmGruSimpleRnnAgreeAcrossLayouts() {
        check(() -> LSTM.builder().units(H).returnSequences(true).returnState(true).seed(1).build());
        check(() -> GRU.builder().units(H).resetAfter(true).returnSequences(true).returnState(true).seed(2).build());
        check(() -> SimpleRNN.builder().units(H).returnSequences(true).returnState(true).seed(3).build());
    }

    private static void check(Supplier<RecurrentLayer> factory) {
        for (Backend backend : TestBackends.all()) {
            try (RecurrentLayer keras = factory.get(); RecurrentLayer torch = factory.get();
                 Tensor x = Tensor.of(RecurrentLayerTest.random(N * T * C, 9), N, T, C)) {
                keras.useBackend(backend);
                torch.useBackend(backend);
                keras.initializeWeights(C);
                // Give the Keras network a non-zero bias so the bias split matters.
                float[] bias = RecurrentLayerTest.random(keras.weights().bias().length, 4);
                keras.setWeights(keras.weights().kernel(), keras.weights().recurrentKernel(), bias);
                PyTorchRnnWeights p = PyTorchRnnWeights.fromKeras(keras.weights());
                torch.setPyTorchWeights(p.weightIh(), p.weightHh(), p.biasIh(), p.biasHh());
                try (Outputs a = keras.forward(x); Outputs b = torch.forward(x)) {
                    assertEquals(a.size(), b.size());
                    for (int i = 0; i < a.size(); i++) {
                        assertArrayEquals(a.get(i).toArray(), b.get(i).toArray(), 1e-6f,
                                keras.typeName() + " output " + i + " on " + backend.name());
                    }
                }
            }
        }
    }
}
