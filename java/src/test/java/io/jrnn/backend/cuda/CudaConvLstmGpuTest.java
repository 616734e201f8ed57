package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.ConvLSTM2D;
import io.jrnn.layers.MaskedOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ConvLSTM2D on cuDNN ({@link CudaConvLstmExecutor}) against the reference backend on a real GPU
 * (skipped without one): valid/same padding with odd and even kernels, strides, dilation, every
 * elementwise activation, use_bias=false, go_backwards, both output forms, initial states, masks;
 * through the layer: channels_first, return_state and the masked-output rules; plus the shape cache,
 * close and leaks. Each case prints {@code GPU-PARITY convlstm_<case> maxAbsErr=<x>}.
 */
@Tag("gpu")
class CudaConvLstmGpuTest {
    static final double TOLERANCE = 1e-4;

    @BeforeEach
    void needsAGpu() {
        Assumptions.assumeTrue(Cuda.usable(), () -> "no usable CUDA device: " + Cuda.status().reason());
        Assumptions.assumeTrue(CudaKernels.imageAvailable(), "this build has no CUDA kernels (built without nvcc)");
    }

    /** One configuration: layer options, input size {@code [N, T, R, Cc, C]}, initial states, mask. */
    record Case(String name, int filters, int kr, int kc, int sr, int sc, int dr, int dc, boolean same,
            Activation phi, Activation sigma, boolean useBias, boolean backwards, boolean sequences,
            int n, int t, int rows, int cols, int channels, boolean initial, boolean masked) {
        @Override
        public String toString() {
            return name;
        }

        ConvLstmSpec spec(SplittableRandom r) {
            int g = 4 * filters;
            float[] k = ConvLstmGeometryTest.random(r, kr * kc * channels * g, (float) (1 / Math.sqrt(kr * kc * channels)));
            float[] rk = ConvLstmGeometryTest.random(r, kr * kc * filters * g, (float) (1 / Math.sqrt(kr * kc * filters)));
            float[] b = useBias ? ConvLstmGeometryTest.random(r, g, 0.5f) : new float[g];
            return new ConvLstmSpec("gpu_convlstm", channels, filters, kr, kc, sr, sc, dr, dc, same, phi, sigma, backwards,
                    sequences, k, rk, b);
        }
    }

