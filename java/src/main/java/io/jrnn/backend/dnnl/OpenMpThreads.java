package io.jrnn.backend.dnnl;

import java.io.File;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.dnnl.global.dnnl;

/**
 * The calling thread's OpenMP thread count in the OpenMP runtime oneDNN runs on (GNU libgomp in
 * the JavaCPP build), through jrnn's small JNI library {@code libjrnn_openmp.so}
 * ({@code native/openmp/}, built by Maven into the jar when cmake and a C compiler are present).
 *
 * <p>In libgomp the count set by {@code omp_set_num_threads} belongs to the calling thread: a Java
 * thread that sets 1 runs every oneDNN primitive it executes afterwards on itself alone, and other
 * threads keep theirs. {@link BatchSplit} uses that to run parts of a batch on separate Java threads,
 * one OpenMP thread each.
 *
 * <p>When the library is missing (built without a C compiler) or cannot find libgomp through
 * libdnnl, {@link #available()} is false and {@link #unavailableReason()} says why; nothing else
 * changes.
 */
final class OpenMpThreads {
    /** The library's file name inside the jar, under {@code io/jrnn/backend/dnnl/<platform>/}. */
    static final String LIBRARY = "libjrnn_openmp.so";

    private static final String UNAVAILABLE = load();

    private OpenMpThreads() {
    }

    private static String load() {
        try {
            Loader.load(dnnl.class); // the library finds libgomp through the loaded libdnnl
            String resource = Loader.getPlatform() + "/" + LIBRARY;
            if (OpenMpThreads.class.getResource(resource) == null) {
                return "io/jrnn/backend/dnnl/" + resource + " is not in the jar (built without cmake or a C compiler;"
                        + " see native/README.md)";
            }
            File file = Loader.cacheResource(OpenMpThreads.class, resource);
            System.load(file.getAbsolutePath());
            if (maxThreads() < 1) {
                return LIBRARY + " found no omp_set_num_threads through libdnnl.so.3";
            }
            return null;
        } catch (Exception | LinkageError e) {
            return LIBRARY + " did not load: " + e;
        }
    }

    /** Whether {@link #set} works in this process. */
    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why {@link #set} does not work here, or {@code null} when it does. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * Sets the calling thread's OpenMP thread count ({@code omp_set_num_threads}) for the parallel
     * regions it starts from now on, and returns the count it had ({@code omp_get_max_threads}).
     *
     * @throws IllegalStateException when {@link #available()} is false
     * @throws IllegalArgumentException when {@code threads < 1}
     */
    static int set(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("OpenMP thread count must be at least 1, got " + threads);
        }
        requireAvailable();
        return setNumThreads(threads);
    }

    /** The calling thread's {@code omp_get_max_threads()}. */
    static int get() {
        requireAvailable();
        return maxThreads();
    }

    private static void requireAvailable() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException("cannot set OpenMP thread counts: " + UNAVAILABLE);
        }
    }

    /** {@code omp_get_max_threads()} of this thread, or -1 when libdnnl or its OpenMP runtime is not loaded. */
    private static native int maxThreads();

    /** Sets this thread's count and returns the count it had, or -1 as {@link #maxThreads}. */
    private static native int setNumThreads(int threads);
}
