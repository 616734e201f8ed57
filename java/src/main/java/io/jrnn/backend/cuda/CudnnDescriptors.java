package io.jrnn.backend.cuda;

import org.bytedeco.cuda.cudnn.cudnnRNNDataStruct;
import org.bytedeco.cuda.cudnn.cudnnRNNStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;

/** cuDNN descriptors, each owned by one {@link CudaResource}: created by the constructor, destroyed by {@code close()}. */
final class CudnnDescriptors {
    private CudnnDescriptors() {
    }

    /** A {@code cudnnRNNDescriptor_t}. */
    static final class Rnn extends CudaResource {
        private final cudnnRNNStruct descriptor;

        Rnn(String what) {
            super("cuDNN RNN descriptor for " + what);
            cudnnRNNStruct d = new cudnnRNNStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateRNNDescriptor(d), "cudnnCreateRNNDescriptor");
            this.descriptor = d;
        }

        cudnnRNNStruct get() {
            ensureOpen();
            return descriptor;
        }

        @Override
        void release() {
            cudnn.cudnnDestroyRNNDescriptor(descriptor);
        }
    }

    /** A {@code cudnnRNNDataDescriptor_t}. */
    static final class RnnData extends CudaResource {
        private final cudnnRNNDataStruct descriptor;

        RnnData(String what) {
            super("cuDNN RNN data descriptor for " + what);
            cudnnRNNDataStruct d = new cudnnRNNDataStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateRNNDataDescriptor(d), "cudnnCreateRNNDataDescriptor");
            this.descriptor = d;
        }

        cudnnRNNDataStruct get() {
            ensureOpen();
            return descriptor;
        }

        @Override
        void release() {
            cudnn.cudnnDestroyRNNDataDescriptor(descriptor);
        }
    }

    /** A {@code cudnnTensorDescriptor_t}. */
    static final class Tensor extends CudaResource {
        private final cudnnTensorStruct descriptor;

        Tensor(String what) {
            super("cuDNN tensor descriptor for " + what);
            cudnnTensorStruct d = new cudnnTensorStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
            this.descriptor = d;
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

        @Override
        void release() {
            cudnn.cudnnDestroyTensorDescriptor(descriptor);
        }
    }
}