    static Stream<Arguments> cases() {
        Activation tanh = Activation.TANH;
        Activation sig = Activation.SIGMOID;
        List<Case> cases = new ArrayList<>(List.of(
                new Case("same_3x3", 4, 3, 3, 1, 1, 1, 1, true, tanh, sig, true, false, true, 2, 4, 7, 6, 3, false, false),
                new Case("valid_3x3", 3, 3, 3, 1, 1, 1, 1, false, tanh, sig, true, false, true, 3, 3, 8, 7, 2, false, false),
                new Case("same_even_2x4", 3, 2, 4, 1, 1, 1, 1, true, tanh, sig, true, false, true, 2, 3, 5, 6, 2, false,
                        false),
                new Case("same_strided_2", 2, 3, 3, 2, 2, 1, 1, true, tanh, sig, true, false, true, 2, 3, 9, 8, 3, false,
                        false),
                new Case("valid_strided_2x1", 3, 3, 2, 2, 1, 1, 1, false, tanh, sig, true, false, false, 2, 3, 9, 6, 2,
                        false, false),
                new Case("valid_dilated_2", 2, 3, 3, 1, 1, 2, 2, false, tanh, sig, true, false, true, 2, 3, 9, 8, 2, false,
                        false),
                new Case("same_dilated_1x2", 3, 3, 2, 1, 1, 1, 2, true, tanh, sig, true, false, true, 2, 3, 6, 7, 1, false,
                        false),
                new Case("no_bias", 3, 3, 3, 1, 1, 1, 1, true, tanh, sig, false, false, true, 2, 3, 5, 5, 2, false, false),
                new Case("go_backwards", 3, 3, 3, 1, 1, 1, 1, true, tanh, sig, true, true, true, 2, 4, 5, 6, 2, false,
                        false),
                new Case("last_output", 3, 1, 1, 1, 1, 1, 1, false, tanh, sig, true, false, false, 3, 4, 4, 5, 3, false,
                        false),
                new Case("initial_states", 3, 3, 3, 1, 1, 1, 1, true, tanh, sig, true, false, true, 2, 3, 5, 4, 2, true,
                        false),
                new Case("mask", 3, 3, 3, 1, 1, 1, 1, true, tanh, sig, true, false, true, 4, 5, 5, 4, 2, false, true),
                new Case("mask_backwards_initial_even", 2, 2, 2, 1, 1, 1, 1, true, tanh, sig, true, true, true, 4, 5, 4,
                        5, 2, true, true),
                new Case("mask_last_output", 3, 3, 3, 1, 1, 1, 1, false, tanh, sig, true, false, false, 4, 5, 6, 6, 2,
                        false, true)));
        for (Activation a : Activation.values()) {
            if (a.isElementwise() && a != tanh) {
                // Each activation as the cell and as the recurrent activation; T = 2 keeps unbounded ones
                // (exponential: h = o·exp(c)) in a range where float32 rounding stays far below 1e-4.
                cases.add(new Case("activation_" + a.name().toLowerCase(java.util.Locale.ROOT), 2, 3, 3, 1, 1, 1, 1, true, a, sig, true, false, true, 2, 2, 4, 5, 2,
                        false, false));
                cases.add(new Case("recurrent_activation_" + a.name().toLowerCase(java.util.Locale.ROOT), 2, 3, 3, 1, 1,
                        1, 1, true, tanh, a, true, false, true, 2, 2, 4, 5, 2, false, false));
            }
        }
        return cases.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReference(Case c) {
        SplittableRandom r = new SplittableRandom(c.name().hashCode());
        ConvLstmSpec spec = c.spec(r);
        int outR = spec.outputRows(c.rows());
        int outC = spec.outputCols(c.cols());
        float[] x = ConvLstmGeometryTest.random(r, c.n() * c.t() * c.rows() * c.cols() * c.channels(), 1f);
        Mask mask = null;
        if (c.masked()) {
            boolean[] v = new boolean[c.n() * c.t()];
            for (int i = 0; i < v.length; i++) {
                int s = i / c.t();
                int t = i % c.t();
                v[i] = switch (s % 4) {
                    case 1 -> false;
                    case 2 -> t >= 2;
                    case 3 -> t < c.t() - 2;
                    default -> r.nextDouble() < 0.6;
                };
            }
            mask = Mask.of(v, c.n(), c.t());
        }
        Tensor[] init = null;
        if (c.initial()) {
            int size = c.n() * outR * outC * c.filters();
            init = new Tensor[] {
                Tensor.of(ConvLstmGeometryTest.random(r, size, 1f), c.n(), outR, outC, c.filters()),
                Tensor.of(ConvLstmGeometryTest.random(r, size, 1f), c.n(), outR, outC, c.filters()),
            };
        }
        try (Tensor input = Tensor.of(x, c.n(), c.t(), c.rows(), c.cols(), c.channels());
                ConvLstmExecutor reference = ReferenceBackend.instance().compileConvLstm(spec);
                CudaConvLstmExecutor gpu = new CudaConvLstmExecutor(0, spec)) {
            assertEquals(CudaConvLstmExecutor.PATH, gpu.executionPath());
            Tensor[] expected = reference.run(input, init, mask);
            Tensor[] actual = gpu.run(input, init, mask);
            // A second run reuses the plan and gives the same numbers.
            Tensor[] again = gpu.run(input, init, mask);
            try {
                double worst = 0;
                String[] names = {"output", "h", "c"};
                for (int i = 0; i < 3; i++) {
                    worst = Math.max(worst, GpuChecks.maxAbsErr(expected[i], actual[i], c.name() + " " + names[i]));
                    assertEquals(0.0, GpuChecks.maxAbsErr(actual[i], again[i], c.name() + " rerun " + names[i]),
                            c.name() + ": a second run differs");
                }
                assertEquals(1, gpu.plansCreated());
                GpuChecks.report("convlstm_" + c.name(), io.jrnn.Precision.FP32, worst, TOLERANCE);
            } finally {
                close(expected);
                close(actual);
                close(again);
            }
        } finally {
            close(init);
        }
    }

    static void close(Tensor[] tensors) {
        if (tensors != null) {
            for (Tensor t : tensors) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /** Through the layer: channels_first, return_state and every masked-output rule, on the cuDNN path. */
    @Test
    void theLayerRunsOnCudnnWithEveryOption() {
        SplittableRandom r = new SplittableRandom(7);
        for (String format : new String[] {"channels_last", "channels_first"}) {
            for (int rule = 0; rule < 3; rule++) {
                ConvLSTM2D.Builder b = ConvLSTM2D.builder().name("layer_" + format + "_" + rule).filters(3).kernelSize(3)
                        .padding("same").dataFormat(format).returnSequences(true).returnState(true).seed(11)
                        .zeroOutputForMask(rule == 1).maskedOutput(rule == 2 ? MaskedOutput.PREVIOUS_STATE
                                : MaskedOutput.CANONICAL);
                boolean first = format.equals("channels_first");
                int[] shape = first ? new int[] {3, 4, 2, 5, 6} : new int[] {3, 4, 5, 6, 2};
                float[] x = ConvLstmGeometryTest.random(r, 3 * 4 * 5 * 6 * 2, 1f);
                Mask mask = Mask.of(new boolean[] {true, false, true, true, false, false, true, true, true, true, false,
                    true}, 3, 4);
                try (ConvLSTM2D gpu = b.build(); ConvLSTM2D ref = b.build(); Tensor input = Tensor.of(x, shape)) {
                    gpu.useBackend(CudaBackend.instance());
                    ref.useBackend(ReferenceBackend.instance());
                    float[] k = ConvLstmGeometryTest.random(r, 3 * 3 * 2 * 12, 0.3f);
                    float[] rk = ConvLstmGeometryTest.random(r, 3 * 3 * 3 * 12, 0.3f);
                    float[] bias = ConvLstmGeometryTest.random(r, 12, 0.3f);
                    gpu.setWeights(k, rk, bias);
                    ref.setWeights(k, rk, bias);
                    try (Outputs expected = ref.forward(input, mask); Outputs actual = gpu.forward(input, mask)) {
                        assertTrue(gpu.executionPath().startsWith("cuDNN ConvLSTM2D"), gpu.executionPath());
                        double worst = 0;
                        for (int i = 0; i < expected.size(); i++) {
                            worst = Math.max(worst, GpuChecks.maxAbsErr(expected.get(i), actual.get(i), "output " + i));
                        }
                        GpuChecks.report("convlstm_layer_" + format + "_rule" + rule, io.jrnn.Precision.FP32, worst, TOLERANCE);
                    }
                }
            }
        }
    }

    @Test
    void otherPrecisionsRunInFp32AndSaySo() {
        ConvLstmSpec spec = new Case("fp16", 2, 3, 3, 1, 1, 1, 1, true, Activation.TANH, Activation.SIGMOID, true, false,
                true, 1, 2, 4, 4, 1, false, false).spec(new SplittableRandom(3));
        try (ConvLstmExecutor e = CudaBackend.instance(0, Precision.FP16).compileConvLstm(spec)) {
            assertTrue(e.executionPath().startsWith(CudaConvLstmExecutor.PATH), e.executionPath());
            assertTrue(e.executionPath().contains("fp32 fallback"), e.executionPath());
        }
    }

    @Test
    void shapesAreCachedCloseIsIdempotentAndNothingLeaks() {
        long before = DeviceBuffer.liveBytes();
        long pinnedBefore = PinnedBuffer.liveBytes();
        ConvLstmSpec spec = new Case("cache", 2, 3, 3, 1, 1, 1, 1, true, Activation.TANH, Activation.SIGMOID, true, false,
                true, 1, 2, 4, 4, 2, false, false).spec(new SplittableRandom(5));
        CudaConvLstmExecutor gpu = new CudaConvLstmExecutor(0, spec);
        for (int round = 0; round < 2; round++) {
            for (int size = 3; size <= 8; size++) {
                try (Tensor x = Tensor.zeros(2, 2, size, size + 1, 2)) {
                    close(gpu.run(x, null, null));
                }
            }
        }
        assertEquals(CudaConvLstmExecutor.SHAPE_CACHE_CAPACITY, gpu.cachedShapeCount());
        assertEquals(12, gpu.plansCreated());
        gpu.close();
        gpu.close();
        assertEquals(before, DeviceBuffer.liveBytes(), "device memory leaked");
        assertEquals(pinnedBefore, PinnedBuffer.liveBytes(), "pinned memory leaked");
        try (Tensor x = Tensor.zeros(1, 2, 4, 4, 2)) {
            assertThrows(IllegalStateException.class, () -> gpu.run(x, null, null));
            try (CudaConvLstmExecutor other = new CudaConvLstmExecutor(0, spec); Tensor wrong = Tensor.zeros(1, 2, 4, 4, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> other.run(wrong, null, null));
                assertTrue(e.getMessage().contains("expected input [N, T, rows, cols, 2]"), e.getMessage());
            }
        }
    }
}
