/*
 * The calling thread's OpenMP thread count in the OpenMP runtime oneDNN runs on, for Java
 * (io.jrnn.backend.dnnl.OpenMpThreads). oneDNN's JavaCPP build links GNU libgomp, where a thread
 * count set with omp_set_num_threads belongs to the calling thread: a Java thread that sets 1 runs
 * every later oneDNN primitive it executes on that one thread, without touching other threads.
 *
 * The functions are looked up through libdnnl.so.3 (already loaded by JavaCPP; RTLD_NOLOAD never
 * loads anything): dlsym on its handle searches libdnnl and its own dependencies, so this finds the
 * libgomp oneDNN is bound to even when another library loaded a second copy of libgomp.
 */
#include <jni.h>
#include <dlfcn.h>
#include <pthread.h>

typedef void (*set_num_threads_fn)(int);
typedef int (*get_max_threads_fn)(void);

static set_num_threads_fn set_num_threads;
static get_max_threads_fn get_max_threads;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void lookup(void) {
    void *dnnl = dlopen("libdnnl.so.3", RTLD_NOW | RTLD_NOLOAD);
    if (dnnl == NULL) {
        return;
    }
    set_num_threads_fn set = NULL;
    get_max_threads_fn get = NULL;
    *(void **) &set = dlsym(dnnl, "omp_set_num_threads");
    *(void **) &get = dlsym(dnnl, "omp_get_max_threads");
    if (set != NULL && get != NULL) {
        set_num_threads = set;
        get_max_threads = get;
    }
    /* The handle stays open: libdnnl is never unloaded while the JVM runs. */
}

/* omp_get_max_threads() of the calling thread, or -1 when libdnnl or its OpenMP runtime is not loaded. */
JNIEXPORT jint JNICALL Java_io_jrnn_backend_dnnl_OpenMpThreads_maxThreads(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    pthread_once(&lookup_once, lookup);
    return get_max_threads != NULL ? get_max_threads() : -1;
}

/* Sets the calling thread's count to n (>= 1) and returns the count it had, or -1 as above. */
JNIEXPORT jint JNICALL Java_io_jrnn_backend_dnnl_OpenMpThreads_setNumThreads(JNIEnv *env, jclass cls, jint n) {
    (void) env;
    (void) cls;
    pthread_once(&lookup_once, lookup);
    if (set_num_threads == NULL) {
        return -1;
    }
    int previous = get_max_threads();
    set_num_threads(n);
    return previous;
}
