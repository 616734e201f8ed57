package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Running out of device memory is a Java exception that names what was asked for, and nothing
 * leaks: every executor allocates through {@link DeviceBuffer}.
 */
@Tag("gpu")
class CudaOutOfMemoryGpuTest {

    @Test
    void anImpossibleDeviceAllocationIsAJavaExceptionAndLeavesNothingAllocated() {
        GpuChecks.assumeGpu();
        long before = DeviceBuffer.liveBytes();
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                () -> DeviceBuffer.allocate(1L << 44, "a 16 TiB test buffer"));
        assertEquals(1L << 44, e.requestedBytes());
        assertTrue(e.getMessage().contains("16 TiB test buffer"), e.getMessage());
        assertEquals(before, DeviceBuffer.liveBytes());
        // The device is still usable afterwards.
        try (DeviceBuffer ok = DeviceBuffer.allocate(1 << 20, "a 1 MiB buffer after the failure")) {
            assertEquals(1 << 20, ok.bytes());
        }
        System.out.println("GPU-CHECK oom_device_allocation " + e.getMessage().replace(' ', '_'));
    }
}
