using ILGPU.Runtime;
using ScratchDetect.Engine;

namespace ScratchDetect.Engine.Cuda.Tests;

// Layout and indexing kernels against the CPU backend: pure data movement is compared exactly;
// the atomic adjoints add repeats in any order (1e-6).
[Collection(KernelCollection.Name)]
public class LayoutKernelTests(CpuAcceleratorFixture gpu)
{
    private static Tensor Data(params int[] shape) => Tensor.Uniform(shape, -1, 1, new Generator(59));

    [Theory]
    [InlineData(new[] { 2, 3, 5 }, new[] { 2, 0, 1 })]
    [InlineData(new[] { 4, 1, 3, 2 }, new[] { 0, 2, 3, 1 })]
    [InlineData(new[] { 7 }, new[] { 0 })]
    public void Permute_matches_the_cpu(int[] shape, int[] perm)
    {
        var x = Data(shape);
        using var input = gpu.Upload(x);
        using var y = gpu.Kernels.Permute(input.View, shape, perm);
        var expected = x.Permute(perm);
        Assert.Equal(expected.ToArray<float>(), CpuAcceleratorFixture.Download(y, [.. expected.Shape]).ToArray<float>());
    }

    [Fact]
    public void Slice_and_concat_match_narrow_and_cat()
    {
        var a = Data(3, 4, 5);
        var b = Data(3, 1, 5) + 2;
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        using var slice = gpu.Kernels.Slice(da.View, 3, 4, 5, 1, 2);
        Assert.Equal(a.Narrow(1, 1, 2).ToArray<float>(), CpuAcceleratorFixture.Download(slice, 3, 2, 5).ToArray<float>());
        using var cat = gpu.Kernels.Concat([da.View, db.View], 3, [4, 1], 5);
        Assert.Equal(Tensor.Cat([a, b], 1).ToArray<float>(), CpuAcceleratorFixture.Download(cat, 3, 5, 5).ToArray<float>());
    }

    [Fact]
    public void Index_select_and_its_adjoint_match_the_cpu_with_repeated_indices()
    {
        var x = Data(2, 6, 3).RequireGrad();
        var index = Tensor.FromArray(new long[] { 5, 0, 5, 2, 5 }, 5);
        var gradOutput = Data(2, 5, 3) * 3;
        var expected = x.IndexSelect(1, index);
        (expected * gradOutput).Sum().Backward();
        using var dx = gpu.Upload(x.Detach());
        using var di = gpu.Upload(index.ToArray<long>());
        using var dg = gpu.Upload(gradOutput);
        using var y = gpu.Kernels.IndexSelect(dx.View, 2, 6, 3, di.View, 5);
        using var grad = gpu.Kernels.IndexAdd(dg.View, 2, 6, 3, di.View, 5);
        Assert.Equal(expected.ToArray<float>(), CpuAcceleratorFixture.Download(y, 2, 5, 3).ToArray<float>());
        TensorAssert.Close(x.Grad!, CpuAcceleratorFixture.Download(grad, 2, 6, 3), 1e-6, 1e-6, "index_add");
    }

    [Fact]
    public void An_out_of_range_index_is_an_error_naming_the_op()
    {
        using var dx = gpu.Upload(Data(4));
        using var di = gpu.Upload(new long[] { 1, 4 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => gpu.Kernels.IndexSelect(dx.View, 1, 4, 1, di.View, 2).Dispose());
        Assert.Contains("index_select: an index is out of range for an axis of size 4", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Gather_and_scatter_add_match_the_cpu(int dim)
    {
        int[] xShape = [3, 4, 5];
        int[] indexShape = [2, 3, 4];
        var x = Data(xShape).RequireGrad();
        var index = Tensor.RandInt(indexShape, 0, xShape[dim], new Generator(61));
        var gradOutput = Data(indexShape) * 2;
        var expected = x.Gather(dim, index);
        (expected * gradOutput).Sum().Backward();
        using var dx = gpu.Upload(x.Detach());
        using var di = gpu.Upload(index.ToArray<long>());
        using var dg = gpu.Upload(gradOutput);
        using var y = gpu.Kernels.Gather(dx.View, xShape, dim, di.View, indexShape);
        using var grad = gpu.Kernels.ScatterAdd(dg.View, indexShape, dim, di.View, xShape);
        Assert.Equal(expected.ToArray<float>(), CpuAcceleratorFixture.Download(y, indexShape).ToArray<float>());
        TensorAssert.Close(x.Grad!, CpuAcceleratorFixture.Download(grad, xShape), 1e-6, 1e-6, $"scatter_add dim {dim}");
    }

    [Fact]
    public void Where_broadcasts_all_three_like_the_cpu()
    {
        var condition = Data(3, 1, 4).Gt(0);
        var a = Data(2, 1);
        var b = Data(1, 2, 4) + 5;
        var expected = Tensor.Where(condition, a, b);
        using var dc = gpu.Upload(condition.ToArray<bool>().Select(v => v ? (byte)1 : (byte)0).ToArray());
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        using var y = gpu.Kernels.Where(dc.View, [3, 1, 4], da.View, [2, 1], db.View, [1, 2, 4], [3, 2, 4]);
        Assert.Equal(expected.ToArray<float>(), CpuAcceleratorFixture.Download(y, 3, 2, 4).ToArray<float>());
    }

    [Fact]
    public void Ceil_pooling_padding_adds_negative_infinity_rows_and_columns()
    {
        var x = Data(2, 3, 4);
        using var dx = gpu.Upload(x);
        using var y = gpu.Kernels.PadForCeilPooling(dx.View, 2, 3, 4, 1, 2);
        var padded = CpuAcceleratorFixture.Download(y, 2, 4, 6);
        Assert.Equal(x.ToArray<float>(), padded.Narrow(1, 0, 3).Narrow(2, 0, 4).ToArray<float>());
        Assert.All(padded.Narrow(1, 3, 1).ToArray<float>(), v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(padded.Narrow(2, 4, 2).ToArray<float>(), v => Assert.Equal(float.NegativeInfinity, v));
    }

    [Theory]
    [InlineData(5, 7, 10, 14)]
    [InlineData(5, 7, 13, 3)]
    [InlineData(8, 6, 8, 11)]
    public void Interpolate_backward_matches_autograd_on_the_cpu(int inH, int inW, int outH, int outW)
    {
        foreach (var mode in new[] { InterpolateMode.Nearest, InterpolateMode.Bilinear })
        {
            var x = Data(1, 2, inH, inW).RequireGrad();
            var gradOutput = Data(1, 2, outH, outW);
            (Tensor.Interpolate(x, new Size2d(outH, outW), mode: mode) * gradOutput).Sum().Backward();
            using var dg = gpu.Upload(gradOutput);
            using var grad = gpu.Kernels.InterpolateBackward(dg.View, 2, inH, inW, outH, outW, (float)inH / outH, (float)inW / outW, mode);
            // Atomic adds of a few weighted terms per input pixel, in any order: 1e-6.
            TensorAssert.Close(x.Grad!, CpuAcceleratorFixture.Download(grad, 1, 2, inH, inW), 1e-6, 1e-6, $"{mode} backward {inH}x{inW} -> {outH}x{outW}");
        }
    }
}
