using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Layout, indexing and GEMM kernels against plain loops written here, over sizes that exercise
/// every vector tail and edge tile, on every device. The references are independent three-line
/// loops, not the code under test. (The element-wise, comparison and reduction kernels are in
/// ElementwiseKernelTests.)
/// </summary>
public class KernelTests
{
    [Theory, OnCpu, OnCuda]
    public void NonzeroMatchesAScalarLoopAtEveryLength(DeviceKind kind)
    {
        // The positions of the true elements, for every length 0..256 (SIMD tails of the compare feeding it).
        var device = TestDevices.Of(kind);
        for (int n = 0; n <= 256; n++)
        {
            var g = new Generator((ulong)n);
            var values = Enumerable.Range(0, n).Select(_ => g.NextDouble() - 0.5).ToArray();
            var positions = Tensor.FromArray(values, [n], device).Gt(0).Nonzero();
            Assert.Equal(device, positions.Device);
            Assert.Equal(Enumerable.Range(0, n).Where(i => values[i] > 0).Select(i => (long)i), positions.Reshape(-1).ToArray<long>());
        }
    }

    public static TheoryData<int, int, int, bool, bool> GemmShapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        // Sizes straddle the micro-tiles (6 rows on AVX2, 12 on AVX-512; 16 and 32 columns), the 96-row
        // tasks and the 256-deep blocks; 1601 rows cross the 1536-row groups in which A is packed.
        // Up to 96 rows, an untransposed B is read in place but for its last partial panel (64 x 100,
        // and 96 x 4200, which also crosses the 4096-column blocks of B); a C of at most 96 x 256 with
        // k > 256 runs the k loop inside blocks of register tiles, one block per core when it is large enough: cut by
        // rows (40 x 70 x 700; 64 x 147 x 1100, 6 row tiles by 5 column tiles on AVX-512) or by columns (20 x 250 x 600),
        // and one block when small (7 x 17 x 257, 13 x 33 x 300).
        // One row by many columns and many rows by one column (1 x 300 x 270, 300 x 1 x 270) pack one partial panel of one operand.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 300, 270), (300, 1, 270), (5, 15, 3), (6, 16, 256), (7, 17, 257), (12, 32, 256), (13, 33, 300), (40, 70, 700), (64, 147, 1100), (20, 250, 600), (64, 100, 9), (96, 4200, 40), (97, 31, 513), (203, 70, 20), (1601, 37, 270) })
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    data.Add(m, n, k, ta, tb);
        return data;
    }

    [Theory, OnCpu(nameof(GemmShapes)), OnCuda(nameof(GemmShapes))]
    public void GemmMatchesNaiveProduct(int m, int n, int k, bool transA, bool transB, DeviceKind kind)
    {
        var g = new Generator(42);
        var a = Tensor.Uniform([m * k], -1, 1, g).ToArray<float>();
        var b = Tensor.Uniform([k * n], -1, 1, g).ToArray<float>();
        var backend = BackendRegistry.For(TestDevices.Of(kind));
        var c = (float[])backend.ToArray(backend.Matmul(backend.FromArray(a), 0, transA, backend.FromArray(b), 0, transB, 1, m, n, k));
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    expected[i * n + j] += (double)a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
        // float32 accumulation of k products of magnitude <= 1: error bounded by ~k·eps·k^0.5 worst case; 1e-5·k is ample and still catches any indexing bug (O(1) errors).
        TensorAssert.Close(expected, c.Select(v => (double)v).ToArray(), 1e-5 * k, 0, $"gemm {m}x{n}x{k} tA={transA} tB={transB}");
    }

    [Fact]
    public void CpuGemmRejectsArraysTooShortForTheirShape()
    {
        // The packed GEMM reads and writes through raw pointers, so an array too short must fail before
        // any access: C (4 x 6) += A (4 x 5) · B (5 x 6) needs 20, 30 and 24 elements past the offsets.
        // (Arrays, not storages: a pooled storage's array may be longer than the storage.)
        float[] a = new float[20], b = new float[30], c = new float[24];
        Assert.Throws<ArgumentException>(() => CpuBackend.GemmAccumulate(new float[19], 0, false, b, 0, false, c, 0, 4, 6, 5));
        Assert.Throws<ArgumentException>(() => CpuBackend.GemmAccumulate(a, 0, false, new float[29], 0, false, c, 0, 4, 6, 5));
        Assert.Throws<ArgumentException>(() => CpuBackend.GemmAccumulate(a, 1, true, b, 0, false, c, 0, 4, 6, 5));
        Assert.Throws<ArgumentException>(() => CpuBackend.GemmAccumulate(a, 0, false, b, 0, true, new float[23], 0, 4, 6, 5));
        CpuBackend.GemmAccumulate(a, 0, false, b, 0, false, c, 0, 4, 6, 5); // exactly long enough: no exception
    }

    [Theory, OnCpu, OnCuda]
    public void PermuteMatchesIndexArithmetic(DeviceKind kind)
    {
        var x = Tensor.Arange(2 * 3 * 4, DType.Int64, TestDevices.Of(kind)).Reshape(2, 3, 4);
        var y = x.Permute(2, 0, 1).ToArray<long>(); // y[k, i, j] = x[i, j, k] = i*12 + j*4 + k
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal(i * 12 + j * 4 + k, y[k * 6 + i * 3 + j]);
    }

    [Theory, OnCpu, OnCuda]
    public void SortIsStableAndPutsNaNLast(DeviceKind kind)
    {
        var x = Tensor.FromArray(new[] { 2f, float.NaN, 1f, 2f, 0f }, [5], TestDevices.Of(kind));
        var (values, indices) = x.Sort();
        Assert.Equal(new long[] { 4, 2, 0, 3, 1 }, indices.ToArray<long>());
        Assert.True(float.IsNaN(values.ToArray<float>()[4]));
    }

    [Theory, OnCpu, OnCuda]
    public void IndexOutOfRangeNamesTheOp(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Ones([3], device: device).IndexSelect(0, Tensor.FromArray(new long[] { 3 }, [1], device)));
        Assert.Contains("index_select", e.Message);
    }
}
