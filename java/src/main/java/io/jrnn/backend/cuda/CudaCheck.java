package io.jrnn.backend.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;

/** Status checks for the CUDA runtime, the driver API, cuDNN and cuBLAS: a failure is a {@link CudaException}. */
final class CudaCheck {
    private CudaCheck() {
    }

    static void cuda(int status, String function) {
        if (status != cudart.cudaSuccess) {
            cudart.cudaGetLastError(); // clear the sticky-free error so the next call starts clean
            throw new CudaException("CUDA", function, status, cudaText(status));
        }
    }

    static String cudaText(int status) {
        BytePointer text = cudart.cudaGetErrorString(status);
        return text == null ? "unknown" : text.getString();
    }

    static void driver(int status, String function) {
        if (status != cudart.CUDA_SUCCESS) {
            String msg = "CUresult " + status;
            try (org.bytedeco.javacpp.PointerPointer<BytePointer> out = new org.bytedeco.javacpp.PointerPointer<>(1)) {
                if (cudart.cuGetErrorString(status, out) == cudart.CUDA_SUCCESS && out.get(0) != null) {
                    msg = new BytePointer(out.get(0)).getString();
                }
            }
            throw new CudaException("CUDA driver", function, status, msg);
        }
    }

    static void cudnn(int status, String function) {
        if (status != cudnn.CUDNN_STATUS_SUCCESS) {
            BytePointer text = cudnn.cudnnGetErrorString(status);
            throw new CudaException("cuDNN", function, status, text == null ? "unknown" : text.getString());
        }
    }

    static void cublas(int status, String function) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException("cuBLAS", function, status, cublasText(status));
        }
    }

    private static String cublasText(int status) {
        return switch (status) {
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus " + status;
        };
    }
}
