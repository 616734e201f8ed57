package io.jrnn.backend.reference;

import io.jrnn.Device;
import io.jrnn.Mask;
import io.jrnn.Tensor;
import io.jrnn.backend.Backend;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;

/**
 * The pure-Java oracle. Every equation below is the one in {@code shared/spec/recurrent-layers.md}
 * (§2.2 SimpleRNN, §2.3 GRU, §2.4 LSTM, §3.1 go_backwards, §3.3 masks), in float32, one sample and one step
 * at a time. It is slow on purpose: clarity over speed.
 */
public final class ReferenceBackend implements Backend {
    private static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {
    }

    public static ReferenceBackend instance() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device device() {
        return Device.cpu();
    }

    @Override
    public RecurrentExecutor compile(RecurrentSpec spec) {
        return new ReferenceRecurrentExecutor(spec, "reference (pure Java, spec equations)");
    }

    @Override
    public io.jrnn.backend.ConvLstmExecutor compileConvLstm(io.jrnn.backend.ConvLstmSpec spec) {
        return new ReferenceConvLstmExecutor(spec, "reference (pure Java, spec §2.6 equations)");
    }

    /** A ConvLSTM2D on the reference path reporting {@code path}, for backends without a convolutional path. */
    public static io.jrnn.backend.ConvLstmExecutor convLstmFallback(io.jrnn.backend.ConvLstmSpec spec, String path) {
        return new ReferenceConvLstmExecutor(spec, path);
    }

    @Override
    public String describe() {
        return "reference: pure Java, float32, single thread (the oracle)";
    }

