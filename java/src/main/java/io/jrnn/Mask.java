package io.jrnn;

import java.util.Arrays;

/**
 * Which time steps of a batch are valid: a boolean {@code [N, T]} matrix (true = valid), as Keras
 * masks are (spec §3.3). Immutable.
 */
public final class Mask {
    private final boolean[] valid;
    private final int batch;
    private final int steps;

    private Mask(boolean[] valid, int batch, int steps) {
        this.valid = valid;
        this.batch = batch;
        this.steps = steps;
    }

    /** A mask from a row-major {@code [batch, steps]} array (copied). */
    public static Mask of(boolean[] valid, int batch, int steps) {
        if (batch < 0 || steps < 0 || valid.length != (long) batch * steps) {
            throw new IllegalArgumentException("Mask [" + batch + ", " + steps + "] needs " + (long) batch * steps
                    + " values, got " + valid.length);
        }
        return new Mask(valid.clone(), batch, steps);
    }

    /** A right-padded mask: row {@code n} is valid for its first {@code lengths[n]} steps. */
    public static Mask fromLengths(int[] lengths, int steps) {
        boolean[] v = new boolean[lengths.length * steps];
        for (int n = 0; n < lengths.length; n++) {
            if (lengths[n] < 0 || lengths[n] > steps) {
                throw new IllegalArgumentException("Sequence length of sample " + n + " must be in [0, " + steps + "], got "
                        + lengths[n]);
            }
            Arrays.fill(v, n * steps, n * steps + lengths[n], true);
        }
        return new Mask(v, lengths.length, steps);
    }

    public int batch() {
        return batch;
    }

    public int steps() {
        return steps;
    }

    public boolean valid(int sample, int step) {
        return valid[sample * steps + step];
    }

    /**
     * Checks that this mask fits a batch of {@code batch} samples and {@code steps} time steps.
     *
     * @param owner who checks, for the message (e.g. {@code "LSTM 'lstm_1'"})
     * @throws IllegalArgumentException naming the owner, the expected and the actual shape
     */
    public void checkShape(String owner, int batch, int steps) {
        if (this.batch != batch || this.steps != steps) {
            throw new IllegalArgumentException(owner + ": mask must be [batch, time] = [" + batch + ", " + steps
                    + "], got [" + this.batch + ", " + this.steps + "]");
        }
    }

    /** A row-major copy. */
    public boolean[] toArray() {
        return valid.clone();
    }

    /** Whether every step of every sample is valid (then the mask changes nothing). */
    public boolean allValid() {
        for (boolean b : valid) {
            if (!b) {
                return false;
            }
        }
        return true;
    }

    /**
     * The per-sample lengths when every row is right-padded (valid steps, then only invalid ones),
     * else {@code null}. A row with no valid step has length 0.
     */
    public int[] rightPaddedLengths() {
        int[] lengths = new int[batch];
        for (int n = 0; n < batch; n++) {
            int len = 0;
            while (len < steps && valid[n * steps + len]) {
                len++;
            }
            for (int t = len; t < steps; t++) {
                if (valid[n * steps + t]) {
                    return null;
                }
            }
            lengths[n] = len;
        }
        return lengths;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mask m && m.batch == batch && m.steps == steps && Arrays.equals(m.valid, valid);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(valid) * 31 + batch;
    }

    @Override
    public String toString() {
        return "Mask[" + batch + ", " + steps + "]";
    }
}
