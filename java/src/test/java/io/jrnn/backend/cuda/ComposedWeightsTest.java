package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The GPU composed layout is Keras's own: kernels as is, the bias split into input and recurrent rows. */
class ComposedWeightsTest {

    static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    static RecurrentSpec spec(CellType type, boolean resetAfter, boolean useBias, SplittableRandom rng) {
        int c = 3;
        int h = 5;
        int gh = type.gateCount() * h;
        KerasRnnWeights w = KerasRnnWeights.of(type, resetAfter, c, h, random(rng, c * gh), random(rng, h * gh),
                useBias ? random(rng, gh * (resetAfter ? 2 : 1)) : null);
        return new RecurrentSpec("layer", type, Activation.TANH, Activation.SIGMOID, useBias, resetAfter, false, false, w);
    }

    @Test
    void kernelsKeepKerasLayoutAndGateOrder() {
        SplittableRandom rng = new SplittableRandom(1);
        for (CellType type : CellType.values()) {
            for (boolean resetAfter : type == CellType.GRU ? new boolean[] {false, true} : new boolean[] {false}) {
                RecurrentSpec spec = spec(type, resetAfter, true, rng);
                KerasRnnWeights w = spec.weights();
                ComposedWeights p = ComposedWeights.of(spec);
                String label = type + " resetAfter=" + resetAfter;
                assertArrayEquals(w.kernel(), p.kernel(), label + " kernel [C, G*H]");
                assertArrayEquals(w.recurrentKernel(), p.recurrentKernel(), label + " recurrent kernel [H, G*H]");
                assertEquals(type.gateCount() * 5, p.gateWidth());
                assertEquals(3, p.inputSize());
                assertEquals(5, p.hiddenSize());
                assertEquals(type == CellType.GRU && !resetAfter, p.splitsRecurrentProduct(), label);
                float[] bias = w.bias();
                if (resetAfter) {
                    assertArrayEquals(Arrays.copyOfRange(bias, 0, p.gateWidth()), p.inputBias(), label + " b_x");
                    assertArrayEquals(Arrays.copyOfRange(bias, p.gateWidth(), 2 * p.gateWidth()), p.recurrentBias(),
                            label + " b_h");
                } else {
                    assertArrayEquals(bias, p.inputBias(), label + " bias");
                    assertArrayEquals(new float[p.gateWidth()], p.recurrentBias(), label + " no recurrent bias");
                }
            }
        }
    }

    @Test
    void useBiasFalseGivesZeroBiases() {
        SplittableRandom rng = new SplittableRandom(2);
        for (CellType type : CellType.values()) {
            ComposedWeights p = ComposedWeights.of(spec(type, type == CellType.GRU, false, rng));
            assertArrayEquals(new float[p.gateWidth()], p.inputBias(), type + " input bias");
            assertArrayEquals(new float[p.gateWidth()], p.recurrentBias(), type + " recurrent bias");
        }
    }

    @Test
    void lstmGateBlocksAreIfcoColumns() {
        // Column j of gate block g is kernel column g*H + j: the kernels read x[g*H + j].
        int h = 2;
        float[] kernel = new float[8];
        for (int i = 0; i < 8; i++) {
            kernel[i] = i; // one input row: i0 i1 f0 f1 c0 c1 o0 o1
        }
        KerasRnnWeights w = KerasRnnWeights.of(CellType.LSTM, false, 1, h, kernel, new float[h * 8], new float[8]);
        ComposedWeights p = ComposedWeights.of(new RecurrentSpec("lstm", CellType.LSTM, Activation.TANH,
                Activation.SIGMOID, true, false, false, false, w));
        assertEquals(4f, p.kernel()[2 * h], "c gate block starts at 2H");
        assertEquals(7f, p.kernel()[3 * h + 1], "o gate, unit 1");
        assertTrue(p.recurrent(1).ldb() == 8 && p.recurrent(1).cols() == 8);
        assertFalse(p.splitsRecurrentProduct());
    }
}
