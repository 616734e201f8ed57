package io.jrnn.backend.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrnn.Outputs;
import io.jrnn.Tensor;
import io.jrnn.layers.Activation;
import io.jrnn.layers.GRU;
import io.jrnn.layers.LSTM;
import io.jrnn.layers.SimpleRNN;
import org.junit.jupiter.api.Test;

/**
 * Hand-derived one-unit cases: each expected value is written out from the spec's equations with
 * the numbers substituted, so a wrong gate order, bias row or time direction shows up.
 */
class ReferenceBackendTest {
    private static final ReferenceBackend REF = ReferenceBackend.instance();

    private static float sig(double x) {
        return (float) (1 / (1 + Math.exp(-x)));
    }

    @Test
    void simpleRnnTwoSteps() {
        try (SimpleRNN rnn = SimpleRNN.builder().units(1).returnSequences(true).build();
             Tensor x = Tensor.of(new float[] {0.5f, -1f}, 1, 2, 1)) {
            rnn.useBackend(REF);
            rnn.setWeights(new float[] {0.8f}, new float[] {0.3f}, new float[] {0.1f});
            float h0 = (float) Math.tanh(0.5 * 0.8 + 0.1);
            float h1 = (float) Math.tanh(-1 * 0.8 + 0.1 + 0.3 * h0);
            try (Tensor y = rnn.apply(x)) {
                assertArrayEquals(new float[] {h0, h1}, y.toArray(), 1e-6f);
            }
        }
    }

    @Test
    void simpleRnnGoBackwardsReturnsProcessingOrder() {
        try (SimpleRNN rnn = SimpleRNN.builder().units(1).returnSequences(true).goBackwards(true).build();
             Tensor x = Tensor.of(new float[] {0.5f, -1f}, 1, 2, 1)) {
            rnn.useBackend(REF);
            rnn.setWeights(new float[] {0.8f}, new float[] {0.3f}, new float[] {0.1f});
            // Step 0 consumes x[1] = -1, step 1 consumes x[0] = 0.5 (spec §3.1).
            float k0 = (float) Math.tanh(-1 * 0.8 + 0.1);
            float k1 = (float) Math.tanh(0.5 * 0.8 + 0.1 + 0.3 * k0);
            try (Tensor y = rnn.apply(x)) {
                assertArrayEquals(new float[] {k0, k1}, y.toArray(), 1e-6f);
            }
        }
    }

    @Test
    void lstmOneStepGateOrderIFCO() {
        // Kernel blocks i, f, c, o = 1, 2, 3, 4; recurrent 0.5, 0.25, -0.5, 1; bias 0.1, 0.2, 0.3, 0.4.
        try (LSTM lstm = LSTM.builder().units(1).returnState(true).build();
             Tensor x = Tensor.of(new float[] {0.3f}, 1, 1, 1);
             Tensor h0 = Tensor.of(new float[] {0.2f}, 1, 1);
             Tensor c0 = Tensor.of(new float[] {-0.7f}, 1, 1)) {
            lstm.useBackend(REF);
            lstm.setWeights(new float[] {1, 2, 3, 4}, new float[] {0.5f, 0.25f, -0.5f, 1}, new float[] {0.1f, 0.2f, 0.3f, 0.4f});
            float i = sig(0.3 * 1 + 0.2 * 0.5 + 0.1);
            float f = sig(0.3 * 2 + 0.2 * 0.25 + 0.2);
            float g = (float) Math.tanh(0.3 * 3 + 0.2 * -0.5 + 0.3);
            float o = sig(0.3 * 4 + 0.2 * 1 + 0.4);
            float c = f * -0.7f + i * g;
            float h = o * (float) Math.tanh(c);
            try (Outputs out = lstm.forward(x, h0, c0)) {
                assertEquals(3, out.size());
                assertEquals(h, out.output().get(0, 0), 1e-6f);
                assertEquals(h, out.get(1).get(0, 0), 1e-6f);
                assertEquals(c, out.get(2).get(0, 0), 1e-6f);
            }
        }
    }

    @Test
    void lstmHardSigmoidVariantsDiffer() {
        float[] kernel = {1, 2, 3, 4};
        float[] rec = {0, 0, 0, 0};
        float[] bias = {0, 0, 0, 0};
        float x = 1.5f;
        for (Activation hs : new Activation[] {Activation.HARD_SIGMOID_KERAS2, Activation.HARD_SIGMOID_KERAS3}) {
            try (LSTM lstm = LSTM.builder().units(1).recurrentActivation(hs).build();
                 Tensor in = Tensor.of(new float[] {x}, 1, 1, 1)) {
                lstm.useBackend(REF);
                lstm.setWeights(kernel, rec, bias);
                double slope = hs == Activation.HARD_SIGMOID_KERAS2 ? 0.2 : 1 / 6.0;
                double i = Math.min(1, Math.max(0, slope * x * 1 + 0.5));
                double o = Math.min(1, Math.max(0, slope * x * 4 + 0.5));
                double c = i * Math.tanh(x * 3);
                try (Tensor y = lstm.apply(in)) {
                    assertEquals(o * Math.tanh(c), y.get(0, 0), 1e-6, hs.name());
                }
            }
        }
    }

    @Test
    void gruResetBeforeOneStep() {
        // z, r, h blocks: kernel 1, -1, 2; recurrent 0.5, 0.3, -0.4; bias 0.1, 0.2, 0.3.
        try (GRU gru = GRU.builder().units(1).resetAfter(false).build();
             Tensor x = Tensor.of(new float[] {0.6f}, 1, 1, 1);
             Tensor h0 = Tensor.of(new float[] {0.5f}, 1, 1)) {
            gru.useBackend(REF);
            gru.setWeights(new float[] {1, -1, 2}, new float[] {0.5f, 0.3f, -0.4f}, new float[] {0.1f, 0.2f, 0.3f});
            float z = sig(0.6 * 1 + 0.1 + 0.5 * 0.5);
            float r = sig(0.6 * -1 + 0.2 + 0.5 * 0.3);
            float hh = (float) Math.tanh(0.6 * 2 + 0.3 + (r * 0.5) * -0.4);
            float h = z * 0.5f + (1 - z) * hh;
            try (Outputs out = gru.forward(x, h0)) {
                assertEquals(h, out.output().get(0, 0), 1e-6f);
            }
        }
    }

    @Test
    void gruResetAfterOneStepUsesRecurrentBiasRow() {
        try (GRU gru = GRU.builder().units(1).resetAfter(true).build();
             Tensor x = Tensor.of(new float[] {0.6f}, 1, 1, 1);
             Tensor h0 = Tensor.of(new float[] {0.5f}, 1, 1)) {
            gru.useBackend(REF);
            // bias [2, 3]: input row (0.1, 0.2, 0.3), recurrent row (-0.2, 0.05, 0.7).
            gru.setWeights(new float[] {1, -1, 2}, new float[] {0.5f, 0.3f, -0.4f},
                    new float[] {0.1f, 0.2f, 0.3f, -0.2f, 0.05f, 0.7f});
            float z = sig(0.6 * 1 + 0.1 + 0.5 * 0.5 - 0.2);
            float r = sig(0.6 * -1 + 0.2 + 0.5 * 0.3 + 0.05);
            float hh = (float) Math.tanh(0.6 * 2 + 0.3 + r * (0.5 * -0.4 + 0.7));
            float h = z * 0.5f + (1 - z) * hh;
            try (Outputs out = gru.forward(x, h0)) {
                assertEquals(h, out.output().get(0, 0), 1e-6f);
            }
        }
    }
}
