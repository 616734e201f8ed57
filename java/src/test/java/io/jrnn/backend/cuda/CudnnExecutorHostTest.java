package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
import io.jrnn.UnsupportedConfigurationException;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The executor's host-side pieces (no device needed) and a clean refusal without CUDA. */
class CudnnExecutorHostTest {

    @Test
    void pointerArithmeticIsInBytes() {
        try (BytePointer memory = new BytePointer(1024)) {
            Pointer p = CudnnRecurrentExecutor.at(memory, 256);
            assertEquals(memory.address() + 256, p.address());
            assertEquals(0, p.position());
            assertThrows(IllegalArgumentException.class, () -> CudnnRecurrentExecutor.at(memory.position(4), 0));
        }
    }

    @Test
    void stagingConvertsPerPrecisionAndKeepsFloat32Exact() {
        float[] values = {1f, -2.5f, 1f / 3f, 65504f, 1e-8f};
        FloatBuffer src = FloatBuffer.wrap(values);
        try (BytePointer memory = new BytePointer(64)) {
            memory.zero();
            CudnnRecurrentExecutor.HostView fp32 = new CudnnRecurrentExecutor.HostView(memory, 64,
                    CudnnPlan.Numerics.of(Precision.FP32));
            fp32.put(3, src, 0, values.length);
            FloatBuffer back = FloatBuffer.allocate(values.length);
            fp32.get(3, back, 0, values.length);
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], back.get(i));
            }
            CudnnRecurrentExecutor.HostView fp16 = new CudnnRecurrentExecutor.HostView(memory, 64,
                    CudnnPlan.Numerics.of(Precision.FP16));
            fp16.put(1, src, 0, values.length);
            assertEquals(0x3c00, memory.getShort(2) & 0xffff, "element 1 is bytes 2-3");
            fp16.get(1, back, 0, values.length);
            for (int i = 0; i < values.length; i++) {
                assertEquals(HalfFloats.fromHalf(HalfFloats.toHalf(values[i])), back.get(i));
            }
            CudnnRecurrentExecutor.HostView bf16 = new CudnnRecurrentExecutor.HostView(memory, 64,
                    CudnnPlan.Numerics.of(Precision.BF16));
            bf16.put(0, src, 1, 2);
            assertEquals(0xc020, memory.getShort(0) & 0xffff);
            bf16.get(0, back, 0, 2);
            assertEquals(-2.5f, back.get(0));
            assertEquals(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(1f / 3f)), back.get(1));
        }
    }

    @Test
    void reportedDescriptorsAreCheckedIgnoringUnitDimensions() {
        int h = 5;
        int c = 3;
        assertTrue(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, h, c}, new int[] {h * c, c, 1}, h, c));
        assertTrue(CudnnRecurrentExecutor.rowMajorBlock(new int[] {h, c}, new int[] {c, 1}, h, c));
        assertTrue(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, h, 1}, new int[] {h, 1, 1}, 1, h), "bias");
        assertTrue(CudnnRecurrentExecutor.rowMajorBlock(new int[] {h, 1, 1}, new int[] {1, 1, 1}, 1, h), "bias");
        assertTrue(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, 1, 1}, new int[] {1, 1, 1}, 1, 1));
        assertFalse(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, c, h}, new int[] {h * c, h, 1}, h, c),
                "transposed");
        assertFalse(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, h, c}, new int[] {h * c, 1, h}, h, c),
                "column-major");
        assertFalse(CudnnRecurrentExecutor.rowMajorBlock(new int[] {1, h, c}, new int[] {h * 4, 4, 1}, h, c),
                "padded rows");
        assertFalse(CudnnRecurrentExecutor.rowMajorBlock(new int[] {2, h, c}, new int[] {h * c, c, 1}, h, c),
                "too many elements");
    }

    @Test
    void withoutCudaTheBackendRefusesCleanly() {
        Assumptions.assumeFalse(Cuda.usable(), "CUDA is usable here; the GPU tests cover it");
        UnsupportedConfigurationException e = assertThrows(UnsupportedConfigurationException.class,
                () -> CudaBackend.instance(0, Precision.FP32));
        assertTrue(e.getMessage().startsWith("Backend 'cuda' is not available: "), e.getMessage());
    }
}
