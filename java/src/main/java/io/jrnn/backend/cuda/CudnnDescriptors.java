package io.jrnn.backend.cuda;

import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
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

        /** Sets a packed float32 channels-last tensor with cuDNN dims {@code (n, c, h, w)}. */
        Tensor nhwc(int[] nchw) {
            CudaCheck.cudnn(cudnn.cudnnSetTensor4dDescriptor(get(), cudnn.CUDNN_TENSOR_NHWC, cudnn.CUDNN_DATA_FLOAT,
                    nchw[0], nchw[1], nchw[2], nchw[3]), "cudnnSetTensor4dDescriptor(NHWC, " + dims(nchw) + ")");
            return this;
        }

        @Override
        void release() {
            cudnn.cudnnDestroyTensorDescriptor(descriptor);
        }
    }

    /** A {@code cudnnFilterDescriptor_t}. */
    static final class Filter extends CudaResource {
        private final cudnnFilterStruct descriptor;

        Filter(String what) {
            super("cuDNN filter descriptor for " + what);
            cudnnFilterStruct d = new cudnnFilterStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateFilterDescriptor(d), "cudnnCreateFilterDescriptor");
            this.descriptor = d;
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

        @Override
        void release() {
            cudnn.cudnnDestroyFilterDescriptor(descriptor);
        }
    }

    /** A {@code cudnnConvolutionDescriptor_t}. */
    static final class Convolution extends CudaResource {
        private final cudnnConvolutionStruct descriptor;

        Convolution(String what) {
            super("cuDNN convolution descriptor for " + what);
            cudnnConvolutionStruct d = new cudnnConvolutionStruct();
            CudaCheck.cudnn(cudnn.cudnnCreateConvolutionDescriptor(d), "cudnnCreateConvolutionDescriptor");
            this.descriptor = d;
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

        @Override
        void release() {
            cudnn.cudnnDestroyConvolutionDescriptor(descriptor);
        }
    }

    static String dims(int[] d) {
        return java.util.Arrays.toString(d);
    }
}
