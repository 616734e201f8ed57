package io.jrnn.backend.cuda;

/**
 * cuDNN's fused forward cannot run a layer after all (a data type or algorithm it answers
 * {@code CUDNN_STATUS_NOT_SUPPORTED} for, or a weight layout jrnn cannot pack): the message is the
 * reason the layer runs on the composed path instead.
 */
final class CudnnRefusedException extends RuntimeException {
    CudnnRefusedException(String reason, Throwable cause) {
        super(reason, cause);
    }

    /** Whether a cuDNN status is one of the {@code CUDNN_STATUS_NOT_SUPPORTED*} codes (3000–3999). */
    static boolean notSupported(int status) {
        return status >= 3000 && status < 4000;
    }
}
