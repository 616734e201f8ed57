package io.jrnn.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.dnnl.global.dnnl;

/**
 * The same oneDNN primitive jrnn runs for the cell, called directly ({@link DirectOneDnnRnn}): the
 * primitive and weight format are read from jrnn's execution path, so the pair differs only by
 * jrnn's own overhead. Cells jrnn runs on its composed path (hard_sigmoid) have no such floor; small
 * batches jrnn runs composed because that measured faster get the fused primitive it beat (a ratio
 * above 1 is then the gain).
 */
final class OneDnnPeer implements Peer {
    /**
     * A fused primitive, also when jrnn splits the batch over threads ({@code BatchSplit}: the suffix
     * {@code ", batch split: …"}); the peer then runs the whole batch as one primitive on the OpenMP
     * threads, with the weight format of jrnn's parts.
     */
    private static final Pattern PATH = Pattern.compile("^oneDNN (\\w+) \\(.*, weights (any|ldigo)\\)(, batch split: .*)?$");
    /**
     * A small batch jrnn runs composed because it measured faster than the fused primitive
     * ({@code WeightFormat.composedFaster}): the peer runs that primitive, with the weight format jrnn
     * would give it (gru_forward {@code ldigo}, the others {@code any} below batch 32).
     */
    private static final Pattern SMALL_BATCH = Pattern.compile("^oneDNN composed \\(.*; small batch: measured faster than (\\w+) .*\\)$");

    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public String label() {
        return "oneDNN " + version() + " (direct)";
    }

    static String version() {
        try {
            org.bytedeco.dnnl.dnnl_version_t v = dnnl.dnnl_version();
            return v.major() + "." + v.minor() + "." + v.patch();
        } catch (LinkageError | RuntimeException e) {
            return "?";
        }
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public String unsupportedReason(BenchCell cell) {
        return cell.hardSigmoid() ? "oneDNN RNN primitives have no hard_sigmoid (jrnn: composed path)" : null;
    }

    /**
     * The primitive and weight format of a jrnn execution path (for a small batch run composed: the
     * fused primitive it beat), or {@code null} when it is neither.
     */
    static Object[] parsePath(String jrnnPath) {
        String path = jrnnPath == null ? "" : jrnnPath.trim();
        Matcher m = PATH.matcher(path);
        String primitive;
        boolean any;
        if (m.matches()) {
            primitive = m.group(1);
            any = m.group(2).equals("any");
        } else {
            Matcher small = SMALL_BATCH.matcher(path);
            if (!small.matches()) {
                return null;
            }
            primitive = small.group(1);
            any = !primitive.equals("gru_forward");
        }
        for (DirectOneDnnRnn.Primitive p : DirectOneDnnRnn.Primitive.values()) {
            if (p.oneDnnName.equals(primitive)) {
                return new Object[] {p, any};
            }
        }
        return null;
    }

    @Override
    public Instance open(BenchCell cell, BenchWeights w, int threads, String jrnnPath) {
        Object[] parsed = parsePath(jrnnPath);
        if (parsed == null) {
            throw new UnsupportedOperationException("jrnn runs '" + jrnnPath + "', not one oneDNN RNN primitive");
        }
        DirectOneDnnRnn direct = new DirectOneDnnRnn((DirectOneDnnRnn.Primitive) parsed[0], (Boolean) parsed[1],
                cell.h(), cell.n(), cell.t(), cell.c(), w.kernel(), w.recurrent(), w.bias(), w.input());
        return new Instance() {
            @Override
            public void run() {
                direct.run();
            }

            @Override
            public float[] outputNth() {
                return direct.output();
            }

            @Override
            public String detail() {
                return direct.path();
            }

            @Override
            public void close() {
                direct.close();
            }
        };
    }
}
