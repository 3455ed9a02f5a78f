using ILGPU.Runtime;
using ScratchDetect.Engine;

namespace ScratchDetect.Engine.Cuda.Tests;

[Collection(KernelCollection.Name)]
public class LossKernelTests(CpuAcceleratorFixture gpu)
{
    // Tolerance for the losses: float32 log/exp and sum order against the CPU's (which sums in
    // double): a few ulps of each term, 1e-5 relative on sums of up to 40 terms.
    private const double Rtol = 1e-5, Atol = 1e-6;

    [Theory]
    [InlineData(Reduction.None, false)]
    [InlineData(Reduction.Sum, false)]
    [InlineData(Reduction.Mean, false)]
    [InlineData(Reduction.Mean, true)]
    [InlineData(Reduction.Sum, true)]
    public void Cross_entropy_matches_the_cpu_with_ignored_rows_and_class_weights(Reduction reduction, bool weighted)
    {
        var generator = new Generator(21);
        const int rows = 13, classes = 21;
        var logits = Tensor.Uniform([rows, classes], -8, 8, generator);
        var target = Tensor.FromArray(new long[] { 0, 3, -100, 20, 7, 7, -100, 1, 0, 15, 2, 20, 9 }, rows);
        var weight = weighted ? Tensor.Uniform([classes], 0.1, 2, generator) : null;
        using var dl = gpu.Upload(logits);
        using var dt = gpu.Upload(target.ToArray<long>());
        using var dw = weight is null ? null : gpu.Upload(weight);
        using var loss = gpu.Kernels.CrossEntropy(dl.View, dt.View, dw?.View ?? default, rows, classes, -100, reduction);
        var expected = Tensor.CrossEntropy(logits, target, weight, -100, reduction);
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(loss, [.. expected.Shape]), Atol, Rtol, $"cross_entropy {reduction} weighted={weighted}");
    }

    [Fact]
    public void Cross_entropy_mean_of_only_ignored_rows_is_nan_as_in_pytorch()
    {
        var logits = Tensor.Uniform([2, 3], -1, 1, new Generator(1));
        using var dl = gpu.Upload(logits);
        using var dt = gpu.Upload(new long[] { -100, -100 });
        using var loss = gpu.Kernels.CrossEntropy(dl.View, dt.View, default, 2, 3, -100, Reduction.Mean);
        Assert.True(float.IsNaN(CpuAcceleratorFixture.Download(loss).ToArray<float>()[0]));
        Assert.True(float.IsNaN(Tensor.CrossEntropy(logits, Tensor.FromArray(new long[] { -100, -100 }, 2)).ToArray<float>()[0]));
    }

    [Theory]
    [InlineData(1.0 / 9, Reduction.Sum)]
    [InlineData(1.0, Reduction.Mean)]
    [InlineData(0.0, Reduction.None)]
    public void Smooth_l1_matches_the_cpu(double beta, Reduction reduction)
    {
        var generator = new Generator(23);
        var input = Tensor.Uniform([9, 4], -1, 1, generator);
        var target = Tensor.Uniform([9, 4], -1, 1, generator);
        using var di = gpu.Upload(input);
        using var dt = gpu.Upload(target);
        using var loss = gpu.Kernels.SmoothL1(di.View, dt.View, (float)beta, reduction);
        var expected = Tensor.SmoothL1(input, target, beta, reduction);
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(loss, [.. expected.Shape]), Atol, Rtol, $"smooth_l1 beta={beta} {reduction}");
    }

    [Theory]
    [InlineData(false, Reduction.Mean)]
    [InlineData(true, Reduction.Sum)]
    [InlineData(true, Reduction.None)]
    public void Bce_with_logits_matches_the_cpu_with_weights_and_pos_weight(bool weights, Reduction reduction)
    {
        var generator = new Generator(29);
        var logits = Tensor.Uniform([5, 7], -40, 40, generator); // large |x|: the overflow-safe form matters
        var targets = Tensor.Uniform([5, 7], 0, 1, generator);
        var weight = weights ? Tensor.Uniform([5, 7], 0, 2, generator) : null;
        var posWeight = weights ? Tensor.Uniform([7], 0.5, 3, generator) : null;
        using var dl = gpu.Upload(logits);
        using var dt = gpu.Upload(targets);
        using var dw = weight is null ? null : gpu.Upload(weight);
        using var dp = posWeight is null ? null : gpu.Upload(posWeight.Unsqueeze(0).Expand(5, 7)); // the kernel takes full-size factors
        using var loss = gpu.Kernels.BceWithLogits(dl.View, dt.View, dw?.View ?? default, dp?.View ?? default, reduction);
        var expected = Tensor.BinaryCrossEntropyWithLogits(logits, targets, weight, posWeight, reduction);
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(loss, [.. expected.Shape]), 1e-5, Rtol, $"bce_with_logits weights={weights} {reduction}");
    }
}

