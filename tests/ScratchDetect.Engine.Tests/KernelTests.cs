using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// CPU kernels against plain loops written here, over sizes that exercise every vector tail and
/// edge tile. The references are independent three-line loops, not the code under test.
/// </summary>
public class KernelTests
{
    public static TheoryData<int> Lengths() => new(Enumerable.Range(0, 257));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BroadcastBinaryMatchesScalarLoopForEveryTailLength(int n)
    {
        var g = new Generator((ulong)n);
        var a = Tensor.Uniform([n], -1, 1, g);
        var b = Tensor.Uniform([n], -1, 1, g);
        float s = 0.75f;
        var av = a.ToArray<float>();
        var bv = b.ToArray<float>();
        Assert.Equal(av.Zip(bv, (x, y) => x * y).ToArray(), (a * b).ToArray<float>());
        Assert.Equal(av.Select(x => x - s).ToArray(), (a - s).ToArray<float>());
        Assert.Equal(av.Zip(bv, Math.Max).ToArray(), Tensor.Maximum(a, b).ToArray<float>());
        // Sum: lane-wise partial sums reorder the additions, so compare with a double sum at float rounding.
        Assert.Equal(av.Sum(x => (double)x), a.Sum().Item(), 1e-4);
    }

    public static TheoryData<int, int, int, bool, bool> GemmShapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        // Sizes straddle the 6-row and 16-column micro-tiles and the 256-deep blocks.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 15, 3), (6, 16, 256), (7, 17, 257), (13, 33, 300), (64, 100, 9), (97, 31, 513) })
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    data.Add(m, n, k, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void GemmMatchesNaiveProduct(int m, int n, int k, bool transA, bool transB)
    {
        var g = new Generator(42);
        var a = Tensor.Uniform([m * k], -1, 1, g).ToArray<float>();
        var b = Tensor.Uniform([k * n], -1, 1, g).ToArray<float>();
        var backend = CpuBackend.Instance;
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
    public void PermuteMatchesIndexArithmetic()
    {
        var x = Tensor.Arange(2 * 3 * 4, DType.Int64).Reshape(2, 3, 4);
        var y = x.Permute(2, 0, 1).ToArray<long>(); // y[k, i, j] = x[i, j, k] = i*12 + j*4 + k
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal(i * 12 + j * 4 + k, y[k * 6 + i * 3 + j]);
    }

    [Fact]
    public void SortIsStableAndPutsNaNLast()
    {
        var x = Tensor.FromArray(new[] { 2f, float.NaN, 1f, 2f, 0f }, 5);
        var (values, indices) = x.Sort();
        Assert.Equal(new long[] { 4, 2, 0, 3, 1 }, indices.ToArray<long>());
        Assert.True(float.IsNaN(values.ToArray<float>()[4]));
    }

    [Fact]
    public void IndexOutOfRangeNamesTheOp()
    {
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Ones([3]).IndexSelect(0, Tensor.FromArray(new long[] { 3 }, 1)));
        Assert.Contains("index_select", e.Message);
    }
}
