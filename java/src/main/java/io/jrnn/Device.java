package io.jrnn;

import java.util.Objects;

/**
 * Where a model runs: the CPU (oneDNN or the pure-Java reference) or a CUDA device.
 *
 * <p>{@link #auto()} picks CUDA device 0 only when one is really usable (the CUDA runtime, a device,
 * cuDNN and cuBLAS all load and answer; see {@code io.jrnn.backend.cuda.Cuda}), else the CPU, and
 * says why in {@link #autoReason()}.
 */
public final class Device {
    /** The kind of processor. */
    public enum Kind { CPU, CUDA }

    private static final Device CPU = new Device(Kind.CPU, 0);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** The host CPU. */
    public static Device cpu() {
        return CPU;
    }

    /** CUDA device {@code index} (0-based). Using it needs the cuDNN backend. */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + index);
        }
        return new Device(Kind.CUDA, index);
    }

    /** The best usable device: a CUDA device when the cuDNN backend can use one, else the CPU. */
    public static Device auto() {
        return io.jrnn.backend.cuda.Cuda.usable() ? cuda(0) : CPU;
    }

    /** Why {@link #auto()} chose what it chose, for logs and {@code jrnn env}. */
    public static String autoReason() {
        io.jrnn.backend.cuda.CudaStatus s = io.jrnn.backend.cuda.Cuda.status();
        return s.usable() ? "CUDA chosen: " + s.reason() : "CPU chosen: CUDA not usable: " + s.reason();
    }

    public Kind kind() {
        return kind;
    }

    public int index() {
        return index;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, index);
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
