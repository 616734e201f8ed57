package io.jrnn.backend.cuda;

import io.jrnn.NativeException;

/** A CUDA runtime, driver, cuDNN or cuBLAS call failed; the message names the library, function and status. */
public class CudaException extends NativeException {
    public CudaException(String library, String function, int status, String statusText) {
        super(library, function, status, statusText, null);
    }
}
