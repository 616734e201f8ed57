package io.jrnn.bench;

import io.jrnn.weights.CellType;
import io.jrnn.weights.KerasRnnWeights;
import java.util.SplittableRandom;

/**
 * The one set of weights and inputs every system gets for a cell, in Keras layout (kernel
 * {@code [C, G·H]}, recurrent kernel {@code [H, G·H]}, bias {@code [G·H]}, or {@code [2, 3H]} for
 * GRU, which is benchmarked with {@code reset_after=true}); input {@code [N, T, C]}. Deterministic
 * in the cell, so a child process and the Python peer's files agree.
 */
public record BenchWeights(float[] kernel, float[] recurrent, float[] bias, float[] input) {

    /** Glorot-uniform kernel, recurrent uniform ±1/√H, bias ±0.1, input ±1. */
    public static BenchWeights of(BenchCell cell) {
        SplittableRandom rng = new SplittableRandom(20261122L ^ cell.id().hashCode());
        int gh = cell.kind().gates * cell.h();
        float[] kernel = uniform(rng, cell.c() * gh, (float) Math.sqrt(6.0 / (cell.c() + gh)));
        float[] recurrent = uniform(rng, cell.h() * gh, (float) (1 / Math.sqrt(cell.h())));
        float[] bias = uniform(rng, cell.kind() == BenchCell.Kind.GRU ? 2 * gh : gh, 0.1f);
        float[] input = uniform(rng, cell.n() * cell.t() * cell.c(), 1f);
        return new BenchWeights(kernel, recurrent, bias, input);
    }

    /** The weights as the shared converter's Keras form. */
    public KerasRnnWeights keras(BenchCell cell) {
        CellType type = switch (cell.kind()) {
            case LSTM -> CellType.LSTM;
            case GRU -> CellType.GRU;
            case RNN -> CellType.SIMPLE_RNN;
        };
        return KerasRnnWeights.of(type, cell.kind() == BenchCell.Kind.GRU, cell.c(), cell.h(), kernel, recurrent, bias);
    }

    /** The input transposed to time-major {@code [T, N, C]} (ONNX's default layout). */
    public float[] inputTimeMajor(BenchCell cell) {
        return transposeNt(input, cell.n(), cell.t(), cell.c());
    }

    /** {@code [A, B, D]} → {@code [B, A, D]}. */
    static float[] transposeNt(float[] x, int a, int b, int d) {
        float[] y = new float[x.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(x, (i * b + j) * d, y, (j * a + i) * d, d);
            }
        }
        return y;
    }

    private static float[] uniform(SplittableRandom rng, int count, float limit) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
        }
        return v;
    }
}
