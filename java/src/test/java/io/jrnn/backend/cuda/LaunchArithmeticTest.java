package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.cuda.CudaKernels.Kernel;
import org.junit.jupiter.api.Test;

/** Grid sizes and the kernel argument blocks (host memory only: runs without a GPU). */
class LaunchArithmeticTest {

    @Test
    void stepKernelsGetOneThreadPerElement() {
        assertEquals(1, LaunchGeometry.stepBlocks(1, 1));
        assertEquals(1, LaunchGeometry.stepBlocks(1, 256));
        assertEquals(2, LaunchGeometry.stepBlocks(1, 257));
        assertEquals(256, LaunchGeometry.stepBlocks(64, 1024));
        assertEquals(19, LaunchGeometry.stepBlocks(3, 1537));
        for (int n = 1; n < 70; n += 7) {
            for (int h = 1; h < 600; h += 37) {
                int blocks = LaunchGeometry.stepBlocks(n, h);
                assertTrue((long) blocks * LaunchGeometry.BLOCK >= (long) n * h, n + "x" + h);
                assertTrue((long) (blocks - 1) * LaunchGeometry.BLOCK < (long) n * h, n + "x" + h + " has a spare block");
            }
        }
        assertEquals(8_388_608, LaunchGeometry.stepBlocks(65_536, 32_768));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.stepBlocks(0, 4));
        assertTrue(e.getMessage().contains("[0, 4]"), e.getMessage());
    }

    @Test
    void gridStrideKernelsAreCappedAndNeverEmpty() {
        assertEquals(1, LaunchGeometry.strideBlocks(0));
        assertEquals(1, LaunchGeometry.strideBlocks(1));
        assertEquals(4, LaunchGeometry.strideBlocks(1024));
        assertEquals(5, LaunchGeometry.strideBlocks(1025));
        assertEquals(LaunchGeometry.MAX_STRIDE_BLOCKS, LaunchGeometry.strideBlocks(1L << 40));
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.strideBlocks(-1));
    }

    @Test
    void argumentSlotsHoldValuesWhereTheDriverReadsThem() {
        try (KernelArgs a = new KernelArgs(Kernel.LSTM_STEP, "test")) {
            assertEquals(18, a.count());
            for (int i = 0; i < a.count(); i++) {
                assertEquals(a.slotAddress(Kernel.LSTM_STEP.parameters().get(i)), a.paramAddress(i),
                        "kernelParams[" + i + "] points at slot " + i);
            }
            a.pointer("xp", 0x7f00_1234_5600L).i32("t", -1).i32("batch", 7);
            assertEquals(0x7f00_1234_5600L, a.slot("xp"));
            // int in the low 4 bytes, high bytes zero (the driver reads 4 bytes).
            assertEquals(0xffff_ffffL, a.slot("t"));
            assertEquals(7L, a.slot("batch"));
            assertEquals(0L, a.slot("mask"), "unset pointers are null");
        }
        try (KernelArgs a = new KernelArgs(Kernel.FILL_F32, "test")) {
            a.f32("value", 1.5f).i64("count", 1L << 40);
            assertEquals(Float.floatToRawIntBits(1.5f), (int) a.slot("value"));
            assertEquals(0L, a.slot("value") >>> 32);
            assertEquals(1L << 40, a.slot("count"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.i32("t", 1));
            assertTrue(e.getMessage().contains("jrnn_fill_f32 has no parameter 't'"), e.getMessage());
        }
    }

    @Test
    void argumentBlocksCloseOnceAndRefuseUseAfterClose() {
        KernelArgs a = new KernelArgs(Kernel.F32_TO_F16, "test");
        a.close();
        a.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.pointer("src", 1));
        assertTrue(e.getMessage().contains("jrnn_f32_to_f16"), e.getMessage());
        assertThrows(IllegalStateException.class, a::params);
    }
}
