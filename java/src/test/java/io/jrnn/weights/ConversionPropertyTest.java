package io.jrnn.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every format against every variant it can represent: round trips through Keras, all ordered
 * pairs of formats, and each format's own equations against the independent Keras step.
 */
class ConversionPropertyTest {
    /** {C, H} pairs; C ≠ H catches swapped transposes. */
    private static final int[][] SIZES = {{3, 5}, {1, 1}, {4, 2}, {7, 3}};
    private static final double FUNCTION_TOLERANCE = 1e-5;
    private static final int SAMPLES = 4;

    static Stream<Arguments> formatVariantSize() {
        List<Arguments> cases = new ArrayList<>();
        for (Format format : Format.ALL) {
            for (Variant variant : Variant.values()) {
                if (format.supports().test(variant)) {
                    for (int[] size : SIZES) {
                        cases.add(Arguments.of(format, variant, size[0], size[1]));
                    }
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> formatVariant() {
        List<Arguments> cases = new ArrayList<>();
        for (Format format : Format.ALL) {
            for (Variant variant : Variant.values()) {
                if (format.supports().test(variant)) {
                    cases.add(Arguments.of(format, variant));
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> formatPairVariant() {
        List<Arguments> cases = new ArrayList<>();
        for (Format first : Format.ALL) {
            for (Format second : Format.ALL) {
                for (Variant variant : Variant.values()) {
                    if (first.supports().test(variant) && second.supports().test(variant)) {
                        cases.add(Arguments.of(first, second, variant));
                    }
                }
            }
        }
        return cases.stream();
    }

    private static long seed(Object... parts) {
        return java.util.Arrays.deepHashCode(new Object[] {java.util.Arrays.toString(parts)});
    }

    @ParameterizedTest(name = "Keras → {0} → Keras, {1}, C={2}, H={3}")
    @MethodSource("formatVariantSize")
    void kerasToFormatToKerasIsExact(Format format, Variant variant, int inputSize, int hiddenSize) {
        Random random = new Random(seed(format, variant, inputSize, hiddenSize));
        KerasRnnWeights original = variant.random(random, inputSize, hiddenSize);

        KerasRnnWeights back = format.toKeras().apply(format.fromKeras().apply(original));

        KerasRnnWeights expected = format.keepsMissingBias() ? original : original.withZeroBiasIfAbsent();
        assertEquals(expected.hasBias(), back.hasBias(), "bias presence");
        assertEquals(original.type(), back.type());
        assertEquals(original.resetAfter(), back.resetAfter());
        if (format == Format.ONEDNN && variant.resetAfter) {
            // lbr_gru keeps only b_x,z + b_h,z and b_x,r + b_h,r: exact weights, equal effective bias.
            assertArrayEquals(expected.kernel(), back.kernel());
            assertArrayEquals(expected.recurrentKernel(), back.recurrentKernel());
            assertArrayEquals(effectiveResetAfterBias(expected), effectiveResetAfterBias(back), 1e-6f);
        } else if (format.roundTripTolerance() == 0) {
            assertEquals(expected, back, "bitwise round trip");
        } else {
            assertTrue(expected.maxAbsDifference(back) <= format.roundTripTolerance(),
                    () -> "max difference " + expected.maxAbsDifference(back));
        }
        assertSameFunction(original, back, random);
    }

    @ParameterizedTest(name = "{0} → Keras → {1} → Keras → {0}, {2}")
    @MethodSource("formatPairVariant")
    void everyPairOfFormatsReproducesTheNetwork(Format first, Format second, Variant variant) {
        Random random = new Random(seed(first, second, variant));
        KerasRnnWeights original = variant.random(random, 3, 5);
        Object firstNative = first.fromKeras().apply(original);

        KerasRnnWeights viaFirst = first.toKeras().apply(firstNative);
        Object secondNative = second.fromKeras().apply(viaFirst);
        KerasRnnWeights viaSecond = second.toKeras().apply(secondNative);
        Object firstAgain = first.fromKeras().apply(viaSecond);

        assertSameFunction(original, first.toKeras().apply(firstAgain), random);
        // The format's own equations agree too, before and after the trip.
        assertSameNativeFunction(first, firstNative, firstAgain, random, 3, 5, variant.type);
    }

    @ParameterizedTest(name = "{0} equations = Keras equations, from Keras, {1}")
    @MethodSource("formatVariant")
    void nativeEquationsOfConvertedKerasWeightsMatchKeras(Format format, Variant variant) {
        Random random = new Random(seed("native-from-keras", format, variant));
        KerasRnnWeights keras = variant.random(random, 3, 5);
        Object converted = format.fromKeras().apply(keras);
        for (int sample = 0; sample < SAMPLES; sample++) {
            double[][] state = randomState(random, 3, 5);
            double[][] expected = KerasStep.step(keras, state[0], state[1], state[2]);
            double[][] actual = format.nativeStep().step(converted, state[0], state[1], state[2]);
            assertTrue(KerasStep.maxDifference(expected, actual) <= FUNCTION_TOLERANCE,
                    () -> "step difference " + KerasStep.maxDifference(expected, actual));
        }
    }

    @ParameterizedTest(name = "Keras equations of random {0} weights = {0} equations, {1}")
    @MethodSource("formatVariant")
    void kerasEquationsOfRandomNativeWeightsMatchNative(Format format, Variant variant) {
        Random random = new Random(seed("keras-from-native", format, variant));
        Object nativeWeights = format.randomNative().create(variant, random, 4, 3);
        KerasRnnWeights keras = format.toKeras().apply(nativeWeights);
        for (int sample = 0; sample < SAMPLES; sample++) {
            double[][] state = randomState(random, 4, 3);
            double[][] expected = format.nativeStep().step(nativeWeights, state[0], state[1], state[2]);
            double[][] actual = KerasStep.step(keras, state[0], state[1], state[2]);
            assertTrue(KerasStep.maxDifference(expected, actual) <= FUNCTION_TOLERANCE,
                    () -> "step difference " + KerasStep.maxDifference(expected, actual));
        }
        // And back: the format's equations on format → Keras → format are unchanged.
        Object again = format.fromKeras().apply(keras);
        assertSameNativeFunction(format, nativeWeights, again, random, 4, 3, variant.type);
    }

    /** {b_x,z + b_h,z, b_x,r + b_h,r, b_x,h, b_h,h} of a reset-after GRU. */
    private static float[] effectiveResetAfterBias(KerasRnnWeights gru) {
        int hiddenSize = gru.hiddenSize();
        float[] bias = gru.bias();
        float[] effective = new float[4 * hiddenSize];
        for (int j = 0; j < 2 * hiddenSize; j++) {
            effective[j] = bias[j] + bias[3 * hiddenSize + j];
        }
        System.arraycopy(bias, 2 * hiddenSize, effective, 2 * hiddenSize, hiddenSize);
        System.arraycopy(bias, 5 * hiddenSize, effective, 3 * hiddenSize, hiddenSize);
        return effective;
    }

    /** {x [C], h [H], c [H]} uniform in [-2, 2). */
    static double[][] randomState(Random random, int inputSize, int hiddenSize) {
        double[][] state = {Variant.uniformDouble(random, inputSize), Variant.uniformDouble(random, hiddenSize),
                Variant.uniformDouble(random, hiddenSize)};
        for (double[] vector : state) {
            for (int k = 0; k < vector.length; k++) {
                vector[k] *= 2;
            }
        }
        return state;
    }

    static void assertSameFunction(KerasRnnWeights expected, KerasRnnWeights actual, Random random) {
        for (int sample = 0; sample < SAMPLES; sample++) {
            double[][] state = randomState(random, expected.inputSize(), expected.hiddenSize());
            double[][] expectedNext = KerasStep.step(expected, state[0], state[1], state[2]);
            double[][] actualNext = KerasStep.step(actual, state[0], state[1], state[2]);
            double difference = KerasStep.maxDifference(expectedNext, actualNext);
            assertTrue(difference <= FUNCTION_TOLERANCE, () -> "step difference " + difference);
        }
    }

    private static void assertSameNativeFunction(Format format, Object expected, Object actual, Random random,
            int inputSize, int hiddenSize, CellType type) {
        for (int sample = 0; sample < SAMPLES; sample++) {
            double[][] state = randomState(random, inputSize, hiddenSize);
            double[][] expectedNext = format.nativeStep().step(expected, state[0], state[1], state[2]);
            double[][] actualNext = format.nativeStep().step(actual, state[0], state[1], state[2]);
            assertEquals(type == CellType.LSTM ? 2 : 1, actualNext.length);
            double difference = KerasStep.maxDifference(expectedNext, actualNext);
            assertTrue(difference <= FUNCTION_TOLERANCE, () -> format + " step difference " + difference);
        }
    }
}
