package io.jrnn.layers;

import io.jrnn.Mask;
import io.jrnn.Outputs;
import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.List;

/** Keras {@code Dense} on the last axis: {@code y = act(x·kernel + bias)}, kernel {@code [C, units]}. */
public final class Dense extends Layer {
    private final int units;
    private final Activation activation;
    private final boolean useBias;
    private float[] kernel;
    private float[] bias;
    private int inputSize = -1;

    private Dense(Builder b) {
        super(b.name, "dense");
        if (b.units <= 0) {
            throw new IllegalArgumentException("Dense '" + name() + "': units must be > 0, got " + b.units);
        }
        this.units = b.units;
        this.activation = b.activation;
        this.useBias = b.useBias;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String typeName() {
        return "Dense";
    }

    public int units() {
        return units;
    }

    public Activation activation() {
        return activation;
    }

    public boolean useBias() {
        return useBias;
    }

    /** Sets {@code kernel [C, units]} and (with use_bias) {@code bias [units]}. */
    public void setWeights(float[] kernel, float[] bias) {
        ensureOpen();
        if (kernel.length == 0 || kernel.length % units != 0) {
            throw new IllegalArgumentException(describe() + ": kernel must be [C, " + units + "], got " + kernel.length + " values");
        }
        if (useBias && (bias == null || bias.length != units)) {
            throw new IllegalArgumentException(describe() + ": bias must have " + units + " values, got "
                    + (bias == null ? "none" : bias.length));
        }
        if (!useBias && bias != null) {
            throw new IllegalArgumentException(describe() + ": use_bias=false but a bias was given");
        }
        this.kernel = kernel.clone();
        this.bias = bias == null ? null : bias.clone();
        this.inputSize = kernel.length / units;
    }

    @Override
    public long parameterCount() {
        return inputSize < 0 ? 0 : (long) inputSize * units + (useBias ? units : 0);
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int[] out = inputShape.clone();
        out[out.length - 1] = units;
        return out;
    }

    @Override
    public Outputs forward(Tensor x, Tensor... initialStates) {
        ensureOpen();
        if (initialStates != null && initialStates.length > 0) {
            throw new IllegalArgumentException(describe() + " takes no initial states");
        }
        if (x.rank() < 2) {
            throw new IllegalArgumentException(describe() + ": expected input of rank >= 2, got shape " + Arrays.toString(x.shape()));
        }
        int c = x.dim(x.rank() - 1);
        if (kernel == null) {
            throw new IllegalStateException(describe() + ": weights are not set");
        }
        if (c != inputSize) {
            throw new IllegalArgumentException(describe() + ": expected " + inputSize + " input features (last axis), got "
                    + c + " (input shape " + Arrays.toString(x.shape()) + ")");
        }
        float[] in = x.toArray();
        int rows = in.length / c;
        float[] out = new float[rows * units];
        for (int r = 0; r < rows; r++) {
            int o = r * units;
            if (useBias) {
                System.arraycopy(bias, 0, out, o, units);
            }
            for (int k = 0; k < c; k++) {
                float v = in[r * c + k];
                int kr = k * units;
                for (int j = 0; j < units; j++) {
                    out[o + j] += v * kernel[kr + j];
                }
            }
        }
        Activations.apply(activation, out, units);
        int[] shape = x.shape();
        shape[shape.length - 1] = units;
        return new Outputs(List.of(Tensor.of(out, shape)));
    }

    /**
     * Keras Dense supports masks: on a sequence {@code [N, T, C]} it computes every step and passes
     * the {@code [N, T]} mask on unchanged.
     */
    @Override
    public Outputs forward(Tensor x, Mask mask, Tensor... initialStates) {
        ensureOpen();
        if (mask != null) {
            if (x.rank() != 3) {
                throw new IllegalArgumentException(describe() + ": a mask " + mask + " needs a sequence input [batch, time,"
                        + " features], got shape " + Arrays.toString(x.shape()));
            }
            mask.checkShape(describe(), x.dim(0), x.dim(1));
        }
        return forward(x, initialStates);
    }

    @Override
    public Mask outputMask(Tensor x, Mask inputMask) {
        return inputMask;
    }

    /** Builder: units, activation (default linear), use_bias (default true). */
    public static final class Builder {
        String name;
        int units;
        Activation activation = Activation.LINEAR;
        boolean useBias = true;

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder units(int units) {
            this.units = units;
            return this;
        }

        public Builder activation(Activation activation) {
            this.activation = activation;
            return this;
        }

        public Builder activation(String kerasName) {
            this.activation = Activation.fromKeras(kerasName);
            return this;
        }

        public Builder useBias(boolean useBias) {
            this.useBias = useBias;
            return this;
        }

        public Dense build() {
            return new Dense(this);
        }
    }
}
