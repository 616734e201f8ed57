package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.cuda.CudaKernels.Kernel;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The utility kernels and the loader on a real GPU (skipped without one). */
@Tag("gpu")
class CudaKernelsGpuTest {
    private GpuStream stream;
    private CudaKernels kernels;

    @BeforeEach
    void needsAGpu() {
        Assumptions.assumeTrue(Cuda.usable(), () -> "no usable CUDA device: " + Cuda.status().reason());
        Assumptions.assumeTrue(CudaKernels.imageAvailable(), "this build has no CUDA kernels (built without nvcc)");
        stream = new GpuStream(0, "kernel test");
        kernels = CudaKernels.forDevice(0);
    }

    @AfterEach
    void close() {
        if (stream != null) {
            stream.close();
        }
    }

    private float[] download(DeviceBuffer buffer, int count) {
        try (FloatPointer host = new FloatPointer(count)) {
            stream.download(buffer.pointer(), host, (long) count * Float.BYTES);
            stream.sync();
            float[] out = new float[count];
            host.get(out);
            return out;
        }
    }

    private void upload(float[] values, DeviceBuffer buffer) {
        try (FloatPointer host = new FloatPointer(values)) {
            stream.upload(host, buffer.pointer(), (long) values.length * Float.BYTES);
            stream.sync();
        }
    }

    @Test
    void theModuleIsLoadedOncePerDevice() {
        assertSame(kernels, CudaKernels.forDevice(0));
        assertEquals(0, kernels.device());
    }

    @Test
    void fillCoversEveryElementOfALargeBuffer() {
        int count = 300_001;
        try (DeviceBuffer b = DeviceBuffer.floats(count, "fill test"); KernelArgs a = new KernelArgs(Kernel.FILL_F32, "t")) {
            a.pointer("dst", DeviceAddress.of(b)).f32("value", -2.5f).i64("count", count);
            kernels.launch(Kernel.FILL_F32, LaunchGeometry.strideBlocks(count), stream, a);
            float[] out = download(b, count);
            for (int i = 0; i < count; i++) {
                assertEquals(-2.5f, out[i], "element " + i);
            }
        }
        System.out.println("GPU-CHECK kernel_fill exact");
    }

    @Test
    void reverseTimeFlipsTheStepAxisOnly() {
        int n = 3;
        int steps = 5;
        int width = 7;
        float[] src = new float[n * steps * width];
        for (int i = 0; i < src.length; i++) {
            src[i] = i;
        }
        try (DeviceBuffer s = DeviceBuffer.floats(src.length, "src"); DeviceBuffer d = DeviceBuffer.floats(src.length, "dst");
                KernelArgs a = new KernelArgs(Kernel.REVERSE_TIME_F32, "t")) {
            upload(src, s);
            a.pointer("src", DeviceAddress.of(s)).pointer("dst", DeviceAddress.of(d)).i32("batch", n)
                    .i32("steps", steps).i32("width", width);
            kernels.launch(Kernel.REVERSE_TIME_F32, LaunchGeometry.strideBlocks(src.length), stream, a);
            float[] out = download(d, src.length);
            for (int b = 0; b < n; b++) {
                for (int t = 0; t < steps; t++) {
                    for (int w = 0; w < width; w++) {
                        assertEquals(src[(b * steps + steps - 1 - t) * width + w], out[(b * steps + t) * width + w]);
                    }
                }
            }
        }
        System.out.println("GPU-CHECK kernel_reverse_time exact");
    }

    @Test
    void halfAndBfloatConversionsRoundTripWithinTheirPrecision() {
        SplittableRandom rng = new SplittableRandom(1);
        int count = 10_000;
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (rng.nextDouble(-1, 1) * Math.pow(2, rng.nextInt(-10, 10)));
        }
        values[0] = 0f;
        values[1] = 1f;
        values[2] = -65504f;
        Kernel[][] pairs = {{Kernel.F32_TO_F16, Kernel.F16_TO_F32}, {Kernel.F32_TO_BF16, Kernel.BF16_TO_F32}};
        // Round to nearest: half an ulp, relative 2^-11 (fp16) and 2^-8 (bf16).
        double[] relative = {Math.pow(2, -11), Math.pow(2, -8)};
        for (int p = 0; p < 2; p++) {
            try (DeviceBuffer src = DeviceBuffer.floats(count, "src"); DeviceBuffer half = DeviceBuffer.allocate(2L * count, "16-bit");
                    DeviceBuffer back = DeviceBuffer.floats(count, "back");
                    KernelArgs to = new KernelArgs(pairs[p][0], "t"); KernelArgs from = new KernelArgs(pairs[p][1], "t")) {
                upload(values, src);
                to.pointer("src", DeviceAddress.of(src)).pointer("dst", DeviceAddress.of(half)).i64("count", count);
                from.pointer("src", DeviceAddress.of(half)).pointer("dst", DeviceAddress.of(back)).i64("count", count);
                kernels.launch(pairs[p][0], LaunchGeometry.strideBlocks(count), stream, to);
                kernels.launch(pairs[p][1], LaunchGeometry.strideBlocks(count), stream, from);
                float[] out = download(back, count);
                double maxRel = 0;
                for (int i = 0; i < count; i++) {
                    double err = Math.abs(out[i] - values[i]);
                    // fp16 subnormals (below 2^-14) have an absolute step of 2^-24.
                    assertTrue(err <= relative[p] * Math.abs(values[i]) + Math.pow(2, -25), pairs[p][0].symbol + " element "
                            + i + ": " + values[i] + " -> " + out[i]);
                    if (Math.abs(values[i]) >= Math.pow(2, -14)) {
                        maxRel = Math.max(maxRel, err / Math.abs(values[i]));
                    }
                }
                assertEquals(1f, out[1]);
                assertEquals(0f, out[0]);
                // A conversion check, not layer parity: GPU-CHECK with the relative error (of normal values).
                System.out.println("GPU-CHECK kernel_" + pairs[p][0].symbol + "_roundtrip maxRelErr="
                        + String.format(java.util.Locale.ROOT, "%.3e", maxRel) + " bound=" + relative[p]);
            }
        }
    }

    @Test
    void argumentsForAnotherKernelAreRefused() {
        try (KernelArgs a = new KernelArgs(Kernel.FILL_F32, "t")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> kernels.launch(Kernel.F32_TO_F16, 1, stream, a));
            assertTrue(e.getMessage().contains("jrnn_fill_f32") && e.getMessage().contains("jrnn_f32_to_f16"),
                    e.getMessage());
        }
    }
}