    /** Applies a Keras activation to one value (spec §2.0). */
    static float activate(Activation a, float x) {
        return switch (a) {
            case LINEAR -> x;
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case HARD_SIGMOID_KERAS2 -> Math.max(0f, Math.min(1f, 0.2f * x + 0.5f));
            case HARD_SIGMOID_KERAS3 -> Math.max(0f, Math.min(1f, x / 6f + 0.5f));
            case RELU -> x > 0 ? x : (x == x ? 0f : x);
            case RELU6 -> x != x ? x : Math.max(0f, Math.min(6f, x));
            case ELU -> x > 0 ? x : (float) Math.expm1(x);
            case SELU -> (float) (1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x)));
            case SOFTSIGN -> x / (1f + Math.abs(x));
            case SOFTPLUS -> (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs((double) x))));
            case EXPONENTIAL -> (float) Math.exp(x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case SOFTMAX -> throw new IllegalArgumentException("softmax is not an elementwise activation");
        };
    }

    private static final class ReferenceRecurrentExecutor implements RecurrentExecutor {
        private final RecurrentSpec spec;
        private final String path;
        private final float[] kernel;
        private final float[] recurrentKernel;
        private final float[] bias;
        private volatile boolean closed;

        ReferenceRecurrentExecutor(RecurrentSpec spec, String path) {
            this.spec = spec;
            this.path = path;
            this.kernel = spec.weights().kernel();
            this.recurrentKernel = spec.weights().recurrentKernel();
            float[] b = spec.weights().bias();
            int biasLength = spec.weights().type().gateCount() * spec.units() * (spec.resetAfter() ? 2 : 1);
            this.bias = b != null ? b : new float[biasLength];
        }

        @Override
        public String executionPath() {
            return path;
        }

        @Override
        public Tensor[] run(Tensor input, Tensor[] initialStates) {
            return run(input, initialStates, null);
        }

        /**
         * The canonical masked loop of spec §3.3, one sample at a time. At a masked step the states
         * are carried and the output is zeros ({@code zero_output_for_mask}), the previous processed
         * output ({@link MaskedOutput#CANONICAL}, zeros before the first step) or the {@code h}
         * before the step ({@link MaskedOutput#PREVIOUS_STATE}).
         */
        @Override
        public Tensor[] run(Tensor input, Tensor[] initialStates, Mask mask) {
            if (closed) {
                throw new IllegalStateException(spec.describe() + ": executor is closed");
            }
            int n = input.dim(0);
            int steps = input.dim(1);
            int c = input.dim(2);
            int h = spec.units();
            if (mask != null) {
                mask.checkShape(spec.describe(), n, steps);
            }
            float[] x = input.toArray();
            float[][] state = new float[spec.stateCount()][];
            for (int s = 0; s < state.length; s++) {
                state[s] = initialStates == null ? new float[n * h] : initialStates[s].toArray();
            }
            float[] out = new float[spec.returnSequences() ? n * steps * h : n * h];
            for (int sample = 0; sample < n; sample++) {
                float[] hPrev = slice(state[0], sample, h);
                float[] cPrev = state.length > 1 ? slice(state[1], sample, h) : null;
                float[] previousOutput = new float[h];
                for (int k = 0; k < steps; k++) {
                    // go_backwards consumes x[T-1-k] at processing step k; output stays at k (spec §3.1).
                    int t = spec.goBackwards() ? steps - 1 - k : k;
                    float[] y;
                    if (mask == null || mask.valid(sample, t)) {
                        float[] xt = new float[c];
                        System.arraycopy(x, (sample * steps + t) * c, xt, 0, c);
                        float[][] next = step(xt, hPrev, cPrev);
                        hPrev = next[0];
                        cPrev = next.length > 1 ? next[1] : null;
                        y = hPrev;
                    } else if (spec.zeroOutputForMask()) {
                        // Masked step: every state is carried; only the output rule differs.
                        y = new float[h];
                    } else if (spec.maskedOutput() == MaskedOutput.PREVIOUS_STATE) {
                        y = hPrev;
                    } else {
                        y = previousOutput;
                    }
                    previousOutput = y;
                    if (spec.returnSequences()) {
                        System.arraycopy(y, 0, out, (sample * steps + k) * h, h);
                    }
                }
                if (!spec.returnSequences()) {
                    // y_last is the last processed step's output, which a mask may have replaced.
                    System.arraycopy(previousOutput, 0, out, sample * h, h);
                }
                System.arraycopy(hPrev, 0, state[0], sample * h, h);
                if (cPrev != null) {
                    System.arraycopy(cPrev, 0, state[1], sample * h, h);
                }
            }
            Tensor[] result = new Tensor[1 + state.length];
            result[0] = spec.returnSequences() ? Tensor.of(out, n, steps, h) : Tensor.of(out, n, h);
            for (int s = 0; s < state.length; s++) {
                result[1 + s] = Tensor.of(state[s], n, h);
            }
            return result;
        }

        private static float[] slice(float[] a, int row, int width) {
            float[] r = new float[width];
            System.arraycopy(a, row * width, r, 0, width);
            return r;
        }

        /** {@code x·M[block]} for a row vector x and the gate block {@code block} of a fused [rows, G·H] matrix. */
        private float[] project(float[] x, float[] m, int block) {
            int h = spec.units();
            int width = spec.weights().type().gateCount() * h;
            float[] r = new float[h];
            for (int j = 0; j < h; j++) {
                float acc = 0f;
                for (int i = 0; i < x.length; i++) {
                    acc += x[i] * m[i * width + block * h + j];
                }
                r[j] = acc;
            }
            return r;
        }

        private float biasAt(int block, int j) {
            return bias[block * spec.units() + j];
        }

        private float recurrentBiasAt(int block, int j) {
            // Keras reset_after bias [2, 3H]: row 1 is the recurrent bias.
            return bias[(3 + block) * spec.units() + j];
        }

        private float[][] step(float[] x, float[] hPrev, float[] cPrev) {
            return switch (spec.cellType()) {
                case SIMPLE_RNN -> new float[][] {simpleRnnStep(x, hPrev)};
                case GRU -> new float[][] {spec.resetAfter() ? gruResetAfterStep(x, hPrev) : gruStep(x, hPrev)};
                case LSTM -> lstmStep(x, hPrev, cPrev);
            };
        }

        /** §2.2: h_t = φ(x_t·K + b + h_{t−1}·R). */
        private float[] simpleRnnStep(float[] x, float[] hPrev) {
            int h = spec.units();
            float[] xk = project(x, kernel, 0);
            float[] hr = project(hPrev, recurrentKernel, 0);
            float[] out = new float[h];
            for (int j = 0; j < h; j++) {
                out[j] = activate(spec.activation(), xk[j] + biasAt(0, j) + hr[j]);
            }
            return out;
        }

        /** §2.3 reset_after=False; gate blocks z=0, r=1, h=2. */
        private float[] gruStep(float[] x, float[] hPrev) {
            int h = spec.units();
            Activation sigma = spec.recurrentActivation();
            float[] xz = project(x, kernel, 0);
            float[] xr = project(x, kernel, 1);
            float[] xh = project(x, kernel, 2);
            float[] hz = project(hPrev, recurrentKernel, 0);
            float[] hrr = project(hPrev, recurrentKernel, 1);
            float[] z = new float[h];
            float[] r = new float[h];
            float[] rh = new float[h];
            for (int j = 0; j < h; j++) {
                z[j] = activate(sigma, xz[j] + biasAt(0, j) + hz[j]);
                r[j] = activate(sigma, xr[j] + biasAt(1, j) + hrr[j]);
                rh[j] = r[j] * hPrev[j];
            }
            float[] rhR = project(rh, recurrentKernel, 2);
            float[] out = new float[h];
            for (int j = 0; j < h; j++) {
                float candidate = activate(spec.activation(), xh[j] + biasAt(2, j) + rhR[j]);
                out[j] = z[j] * hPrev[j] + (1f - z[j]) * candidate;
            }
            return out;
        }

        /** §2.3 reset_after=True: bias [2, 3H] = input row b_x, recurrent row b_h. */
        private float[] gruResetAfterStep(float[] x, float[] hPrev) {
            int h = spec.units();
            Activation sigma = spec.recurrentActivation();
            float[] xz = project(x, kernel, 0);
            float[] xr = project(x, kernel, 1);
            float[] xh = project(x, kernel, 2);
            float[] hz = project(hPrev, recurrentKernel, 0);
            float[] hrr = project(hPrev, recurrentKernel, 1);
            float[] hh = project(hPrev, recurrentKernel, 2);
            float[] out = new float[h];
            for (int j = 0; j < h; j++) {
                float z = activate(sigma, xz[j] + biasAt(0, j) + hz[j] + recurrentBiasAt(0, j));
                float r = activate(sigma, xr[j] + biasAt(1, j) + hrr[j] + recurrentBiasAt(1, j));
                float candidate = activate(spec.activation(), xh[j] + biasAt(2, j) + r * (hh[j] + recurrentBiasAt(2, j)));
                out[j] = z * hPrev[j] + (1f - z) * candidate;
            }
            return out;
        }

        /** §2.4; gate blocks i=0, f=1, c=2, o=3. */
        private float[][] lstmStep(float[] x, float[] hPrev, float[] cPrev) {
            int h = spec.units();
            Activation sigma = spec.recurrentActivation();
            Activation phi = spec.activation();
            float[][] xg = new float[4][];
            float[][] hg = new float[4][];
            for (int g = 0; g < 4; g++) {
                xg[g] = project(x, kernel, g);
                hg[g] = project(hPrev, recurrentKernel, g);
            }
            float[] hNext = new float[h];
            float[] cNext = new float[h];
            for (int j = 0; j < h; j++) {
                float i = activate(sigma, xg[0][j] + hg[0][j] + biasAt(0, j));
                float f = activate(sigma, xg[1][j] + hg[1][j] + biasAt(1, j));
                float g = activate(phi, xg[2][j] + hg[2][j] + biasAt(2, j));
                float o = activate(sigma, xg[3][j] + hg[3][j] + biasAt(3, j));
                cNext[j] = f * cPrev[j] + i * g;
                hNext[j] = o * activate(phi, cNext[j]);
            }
            return new float[][] {hNext, cNext};
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
