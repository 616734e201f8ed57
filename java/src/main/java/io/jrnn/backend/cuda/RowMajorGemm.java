package io.jrnn.backend.cuda;

/**
 * A row-major product {@code C[rows, cols] = A[rows, inner] · B[inner, cols]} with leading
 * dimensions (row strides, in elements) {@code lda}, {@code ldb}, {@code ldc}, and the column-major
 * cuBLAS call that computes it: a row-major matrix is its transpose in column-major order, so
 * {@code C = A·B} is {@code Cᵀ = Bᵀ·Aᵀ}: {@code gemm(N, N, m = cols, n = rows, k = inner, B, ldb, A, lda, C, ldc)}.
 * A leading dimension larger than the width selects a column block of a wider matrix (e.g. the
 * {@code z, r} columns of GRU's {@code [H, 3H]} recurrent kernel).
 */
record RowMajorGemm(int rows, int cols, int inner, int lda, int ldb, int ldc) {

    RowMajorGemm {
        if (rows < 1 || cols < 1 || inner < 1) {
            throw new IllegalArgumentException("GEMM [" + rows + ", " + inner + "] x [" + inner + ", " + cols
                    + "]: sizes must be >= 1");
        }
        if (lda < inner || ldb < cols || ldc < cols) {
            throw new IllegalArgumentException("GEMM [" + rows + ", " + inner + "] x [" + inner + ", " + cols
                    + "]: leading dimensions lda=" + lda + " (>= " + inner + "), ldb=" + ldb + " (>= " + cols
                    + "), ldc=" + ldc + " (>= " + cols + ") are too small");
        }
    }

    /** Dense operands: {@code lda = inner}, {@code ldb = ldc = cols}. */
    static RowMajorGemm dense(int rows, int cols, int inner) {
        return new RowMajorGemm(rows, cols, inner, inner, cols, cols);
    }

    /** cuBLAS {@code m}: rows of the column-major result {@code Cᵀ}. */
    int cublasM() {
        return cols;
    }

    /** cuBLAS {@code n}: columns of {@code Cᵀ}. */
    int cublasN() {
        return rows;
    }

    /** cuBLAS {@code k}. */
    int cublasK() {
        return inner;
    }

    /** The element offset of {@code (row, col)} in {@code C}. */
    long offsetC(int row, int col) {
        return (long) row * ldc + col;
    }

    /** The number of elements a buffer for {@code A} must hold. */
    long extentA() {
        return (long) (rows - 1) * lda + inner;
    }

    /** The number of elements a buffer for {@code B} must hold (from the block's first element). */
    long extentB() {
        return (long) (inner - 1) * ldb + cols;
    }

    /** The number of elements a buffer for {@code C} must hold (from the block's first element). */
    long extentC() {
        return (long) (rows - 1) * ldc + cols;
    }
}
