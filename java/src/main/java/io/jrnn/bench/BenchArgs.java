package io.jrnn.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Parsing and validation of {@code jrnn bench}'s list options; every error is one line naming the option. */
public final class BenchArgs {
    private BenchArgs() {
    }

    /** The shapes (H, N, T, C). */
    public static final List<int[]> FULL_SHAPES = List.of(new int[] {128, 32, 50, 64}, new int[] {256, 1, 150, 256},
            new int[] {512, 4, 25, 512}, new int[] {512, 64, 25, 512}, new int[] {1024, 4, 25, 1024},
            new int[] {1024, 64, 25, 1024});
    /** Where the full run measures the hard_sigmoid LSTM (composed path). */
    public static final int[] FULL_HARD_SIGMOID_SHAPE = {512, 64, 25, 512};
    /** {@code --quick}: two shapes. */
    public static final List<int[]> QUICK_SHAPES = List.of(new int[] {128, 32, 50, 64}, new int[] {512, 4, 25, 512});
    public static final int[] QUICK_HARD_SIGMOID_SHAPE = {128, 32, 50, 64};

    public static final List<String> PEERS = List.of("onednn", "ort", "dl4j", "torch");
    public static final List<String> CELLS = List.of("lstm", "gru", "rnn", "lstm-hs");
    public static final List<String> PRECISIONS = List.of("fp32", "bf16");

    /**
     * {@code fp32,bf16} (the default: bf16 rows where the CPU has bf16, else an "n/a" row), {@code fp32}
     * (no bf16 row) or {@code bf16}: jrnn fp32 always runs, as the reference of bf16's max |Δ| and ratios.
     */
    public static List<String> precisions(String list) {
        Set<String> asked = new LinkedHashSet<>();
        for (String item : items("--precisions", list)) {
            String name = item.toLowerCase(Locale.ROOT);
            if (!PRECISIONS.contains(name)) {
                throw new IllegalArgumentException("--precisions: expected some of " + String.join(",", PRECISIONS)
                        + ", got '" + item + "'");
            }
            asked.add(name);
        }
        return asked.contains("bf16") ? PRECISIONS : List.of("fp32");
    }

    /** {@code HxNxTxC[,HxNxTxC…]}. */
    public static List<int[]> shapes(String list) {
        List<int[]> out = new ArrayList<>();
        for (String item : items("--shapes", list)) {
            String[] parts = item.split("x");
            if (parts.length != 4) {
                throw new IllegalArgumentException("--shapes: expected HxNxTxC (e.g. 512x64x25x512), got '" + item + "'");
            }
            int[] s = new int[4];
            for (int i = 0; i < 4; i++) {
                s[i] = positive("--shapes", parts[i], item);
            }
            out.add(s);
        }
        return out;
    }

    /** {@code lstm,gru,rnn,lstm-hs} in any order, no repeats. */
    public static Set<String> cells(String list) {
        Set<String> out = new LinkedHashSet<>();
        for (String item : items("--cells", list)) {
            String name = item.toLowerCase(Locale.ROOT);
            if (!CELLS.contains(name)) {
                throw new IllegalArgumentException("--cells: expected some of " + String.join(",", CELLS) + ", got '"
                        + item + "'");
            }
            out.add(name);
        }
        return out;
    }

    /** Positive thread counts, e.g. {@code 1,2}. */
    public static List<Integer> threads(String list) {
        Set<Integer> out = new LinkedHashSet<>();
        for (String item : items("--threads", list)) {
            out.add(positive("--threads", item, item));
        }
        return new ArrayList<>(out);
    }

    /** Some of {@code onednn,ort,dl4j,torch} ({@code none} for jrnn alone). */
    public static List<String> peers(String list) {
        if (list != null && list.trim().equalsIgnoreCase("none")) {
            return List.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (String item : items("--peers", list)) {
            String name = item.toLowerCase(Locale.ROOT);
            if (!PEERS.contains(name)) {
                throw new IllegalArgumentException("--peers: expected some of " + String.join(",", PEERS)
                        + " (or none), got '" + item + "'");
            }
            out.add(name);
        }
        return new ArrayList<>(out);
    }

    /**
     * The cells to run: every shape × every plain kind asked for, then the hard_sigmoid LSTM — at
     * every shape when {@code lstm-hs} is asked for, else at its default shape when neither cells
     * nor shapes were given.
     */
    public static List<BenchCell> plan(boolean quick, String shapesArg, String cellsArg) {
        List<int[]> shapes = shapesArg != null ? shapes(shapesArg) : quick ? QUICK_SHAPES : FULL_SHAPES;
        Set<String> kinds = cellsArg != null ? cells(cellsArg) : new LinkedHashSet<>(List.of("lstm", "gru", "rnn"));
        List<BenchCell> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (String k : List.of("lstm", "gru", "rnn")) {
                if (kinds.contains(k)) {
                    out.add(new BenchCell(BenchCell.Kind.valueOf(k.toUpperCase(Locale.ROOT)), false, s[0], s[1], s[2],
                            s[3]));
                }
            }
        }
        if (kinds.contains("lstm-hs")) {
            for (int[] s : shapes) {
                out.add(new BenchCell(BenchCell.Kind.LSTM, true, s[0], s[1], s[2], s[3]));
            }
        } else if (cellsArg == null && shapesArg == null) {
            int[] s = quick ? QUICK_HARD_SIGMOID_SHAPE : FULL_HARD_SIGMOID_SHAPE;
            out.add(new BenchCell(BenchCell.Kind.LSTM, true, s[0], s[1], s[2], s[3]));
        }
        return out;
    }

    private static List<String> items(String option, String list) {
        if (list == null || list.isBlank()) {
            throw new IllegalArgumentException(option + ": expected a comma-separated list, got nothing");
        }
        List<String> out = new ArrayList<>();
        for (String item : list.split(",")) {
            if (item.isBlank()) {
                throw new IllegalArgumentException(option + ": empty item in '" + list + "'");
            }
            out.add(item.trim());
        }
        return out;
    }

    private static int positive(String option, String text, String item) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException(option + ": expected positive integers, got '" + item + "'");
    }
}
