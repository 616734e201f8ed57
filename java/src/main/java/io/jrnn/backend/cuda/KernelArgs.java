package io.jrnn.backend.cuda;

import org.bytedeco.javacpp.LongPointer;

/**
 * The argument block of one kernel launch through {@code cuLaunchKernel}: one 8-byte host slot
 * per argument and the array of pointers to those slots ({@code void** kernelParams}). A pointer
 * argument is a device address in its slot; an {@code int} or {@code float} sits in the low 4
 * bytes (little-endian x86-64 and aarch64), which is where the driver reads it. The driver copies
 * the values when the launch is queued, so a block can be updated and launched again at once.
 * Not thread-safe.
 */
final class KernelArgs extends CudaResource {
    private final int count;
    private final LongPointer values;
    private final LongPointer params;

    KernelArgs(int count, String what) {
        super("kernel arguments for " + what);
        if (count < 1) {
            throw new IllegalArgumentException("a kernel needs at least one argument, got " + count);
        }
        this.count = count;
        this.values = new LongPointer(count);
        this.params = new LongPointer(count);
        values.zero();
        for (int i = 0; i < count; i++) {
            params.put(i, values.address() + (long) i * Long.BYTES);
        }
    }

    int count() {
        return count;
    }

    /** Argument {@code i} is a device pointer ({@code 0} = null). */
    KernelArgs pointer(int i, long deviceAddress) {
        values.put(check(i), deviceAddress);
        return this;
    }

    KernelArgs i32(int i, int value) {
        values.put(check(i), value & 0xffffffffL);
        return this;
    }

    KernelArgs i64(int i, long value) {
        values.put(check(i), value);
        return this;
    }

    KernelArgs f32(int i, float value) {
        values.put(check(i), Float.floatToRawIntBits(value) & 0xffffffffL);
        return this;
    }

    /** The raw 8-byte slot {@code i} (tests). */
    long slot(int i) {
        ensureOpen();
        return values.get(check(i));
    }

    /** {@code kernelParams}: the array of pointers to the slots. */
    LongPointer params() {
        ensureOpen();
        return params;
    }

    /** The host address of slot {@code i} (tests). */
    long slotAddress(int i) {
        ensureOpen();
        return params.get(check(i));
    }

    private int check(int i) {
        ensureOpen();
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("kernel argument " + i + " of " + count + " (" + what() + ")");
        }
        return i;
    }

    @Override
    void release() {
        values.close();
        params.close();
    }
}
