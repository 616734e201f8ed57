package io.jrnn;

/**
 * Native (off-heap) memory could not be allocated: the request passed JavaCPP's limits
 * ({@code -Dorg.bytedeco.javacpp.maxBytes}, {@code maxPhysicalBytes}) or the system refused it.
 * The message names what was being allocated and how many bytes. Nothing was allocated; the
 * caller may free memory (close tensors and models) and retry.
 */
public class NativeMemoryException extends RuntimeException {
    public NativeMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
