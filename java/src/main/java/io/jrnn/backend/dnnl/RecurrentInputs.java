package io.jrnn.backend.dnnl;

import io.jrnn.Tensor;
import java.util.Arrays;
import java.util.Objects;

/** The argument checks the recurrent executors share; messages name the layer ({@code who}). */
final class RecurrentInputs {
    private RecurrentInputs() {
    }

    /** Checks that {@code input} is an open {@code [N, T, inputSize]} tensor with {@code N, T >= 1}; returns its shape. */
    static int[] checkInput(String who, Tensor input, int inputSize) {
        Objects.requireNonNull(input, "input");
        int[] s = input.shape();
        if (input.isClosed()) {
            throw new IllegalStateException(who + ": input tensor " + Arrays.toString(s) + " is closed");
        }
        if (s.length != 3 || s[0] < 1 || s[1] < 1 || s[2] != inputSize) {
            throw new IllegalArgumentException(who + ": expected input [N, T, " + inputSize + "] with N, T >= 1, got "
                    + Arrays.toString(s));
        }
        return s;
    }

    /** Checks that every initial state is an open {@code [batch, hiddenSize]} tensor. */
    static void checkStates(String who, Tensor[] initialStates, int batch, int hiddenSize) {
        for (int i = 0; i < initialStates.length; i++) {
            Tensor state = Objects.requireNonNull(initialStates[i], "initial state " + i);
            int[] ss = state.shape();
            if (ss.length != 2 || ss[0] != batch || ss[1] != hiddenSize) {
                throw new IllegalArgumentException(who + ": initial state " + i + " must be [" + batch + ", "
                        + hiddenSize + "], got " + Arrays.toString(ss));
            }
            if (state.isClosed()) {
                throw new IllegalStateException(who + ": initial state " + i + " is closed");
            }
        }
    }
}
