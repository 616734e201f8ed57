package io.jrnn.backend.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DnnlConvLstmExecutorTest {
    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() - 0.5);
        }
        return v;
    }

    private static ConvLstmSpec spec() {
        int c = 2;
        int f = 3;
        return new ConvLstmSpec("conv", c, f, 3, 3, 1, 1, 1, 1, true, Activation.TANH, Activation.SIGMOID, false, true,
                random(9 * c * 4 * f, 1), random(9 * f * 4 * f, 2), random(4 * f, 3));
    }

    @Test
    void plansAreCachedPerShapeAndBounded() {
        try (DnnlConvLstmExecutor e = new DnnlConvLstmExecutor(DnnlBackend.instance().engine(), spec(), false)) {
            assertTrue(e.executionPath().startsWith("oneDNN ConvLSTM2D (one input convolution"), e.executionPath());
            for (int round = 0; round < 2; round++) {
                try (Tensor x = Tensor.of(random(2 * 3 * 4 * 5 * 2, 4), 2, 3, 4, 5, 2)) {
                    for (Tensor t : e.run(x, null, null)) {
                        t.close();
                    }
                }
            }
            assertEquals(1, e.plansCreated());
            for (int rows = 3; rows < 3 + DnnlConvLstmExecutor.SHAPE_CACHE_CAPACITY + 2; rows++) {
                try (Tensor x = Tensor.zeros(1, 2, rows, 4, 2)) {
                    Tensor[] out = e.run(x, null, null);
                    assertArrayEquals(new int[] {1, 2, rows, 4, 3}, out[0].shape());
                    for (Tensor t : out) {
                        t.close();
                    }
                }
            }
            assertEquals(1 + DnnlConvLstmExecutor.SHAPE_CACHE_CAPACITY + 2, e.plansCreated());
        }
    }

    @Test
    void naivePerStepInputConvolutionGivesTheSameNumbers() {
        try (ConvLstmExecutor fused = new DnnlConvLstmExecutor(DnnlBackend.instance().engine(), spec(), false);
                ConvLstmExecutor naive = DnnlBackend.instance().compileConvLstmInputConvPerStep(spec());
                Tensor x = Tensor.of(random(2 * 4 * 5 * 4 * 2, 9), 2, 4, 5, 4, 2)) {
            assertTrue(naive.executionPath().contains("naive"), naive.executionPath());
            Tensor[] a = fused.run(x, null, null);
            Tensor[] b = naive.run(x, null, null);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(a[i].toArray(), b[i].toArray(), 1e-6f);
                a[i].close();
                b[i].close();
            }
        }
    }

    @Test
    void executionPathNamesWhereActivationsRun() {
        ConvLstmSpec s = spec();
        ConvLstmSpec softsign = new ConvLstmSpec("conv", 2, 3, 3, 3, 1, 1, 1, 1, true, Activation.SOFTSIGN,
                Activation.SIGMOID, false, true, s.kernel(), s.recurrentKernel(), s.bias());
        try (ConvLstmExecutor a = DnnlBackend.instance().compileConvLstm(s);
                ConvLstmExecutor b = DnnlBackend.instance().compileConvLstm(softsign)) {
            assertTrue(a.executionPath().contains("oneDNN eltwise activations"), a.executionPath());
            assertTrue(b.executionPath().contains("activations in Java (softsign has no oneDNN eltwise)"),
                    b.executionPath());
        }
    }

    /**
     * NaN and ±Inf in the input land where the reference backend puts them (docs/reliability.md).
     * oneDNN's relu and hard_sigmoid turn NaN into a number, so as the activation of the candidate
     * and the cell state they run in Java; hard_sigmoid gates may stay in oneDNN.
     */
    @ParameterizedTest(name = "activation={0} {1}")
    @MethodSource("nonFiniteCases")
    void nonFiniteInputsLandWhereTheReferencePutsThem(Activation activation, float bad) {
        ConvLstmSpec s = spec();
        ConvLstmSpec spec = new ConvLstmSpec("conv", 2, 3, 3, 3, 1, 1, 1, 1, true, activation,
                Activation.HARD_SIGMOID_KERAS2, false, true, s.kernel(), s.recurrentKernel(), s.bias());
        float[] values = random(2 * 3 * 4 * 5 * 2, 11);
        values[10] = bad;
        try (ConvLstmExecutor jrnn = DnnlBackend.instance().compileConvLstm(spec);
                ConvLstmExecutor reference = ReferenceBackend.instance().compileConvLstm(spec);
                Tensor x = Tensor.of(values, 2, 3, 4, 5, 2)) {
            if (!Dnnl.eltwiseKeepsNaN(activation)) {
                assertTrue(jrnn.executionPath().contains("activations in Java (" + activation.kerasName()
                        + ": oneDNN's loses NaN)"), jrnn.executionPath());
            }
            Tensor[] a = jrnn.run(x, null, null);
            Tensor[] e = reference.run(x, null, null);
            try {
                for (int o = 0; o < e.length; o++) {
                    float[] got = a[o].toArray();
                    float[] want = e[o].toArray();
                    for (int j = 0; j < want.length; j++) {
                        String where = "output " + o + " element " + j + ": expected " + want[j] + ", got " + got[j];
                        if (Float.isNaN(want[j]) || Float.isInfinite(want[j])) {
                            assertEquals(want[j], got[j], where);
                        } else {
                            assertTrue(Math.abs(want[j] - got[j]) <= 1e-5, where);
                        }
                    }
                }
            } finally {
                for (int o = 0; o < a.length; o++) {
                    a[o].close();
                    e[o].close();
                }
            }
        }
    }

    static Stream<Arguments> nonFiniteCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Activation activation : List.of(Activation.TANH, Activation.RELU, Activation.HARD_SIGMOID_KERAS2,
                Activation.HARD_SIGMOID_KERAS3, Activation.ELU, Activation.SIGMOID)) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                cases.add(Arguments.of(activation, bad));
            }
        }
        return cases.stream();
    }

    @Test
    void rejectsWrongInputAndStates() {
        try (ConvLstmExecutor e = DnnlBackend.instance().compileConvLstm(spec());
                Tensor wrongChannels = Tensor.zeros(1, 2, 4, 4, 3);
                Tensor x = Tensor.zeros(1, 2, 4, 4, 2);
                Tensor badState = Tensor.zeros(1, 4, 4, 2)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.run(wrongChannels, null, null));
            assertTrue(ex.getMessage().contains("ConvLSTM2D 'conv'") && ex.getMessage().contains("[1, 2, 4, 4, 3]"),
                    ex.getMessage());
            ex = assertThrows(IllegalArgumentException.class, () -> e.run(x, new Tensor[] {badState, badState}, null));
            assertTrue(ex.getMessage().contains("[1, 4, 4, 3]"), ex.getMessage());
        }
    }
}
