package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.Backend;
import org.junit.jupiter.api.Test;

/** Detection never crashes, is computed once, and explains itself (runs with or without a GPU). */
class CudaDetectionTest {

    @Test
    void detectionAnswersWithAReasonAndIsCached() {
        CudaStatus first = Cuda.status();
        assertNotNull(first);
        assertFalse(first.reason().isBlank());
        assertSame(first, Cuda.status(), "detection runs once per JVM");
        assertEquals(first.usable(), Cuda.usable());
        String text = first.describe();
        assertTrue(text.startsWith("CUDA usable: " + (first.usable() ? "yes" : "no")), text);
    }

    @Test
    void withoutAGpuAutoFallsBackToTheCpuAndSaysWhy() {
        CudaStatus s = Cuda.status();
        Backend auto = Backend.auto();
        if (s.usable()) {
            assertEquals("cuda", auto.name());
            assertTrue(s.deviceCount() > 0 && s.cudnnVersion() >= Cuda.MIN_CUDNN, s.toString());
        } else {
            assertTrue(auto.name().equals("cpu") || auto.name().equals("reference"), auto.name());
            assertTrue(io.jrnn.backend.Backends.lastAutoReason().contains(s.reason()),
                    io.jrnn.backend.Backends.lastAutoReason());
        }
    }

    @Test
    void versionTextDecodesCudaAndCudnnNumbers() {
        assertEquals("13.0", CudaStatus.cudaVersionText(13000));
        assertEquals("12.4", CudaStatus.cudaVersionText(12040));
        assertEquals("9.14.0", CudaStatus.cudnnVersionText(91400));
        assertEquals("9.19.1", CudaStatus.cudnnVersionText(91901));
        assertEquals("-", CudaStatus.cudnnVersionText(0));
    }
}
