using ScratchDetect.Testing;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The one-pass multi-axis reduction (IBackend.ReduceAxes, reached through Sum(axes), Amax, Amin,
/// Max() and Min()) against a plain reference written here that visits every element by its
/// multi-index, and the gradient routing of the value and index reductions against PyTorch 1.13.
/// </summary>
public class ReduceAxesTests
{
    // Sums: the reference adds in float64 element by element; the kernel adds in float64 too (float32
    // sums widen), in another order: float64 results agree to ~1e-15 relative of Σ|x|, float32 ones are
    // the float64 sum rounded once (3e-8 relative) plus the rounding of the order: 1e-12 and 1e-7.
    // Max, min and int64 sums select or add exactly: compared for equality.
    private const double SumTol64 = 1e-12, SumTol32 = 1e-7;

    /// <summary>Every subset of the axes of [3, 4, 5, 2] and of [2, 1, 7, 3] (a length-1 axis to drop), for sum, max and min in every dtype.</summary>
    [Theory, OnCpu, OnCuda]
    public void EverySubsetOfAxesMatchesTheReference(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(21);
        foreach (var shape in new[] { new[] { 3, 4, 5, 2 }, new[] { 2, 1, 7, 3 } })
        {
            var values = Tensor.Normal(shape, 0, 3, g, DType.Float64).ToArray<double>().Select(v => Math.Round(v)).ToArray();
            for (int subset = 0; subset < 1 << shape.Length; subset++)
            {
                var axes = Enumerable.Range(0, shape.Length).Where(d => (subset >> d & 1) == 1).ToArray();
                CheckAllOps(device, values, shape, axes, $"{Shapes.Format(shape)} axes [{string.Join(", ", axes)}]");
            }
        }
    }

    /// <summary>
    /// Lengths 0..256 (every SIMD tail) along a reduced contiguous run ([3, n] over axis 1, and [n] over
    /// everything) and along a kept contiguous row that a reduced axis adds into ([3, n] over axis 0, and
    /// [2, n, 3] over axes 0 and 2).
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void EveryLengthOfTheContiguousRunMatchesTheReference(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(22);
        for (int n = 0; n <= 256; n++)
        {
            foreach (var (shape, axes) in new[] { (new[] { 3, n }, new[] { 1 }), (new[] { n }, new[] { 0 }), (new[] { 3, n }, new[] { 0 }), (new[] { 2, n, 3 }, new[] { 0, 2 }) })
            {
                var values = Tensor.Normal(shape, 0, 3, g, DType.Float64).ToArray<double>().Select(v => Math.Round(v)).ToArray();
                CheckAllOps(device, values, shape, axes, $"{Shapes.Format(shape)} axes [{string.Join(", ", axes)}]");
            }
        }
    }

    /// <summary>A NaN anywhere in a reduced group makes its max and min NaN (PyTorch's amax/amin), in the vector body and in the tail.</summary>
    [Theory, OnCpu, OnCuda]
    public void MaxAndMinPropagateNaN(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 40 })
        {
            foreach (int at in new[] { 0, n / 2, n - 1 })
            {
                var values = Enumerable.Range(0, 2 * n).Select(i => (float)(i % 5)).ToArray();
                values[n + at] = float.NaN; // in row 1
                var x = Tensor.FromArray(values, [2, n], device);
                var max = x.Amax(1).ToArray<float>();
                var min = x.Amin(1).ToArray<float>();
                Assert.Equal(n == 1 ? 0 : 4, max[0]);
                Assert.True(float.IsNaN(max[1]), $"n {n}, NaN at {at}: max {max[1]}");
                Assert.True(float.IsNaN(min[1]), $"n {n}, NaN at {at}: min {min[1]}");
                // Reduced along the other axis the NaN stays in its own column.
                var columns = x.Amax(0).ToArray<float>();
                Assert.True(float.IsNaN(columns[at]));
                Assert.Equal(n - 1, columns.Count(v => !float.IsNaN(v)));
            }
        }
    }

    /// <summary>Extremes of the types: -inf / +inf everywhere, and int64's end values (the reducers' start values must not leak).</summary>
    [Theory, OnCpu, OnCuda]
    public void MaxAndMinOfExtremeValues(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var negative = Tensor.Full([3, 20], double.NegativeInfinity, DType.Float32, device);
        Assert.All(negative.Amax(1).ToArray<float>(), v => Assert.Equal(float.NegativeInfinity, v));
        var positive = Tensor.Full([3, 20], double.PositiveInfinity, DType.Float64, device);
        Assert.All(positive.Amin([0, 1]).ToArray<double>(), v => Assert.Equal(double.PositiveInfinity, v));
        var longs = Tensor.FromArray(new[] { long.MinValue, long.MinValue + 1, long.MaxValue, long.MaxValue - 1, 0 }, [5], device);
        Assert.Equal(long.MaxValue, longs.Max().ToArray<long>()[0]);
        Assert.Equal(long.MinValue, longs.Min().ToArray<long>()[0]);
    }

    /// <summary>Empty tensors: a sum over an empty axis is 0, an empty kept axis gives an empty result, and max/min of nothing is an error naming the op.</summary>
    [Theory, OnCpu, OnCuda]
    public void EmptyReductions(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var x = Tensor.Zeros([2, 0, 3], DType.Float32, device);
        Assert.Equal(new float[6], x.Sum(1).ToArray<float>());
        Assert.Equal([2, 1, 3], x.Sum(1, keepDim: true).Shape);
        Assert.Empty(x.Sum([0, 2]).ToArray<float>());
        Assert.Equal([0], x.Amax([0, 2]).Shape);
        var error = Assert.Throws<ArgumentException>(() => x.Amax(1));
        Assert.Contains("amax", error.Message);
        Assert.Contains("[2, 0, 3]", error.Message);
        Assert.Contains("max", Assert.Throws<ArgumentException>(() => x.Max()).Message);
    }

    /// <summary>
    /// Where several elements tie for the extreme, torch.amax and torch.max() share the gradient evenly,
    /// torch.max(dim) gives it all to the index it returns (the first). PyTorch 1.13, by hand:
    /// x = [1, 3, 3, 2]: x.max().backward() and x.amax(0).backward() give [0, 0.5, 0.5, 0];
    /// x.max(0)[0].backward() gives [0, 1, 0, 0] with index 1;
    /// [[1, 3], [3, 1]].amax((0, 1)).backward() gives [[0, 0.5], [0.5, 0]].
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void TiesShareTheGradientAsPyTorchDoes(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        Tensor Leaf(float[] values, params int[] shape) => Tensor.FromArray(values, shape, device).RequireGrad();

        var x = Leaf([1, 3, 3, 2], 4);
        x.Max().Backward();
        Assert.Equal([0f, 0.5f, 0.5f, 0f], x.Grad!.ToArray<float>());

        x = Leaf([1, 3, 3, 2], 4);
        x.Amax(0).Backward();
        Assert.Equal([0f, 0.5f, 0.5f, 0f], x.Grad!.ToArray<float>());

        x = Leaf([1, 3, 3, 2], 4);
        var (values, indices) = x.Max(0);
        values.Backward();
        Assert.Equal([0f, 1f, 0f, 0f], x.Grad!.ToArray<float>());
        Assert.Equal(1L, indices.ToArray<long>()[0]);

        var square = Leaf([1, 3, 3, 1], 2, 2);
        square.Amax([0, 1]).Backward();
        Assert.Equal([0f, 0.5f, 0.5f, 0f], square.Grad!.ToArray<float>());

        // min the same way: [2, -1, 5, -1].min() shares between the two -1s.
        x = Leaf([2, -1, 5, -1], 4);
        x.Min().Backward();
        Assert.Equal([0f, 0.5f, 0f, 0.5f], x.Grad!.ToArray<float>());
    }

    /// <summary>The gradient of a multi-axis sum is the output gradient repeated over the reduced axes.</summary>
    [Theory, OnCpu, OnCuda]
    public void MultiAxisSumGradientIsTheRepeatedOutputGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var x = Tensor.Zeros([2, 3, 2, 2], DType.Float64, device).RequireGrad();
        x.Sum([0, 2, 3]).Backward(Tensor.FromArray(new[] { 1.0, 2, 3 }, [3], device));
        var grad = x.Grad!.ToArray<double>();
        for (int i = 0; i < grad.Length; i++) Assert.Equal(i / 4 % 3 + 1, grad[i]);
    }

    private static void CheckAllOps(Device device, double[] values, int[] shape, int[] axes, string what)
    {
        var kept = Enumerable.Range(0, shape.Length).Where(d => !axes.Contains(d)).Select(d => shape[d]).ToArray();
        var (sum, max, min) = Reference(values, shape, axes);
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int64 })
        {
            var x = Tensor.FromArray(values, shape, device).To(dtype);
            var s = x.Sum(axes);
            Assert.Equal(kept, s.Shape);
            var actualSum = s.To(DType.Float64).ToArray<double>();
            if (dtype == DType.Int64) Assert.Equal(sum, actualSum);
            else
            {
                double tol = dtype == DType.Float64 ? SumTol64 : SumTol32;
                TensorAssert.Close(sum, actualSum, tol, tol, $"{what} {dtype.Name()} sum");
            }
            if (axes.Any(d => shape[d] == 0))
            {
                Assert.Throws<ArgumentException>(() => x.Amax(axes));
                continue;
            }
            // Integer-valued inputs: max and min are exact in every dtype.
            Assert.Equal(max, x.Amax(axes).To(DType.Float64).ToArray<double>());
            Assert.Equal(min, x.Amin(axes).To(DType.Float64).ToArray<double>());
        }
    }

    /// <summary>Sum, max and min of each output element, found by walking every input element's multi-index.</summary>
    private static (double[] Sum, double[] Max, double[] Min) Reference(double[] x, int[] shape, int[] axes)
    {
        var kept = Enumerable.Range(0, shape.Length).Where(d => !axes.Contains(d)).ToArray();
        long outputs = kept.Aggregate(1L, (p, d) => p * shape[d]);
        var sum = new double[outputs];
        var max = Enumerable.Repeat(double.NegativeInfinity, (int)outputs).ToArray();
        var min = Enumerable.Repeat(double.PositiveInfinity, (int)outputs).ToArray();
        var index = new int[shape.Length];
        for (long flat = 0; flat < x.Length; flat++)
        {
            long rest = flat;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = (int)(rest % shape[d]);
                rest /= shape[d];
            }
            long output = 0;
            foreach (var d in kept) output = output * shape[d] + index[d];
            sum[output] += x[flat];
            max[output] = Math.Max(max[output], x[flat]);
            min[output] = Math.Min(min[output], x[flat]);
        }
        return (sum, max, min);
    }
}
