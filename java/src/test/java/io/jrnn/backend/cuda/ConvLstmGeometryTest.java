package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuDNN ConvLSTM2D planning without a GPU: output sizes, TensorFlow 'same' padding split into
 * cuDNN's symmetric padding plus bottom/right zero cells, descriptor dims, the HWIO → KRSC filter
 * transposition, and a host emulation of exactly what the GPU path computes (padding kernel, cuDNN's
 * cross-correlation semantics on the KRSC filter, the gate kernel's indexing) against the reference.
 */
class ConvLstmGeometryTest {

    static ConvLstmSpec spec(int c, int f, int kr, int kc, int sr, int sc, int dr, int dc, boolean same,
            Activation phi, Activation sigma, boolean backwards, boolean sequences, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] k = random(r, kr * kc * c * 4 * f, 0.4f);
        float[] rk = random(r, kr * kc * f * 4 * f, 0.4f);
        float[] b = random(r, 4 * f, 0.3f);
        return new ConvLstmSpec("cl", c, f, kr, kc, sr, sc, dr, dc, same, phi, sigma, backwards, sequences, k, rk, b);
    }

    static float[] random(SplittableRandom r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble(-1, 1) * scale);
        }
        return v;
    }

    @Test
    void validPaddingNeedsNoPaddingAnywhereButTheRecurrentSameConvolution() {
        ConvLstmGeometry g = ConvLstmGeometry.of(spec(3, 2, 3, 3, 1, 1, 1, 1, false, Activation.TANH,
                Activation.SIGMOID, false, false, 1), 2, 4, 7, 6);
        assertEquals(5, g.outRows());
        assertEquals(4, g.outCols());
        assertEquals(0, g.padTop());
        assertEquals(0, g.padLeft());
        assertFalse(g.padsInput());
        assertEquals(1, g.recurrentPadTop());
        assertEquals(1, g.recurrentPadLeft());
        assertFalse(g.padsRecurrent());
        assertArrayEquals(new int[] {8, 3, 7, 6}, g.inputSourceDims());
        assertArrayEquals(new int[] {8, 8, 5, 4}, g.projectionDims());
        assertArrayEquals(new int[] {2, 2, 5, 4}, g.operandDims());
        assertArrayEquals(new int[] {2, 8, 5, 4}, g.recurrentProductDims());
        assertEquals(2L * 4 * 7 * 6 * 3, g.inputCount());
        assertEquals(g.inputCount(), g.convSourceCount());
        assertEquals(2L * 5 * 4 * 2, g.stateCount());
        assertEquals(8L * 5 * 4 * 8, g.projectionCount());
        assertEquals(2L * 5 * 4 * 8, g.recurrentProductCount());
    }

    @Test
    void evenKernelsPutTheExtraSameCellAtTheBottomRight() {
        // 'same', kernel 2x4, stride 1: P = 1 rows (0 before, 1 after), 3 cols (1 before, 2 after).
        ConvLstmGeometry g = ConvLstmGeometry.of(spec(1, 3, 2, 4, 1, 1, 1, 1, true, Activation.TANH,
                Activation.SIGMOID, false, false, 2), 1, 2, 5, 6);
        assertEquals(5, g.outRows());
        assertEquals(6, g.outCols());
        assertEquals(0, g.padTop());
        assertEquals(1, g.extraRows());
        assertEquals(1, g.padLeft());
        assertEquals(1, g.extraCols());
        assertTrue(g.padsInput());
        assertArrayEquals(new int[] {2, 1, 6, 7}, g.inputSourceDims());
        // Recurrent: same arithmetic over the 5x6 output frame.
        assertEquals(0, g.recurrentPadTop());
        assertEquals(1, g.recurrentExtraRows());
        assertEquals(1, g.recurrentPadLeft());
        assertEquals(1, g.recurrentExtraCols());
        assertTrue(g.padsRecurrent());
        assertArrayEquals(new int[] {1, 3, 6, 7}, g.operandDims());
        assertEquals(1L * 6 * 7 * 3, g.operandCount());
    }

    @Test
    void stridedSameMatchesCudnnOutputSizes() {
        // 'same', kernel 3, stride 2 over 8 rows: out 4, P = max(3*2 + 3 - 8, 0) = 1 → 0 before, 1 after.
        ConvLstmGeometry g = ConvLstmGeometry.of(spec(2, 2, 3, 3, 2, 2, 1, 1, true, Activation.TANH,
                Activation.SIGMOID, false, false, 3), 1, 1, 8, 7);
        assertEquals(4, g.outRows());
        assertEquals(0, g.padTop());
        assertEquals(1, g.extraRows());
        // 7 cols: out 4, P = max(6 + 3 - 7, 0) = 2 → 1 before, 1 after: symmetric, no extra.
        assertEquals(4, g.outCols());
        assertEquals(1, g.padLeft());
        assertEquals(0, g.extraCols());
        for (int in = 1; in <= 12; in++) {
            for (int k = 1; k <= 4; k++) {
                for (int s = 1; s <= 3; s++) {
                    for (int d = 1; d <= 3; d++) {
                        int out = ConvLstmSpec.outputSize(in, k, s, d, true);
                        int before = ConvLstmSpec.padBefore(in, out, k, s, d);
                        int extra = ConvLstmSpec.padAfter(in, out, k, s, d) - before;
                        assertTrue(extra == 0 || extra == 1, "extra " + extra);
                        assertEquals(out, cudnnOutputSize(in + extra, before, k, s, d), "in " + in + " k " + k + " s "
                                + s + " d " + d);
                    }
                }
            }
        }
    }

    /** cuDNN's documented output size: {@code 1 + (in + 2·pad − ((k−1)·d + 1)) / s}. */
    static int cudnnOutputSize(int in, int pad, int k, int s, int d) {
        return 1 + (in + 2 * pad - ((k - 1) * d + 1)) / s;
    }

    @Test
    void tooSmallFramesAndTooLargeInputsAreRefused() {
        ConvLstmSpec s = spec(1, 1, 3, 3, 1, 1, 2, 2, false, Activation.TANH, Activation.SIGMOID, false, false, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConvLstmGeometry.of(s, 1, 1,
                4, 9));
        assertTrue(e.getMessage().contains("smaller than the dilated kernel"), e.getMessage());
        ConvLstmSpec big = spec(64, 1, 1, 1, 1, 1, 1, 1, false, Activation.TANH, Activation.SIGMOID, false, false, 5);
        e = assertThrows(IllegalArgumentException.class, () -> ConvLstmGeometry.of(big, 4096, 4096, 16, 16));
        assertTrue(e.getMessage().contains("too large for one cuDNN convolution"), e.getMessage());
    }

    @Test
    void withoutCudaTheExecutorRefusesSoTheLayerFallsBack() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Cuda.usable(), "CUDA is usable here");
        ConvLstmSpec s = spec(1, 2, 3, 3, 1, 1, 1, 1, true, Activation.TANH, Activation.SIGMOID, false, false, 6);
        io.jrnn.UnsupportedConfigurationException e = assertThrows(io.jrnn.UnsupportedConfigurationException.class,
                () -> new CudaConvLstmExecutor(0, s));
        assertTrue(e.getMessage().contains("cannot run on cuDNN"), e.getMessage());
        ConvLstmSpec softmax = spec(1, 2, 3, 3, 1, 1, 1, 1, true, Activation.SOFTMAX, Activation.SIGMOID, false, false,
                6);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new CudaConvLstmExecutor(0, softmax));
        assertTrue(bad.getMessage().contains("activation must be elementwise"), bad.getMessage());
    }

    @Test
    void hwioBecomesKrsc() {
        int kr = 2;
        int kc = 3;
        int in = 4;
        int out = 5;
        float[] hwio = new float[kr * kc * in * out];
        for (int i = 0; i < hwio.length; i++) {
            hwio[i] = i;
        }
        float[] krsc = ConvLstmGeometry.hwioToKrsc(hwio, kr, kc, in, out);
        for (int o = 0; o < out; o++) {
            for (int a = 0; a < kr; a++) {
                for (int b = 0; b < kc; b++) {
                    for (int q = 0; q < in; q++) {
                        assertEquals(hwio[((a * kc + b) * in + q) * out + o], krsc[((o * kr + a) * kc + b) * in + q]);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ConvLstmGeometry.hwioToKrsc(new float[5], 1, 1, 2, 2));
    }

    static Stream<ConvLstmSpec> emulatedCases() {
        return Stream.of(
                spec(2, 3, 3, 3, 1, 1, 1, 1, true, Activation.TANH, Activation.SIGMOID, false, true, 10),
                spec(1, 2, 2, 4, 1, 1, 1, 1, true, Activation.RELU, Activation.HARD_SIGMOID_KERAS2, true, true, 11),
                spec(3, 2, 3, 2, 2, 1, 1, 1, true, Activation.SOFTSIGN, Activation.SIGMOID, false, false, 12),
                spec(2, 1, 3, 3, 1, 1, 2, 2, false, Activation.ELU, Activation.HARD_SIGMOID_KERAS3, false, true, 13),
                spec(2, 2, 2, 2, 2, 2, 1, 1, false, Activation.SELU, Activation.SIGMOID, true, false, 14),
                spec(1, 3, 4, 3, 1, 1, 1, 2, true, Activation.TANH, Activation.SIGMOID, false, true, 15));
    }

    /** The GPU algorithm run on the host, index for index, agrees with the reference. */
    @ParameterizedTest
    @MethodSource("emulatedCases")
    void hostEmulationOfTheGpuPathMatchesTheReference(ConvLstmSpec s) {
        int n = 2;
        int steps = 3;
        int rows = 7;
        int cols = 6;
        SplittableRandom r = new SplittableRandom(99);
        float[] x = random(r, n * steps * rows * cols * s.inputChannels(), 1f);
        ConvLstmGeometry g = ConvLstmGeometry.of(s, n, steps, rows, cols);
        float[] h0 = random(r, (int) g.stateCount(), 0.5f);
        float[] c0 = random(r, (int) g.stateCount(), 0.5f);
        boolean[] valid = {true, false, true, false, true, true};
        for (boolean masked : new boolean[] {false, true}) {
            float[][] emulated = emulate(s, g, x, h0, c0, masked ? valid : null);
            try (Tensor xt = Tensor.of(x, n, steps, rows, cols, s.inputChannels());
                    Tensor ht = Tensor.of(h0, n, g.outRows(), g.outCols(), s.filters());
                    Tensor ct = Tensor.of(c0, n, g.outRows(), g.outCols(), s.filters());
                    ConvLstmExecutor ref = ReferenceBackend.instance().compileConvLstm(s)) {
                Tensor[] expected = ref.run(xt, new Tensor[] {ht, ct}, masked ? Mask.of(valid, n, steps) : null);
                try {
                    for (int i = 0; i < 3; i++) {
                        float[] e = expected[i].toArray();
                        assertEquals(e.length, emulated[i].length, "output " + i + " size");
                        for (int j = 0; j < e.length; j++) {
                            assertEquals(e[j], emulated[i][j], 1e-5, "output " + i + " element " + j);
                        }
                    }
                } finally {
                    for (Tensor t : expected) {
                        t.close();
                    }
                }
            }
        }
    }

    /** jrnn_pad_frames_f32. */
    static float[] pad(float[] src, int images, int rows, int cols, int ch, int dstRows, int dstCols) {
        float[] dst = new float[images * dstRows * dstCols * ch];
        for (int i = 0; i < dst.length; i++) {
            int q = i % ch;
            int pixel = i / ch;
            int xx = pixel % dstCols;
            int rest = pixel / dstCols;
            int y = rest % dstRows;
            int image = rest / dstRows;
            dst[i] = y < rows && xx < cols ? src[((image * rows + y) * cols + xx) * ch + q] : 0f;
        }
        return dst;
    }

    /** cuDNN's NHWC cross-correlation with a KRSC filter and symmetric padding (its documented semantics). */
    static float[] cudnnConv(float[] src, int[] srcDims, float[] krsc, int k, int kr, int kc, int padR, int padC,
            int sr, int sc, int dr, int dc, int[] outDims) {
        int images = srcDims[0];
        int ch = srcDims[1];
        int h = srcDims[2];
        int w = srcDims[3];
        int oh = cudnnOutputSize(h, padR, kr, sr, dr);
        int ow = cudnnOutputSize(w, padC, kc, sc, dc);
        assertArrayEquals(outDims, new int[] {images, k, oh, ow}, "cuDNN output dims");
        float[] out = new float[images * oh * ow * k];
        for (int im = 0; im < images; im++) {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    for (int o = 0; o < k; o++) {
                        float sum = 0;
                        for (int a = 0; a < kr; a++) {
                            int iy = y * sr + a * dr - padR;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int b = 0; b < kc; b++) {
                                int ix = xx * sc + b * dc - padC;
                                if (ix < 0 || ix >= w) {
                                    continue;
                                }
                                for (int q = 0; q < ch; q++) {
                                    sum += src[((im * h + iy) * w + ix) * ch + q] * krsc[((o * kr + a) * kc + b) * ch + q];
                                }
                            }
                        }
                        out[((im * oh + y) * ow + xx) * k + o] = sum;
                    }
                }
            }
        }
        return out;
    }

    /** CudaConvLstmExecutor.Plan.run with the GPU calls replaced by their host equivalents. */
    static float[][] emulate(ConvLstmSpec s, ConvLstmGeometry g, float[] x, float[] h0, float[] c0, boolean[] valid) {
        int f = s.filters();
        int kr = s.kernelRows();
        int kc = s.kernelCols();
        float[] kernel = ConvLstmGeometry.hwioToKrsc(s.kernel(), kr, kc, s.inputChannels(), 4 * f);
        float[] recurrent = ConvLstmGeometry.hwioToKrsc(s.recurrentKernel(), kr, kc, f, 4 * f);
        float[] source = g.padsInput() ? pad(x, g.images(), g.rows(), g.cols(), s.inputChannels(), g.convSourceRows(),
                g.convSourceCols()) : x;
        float[] xp = cudnnConv(source, g.inputSourceDims(), kernel, 4 * f, kr, kc, g.padTop(), g.padLeft(),
                s.strideRows(), s.strideCols(), s.dilationRows(), s.dilationCols(), g.projectionDims());
        float[] h = h0.clone();
        float[] c = c0.clone();
        float[] prev = new float[h.length];
        int frame = g.frame();
        float[] y = s.returnSequences() ? new float[g.images() * frame] : null;
        float[] operand = g.padsRecurrent() ? pad(h, g.batch(), g.outRows(), g.outCols(), f, g.operandRows(),
                g.operandCols()) : h;
        for (int k = 0; k < g.steps(); k++) {
            int t = s.goBackwards() ? g.steps() - 1 - k : k;
            float[] hp = cudnnConv(operand, g.operandDims(), recurrent, 4 * f, kr, kc, g.recurrentPadTop(),
                    g.recurrentPadLeft(), 1, 1, 1, 1, g.recurrentProductDims());
            // jrnn_convlstm_step, one iteration per thread.
            for (int idx = 0; idx < g.batch() * frame; idx++) {
                int n = idx / frame;
                int e = idx - n * frame;
                int pixel = e / f;
                int j = e - pixel * f;
                boolean ok = valid == null || valid[n * g.steps() + t];
                float hOld = h[idx];
                float hNew = hOld;
                int pixels = g.outRows() * g.outCols();
                if (ok) {
                    int xb = ((n * g.steps() + t) * pixels + pixel) * 4 * f;
                    int rb = (n * pixels + pixel) * 4 * f;
                    float[] z = new float[4];
                    for (int gate = 0; gate < 4; gate++) {
                        z[gate] = (xp[xb + gate * f + j] + s.bias()[gate * f + j]) + hp[rb + gate * f + j];
                    }
                    float gi = act(s.recurrentActivation(), z[0]);
                    float gf = act(s.recurrentActivation(), z[1]);
                    float gc = act(s.activation(), z[2]);
                    float go = act(s.recurrentActivation(), z[3]);
                    float cNew = gf * c[idx] + gi * gc;
                    c[idx] = cNew;
                    hNew = go * act(s.activation(), cNew);
                }
                float out = ok ? hNew : prev[idx];
                if (ok) {
                    h[idx] = hNew;
                }
                prev[idx] = out;
                if (y != null) {
                    y[(n * g.steps() + k) * frame + e] = out;
                }
                if (operand != h) {
                    int py = pixel / g.outCols();
                    int px = pixel - py * g.outCols();
                    operand[((n * g.operandRows() + py) * g.operandCols() + px) * f + j] = hNew;
                }
            }
        }
        return new float[][] {y != null ? y : prev, h, c};
    }

    /** The activations of the emulated cases, as jrnn_kernels.cu computes them. */
    static float act(Activation a, float v) {
        return switch (a) {
            case TANH -> (float) Math.tanh(v);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-v)));
            case HARD_SIGMOID_KERAS2 -> Math.max(0f, Math.min(1f, 0.2f * v + 0.5f));
            case HARD_SIGMOID_KERAS3 -> Math.max(0f, Math.min(1f, v / 6f + 0.5f));
            case RELU -> Math.max(v, 0f);
            case ELU -> v > 0 ? v : (float) Math.expm1(v);
            case SELU -> v > 0 ? 1.0507009873554805f * v : (float) (1.0507009873554805 * 1.6732632423543772 * Math.expm1(v));
            case SOFTSIGN -> v / (1 + Math.abs(v));
            default -> throw new IllegalArgumentException("not emulated: " + a);
        };
    }
}
