package io.jrnn.backend;

import io.jrnn.Tensor;
import io.jrnn.layers.MaskedOutput;
import java.nio.FloatBuffer;

/**
 * The outputs at the padded steps of a right-padded mask (spec §3.3), for executors that run the
 * valid steps natively (oneDNN length segments, cuDNN per-sample sequence lengths) and fill the
 * rest on the host.
 */
public final class RightPaddedOutputs {
    private RightPaddedOutputs() {
    }

    /**
     * Fills the padded outputs. Forward: the steps after the length repeat the last valid output
     * ({@code h} at the length; with no valid step zeros, or the initial {@code h} under
     * {@link MaskedOutput#PREVIOUS_STATE}). go_backwards: the padded head comes first, before any
     * valid step: zeros, or the initial {@code h} under PREVIOUS_STATE. Zeros everywhere with
     * zero_output_for_mask. Without return_sequences the output is the last processed step's.
     *
     * @param result        {@code [sequence or null, h, (c)]}: the sequence {@code [N, T, H]} has the
     *                      valid steps written and zeros at every padded step; {@code h} is each
     *                      sample's final state. When {@code result[0]} is {@code null} (no
     *                      return_sequences) a new {@code [N, H]} output is put there.
     * @param initialStates the caller's initial states, or {@code null} for zeros
     * @param lengths       per sample, the number of valid leading steps
     * @param steps         {@code T}
     */
    public static void fill(RecurrentSpec spec, Tensor[] result, Tensor[] initialStates, int[] lengths, int steps) {
        int n = lengths.length;
        int h = spec.units();
        boolean zeros = spec.zeroOutputForMask();
        boolean previousState = spec.maskedOutput() == MaskedOutput.PREVIOUS_STATE;
        FloatBuffer finalH = result[1].view();
        FloatBuffer initialH = initialStates != null ? initialStates[0].view() : null;
        if (result[0] != null) {
            FloatBuffer sequence = result[0].view();
            for (int sample = 0; sample < n; sample++) {
                int len = lengths[sample];
                if (len == steps || zeros) {
                    continue;
                }
                if (!spec.goBackwards()) {
                    // After the last valid step both rules give the carried h (= h at the length, or h0 when none).
                    if (len > 0 || previousState) {
                        for (int k = len; k < steps; k++) {
                            sequence.put((sample * steps + k) * h, finalH, sample * h, h);
                        }
                    }
                } else if (previousState && initialH != null) {
                    for (int k = 0; k < steps - len; k++) {
                        sequence.put((sample * steps + k) * h, initialH, sample * h, h);
                    }
                }
            }
            return;
        }
        Tensor last = Tensor.zeros(n, h);
        FloatBuffer lastView = last.view();
        for (int sample = 0; sample < n; sample++) {
            int len = lengths[sample];
            boolean lastStepMasked = spec.goBackwards() ? len == 0 : len < steps;
            boolean zero = (lastStepMasked && zeros) || (len == 0 && !zeros && !previousState);
            if (!zero) {
                lastView.put(sample * h, finalH, sample * h, h);
            }
        }
        result[0] = last;
    }
}
