using ScratchDetect.Engine;
using ScratchDetect.Engine.Cuda.Blas;
using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Tests;

public class RowMajorGemmTests
{
    /// <summary>
    /// The reference BLAS sgemm, written from its definition for column-major storage:
    /// C[i + j·ldc] = Σ_p opA(i, p)·opB(p, j), opA(i, p) = A[i + p·lda] (N) or A[p + i·lda] (T).
    /// Runs the planned call exactly as cuBLAS would receive it, on the caller's row-major buffers.
    /// </summary>
    private static float[] RunColumnMajor(CublasGemmCall call, float[] first, float[] second)
    {
        var c = new float[call.StrideC * call.BatchCount];
        for (int batch = 0; batch < call.BatchCount; batch++)
            for (int j = 0; j < call.N; j++)
                for (int i = 0; i < call.M; i++)
                {
                    double sum = 0;
                    for (int p = 0; p < call.K; p++)
                    {
                        float a = call.TransA == CublasOperation.None ? first[batch * call.StrideA + i + p * call.Lda] : first[batch * call.StrideA + p + i * call.Lda];
                        float b = call.TransB == CublasOperation.None ? second[batch * call.StrideB + p + j * call.Ldb] : second[batch * call.StrideB + j + p * call.Ldb];
                        sum += (double)a * b;
                    }
                    c[batch * call.StrideC + i + j * call.Ldc] = (float)sum;
                }
        return c;
    }

    [Theory]
    [InlineData(false, false, 1, 5, 7, 3, false)]
    [InlineData(true, false, 1, 5, 7, 3, false)]
    [InlineData(false, true, 1, 4, 1, 9, false)]
    [InlineData(true, true, 2, 3, 6, 5, false)]
    [InlineData(false, false, 3, 2, 5, 4, true)] // B shared by every batch item (stride 0), as a linear layer
    [InlineData(true, false, 2, 1, 1, 1, true)]
    public void The_swapped_column_major_call_computes_the_row_major_product(bool transA, bool transB, int batch, int m, int n, int k, bool shareB)
    {
        var generator = new Generator(7);
        int[] aShape = transA ? [batch, k, m] : [batch, m, k];
        int[] bShape = shareB ? (transB ? [n, k] : [k, n]) : (transB ? [batch, n, k] : [batch, k, n]);
        var a = Tensor.Uniform(aShape, -1, 1, generator);
        var b = Tensor.Uniform(bShape, -1, 1, generator);

        var opA = transA ? a.Transpose(1, 2) : a;
        var opB = transB ? b.Transpose(-1, -2) : b;
        var expected = Tensor.Matmul(opA, shareB ? opB.Unsqueeze(0).Expand(batch, k, n) : opB); // the CPU backend's GEMM

        var call = RowMajorGemm.Plan((long)m * k, transA, shareB ? 0 : (long)k * n, transB, batch, m, n, k);
        Assert.True(call.SwapsOperands);
        var c = RunColumnMajor(call, b.ToArray<float>(), a.ToArray<float>()); // swapped: cuBLAS's A is our B
        // Tolerance: float32 sums of at most 9 products of values in [-1, 1], accumulated in
        // double here and in the CPU kernel's own order there: a few float ulps.
        TensorAssert.Close(expected, Tensor.FromArray(c, batch, m, n), 1e-5, 1e-5, $"gemm transA={transA} transB={transB}");
    }

    [Fact]
    public void Empty_matrices_keep_leading_dimensions_valid_for_cublas()
    {
        var call = RowMajorGemm.Plan(0, false, 0, false, 1, 0, 0, 0);
        Assert.True(call.Lda >= 1 && call.Ldb >= 1 && call.Ldc >= 1);
    }
}
