using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Blas;

/// <summary>
/// A cuBLAS handle bound to one stream, running the engine's row-major batched GEMMs through
/// <see cref="RowMajorGemm.Plan"/>. TF32 is off by default, as PyTorch's
/// torch.backends.cuda.matmul.allow_tf32 = False: GEMMs then agree with the CPU to float32 rounding.
/// </summary>
public sealed unsafe class CublasGemm : IDisposable
{
    private IntPtr handle;

    /// <summary>Creates the handle on <paramref name="stream"/> (a CUstream/cudaStream_t, e.g. ILGPU's CudaStream.StreamPtr).</summary>
    public CublasGemm(IntPtr stream, bool allowTf32 = false)
    {
        CudaStatus.CheckCublas(Cublas.Create(out handle), "cublasCreate_v2");
        CudaStatus.CheckCublas(Cublas.SetStream(handle, stream), "cublasSetStream_v2");
        CudaStatus.CheckCublas(Cublas.SetMathMode(handle, allowTf32 ? CublasMath.Tf32TensorOp : CublasMath.Default), "cublasSetMathMode");
    }

    /// <summary>C[i] = op(A[i])·op(B[i]) on device pointers, with <see cref="Backends.IBackend.Matmul"/>'s arguments; C is written (beta = 0).</summary>
    public void Matmul(IntPtr a, long aBatchStride, bool transA, IntPtr b, long bBatchStride, bool transB, IntPtr c, int batch, int m, int n, int k)
    {
        var call = RowMajorGemm.Plan(aBatchStride, transA, bBatchStride, transB, batch, m, n, k);
        if (call.M == 0 || call.N == 0 || call.BatchCount == 0) return;
        float alpha = 1, beta = 0;
        // The call's first operand is our B and its second our A (see RowMajorGemm).
        if (call.BatchCount == 1)
            CudaStatus.CheckCublas(Cublas.Sgemm(handle, call.TransA, call.TransB, call.M, call.N, call.K, &alpha, b, call.Lda, a, call.Ldb, &beta, c, call.Ldc), "cublasSgemm_v2");
        else
            CudaStatus.CheckCublas(Cublas.SgemmStridedBatched(handle, call.TransA, call.TransB, call.M, call.N, call.K, &alpha,
                b, call.Lda, call.StrideA, a, call.Ldb, call.StrideB, &beta, c, call.Ldc, call.StrideC, call.BatchCount), "cublasSgemmStridedBatched");
    }

    /// <summary>Destroys the handle.</summary>
    public void Dispose()
    {
        if (handle == IntPtr.Zero) return;
        CudaStatus.CheckCublas(Cublas.Destroy(handle), "cublasDestroy_v2");
        handle = IntPtr.Zero;
    }
}
