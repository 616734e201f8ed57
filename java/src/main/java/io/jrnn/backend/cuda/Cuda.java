package io.jrnn.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Loader;

/**
 * CUDA detection. It never crashes: loading the CUDA runtime, counting devices, loading cuDNN and
 * reading its version, and creating a cuBLAS handle are each guarded; any {@link LinkageError},
 * exception or bad status means "no CUDA", with the reason kept for {@code jrnn env} and logged
 * once. The answer is computed once per JVM.
 *
 * <p>{@code -Djrnn.cuda=off} (or the environment variable {@code JRNN_CUDA=off}) makes detection
 * answer "not usable" without touching any native library.
 */
public final class Cuda {
    /** System property that turns CUDA off ({@code off}). */
    public static final String PROPERTY = "jrnn.cuda";
    /** The oldest cuDNN whose v8 RNN API ({@code cudnnRNNForward}, RNN data descriptors) jrnn uses: 8.0. */
    static final long MIN_CUDNN = 8000;

    private static final System.Logger LOG = System.getLogger("io.jrnn.backend.cuda");
    private static volatile CudaStatus status;

    private Cuda() {
    }

    /** What detection found (computed on first use). */
    public static CudaStatus status() {
        CudaStatus s = status;
        if (s == null) {
            synchronized (Cuda.class) {
                s = status;
                if (s == null) {
                    s = detect();
                    status = s;
                    LOG.log(s.usable() ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
                            "jrnn: CUDA " + (s.usable() ? "usable: " : "not usable: ") + s.reason());
                }
            }
        }
        return s;
    }

    /** True when a CUDA device with cuDNN and cuBLAS is usable. */
    public static boolean usable() {
        return status().usable();
    }

    private static boolean disabled() {
        String p = System.getProperty(PROPERTY, System.getenv().getOrDefault("JRNN_CUDA", ""));
        return p.trim().toLowerCase(Locale.ROOT).matches("off|false|0|no|disabled?");
    }

    private static CudaStatus detect() {
        if (disabled()) {
            return CudaStatus.unusable("turned off by -D" + PROPERTY + "=off or JRNN_CUDA=off");
        }
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) {
            return CudaStatus.unusable("the CUDA runtime (libcudart.so.13, with the driver's libcuda.so.1) could not be loaded: "
                    + oneLine(t));
        }
        int count;
        String name;
        String cc;
        long memory;
        int runtime;
        int driver;
        try {
            int[] n = new int[1];
            int st = cudart.cudaGetDeviceCount(n);
            if (st != cudart.cudaSuccess) {
                return CudaStatus.unusable("cudaGetDeviceCount failed: " + CudaCheck.cudaText(st)
                        + " (no NVIDIA driver or no device visible)");
            }
            count = n[0];
            if (count <= 0) {
                return CudaStatus.unusable("the CUDA runtime loaded but counts no device");
            }
            int[] v = new int[1];
            cudart.cudaRuntimeGetVersion(v);
            runtime = v[0];
            cudart.cudaDriverGetVersion(v);
            driver = v[0];
            try (cudaDeviceProp prop = new cudaDeviceProp()) {
                CudaCheck.cuda(cudart.cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
                name = prop.name().getString();
                cc = prop.major() + "." + prop.minor();
                memory = prop.totalGlobalMem();
            }
        } catch (Throwable t) {
            return CudaStatus.unusable("querying CUDA devices failed: " + oneLine(t));
        }
        long cudnnVersion;
        try {
            Loader.load(cudnn.class);
            cudnnVersion = cudnn.cudnnGetVersion();
        } catch (Throwable t) {
            return partial(count, name, cc, memory, runtime, driver, 0, 0,
                    "cuDNN 9 (libcudnn.so.9 and its sub-libraries) could not be loaded: " + oneLine(t));
        }
        if (cudnnVersion < MIN_CUDNN) {
            return partial(count, name, cc, memory, runtime, driver, cudnnVersion, 0,
                    "cuDNN " + CudaStatus.cudnnVersionText(cudnnVersion) + " is older than 8.0");
        }
        int cublasVersion;
        try {
            Loader.load(cublas.class);
            try (cublasContext handle = new cublasContext()) {
                CudaCheck.cublas(cublas.cublasCreate_v2(handle), "cublasCreate");
                int[] v = new int[1];
                cublas.cublasGetVersion_v2(handle, v);
                cublasVersion = v[0];
                cublas.cublasDestroy_v2(handle);
            }
        } catch (Throwable t) {
            return partial(count, name, cc, memory, runtime, driver, cudnnVersion, 0,
                    "cuBLAS (libcublas.so.13) could not be loaded or initialised: " + oneLine(t));
        }
        return new CudaStatus(true, "device 0 is " + name, count, name, cc, memory, runtime, driver, cudnnVersion,
                cublasVersion, loadedLibraries());
    }

    private static CudaStatus partial(int count, String name, String cc, long memory, int runtime, int driver,
            long cudnnVersion, int cublasVersion, String reason) {
        return new CudaStatus(false, reason, count, name, cc, memory, runtime, driver, cudnnVersion, cublasVersion,
                loadedLibraries());
    }

    /** The CUDA, cuDNN and cuBLAS libraries JavaCPP has loaded, with their paths. */
    static List<String> loadedLibraries() {
        List<String> out = new ArrayList<>();
        try {
            for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
                String k = e.getKey().toLowerCase(Locale.ROOT);
                if (k.contains("cud") || k.contains("cublas")) {
                    out.add(e.getKey() + " -> " + e.getValue());
                }
            }
        } catch (Throwable ignored) {
            // diagnostics only
        }
        out.sort(null);
        return out;
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        String s = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        return s.replace('\n', ' ');
    }
}
