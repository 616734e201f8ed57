package io.jrnn.backend.reference;

import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.ConvLstmExecutor;
import io.jrnn.backend.ConvLstmSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * {@code ConvLSTM2D} straight from spec §2.6, channels-last, float32, one output cell and one gate
 * at a time: the input convolution (strides, dilation, 'valid' or TensorFlow 'same' padding) plus
 * bias, the recurrent convolution (stride 1, undilated, 'same'), then the LSTM update. Masks follow
 * the canonical rule of §3.3, go_backwards §3.1. Slow on purpose.
 */
final class ReferenceConvLstmExecutor implements ConvLstmExecutor {
    private final ConvLstmSpec spec;
    private final String path;
    private volatile boolean closed;

    ReferenceConvLstmExecutor(ConvLstmSpec spec, String path) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.path = path;
    }

    @Override
    public String executionPath() {
        return path;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
        if (closed) {
            throw new IllegalStateException(spec.describe() + ": reference executor is closed");
        }
        int[] s = input.shape();
        if (s.length != 5 || s[4] != spec.inputChannels()) {
            throw new IllegalArgumentException(spec.describe() + ": expected input [N, T, rows, cols, "
                    + spec.inputChannels() + "], got " + Arrays.toString(s));
        }
        int n = s[0];
        int steps = s[1];
        int rows = s[2];
        int cols = s[3];
        int ch = spec.inputChannels();
        int f = spec.filters();
        int kr = spec.kernelRows();
        int kc = spec.kernelCols();
        int outR = spec.outputRows(rows);
        int outC = spec.outputCols(cols);
        if (outR < 1 || outC < 1) {
            throw new IllegalArgumentException(spec.describe() + ": input frame " + rows + "x" + cols
                    + " is smaller than the dilated kernel");
        }
        // Input convolution padding (spec §2.6): 'valid' none, 'same' TF's floor(P/2) before.
        int padTop = spec.samePadding()
                ? ConvLstmSpec.padBefore(rows, outR, kr, spec.strideRows(), spec.dilationRows()) : 0;
        int padLeft = spec.samePadding()
                ? ConvLstmSpec.padBefore(cols, outC, kc, spec.strideCols(), spec.dilationCols()) : 0;
        // Recurrent convolution: stride 1, dilation 1, 'same' over an outR x outC frame.
        int rPadTop = ConvLstmSpec.padBefore(outR, outR, kr, 1, 1);
        int rPadLeft = ConvLstmSpec.padBefore(outC, outC, kc, 1, 1);

        float[] x = input.toArray();
        int frame = outR * outC * f;
        float[] h = new float[n * frame];
        float[] c = new float[n * frame];
        if (initialStates != null) {
            h = initialStates[0].toArray();
            c = initialStates[1].toArray();
        }
        float[] prev = new float[n * frame];
        float[] seq = spec.returnSequences() ? new float[n * steps * frame] : null;
        float[] kernel = spec.kernel();
        float[] rk = spec.recurrentKernel();
        float[] bias = spec.bias();
        int g4 = 4 * f;
        float[] z = new float[4];

        for (int k = 0; k < steps; k++) {
            int t = spec.goBackwards() ? steps - 1 - k : k;
            float[] newH = h.clone();
            float[] newC = c.clone();
            for (int b = 0; b < n; b++) {
                boolean valid = mask == null || mask.valid(b, t);
                int xBase = (b * steps + t) * rows * cols * ch;
                for (int y = 0; y < outR; y++) {
                    for (int xo = 0; xo < outC; xo++) {
                        for (int j = 0; j < f; j++) {
                            for (int gate = 0; gate < 4; gate++) {
                                int o = gate * f + j;
                                // X_g = conv(x_t, K[..., g]) + b[g]
                                float xs = 0f;
                                for (int a = 0; a < kr; a++) {
                                    int iy = y * spec.strideRows() + a * spec.dilationRows() - padTop;
                                    if (iy < 0 || iy >= rows) {
                                        continue;
                                    }
                                    for (int bb = 0; bb < kc; bb++) {
                                        int ix = xo * spec.strideCols() + bb * spec.dilationCols() - padLeft;
                                        if (ix < 0 || ix >= cols) {
                                            continue;
                                        }
                                        int xi = xBase + (iy * cols + ix) * ch;
                                        int wi = ((a * kc + bb) * ch) * g4 + o;
                                        for (int q = 0; q < ch; q++) {
                                            xs += x[xi + q] * kernel[wi + q * g4];
                                        }
                                    }
                                }
                                xs += bias[o];
                                // U_g = conv(h_{t-1}, R[..., g]; stride 1, 'same')
                                float us = 0f;
                                for (int a = 0; a < kr; a++) {
                                    int iy = y + a - rPadTop;
                                    if (iy < 0 || iy >= outR) {
                                        continue;
                                    }
                                    for (int bb = 0; bb < kc; bb++) {
                                        int ix = xo + bb - rPadLeft;
                                        if (ix < 0 || ix >= outC) {
                                            continue;
                                        }
                                        int hi = b * frame + (iy * outC + ix) * f;
                                        int wi = ((a * kc + bb) * f) * g4 + o;
                                        for (int q = 0; q < f; q++) {
                                            us += h[hi + q] * rk[wi + q * g4];
                                        }
                                    }
                                }
                                z[gate] = xs + us;
                            }
                            float i = ReferenceBackend.activate(spec.recurrentActivation(), z[0]);
                            float fg = ReferenceBackend.activate(spec.recurrentActivation(), z[1]);
                            float g = ReferenceBackend.activate(spec.activation(), z[2]);
                            float og = ReferenceBackend.activate(spec.recurrentActivation(), z[3]);
                            int si = b * frame + (y * outC + xo) * f + j;
                            float ct = fg * c[si] + i * g;
                            float ht = og * ReferenceBackend.activate(spec.activation(), ct);
                            if (valid) {
                                newC[si] = ct;
                                newH[si] = ht;
                            }
                        }
                    }
                }
                if (valid) {
                    System.arraycopy(newH, b * frame, prev, b * frame, frame);
                }
                // A masked sample keeps h, c (newH/newC are copies) and outputs prev, unchanged.
            }
            h = newH;
            c = newC;
            if (seq != null) {
                for (int b = 0; b < n; b++) {
                    System.arraycopy(prev, b * frame, seq, (b * steps + k) * frame, frame);
                }
            }
        }
        Tensor out = seq != null ? Tensor.of(seq, n, steps, outR, outC, f) : Tensor.of(prev, n, outR, outC, f);
        return new Tensor[] {out, Tensor.of(h, n, outR, outC, f), Tensor.of(c, n, outR, outC, f)};
    }
}
