package io.jrnn;

import io.jrnn.io.Npy;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A dense float32 tensor in off-heap host memory, row-major (C order).
 *
 * <p>A tensor owns its memory: close it when done (closing twice is harmless; any use after
 * close throws {@link IllegalStateException}). Memory of a tensor that is never closed is
 * released when it is garbage-collected, with a warning ({@link NativeResources}).
 *
 * <p>Thread safety: concurrent reads ({@link #get}, {@link #toArray}, use as a layer's input in
 * several threads at once) are safe; writes ({@link #set}, {@link #view} puts) and {@link #close}
 * must not race with other uses of the same tensor.
 *
 * <pre>{@code
 * try (Tensor x = Tensor.of(values, 4, 25, 16);
 *      Tensor y = model.forward(x)) {
 *     float[] out = y.toArray();
 * }
 * }</pre>
 */
public final class Tensor implements AutoCloseable {
    private final int[] shape;
    private final long size;
    private volatile FloatPointer data;
    private final NativeResources.Registration registration;

    private Tensor(int[] shape, boolean zeroed) {
        this.shape = shape.clone();
        this.size = checkedSize(shape);
        // JavaCPP rejects zero-length allocations; keep one spare float so empty tensors work.
        FloatPointer memory = allocate(shape, Math.max(1, size));
        this.data = memory;
        // The cleaner holds the pointer, never the tensor.
        this.registration = NativeResources.register(this, memory::close);
        if (zeroed) {
            memory.zero();
        }
    }

    private Tensor(int[] shape, FloatPointer memory) {
        this.shape = shape.clone();
        this.size = checkedSize(shape);
        if (memory == null || memory.isNull()) {
            throw new IllegalArgumentException("Tensor " + Arrays.toString(shape) + ": no memory to adopt");
        }
        if (memory.position() != 0 || memory.capacity() < Math.max(1, size)) {
            throw new IllegalArgumentException("Tensor " + Arrays.toString(shape) + " needs " + size
                    + " floats at position 0, the memory has capacity " + memory.capacity() + " at position "
                    + memory.position());
        }
        this.data = memory;
        // The cleaner holds the adopted pointer (its deallocator frees the memory), never the tensor.
        this.registration = NativeResources.register(this, memory::close);
    }

    /**
     * A tensor that takes ownership of {@code memory} (for backends, e.g. page-locked host memory):
     * its contents are left as they are, and closing the tensor closes the pointer, whose JavaCPP
     * deallocator releases the memory. {@code memory} must be at position 0 with a capacity of at
     * least the shape's element count, and must not be used or closed by the caller afterwards.
     */
    public static Tensor adopt(FloatPointer memory, int... shape) {
        return new Tensor(shape, memory);
    }

    /**
     * Allocates off-heap memory; a refusal (JavaCPP's {@code maxBytes}/{@code maxPhysicalBytes}
     * limits, or malloc failing) becomes {@link NativeMemoryException} naming the shape and the
     * bytes, never an {@link OutOfMemoryError} or a crash.
     */
    private static FloatPointer allocate(int[] shape, long floats) {
        try {
            FloatPointer p = new FloatPointer(floats);
            if (p.isNull()) {
                throw new OutOfMemoryError("malloc returned NULL");
            }
            return p;
        } catch (OutOfMemoryError e) {
            throw new NativeMemoryException("Cannot allocate a Tensor of shape " + Arrays.toString(shape) + ": "
                    + floats * Float.BYTES + " bytes of native memory (in use: " + Pointer.totalBytes() + " bytes, limit "
                    + Pointer.maxBytes() + "; -Dorg.bytedeco.javacpp.maxBytes raises it): " + e.getMessage(), e);
        }
    }

    private static long checkedSize(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Tensor shape must not be negative, got " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Tensor of shape " + Arrays.toString(shape) + " has " + n
                    + " elements; at most " + Integer.MAX_VALUE + " are supported");
        }
        return n;
    }

    /** Whether any element is NaN or ±infinity (one pass over the data). */
    public boolean hasNonFinite() {
        java.nio.FloatBuffer b = pointer().asBuffer();
        int n = (int) Math.min(b.capacity(), size);
        int bad = 0;
        for (int i = 0; i < n; i++) {
            int exponent = (Float.floatToRawIntBits(b.get(i)) >>> 23) & 0xff;
            bad |= (exponent + 1) >>> 8; // 1 only for exponent 255: NaN or an infinity
        }
        return bad != 0;
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return new Tensor(shape, true);
    }

    /**
     * A tensor whose memory is allocated but not cleared: its contents are undefined until written.
     * For producers that overwrite every element (a backend's outputs, copies): it skips the
     * zero-fill that {@link #zeros} pays, which for multi-megabyte outputs is a measurable part of
     * a forward call. Reading an element before it is written returns an arbitrary value.
     */
    public static Tensor uninitialized(int... shape) {
        return new Tensor(shape, false);
    }

    /** A tensor holding a copy of {@code values} (row-major), which must have exactly the shape's element count. */
    public static Tensor of(float[] values, int... shape) {
        Tensor t = new Tensor(shape, false);
        if (values.length != t.size) {
            t.close();
            throw new IllegalArgumentException("Tensor of shape " + Arrays.toString(shape) + " needs " + t.size
                    + " values, got " + values.length);
        }
        t.data.put(values, 0, values.length);
        return t;
    }

    /** A tensor holding a copy of the remaining floats of {@code values} (its position is not moved). */
    public static Tensor of(FloatBuffer values, int... shape) {
        Tensor t = new Tensor(shape, false);
        if (values.remaining() != t.size) {
            t.close();
            throw new IllegalArgumentException("Tensor of shape " + Arrays.toString(shape) + " needs " + t.size
                    + " values, the buffer has " + values.remaining());
        }
        t.data.asBuffer().put(values.duplicate());
        return t;
    }

    /** Reads a float32 (or float64/integer, converted) {@code .npy} file. */
    public static Tensor readNpy(Path path) {
        return Npy.read(path);
    }

    /** Writes this tensor as a float32 {@code .npy} file. */
    public void writeNpy(Path path) {
        Npy.write(path, this);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    /** Number of elements. */
    public long size() {
        return size;
    }

    /** A copy of the contents, row-major. */
    public float[] toArray() {
        float[] out = new float[(int) size];
        pointer().get(out, 0, out.length);
        return out;
    }

    /** Copies the contents into {@code dst} from its current position (the position advances). */
    public void copyTo(FloatBuffer dst) {
        dst.put(view());
    }

    /**
     * A buffer viewing this tensor's memory: reads and writes go straight to the tensor. Valid only
     * until the tensor is closed.
     */
    public FloatBuffer view() {
        FloatBuffer b = pointer().asBuffer();
        b.limit((int) size);
        return b;
    }

    /** The element at a full index. */
    public float get(int... index) {
        return pointer().get(offset(index));
    }

    /** Sets the element at a full index. */
    public void set(float value, int... index) {
        pointer().put(offset(index), value);
    }

    private long offset(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("Index of rank " + index.length + " for a tensor of shape "
                    + Arrays.toString(shape));
        }
        long off = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("Index " + Arrays.toString(index) + " outside shape "
                        + Arrays.toString(shape));
            }
            off = off * shape[i] + index[i];
        }
        return off;
    }

    /** A copy with another shape of the same element count. */
    public Tensor reshape(int... newShape) {
        Tensor t = new Tensor(newShape, false);
        if (t.size != size) {
            t.close();
            throw new IllegalArgumentException("Cannot reshape " + Arrays.toString(shape) + " (" + size
                    + " elements) to " + Arrays.toString(newShape));
        }
        Pointer.memcpy(t.data, pointer(), size * Float.BYTES);
        return t;
    }

    /** A copy. */
    public Tensor copy() {
        return reshape(shape);
    }

    /**
     * The native memory, for backends. Valid only until the tensor is closed; do not deallocate it.
     */
    public FloatPointer pointer() {
        FloatPointer d = data;
        if (d == null) {
            throw new IllegalStateException("Tensor " + Arrays.toString(shape) + " is closed");
        }
        return d;
    }

    public boolean isClosed() {
        return data == null;
    }

    /** Releases the memory. Closing twice is harmless. */
    @Override
    public void close() {
        data = null;
        registration.close();
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (data == null ? " (closed)" : "");
    }
}
