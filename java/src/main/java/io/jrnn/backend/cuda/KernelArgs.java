package io.jrnn.backend.cuda;

import io.jrnn.backend.cuda.CudaKernels.Kernel;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The argument block of one kernel's launches through {@code cuLaunchKernel}: one 8-byte host slot
 * per parameter and the array of pointers to those slots ({@code void** kernelParams}), set by
 * parameter name ({@link Kernel#parameters()}). A pointer argument is a device address in its
 * slot; an {@code int} or {@code float} sits in the low 4 bytes (little-endian x86-64 and aarch64),
 * which is where the driver reads it. The driver copies the values when a launch is queued, so a
 * block can be updated and launched again at once. Not thread-safe.
 */
final class KernelArgs extends CudaResource {
    private final Kernel kernel;
    private final int count;
    private final LongPointer values;
    private final LongPointer params;
    private final PointerPointer<?> kernelParams;

    KernelArgs(Kernel kernel, String what) {
        this(kernel, what, new LongPointer(kernel.parameterCount()), new LongPointer(kernel.parameterCount()));
    }

    private KernelArgs(Kernel kernel, String what, LongPointer values, LongPointer params) {
        // The free action holds the two host arrays, never this block.
        super("arguments of " + kernel.symbol + " for " + what, () -> free(values, params));
        this.kernel = kernel;
        this.count = kernel.parameterCount();
        this.values = values;
        this.params = params;
        values.zero();
        for (int i = 0; i < count; i++) {
            params.put(i, values.address() + (long) i * Long.BYTES);
        }
        // The same array seen as void**: JavaCPP passes a PointerPointer as the array itself, whereas
        // its plain-Pointer overload of cuLaunchKernel makes the driver answer CUDA_ERROR_INVALID_VALUE
        // (measured on an H100, CUDA 13.0 driver, 2026-11-22).
        this.kernelParams = new PointerPointer<>(params);
    }

    Kernel kernel() {
        return kernel;
    }

    int count() {
        return count;
    }

    /** Parameter {@code name} is a device pointer ({@code 0} = null). */
    KernelArgs pointer(String name, long deviceAddress) {
        values.put(index(name), deviceAddress);
        return this;
    }

    /** Parameter {@code name} is an {@code int}. */
    KernelArgs i32(String name, int value) {
        values.put(index(name), value & 0xffffffffL);
        return this;
    }

    /** Parameter {@code name} is a {@code long long}. */
    KernelArgs i64(String name, long value) {
        values.put(index(name), value);
        return this;
    }

    /** Parameter {@code name} is a {@code float}. */
    KernelArgs f32(String name, float value) {
        values.put(index(name), Float.floatToRawIntBits(value) & 0xffffffffL);
        return this;
    }

    /** The raw 8-byte slot of parameter {@code name} (tests). */
    long slot(String name) {
        return values.get(index(name));
    }

    /** {@code kernelParams}: the array of pointers to the slots. */
    LongPointer params() {
        ensureOpen();
        return params;
    }

    /** {@code kernelParams} as the {@code void**} that {@code cuLaunchKernel} takes. */
    PointerPointer<?> kernelParams() {
        ensureOpen();
        return kernelParams;
    }

    /** The host address of slot {@code i} as {@code kernelParams[i]} holds it (tests). */
    long paramAddress(int i) {
        ensureOpen();
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("parameter " + i + " of " + count + " (" + what() + ")");
        }
        return params.get(i);
    }

    /** The host address of the slot of parameter {@code name} (tests). */
    long slotAddress(String name) {
        return values.address() + (long) index(name) * Long.BYTES;
    }

    private int index(String name) {
        ensureOpen();
        return kernel.index(name);
    }

    /** The free action: releases the slots and the pointer array. */
    private static void free(LongPointer values, LongPointer params) {
        values.close();
        params.close();
    }
}
