using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Every element-wise, comparison and reduction kernel at every length 0..256, so that every
/// vector width's tail (and the scalar remainder after it) runs, on every available device. The
/// expected values are plain scalar loops written here with .NET's own math functions; the
/// kernels apply the same IEEE operations element by element, so results must be bitwise equal
/// (sums, whose lane-parallel order differs, are compared with a stated tolerance).
/// </summary>
public class ElementwiseKernelTests
{
    /// <summary>
    /// Lengths 0..256 on the CPU and, where a CUDA backend exists, on cuda:0 (where none exists,
    /// DeviceTests reports the CUDA case skipped with the reason, rather than 257 skips per test here).
    /// </summary>
    public static TheoryData<DeviceKind, int> Lengths()
    {
        var data = new TheoryData<DeviceKind, int>();
        var kinds = BackendRegistry.IsAvailable(Device.Cuda(0), out _) ? new[] { DeviceKind.Cpu, DeviceKind.Cuda } : [DeviceKind.Cpu];
        foreach (var kind in kinds)
            foreach (int n in Enumerable.Range(0, 257)) data.Add(kind, n);
        return data;
    }

    private static (Tensor A, Tensor B, double[] a, double[] b) Operands(Device device, int n)
    {
        var g = new Generator((ulong)n + 17);
        var a = Enumerable.Range(0, n).Select(_ => Math.Round(g.NextDouble() * 8 - 4, 3)).ToArray();
        // Some equal pairs so that comparisons and min/max see ties.
        var b = a.Select((v, i) => i % 5 == 0 ? v : Math.Round(g.NextDouble() * 8 - 4, 3)).ToArray();
        return (Tensor.FromArray(a, [n], device), Tensor.FromArray(b, [n], device), a, b);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void UnaryKernelsMatchScalarLoops(DeviceKind kind, int n)
    {
        var (x, _, a, _) = Operands(TestDevices.Of(kind), n);
        var positive = (x.Abs() + 0.5).ToArray<double>();
        Assert.Equal(a.Select(v => -v), x.Neg().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Exp(v)), x.Exp().ToArray<double>());
        Assert.Equal(positive.Select(v => Math.Log(v)), (x.Abs() + 0.5).Log().ToArray<double>());
        Assert.Equal(positive.Select(v => Math.Log2(v)), (x.Abs() + 0.5).Log2().ToArray<double>());
        Assert.Equal(positive.Select(v => Math.Sqrt(v)), (x.Abs() + 0.5).Sqrt().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Abs(v)), x.Abs().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Max(v, 0)), x.Relu().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Tanh(v)), x.Tanh().ToArray<double>());
        Assert.Equal(a.Select(v => (double)Math.Sign(v)), x.Sign().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Floor(v)), x.Floor().ToArray<double>());
        Assert.Equal(a.Select(v => Math.Clamp(v, -1, 2)), x.Clamp(-1, 2).ToArray<double>());
        // Sigmoid as the kernel writes it so that nothing overflows: e^-|x| is at most 1.
        Assert.Equal(a.Select(v => v >= 0 ? 1 / (1 + Math.Exp(-v)) : Math.Exp(v) / (1 + Math.Exp(v))), x.Sigmoid().ToArray<double>());
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BinaryAndScalarKernelsMatchScalarLoops(DeviceKind kind, int n)
    {
        var (x, y, a, b) = Operands(TestDevices.Of(kind), n);
        Assert.Equal(a.Zip(b, (p, q) => p + q), (x + y).ToArray<double>());
        Assert.Equal(a.Zip(b, (p, q) => p - q), (x - y).ToArray<double>());
        Assert.Equal(a.Zip(b, (p, q) => p * q), (x * y).ToArray<double>());
        Assert.Equal(a.Zip(b, (p, q) => p / q), (x / y).ToArray<double>());
        Assert.Equal(a.Zip(b, Math.Max), Tensor.Maximum(x, y).ToArray<double>());
        Assert.Equal(a.Zip(b, Math.Min), Tensor.Minimum(x, y).ToArray<double>());
        Assert.Equal(a.Select(v => v + 0.25), (x + 0.25).ToArray<double>());
        Assert.Equal(a.Select(v => 0.25 - v), (0.25 - x).ToArray<double>());
        Assert.Equal(a.Select(v => v * 1.5), (x * 1.5).ToArray<double>());
        Assert.Equal(a.Select(v => 3 / v), (3 / x).ToArray<double>());
        Assert.Equal(a.Select(v => v / 3), (x / 3).ToArray<double>());
        Assert.Equal(a.Select(v => Math.Pow(Math.Abs(v), 1.5)), x.Abs().Pow(1.5).ToArray<double>());
        // float32 and int64 take the same drivers with other vector widths.
        var xf = x.To(DType.Float32);
        Assert.Equal(a.Select(v => (float)v * 0.5f), (xf * 0.5).ToArray<float>());
        Assert.Equal(a.Zip(b, (p, q) => (float)p - (float)q), (xf - y.To(DType.Float32)).ToArray<float>());
        var xi = (x * 1000).To(DType.Int64);
        Assert.Equal(a.Select(v => (long)(v * 1000) * 3 + 1), (xi * 3 + 1).ToArray<long>());
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ComparisonAndWhereKernelsMatchScalarLoops(DeviceKind kind, int n)
    {
        var (x, y, a, b) = Operands(TestDevices.Of(kind), n);
        Assert.Equal(a.Zip(b, (p, q) => p == q), x.Eq(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p != q), x.Ne(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p < q), x.Lt(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p <= q), x.Le(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p > q), x.Gt(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p >= q), x.Ge(y).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p < q ? p : q), Tensor.Where(x.Lt(y), x, y).ToArray<double>());
        Assert.Equal(a.Zip(b, (p, q) => p > 0 && q > 0), x.Gt(0).And(y.Gt(0)).ToArray<bool>());
        Assert.Equal(a.Zip(b, (p, q) => p > 0 || q > 0), x.Gt(0).Or(y.Gt(0)).ToArray<bool>());
        Assert.Equal(a.Select(p => !(p > 0)), x.Gt(0).Not().ToArray<bool>());
        Assert.Equal(Enumerable.Range(0, n).Where(i => a[i] > 0).Select(i => (long)i), x.Gt(0).Nonzero().Reshape(-1).ToArray<long>());
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ChannelAffineKernelMatchesScalarLoop(DeviceKind kind, int n)
    {
        // Frozen batch norm over [2, 2, 1, n]: per channel x·scale + shift with scale = w / sqrt(v + eps) and
        // shift = b - m·scale, each step rounded in float64 as the loop below rounds it.
        var device = TestDevices.Of(kind);
        var (x, _, a, _) = Operands(device, 4 * n);
        double[] w = [1.5, -0.5], b = [0.25, 2], m = [0.1, -0.3], v = [0.9, 2.5];
        Tensor Channel(double[] values) => Tensor.FromArray(values, [2], device);
        var y = Tensor.FrozenBatchNorm2d(x.Reshape(2, 2, 1, n), Channel(w), Channel(b), Channel(m), Channel(v)).ToArray<double>();
        var expected = a.Select((value, i) =>
        {
            int c = i / n % 2;
            double scale = w[c] * (1 / Math.Sqrt(v[c] + 1e-5));
            return value * scale + (b[c] + -m[c] * scale);
        });
        Assert.Equal(expected, y);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReductionKernelsMatchScalarLoops(DeviceKind kind, int n)
    {
        var (x, _, a, _) = Operands(TestDevices.Of(kind), n);
        // Sums: the kernel adds in vector lanes, a reordering of n terms of magnitude <= 4 with
        // 3 decimals; in float64 the difference stays below n·4·2^-52 < 1e-12.
        Assert.Equal(a.Sum(), x.Sum().Item(), 1e-12);
        Assert.Equal(a.Sum(v => (double)(float)v), x.To(DType.Float32).Sum().Item(), 1e-4);
        if (n == 0) return;
        Assert.Equal(a.Max(), x.Max().Item());
        Assert.Equal(a.Min(), x.Min().Item());
        Assert.Equal(Array.IndexOf(a, a.Max()), (long)x.Argmax(0).Item());
        Assert.Equal(Array.IndexOf(a, a.Min()), (long)x.Argmin(0).Item());
        // Along a middle axis (inner > 1): rows of the [n, 3] matrix summed column by column.
        // (c·x summed against c·Σx: the same 1e-12 reordering bound, scaled by c.)
        var sums = Tensor.Stack([x, x * 2, x * 3], 1).Sum(0).ToArray<double>();
        for (int c = 0; c < 3; c++) Assert.Equal((c + 1) * a.Sum(), sums[c], 1e-11);
        var maxima = Tensor.Stack([x, -x], 1).Max(0).Values.ToArray<double>();
        Assert.Equal([a.Max(), -a.Min()], maxima);
    }
}
