package io.jrnn.backend.cuda;

import io.jrnn.backend.RecurrentSpec;
import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.Arrays;

/**
 * The weights of one layer as the GPU composed path keeps them: Keras's own layout and gate order
 * (LSTM {@code i, f, c, o}; GRU {@code z, r, h}; SimpleRNN one block), row-major float32, so no
 * reordering is needed:
 * <ul>
 * <li>{@code kernel [C, G·H]}: the input projection of all steps is one GEMM {@code X[N·T, C] · kernel};</li>
 * <li>{@code recurrentKernel [H, G·H]}: per step {@code h[N, H] · recurrentKernel}; for GRU
 * {@code reset_after=false} the step multiplies its column blocks separately, {@code [0, 2H)} by
 * {@code h} and {@code [2H, 3H)} by {@code r ⊙ h} (leading dimension {@code 3H});</li>
 * <li>{@code inputBias [G·H]}: Keras's bias (its input row {@code b_x} for GRU {@code reset_after=true}),
 * zeros for {@code use_bias=false}; added by the gate kernels;</li>
 * <li>{@code recurrentBias [G·H]}: GRU {@code reset_after=true}'s {@code b_h}, zeros otherwise (unused).</li>
 * </ul>
 */
record ComposedWeights(CellType cellType, boolean resetAfter, int inputSize, int hiddenSize, float[] kernel,
        float[] recurrentKernel, float[] inputBias, float[] recurrentBias) {

    /** Packs {@code spec}'s weights. */
    static ComposedWeights of(RecurrentSpec spec) {
        KerasRnnWeights w = spec.weights();
        int width = w.gateCount() * w.hiddenSize();
        float[] bias = w.bias();
        float[] input;
        float[] recurrent;
        if (bias == null) {
            input = new float[width];
            recurrent = new float[width];
        } else if (w.resetAfter()) {
            input = Arrays.copyOfRange(bias, 0, width);
            recurrent = Arrays.copyOfRange(bias, width, 2 * width);
        } else {
            input = bias;
            recurrent = new float[width];
        }
        return new ComposedWeights(w.type(), w.resetAfter(), w.inputSize(), w.hiddenSize(), w.kernel(),
                w.recurrentKernel(), input, recurrent);
    }

    /** {@code G·H}: the width of the projections. */
    int gateWidth() {
        return cellType.gateCount() * hiddenSize;
    }

    /** The input projection {@code X[rows, C] · kernel[C, G·H]}. */
    RowMajorGemm projection(int rows) {
        return RowMajorGemm.dense(rows, gateWidth(), inputSize);
    }

    /**
     * The per-step recurrent product {@code h[N, H] · U} into {@code hp[N, G·H]}: all gates, or only
     * the {@code z, r} columns for GRU {@code reset_after=false}.
     */
    RowMajorGemm recurrent(int batch) {
        int width = gateWidth();
        int cols = splitsRecurrentProduct() ? 2 * hiddenSize : width;
        return new RowMajorGemm(batch, cols, hiddenSize, hiddenSize, width, width);
    }

    /**
     * GRU {@code reset_after=false}: {@code (r ⊙ h)[N, H] · U[:, 2H:3H]} into {@code hp[:, 2H:3H]};
     * B and C start at element offset {@link #candidateColumn()}.
     */
    RowMajorGemm candidate(int batch) {
        if (!splitsRecurrentProduct()) {
            throw new IllegalStateException(cellType.kerasName() + " has no separate candidate product");
        }
        int width = gateWidth();
        return new RowMajorGemm(batch, hiddenSize, hiddenSize, hiddenSize, width, width);
    }

    /** The first column of the candidate block, {@code 2H}. */
    int candidateColumn() {
        return 2 * hiddenSize;
    }

    /** GRU {@code reset_after=false}: two recurrent GEMMs per step. */
    boolean splitsRecurrentProduct() {
        return cellType == CellType.GRU && !resetAfter;
    }
}
