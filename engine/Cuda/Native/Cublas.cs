using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Cuda.Native;

/// <summary>cublasOperation_t: how an operand enters a GEMM.</summary>
public enum CublasOperation
{
    /// <summary>CUBLAS_OP_N: as stored.</summary>
    None = 0,
    /// <summary>CUBLAS_OP_T: transposed.</summary>
    Transpose = 1,
}

/// <summary>cublasMath_t values the backend sets.</summary>
public enum CublasMath
{
    /// <summary>CUBLAS_DEFAULT_MATH: full float32 (PyTorch's default, torch.backends.cuda.matmul.allow_tf32 = False).</summary>
    Default = 0,
    /// <summary>CUBLAS_PEDANTIC_MATH: no reduced-precision shortcuts anywhere.</summary>
    Pedantic = 2,
    /// <summary>CUBLAS_TF32_TENSOR_OP_MATH: float32 GEMMs may round their inputs to TF32 on tensor cores.</summary>
    Tf32TensorOp = 3,
}

/// <summary>
/// The cuBLAS entry points the backend uses (cublas_api.h, the _v2 API), and nothing else. Every
/// call returns a cublasStatus_t; pass it to <see cref="CudaStatus.CheckCublas"/> with the entry
/// point's name. Matrices are column-major (see <see cref="Blas.RowMajorGemm"/> for the operand
/// swap that runs row-major data); alpha and beta are host pointers (the default pointer mode).
/// </summary>
internal static unsafe partial class Cublas
{
    private const string Library = "cublas";

    static Cublas() => CudaLibraryResolver.InstallImportResolver();

    [LibraryImport(Library, EntryPoint = "cublasCreate_v2")]
    internal static partial int Create(out IntPtr handle);

    [LibraryImport(Library, EntryPoint = "cublasDestroy_v2")]
    internal static partial int Destroy(IntPtr handle);

    [LibraryImport(Library, EntryPoint = "cublasSetStream_v2")]
    internal static partial int SetStream(IntPtr handle, IntPtr stream);

    [LibraryImport(Library, EntryPoint = "cublasSetMathMode")]
    internal static partial int SetMathMode(IntPtr handle, CublasMath mode);

    [LibraryImport(Library, EntryPoint = "cublasSgemm_v2")]
    internal static partial int Sgemm(IntPtr handle, CublasOperation transA, CublasOperation transB, int m, int n, int k,
        float* alpha, IntPtr a, int lda, IntPtr b, int ldb, float* beta, IntPtr c, int ldc);

    [LibraryImport(Library, EntryPoint = "cublasSgemmStridedBatched")]
    internal static partial int SgemmStridedBatched(IntPtr handle, CublasOperation transA, CublasOperation transB, int m, int n, int k,
        float* alpha, IntPtr a, int lda, long strideA, IntPtr b, int ldb, long strideB, float* beta, IntPtr c, int ldc, long strideC, int batchCount);
}
