package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import io.jrnn.backend.RecurrentExecutor;
import io.jrnn.backend.RecurrentSpec;
import io.jrnn.backend.cuda.CudaComposedExecutorGpuTest.Kind;
import io.jrnn.backend.cuda.CudaComposedExecutorGpuTest.Size;
import io.jrnn.backend.reference.ReferenceBackend;
import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Executor outputs in pooled page-locked memory ({@value PinnedOutputPool#PROPERTY}): the same
 * values as the pageable path and the reference, pinned (so the next layer uploads them without
 * staging), readable after the executor is closed, and no pinned memory left once tensors and
 * executor are closed. Fused cuDNN (LSTM) and the composed path (GRU reset_after=false).
 */
@Tag("gpu")
class PinnedOutputsGpuTest {
    static final Size SIZE = new Size(5, 11, 7, 24);

    static Stream<Arguments> cases() {
        return Stream.of(Kind.LSTM, Kind.GRU).flatMap(k -> Stream.of(true, false).flatMap(
                seq -> Stream.of("auto", "direct").map(strategy -> Arguments.of(k, seq, strategy))));
    }

    @ParameterizedTest(name = "{0} returnSequences={1} transfer={2}")
    @MethodSource("cases")
    void pinnedOutputsMatchPageableOnesAndOutliveTheExecutor(Kind kind, boolean sequences, String strategy) {
        GpuChecks.assumeGpu();
        String before = System.getProperty(PinnedOutputPool.PROPERTY);
        String transferBefore = System.getProperty(HostTransfers.PROPERTY);
        long pooledBefore = PinnedOutputPool.liveBytes();
        long pinnedTensorsBefore = PinnedHost.liveCount();
        long buffersBefore = PinnedBuffer.liveBytes();
        System.setProperty(HostTransfers.PROPERTY, strategy);
        SplittableRandom rng = new SplittableRandom(kind.ordinal() * 7L + (sequences ? 1 : 0));
        RecurrentSpec spec = CudaComposedExecutorGpuTest.spec(kind, Activation.TANH, Activation.SIGMOID, true, false,
                sequences, false, MaskedOutput.CANONICAL, SIZE, rng);
        String name = kind + " seq=" + sequences + " transfer=" + strategy;
        Tensor[] pinned;
        Tensor[] pageable;
        Tensor[] chained;
        Tensor[] expected;
        float[][] pinnedValues;
        try (Tensor x = Tensor.of(CudaComposedExecutorGpuTest.uniform(rng, 1,
                SIZE.batch() * SIZE.steps() * SIZE.features()), SIZE.batch(), SIZE.steps(), SIZE.features());
                RecurrentExecutor reference = ReferenceBackend.instance().compile(spec)) {
            expected = reference.run(x, null);
            RecurrentExecutor gpu = CudaBackend.instance().compile(spec);
            boolean fused = gpu.executionPath().startsWith("cuDNN");
            assertEquals(kind == Kind.LSTM, fused, name + ": " + gpu.executionPath());
            try {
                System.setProperty(PinnedOutputPool.PROPERTY, "false");
                pageable = gpu.run(x, null);
                System.setProperty(PinnedOutputPool.PROPERTY, "true");
                pinned = gpu.run(x, null);
                for (int i = 0; i < pinned.length; i++) {
                    assertFalse(CudaBackend.isPinned(pageable[i]), name + ": pageable output " + i);
                    assertTrue(CudaBackend.isPinned(pinned[i]), name + ": pinned output " + i);
                    assertArrayEquals(pageable[i].toArray(), pinned[i].toArray(), name + ": output " + i);
                }
                CudaComposedExecutorGpuTest.compare(name, io.jrnn.Precision.FP32, expected, pinned, 1e-4);
                // Closing returns blocks to the pool; the next call reuses them.
                float[][] firstValues = values(pinned);
                close(pinned);
                assertTrue(PinnedOutputPool.liveBytes() > pooledBefore, name + ": idle blocks stay pooled");
                pinned = gpu.run(x, null);
                assertArrayEquals(firstValues, values(pinned), name + ": rerun from reused blocks");
                // A pinned sequence output goes into a GPU layer as a pinned input (one DMA, no staging).
                chained = null;
                if (sequences && kind == Kind.LSTM) {
                    RecurrentSpec next = CudaComposedExecutorGpuTest.spec(kind, Activation.TANH, Activation.SIGMOID,
                            true, false, true, false, MaskedOutput.CANONICAL,
                            new Size(SIZE.batch(), SIZE.steps(), SIZE.units(), SIZE.units()), rng);
                    try (RecurrentExecutor second = CudaBackend.instance().compile(next);
                            RecurrentExecutor secondRef = ReferenceBackend.instance().compile(next)) {
                        chained = second.run(pinned[0], null);
                        Tensor[] chainedRef = secondRef.run(expected[0], null);
                        try {
                            CudaComposedExecutorGpuTest.compare(name + " chained", io.jrnn.Precision.FP32, chainedRef,
                                    chained, 1e-4);
                        } finally {
                            close(chainedRef);
                        }
                    }
                    assertTrue(CudaBackend.isPinned(chained[0]), name + ": chained output outlives its executor");
                }
                pinnedValues = values(pinned);
            } finally {
                gpu.close();
            }
            // The executor is closed: its outputs are still valid.
            for (int i = 0; i < pinned.length; i++) {
                assertTrue(CudaBackend.isPinned(pinned[i]), name + ": output " + i + " after close");
                assertArrayEquals(pinnedValues[i], pinned[i].toArray(), name + ": output " + i + " after close");
            }
            if (chained != null) {
                assertEquals(SIZE.batch() * SIZE.steps() * SIZE.units(), chained[0].toArray().length);
                close(chained);
            }
            close(pinned);
            close(pageable);
            close(expected);
            for (Tensor t : pinned) {
                assertFalse(CudaBackend.isPinned(t), name + ": closed tensor");
            }
        } finally {
            restore(PinnedOutputPool.PROPERTY, before);
            restore(HostTransfers.PROPERTY, transferBefore);
        }
        assertEquals(pooledBefore, PinnedOutputPool.liveBytes(), name + ": pooled pinned bytes after closing all");
        assertEquals(pinnedTensorsBefore, PinnedHost.liveCount(), name + ": pinned tensors");
        assertEquals(buffersBefore, PinnedBuffer.liveBytes(), name + ": pinned buffers");
        System.out.println("GPU-CHECK pinned-outputs " + name.replace(' ', '_') + " ok");
    }

    private static float[][] values(Tensor[] ts) {
        return Arrays.stream(ts).map(Tensor::toArray).toArray(float[][]::new);
    }

    private static void close(Tensor[] ts) {
        List.of(ts).forEach(Tensor::close);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
