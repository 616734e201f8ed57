package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Outputs;
import io.jrnn.Precision;
import io.jrnn.Tensor;
import io.jrnn.backend.BackendContractTest;
import io.jrnn.backend.BackendContractTest.Cell;
import io.jrnn.backend.BackendContractTest.Flags;
import io.jrnn.backend.BackendContractTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.RecurrentLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GPU vs reference backend through the public layer API: every contract-test configuration of the
 * cells cuDNN runs fused (cell × return_sequences × return_state × go_backwards × initial state ×
 * stateful, three sizes with N ≠ T ≠ C ≠ H), in fp32 (≤ 1e-4, execution path must be cuDNN) and a
 * rotating subset in tf32, fp16 and bf16 (≤ 2e-2; bf16 may report the composed fallback). The
 * cells cuDNN cannot express (reset-before GRU, sigmoid SimpleRNN) are the composed path's tests.
 */
@Tag("gpu")
class CudnnParityGpuTest {
    static final List<Cell> FUSED = List.of(Cell.LSTM, Cell.GRU_RESET_AFTER, Cell.SIMPLE_RNN_TANH, Cell.SIMPLE_RNN_RELU);
    static final List<Size> SIZES = List.of(new Size(3, 7, 4, 5), new Size(17, 9, 24, 32), new Size(40, 5, 8, 16));

    static List<Flags> allFlags() {
        List<Flags> flags = new ArrayList<>();
        for (int bits = 0; bits < 32; bits++) {
            flags.add(new Flags((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0));
        }
        return flags;
    }

    static Stream<Arguments> fp32Cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Cell cell : FUSED) {
            for (Size size : SIZES) {
                for (Flags flags : allFlags()) {
                    cases.add(Arguments.of(cell, size, flags, true));
                }
            }
            for (Flags flags : List.of(allFlags().get(3), allFlags().get(14), allFlags().get(29))) {
                cases.add(Arguments.of(cell, SIZES.get(0), flags, false));
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> reducedPrecisionCases() {
        List<Arguments> cases = new ArrayList<>();
        List<Flags> flags = allFlags();
        int i = 0;
        for (Precision precision : List.of(Precision.TF32, Precision.FP16, Precision.BF16)) {
            for (Cell cell : FUSED) {
                for (Size size : SIZES) {
                    for (int f = 0; f < 4; f++) {
                        cases.add(Arguments.of(precision, cell, size, flags.get((i * 4 + f * 7) % 32)));
                    }
                    i++;
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "fp32 {0} {1} {2} bias={3}")
    @MethodSource("fp32Cases")
    void fp32MatchesTheReference(Cell cell, Size size, Flags flags, boolean useBias) {
        GpuChecks.assumeGpu();
        String path = compare(Precision.FP32, cell, size, flags, useBias, 1e-4);
        assertTrue(path.startsWith("cuDNN "), "fp32 " + cell + " must run fused: " + path);
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("reducedPrecisionCases")
    void reducedPrecisionMatchesTheReference(Precision precision, Cell cell, Size size, Flags flags) {
        GpuChecks.assumeGpu();
        String path = compare(precision, cell, size, flags, true, 2e-2);
        if (precision != Precision.BF16) {
            assertTrue(path.startsWith("cuDNN "), precision + " " + cell + " must run fused: " + path);
        }
    }

    /** Runs one configuration on both backends (two calls when stateful) and returns the GPU execution path. */
    static String compare(Precision precision, Cell cell, Size size, Flags flags, boolean useBias, double tolerance) {
        long seed = 31L * cell.ordinal() + 7L * size.hashCode() + flags.hashCode() + (useBias ? 1 : 0);
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] weights = BackendContractTest.kerasWeights(cell, size, useBias, rng);
        int stateCount = cell == Cell.LSTM ? 2 : 1;
        String path;
        double worst = 0;
        String testCase = precision + " " + cell + " " + size + " " + flags + (useBias ? "" : " no-bias");
        try (RecurrentLayer expectedLayer = BackendContractTest.layer(cell, size, flags, useBias);
                RecurrentLayer actualLayer = BackendContractTest.layer(cell, size, flags, useBias)) {
            expectedLayer.useBackend(ReferenceBackend.instance());
            actualLayer.useBackend(CudaBackend.instance(0, precision));
            expectedLayer.setWeights(weights[0], weights[1], weights[2]);
            actualLayer.setWeights(weights[0], weights[1], weights[2]);
            int calls = flags.stateful() ? 2 : 1;
            for (int call = 0; call < calls; call++) {
                Tensor[] initial = new Tensor[0];
                if (flags.initialState() && call == 0) {
                    initial = new Tensor[stateCount];
                    for (int s = 0; s < stateCount; s++) {
                        initial[s] = BackendContractTest.random(rng, 1f, size.batch(), size.units());
                    }
                }
                try (Tensor x = BackendContractTest.random(rng, 1f, size.batch(), size.steps(), size.features());
                        Outputs expected = expectedLayer.forward(x, initial);
                        Outputs actual = actualLayer.forward(x, initial)) {
                    assertEquals(expected.size(), actual.size(), testCase + ": number of outputs");
                    for (int i = 0; i < expected.size(); i++) {
                        worst = Math.max(worst, GpuChecks.maxAbsErr(expected.get(i), actual.get(i),
                                testCase + " call " + call + " output " + i));
                    }
                } finally {
                    for (Tensor t : initial) {
                        t.close();
                    }
                }
            }
            path = actualLayer.executionPath();
        }
        GpuChecks.report(testCase, precision, worst, tolerance);
        return path;
    }
}
