package io.jrnn.backend.cuda;

/** A device or pinned-host allocation failed: the device (or host) has not that much memory free. */
public final class CudaOutOfMemoryException extends CudaException {
    private final long requestedBytes;

    public CudaOutOfMemoryException(String function, int status, String statusText, long requestedBytes, String what) {
        super("CUDA", function + " of " + requestedBytes + " bytes for " + what, status, statusText);
        this.requestedBytes = requestedBytes;
    }

    public long requestedBytes() {
        return requestedBytes;
    }
}
