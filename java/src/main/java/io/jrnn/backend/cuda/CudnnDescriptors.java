package io.jrnn.backend.cuda;

import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
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

        /** Sets a packed float32 channels-last tensor with cuDNN dims {@code (n, c, h, w)}. */
        Tensor nhwc(int[] nchw) {
            CudaCheck.cudnn(cudnn.cudnnSetTensor4dDescriptor(get(), cudnn.CUDNN_TENSOR_NHWC, cudnn.CUDNN_DATA_FLOAT,
                    nchw[0], nchw[1], nchw[2], nchw[3]), "cudnnSetTensor4dDescriptor(NHWC, " + dims(nchw) + ")");
            return this;
        }
    }

    /** A {@code cudnnFilterDescriptor_t}. */
    static final class Filter extends CudaResource {
        private final cudnnFilterStruct descriptor;

        Filter(String what) {
            this(what, new cudnnFilterStruct());
        }

        /** {@code d} is filled in by {@code cudnnCreateFilterDescriptor}; the free action holds {@code d}, not this. */
        private Filter(String what, cudnnFilterStruct d) {
            super("cuDNN filter descriptor for " + what, () -> {
                if (!d.isNull()) {
                    cudnn.cudnnDestroyFilterDescriptor(d);
                    d.setNull();
                }
            });
            this.descriptor = d;
            created(this, cudnn.cudnnCreateFilterDescriptor(d), "cudnnCreateFilterDescriptor");
        }

        cudnnFilterStruct get() {
            ensureOpen();
            return descriptor;
        }

        /** Sets a float32 {@code CUDNN_TENSOR_NHWC} ({@code KRSC}) filter of {@code k} outputs, {@code c} inputs. */
        Filter krsc(int k, int c, int rows, int cols) {
            CudaCheck.cudnn(cudnn.cudnnSetFilter4dDescriptor(get(), cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_TENSOR_NHWC, k, c,
                    rows, cols), "cudnnSetFilter4dDescriptor(NHWC, " + dims(new int[] {k, c, rows, cols}) + ")");
            return this;
        }
    }

    /** A {@code cudnnConvolutionDescriptor_t}. */
    static final class Convolution extends CudaResource {
        private final cudnnConvolutionStruct descriptor;

        Convolution(String what) {
            this(what, new cudnnConvolutionStruct());
        }

        /** {@code d} is filled in by {@code cudnnCreateConvolutionDescriptor}; the free action holds {@code d}, not this. */
        private Convolution(String what, cudnnConvolutionStruct d) {
            super("cuDNN convolution descriptor for " + what, () -> {
                if (!d.isNull()) {
                    cudnn.cudnnDestroyConvolutionDescriptor(d);
                    d.setNull();
                }
            });
            this.descriptor = d;
            created(this, cudnn.cudnnCreateConvolutionDescriptor(d), "cudnnCreateConvolutionDescriptor");
        }

        cudnnConvolutionStruct get() {
            ensureOpen();
            return descriptor;
        }

        /**
         * Sets a float32 2-d cross-correlation (Keras's convolution) with symmetric padding, and
         * FMA-only math (no TF32 tensor cores, so float32 matches the CPU).
         */
        Convolution crossCorrelation(int padRows, int padCols, int strideRows, int strideCols, int dilationRows,
                int dilationCols) {
            CudaCheck.cudnn(cudnn.cudnnSetConvolution2dDescriptor(get(), padRows, padCols, strideRows, strideCols,
                    dilationRows, dilationCols, cudnn.CUDNN_CROSS_CORRELATION, cudnn.CUDNN_DATA_FLOAT),
                    "cudnnSetConvolution2dDescriptor(pad " + padRows + "x" + padCols + ", stride " + strideRows + "x"
                            + strideCols + ", dilation " + dilationRows + "x" + dilationCols + ")");
            CudaCheck.cudnn(cudnn.cudnnSetConvolutionMathType(get(), cudnn.CUDNN_FMA_MATH),
                    "cudnnSetConvolutionMathType(CUDNN_FMA_MATH)");
            return this;
        }
    }

    static String dims(int[] d) {
        return java.util.Arrays.toString(d);
    }
}
