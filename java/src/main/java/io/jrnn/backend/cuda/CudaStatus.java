package io.jrnn.backend.cuda;

import java.util.List;

/**
 * What CUDA detection found: whether a CUDA device with cuDNN and cuBLAS is usable, and why not.
 *
 * @param usable         a device, the CUDA runtime, cuDNN and cuBLAS all loaded and answered
 * @param reason         one line: why it is not usable, or what was found
 * @param deviceCount    CUDA devices counted (0 when the runtime did not load)
 * @param deviceName     device 0's name, or empty
 * @param computeCapability device 0's compute capability, e.g. {@code "9.0"}, or empty
 * @param totalMemoryBytes device 0's memory, or 0
 * @param runtimeVersion CUDA runtime version as CUDA encodes it ({@code 13000} = 13.0), or 0
 * @param driverVersion  highest CUDA version the driver supports, same encoding, or 0
 * @param cudnnVersion   {@code cudnnGetVersion()} ({@code 91400} = 9.14.0), or 0
 * @param cublasVersion  {@code cublasGetVersion()}, or 0
 * @param libraries      the native libraries JavaCPP loaded for CUDA, cuDNN and cuBLAS, with their paths
 */
public record CudaStatus(
        boolean usable,
        String reason,
        int deviceCount,
        String deviceName,
        String computeCapability,
        long totalMemoryBytes,
        int runtimeVersion,
        int driverVersion,
        long cudnnVersion,
        int cublasVersion,
        List<String> libraries) {

    public CudaStatus {
        libraries = List.copyOf(libraries);
    }

    /** A status that says CUDA was detected but the backend could not be created ({@code reason}). */
    public static CudaStatus unusableForAuto(String reason) {
        return unusable(reason);
    }

    static CudaStatus unusable(String reason) {
        return new CudaStatus(false, reason, 0, "", "", 0, 0, 0, 0, 0, List.of());
    }

    /** A CUDA version number ({@code 13000}) as text ({@code "13.0"}). */
    public static String cudaVersionText(int v) {
        return v <= 0 ? "-" : (v / 1000) + "." + (v % 1000) / 10;
    }

    /** A cuDNN version number ({@code 91400}) as text ({@code "9.14.0"}). */
    public static String cudnnVersionText(long v) {
        return v <= 0 ? "-" : (v / 10000) + "." + (v % 10000) / 100 + "." + (v % 100);
    }

    /** Several lines for {@code jrnn env}. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append("CUDA usable: ").append(usable ? "yes" : "no").append(" (").append(reason).append(")\n");
        if (deviceCount > 0) {
            s.append("CUDA device 0: ").append(deviceName).append(", compute capability ").append(computeCapability)
                    .append(", ").append(totalMemoryBytes >> 20).append(" MiB (").append(deviceCount)
                    .append(deviceCount == 1 ? " device)\n" : " devices)\n");
        }
        if (runtimeVersion > 0) {
            s.append("CUDA runtime ").append(cudaVersionText(runtimeVersion)).append(", driver supports ")
                    .append(cudaVersionText(driverVersion)).append(", cuDNN ").append(cudnnVersionText(cudnnVersion))
                    .append(", cuBLAS ").append(cublasVersion <= 0 ? "-" : Integer.toString(cublasVersion)).append('\n');
        }
        for (String lib : libraries) {
            s.append("  loaded ").append(lib).append('\n');
        }
        return s.toString();
    }
}