[Collection(KernelCollection.Name)]
public class ResampleKernelTests(CpuAcceleratorFixture gpu)
{
    // (inH, inW) -> (outH, outW) by size, or by a scale factor (outH = floor(in·factor), step 1/factor).
    public static TheoryData<int, int, int, int, double> Cases() => new()
    {
        { 5, 7, 10, 14, 0 },   // doubling: the dst/2 rule
        { 5, 7, 13, 3, 0 },    // up in H, down in W
        { 8, 6, 8, 11, 0 },    // H unchanged: copied, not resampled
        { 9, 4, 0, 0, 1.7 },   // by scale factor
        { 3, 3, 1, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nearest_and_bilinear_match_the_cpu(int inH, int inW, int outH, int outW, double factor)
    {
        var x = Tensor.Uniform([2, 3, inH, inW], -1, 1, new Generator(31));
        float stepH, stepW;
        if (factor > 0)
        {
            outH = (int)Math.Floor(inH * factor);
            outW = (int)Math.Floor(inW * factor);
            stepH = stepW = (float)(1.0 / factor);
        }
        else
        {
            stepH = (float)inH / outH;
            stepW = (float)inW / outW;
        }
        using var input = gpu.Upload(x);
        foreach (var mode in new[] { InterpolateMode.Nearest, InterpolateMode.Bilinear })
        {
            using var y = gpu.Kernels.Interpolate(input.View, 6, inH, inW, outH, outW, stepH, stepW, mode);
            var expected = factor > 0
                ? Tensor.Interpolate(x, scaleFactor: (factor, factor), mode: mode)
                : Tensor.Interpolate(x, new Size2d(outH, outW), mode: mode);
            // Nearest picks inputs (exact); bilinear blends two taps per axis in the CPU's order (1e-6).
            TensorAssert.Close(expected, CpuAcceleratorFixture.Download(y, 2, 3, outH, outW), mode == InterpolateMode.Nearest ? 0 : 1e-6, 1e-6, $"{mode} {inH}x{inW} -> {outH}x{outW}");
        }
    }

    [Fact]
    public void L2norm_matches_the_cpu()
    {
        var generator = new Generator(37);
        var x = Tensor.Uniform([2, 19, 3, 5], -2, 2, generator);
        var weight = Tensor.Uniform([19], 10, 30, generator);
        using var dx = gpu.Upload(x);
        using var dw = gpu.Upload(weight);
        using var y = gpu.Kernels.L2Norm(dx.View, dw.View, 2, 19, 15, 1e-10f);
        // Tolerance: a sum of 19 squares and a sqrt in float32 against the CPU's order: 1e-6 relative.
        TensorAssert.Close(Tensor.L2Norm(x, weight), CpuAcceleratorFixture.Download(y, 2, 19, 3, 5), 1e-6, 2e-6, "l2norm");
    }
}
