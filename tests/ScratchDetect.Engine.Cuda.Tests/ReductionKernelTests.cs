using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Tests;

[Collection(KernelCollection.Name)]
public class ReductionKernelTests(CpuAcceleratorFixture gpu)
{
    // (outer, size, inner): a whole-tensor sum longer than many groups, a reduced middle axis,
    // single-element axes, and sizes that leave partial group strides.
    public static TheoryData<int, int, int> Layouts() => new()
    {
        { 1, 1000, 1 },
        { 3, 37, 5 },
        { 7, 1, 3 },
        { 2, 17, 1 },
        { 1, 5, 9 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Sum_max_min_and_their_positions_match_the_cpu(int outer, int size, int inner)
    {
        var x = Tensor.Uniform([outer, size, inner], -3, 3, new Generator(11));
        // Plant ties: the first maximum must win whatever order the tree combines in.
        var data = x.ToArray<float>();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner && size >= 3; i++)
            {
                data[(o * size + 1) * inner + i] = 5f;
                data[(o * size + size - 1) * inner + i] = 5f;
            }
        x = Tensor.FromArray(data, outer, size, inner);
        using var input = gpu.Upload(x);

        var (sum, sumIndices) = gpu.Kernels.Reduce(ReduceOp.Sum, input.View, outer, size, inner);
        // Tolerance: the CPU sums float32 in double, the kernel in float32 by a tree; for n terms of
        // magnitude <= 5 the float error is below n·eps·max|partial| ~ 1000·6e-8·100 = 6e-3 at worst, far less in practice.
        TensorAssert.Close(x.Sum(1), CpuAcceleratorFixture.Download(sum, outer, inner), 1e-4, 1e-5, "sum");
        sum.Dispose();
        sumIndices.Dispose();

        foreach (var op in new[] { ReduceOp.Max, ReduceOp.Min, ReduceOp.ArgMax, ReduceOp.ArgMin })
        {
            var (values, indices) = gpu.Kernels.Reduce(op, input.View, outer, size, inner);
            var (expectedValues, expectedIndices) = op is ReduceOp.Max or ReduceOp.ArgMax ? x.Max(1) : x.Min(1);
            Assert.Equal(expectedValues.ToArray<float>(), CpuAcceleratorFixture.Download(values, outer, inner).ToArray<float>()); // a selection: exact
            Assert.Equal(expectedIndices.ToArray<long>(), CpuAcceleratorFixture.DownloadLongs(indices, (long)outer * inner));
            values.Dispose();
            indices.Dispose();
        }
    }

    [Fact]
    public void Nan_wins_a_max_and_the_first_nan_is_its_position()
    {
        var x = Tensor.FromArray(new float[] { 1, float.NaN, 7, float.NaN, 2, 9, 9, 0, -1, float.NaN, 9, 9 }, 2, 6);
        using var input = gpu.Upload(x);
        var (values, indices) = gpu.Kernels.Reduce(ReduceOp.ArgMax, input.View, 2, 6, 1);
        var (expectedValues, expectedIndices) = x.Max(1);
        TensorAssert.Close(expectedValues, CpuAcceleratorFixture.Download(values, 2), 0, 0, "max with NaN");
        Assert.Equal(expectedIndices.ToArray<long>(), CpuAcceleratorFixture.DownloadLongs(indices, 2));
        values.Dispose();
        indices.Dispose();
    }
}

[Collection(KernelCollection.Name)]
public class SoftmaxKernelTests(CpuAcceleratorFixture gpu)
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(1, true)]
    public void Softmax_and_log_softmax_match_the_cpu_along_any_axis(int axis, bool log)
    {
        int[] shape = [3, 37, 5];
        var x = Tensor.Uniform(shape, -30, 30, new Generator(13)); // wide range: the max subtraction matters
        var (outer, size, inner) = Shapes.AroundAxis(shape, axis);
        using var input = gpu.Upload(x);
        using var y = gpu.Kernels.Softmax(input.View, outer, size, inner, log);
        var expected = log ? Tensor.LogSoftmax(x, axis) : Tensor.Softmax(x, axis);
        // Tolerance: exp and the float32 sum order differ from the CPU's by a few ulps (1e-6 relative,
        // 1e-6 absolute for log-probabilities near 0 and probabilities near 0).
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(y, shape), 1e-6, 1e-5, $"{(log ? "log_softmax" : "softmax")} axis {axis}");
    }

    [Fact]
    public void A_long_axis_is_shared_across_the_group()
    {
        var x = Tensor.Uniform([2, 1000], -5, 5, new Generator(17));
        using var input = gpu.Upload(x);
        using var y = gpu.Kernels.Softmax(input.View, 2, 1000, 1, log: true);
        TensorAssert.Close(Tensor.LogSoftmax(x, 1), CpuAcceleratorFixture.Download(y, 2, 1000), 1e-5, 1e-5, "log_softmax over 1000 classes");
    }
}
