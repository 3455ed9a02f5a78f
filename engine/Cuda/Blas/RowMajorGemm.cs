using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Blas;

/// <summary>
/// The arguments of one column-major cuBLAS (strided-batched) SGEMM call. <see cref="SwapsOperands"/>
/// says the call's first operand is the caller's second: see <see cref="RowMajorGemm.Plan"/>.
/// </summary>
public readonly record struct CublasGemmCall(
    CublasOperation TransA, CublasOperation TransB, int M, int N, int K,
    int Lda, long StrideA, int Ldb, long StrideB, int Ldc, long StrideC, int BatchCount, bool SwapsOperands);

/// <summary>
/// Runs the engine's row-major products on column-major cuBLAS without copying anything.
/// A row-major r x c matrix is, byte for byte, the column-major c x r matrix of its transpose. So
/// for row-major C = op(A)·op(B) (m x n), cuBLAS computes the column-major n x m matrix
/// Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap places, each keeps its own transpose flag, and
/// m and n swap. Leading dimensions are the row lengths of the stored row-major matrices.
/// </summary>
public static class RowMajorGemm
{
    /// <summary>
    /// The cuBLAS call for <see cref="Backends.IBackend.Matmul"/>'s arguments: C[i] = op(A[i])·op(B[i]),
    /// op(A) m x k (A stored k x m when <paramref name="transA"/>), op(B) k x n (B stored n x k when
    /// <paramref name="transB"/>), batch strides in elements (0 reuses one matrix).
    /// </summary>
    public static CublasGemmCall Plan(long aBatchStride, bool transA, long bBatchStride, bool transB, int batch, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm: sizes must be non-negative, got batch={batch} m={m} n={n} k={k}");
        // Row lengths of the stored row-major operands: A is m x k (k x m transposed), B is k x n (n x k).
        int aRowLength = transA ? m : k;
        int bRowLength = transB ? k : n;
        return new CublasGemmCall(
            TransA: transB ? CublasOperation.Transpose : CublasOperation.None,
            TransB: transA ? CublasOperation.Transpose : CublasOperation.None,
            M: n, N: m, K: k,
            // cuBLAS requires leading dimensions >= 1 even for empty matrices.
            Lda: Math.Max(bRowLength, 1), StrideA: bBatchStride,
            Ldb: Math.Max(aRowLength, 1), StrideB: aBatchStride,
            Ldc: Math.Max(n, 1), StrideC: (long)m * n,
            BatchCount: batch, SwapsOperands: true);
    }
}
