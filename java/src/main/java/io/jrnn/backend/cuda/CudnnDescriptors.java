package io.jrnn.backend.cuda;

import org.bytedeco.cuda.cudnn.cudnnRNNDataStruct;
import org.bytedeco.cuda.cudnn.cudnnRNNStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;

/**
 * cuDNN descriptors, each owned by one {@link CudaResource}: created by the constructor, destroyed by
 * {@code close()} (or by the cleaner, with a warning, when dropped unclosed).
 */
final class CudnnDescriptors {
    private CudnnDescriptors() {
    }

    /**
     * Checks the status of a descriptor's creation; on failure closes {@code owner} (its free action
     * skips the never-created handle) so that nothing stays registered, and throws.
     */
    private static void created(CudaResource owner, int status, String call) {
        try {
            CudaCheck.cudnn(status, call);
        } catch (RuntimeException | Error e) {
            owner.close();
            throw e;
        }
    }

    /** A {@code cudnnRNNDescriptor_t}. */
    static final class Rnn extends CudaResource {
        private final cudnnRNNStruct descriptor;

        Rnn(String what) {
            this(what, new cudnnRNNStruct());
        }

        /**
         * {@code d} is null until {@code cudnnCreateRNNDescriptor} fills it in; the free action, which holds
         * {@code d} (not this resource), sees the handle.
         */
        private Rnn(String what, cudnnRNNStruct d) {
            super("cuDNN RNN descriptor for " + what, () -> {
                if (!d.isNull()) {
                    cudnn.cudnnDestroyRNNDescriptor(d);
                    d.setNull();
                }
            });
            this.descriptor = d;
            created(this, cudnn.cudnnCreateRNNDescriptor(d), "cudnnCreateRNNDescriptor");
        }

        cudnnRNNStruct get() {
            ensureOpen();
            return descriptor;
        }
    }

    /** A {@code cudnnRNNDataDescriptor_t}. */
    static final class RnnData extends CudaResource {
        private final cudnnRNNDataStruct descriptor;

        RnnData(String what) {
            this(what, new cudnnRNNDataStruct());
        }

        /**
         * {@code d} is null until {@code cudnnCreateRNNDataDescriptor} fills it in; the free action, which holds
         * {@code d} (not this resource), sees the handle.
         */
        private RnnData(String what, cudnnRNNDataStruct d) {
            super("cuDNN RNN data descriptor for " + what, () -> {
                if (!d.isNull()) {
                    cudnn.cudnnDestroyRNNDataDescriptor(d);
                    d.setNull();
                }
            });
            this.descriptor = d;
            created(this, cudnn.cudnnCreateRNNDataDescriptor(d), "cudnnCreateRNNDataDescriptor");
        }

        cudnnRNNDataStruct get() {
            ensureOpen();
            return descriptor;
        }
    }

    /** A {@code cudnnTensorDescriptor_t}. */
    static final class Tensor extends CudaResource {
        private final cudnnTensorStruct descriptor;

        Tensor(String what) {
            this(what, new cudnnTensorStruct());
        }

        /**
         * {@code d} is null until {@code cudnnCreateTensorDescriptor} fills it in; the free action, which holds
         * {@code d} (not this resource), sees the handle.
         */
        private Tensor(String what, cudnnTensorStruct d) {
            super("cuDNN tensor descriptor for " + what, () -> {
                if (!d.isNull()) {
                    cudnn.cudnnDestroyTensorDescriptor(d);
                    d.setNull();
                }
            });
            this.descriptor = d;
            created(this, cudnn.cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
        }

        cudnnTensorStruct get() {
            ensureOpen();
            return descriptor;
        }

        /** Sets a fully packed 3-d tensor {@code dims} of {@code dataType}. */
        Tensor packed3d(int dataType, int d0, int d1, int d2) {
            int[] dims = {d0, d1, d2};
            int[] strides = {d1 * d2, d2, 1};
            CudaCheck.cudnn(cudnn.cudnnSetTensorNdDescriptor(get(), dataType, 3, dims, strides),
                    "cudnnSetTensorNdDescriptor([" + d0 + ", " + d1 + ", " + d2 + "])");
            return this;
        }
    }
}
