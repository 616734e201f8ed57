package io.jrnn.backend.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer at an exact address with position 0. JavaCPP adds a pointer's position scaled
 * by the <em>native parameter's</em> element type (bytes for {@code void*}, 4 for {@code float*}),
 * so offsets into device buffers are computed here as byte addresses instead of positions.
 * These pointers own nothing.
 */
final class DeviceAddress extends Pointer {
    private DeviceAddress(long address) {
        this.address = address;
    }

    /** A {@code void*} at {@code address} (may be 0 for null). */
    static Pointer at(long address) {
        return new DeviceAddress(address);
    }

    /** A {@code float*} at {@code address}. */
    static FloatPointer floatsAt(long address) {
        return new FloatPointer(new DeviceAddress(address));
    }

    /** The address {@code p} stands for, its position included ({@code p}'s own element size). */
    static long of(Pointer p) {
        return p.address() + p.position() * p.sizeof();
    }

    /** The address of a device buffer. */
    static long of(DeviceBuffer buffer) {
        return buffer.pointer().address();
    }
}
