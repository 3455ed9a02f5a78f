using ScratchDetect.Engine.Backends;
using ScratchDetect.Testing;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The batch-norm training primitives (IBackend.BatchNormTraining and BatchNormTrainingBackward,
/// reached through Tensor.BatchNorm) against a plain two-pass float64 reference written here, over
/// every SIMD tail of the spatial length and odd channel counts. PyTorch parity of the same op is in
/// ConvParityTests (bn_* fixtures from tools/parity/conv.py); the float64 gradient check in gradcheck.
/// </summary>
public class BatchNormTrainingTests
{
    // Tolerances. float64: the kernel's one-pass shifted sums and the reference's two passes differ by
    // a few ulps of O(1) values: 1e-12. float32: outputs and gradients are rounded to float32
    // (epsilon 6e-8) after float64 accumulation; |y|, |dx| stay below ~10 here, and the per-element
    // passes (x·scale + shift, g·a - (x - mean)·p + q) round 2-3 times: 2e-6 absolute and relative.
    // gradWeight/gradBias are sums of up to 3·256 O(1) terms, rounded once to float32: 2e-6 relative.
    // The gradients are differences that nearly cancel when a channel has few values (with M = 2, dx is
    // 0 up to eps), and x̂ = (x - mean)·invStd is computed from float32 x and mean, so its error is
    // ~epsilon·invStd·(|x| + |mean|), large when the variance is small. So the gradients are compared
    // within Float32Tol of 1 + the size of their terms, with that bound for x̂ (TermSizes below).
    private const double Float64Tol = 1e-12, Float32Tol = 2e-6;

    /// <summary>Every spatial length 1..256 (every tail of 8- and 16-lane float vectors and 4- and 8-lane double vectors), 3 and 5 channels, with and without affine.</summary>
    [Theory, OnCpu, OnCuda]
    public void ForwardAndBackwardMatchTheReferenceForEverySpatialLength(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(11);
        for (int inner = 1; inner <= 256; inner++)
        {
            int channels = inner % 2 == 0 ? 3 : 5, outer = inner == 1 ? 4 : 2;
            bool affine = inner % 3 != 0;
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                CheckAgainstReference(device, dtype, outer, channels, inner, affine, g, $"{dtype.Name()} [{outer}, {channels}, {inner}]{(affine ? " affine" : "")}");
        }
    }

    /// <summary>Shapes where the channel axis is last (BatchNorm1d on [N, C]: inner 1) or the batch is 1, and many odd channels.</summary>
    [Theory, OnCpu, OnCuda]
    public void ForwardAndBackwardMatchTheReferenceForOddShapes(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(12);
        foreach (var (outer, channels, inner) in new[] { (7, 1, 1), (2, 33, 1), (1, 17, 9), (1, 3, 2), (3, 31, 17), (5, 2, 64) })
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                CheckAgainstReference(device, dtype, outer, channels, inner, affine: true, g, $"{dtype.Name()} [{outer}, {channels}, {inner}]");
    }

    /// <summary>
    /// A channel whose mean is 10⁴ standard deviations from zero: E[x²] - E[x]² would cancel to noise
    /// in float64 (10⁸ · 1e-16 relative), the shifted one-pass sums keep the variance to 1e-9 relative.
    /// With momentum 1 the running statistics are the batch mean and the unbiased variance themselves.
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void StatisticsOfAFarOffsetChannelKeepTheirDigits(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(13);
        var values = Tensor.Normal([4, 2, 50], 0, 1, g, DType.Float64).ToArray<double>();
        for (int i = 0; i < values.Length; i++) values[i] += 1e4;
        var x = Tensor.FromArray(values, [4, 2, 50], device);
        var runningMean = Tensor.Zeros([2], DType.Float64, device);
        var runningVar = Tensor.Ones([2], DType.Float64, device);
        Tensor.BatchNorm(x, runningMean, runningVar, training: true, momentum: 1.0);
        var (mean, variance, _) = Reference(values, 4, 2, 50, null, null, 1e-5);
        // Unbiased: the biased variance · M / (M - 1), M = 200.
        TensorAssert.Close(mean, runningMean.ToArray<double>(), 0, 1e-15, "running mean");
        TensorAssert.Close(variance.Select(v => v * 200 / 199).ToArray(), runningVar.ToArray<double>(), 0, 1e-9, "running var");
    }

    /// <summary>The running statistics after two steps with momentum 0.1, and the version counter that guards them.</summary>
    [Theory, OnCpu, OnCuda]
    public void RunningStatisticsFollowPyTorchsUpdate(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(14);
        var first = Tensor.Normal([3, 5, 7], 2, 3, g, DType.Float64).ToArray<double>();
        var second = Tensor.Normal([3, 5, 7], -1, 0.5, g, DType.Float64).ToArray<double>();
        var runningMean = Tensor.FromArray(new[] { 0.5, -1, 2, 0, 1 }, [5], device);
        var runningVar = Tensor.FromArray(new[] { 1.0, 2, 0.5, 3, 1 }, [5], device);
        var expectedMean = runningMean.ToArray<double>();
        var expectedVar = runningVar.ToArray<double>();
        int version = runningMean.Version;
        foreach (var batch in new[] { first, second })
        {
            Tensor.BatchNorm(Tensor.FromArray(batch, [3, 5, 7], device), runningMean, runningVar, training: true, momentum: 0.1);
            var (mean, variance, _) = Reference(batch, 3, 5, 7, null, null, 1e-5);
            for (int c = 0; c < 5; c++)
            {
                // PyTorch: running = (1 - momentum)·running + momentum·batch, the variance unbiased (M = 21).
                expectedMean[c] = 0.9 * expectedMean[c] + 0.1 * mean[c];
                expectedVar[c] = 0.9 * expectedVar[c] + 0.1 * variance[c] * 21 / 20;
            }
        }
        TensorAssert.Close(expectedMean, runningMean.ToArray<double>(), 1e-14, 1e-13, "running mean");
        TensorAssert.Close(expectedVar, runningVar.ToArray<double>(), 1e-14, 1e-13, "running var");
        Assert.Equal(version + 2, runningMean.Version);
    }

    /// <summary>Only the inputs that require a gradient get one (here the weight alone: the input-gradient pass is skipped).</summary>
    [Theory, OnCpu, OnCuda]
    public void GradientOfEachInputIsComputedOnlyWhereNeeded(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var g = new Generator(15);
        var x = Tensor.Normal([2, 3, 4], 0, 1, g).To(device);
        var weight = Tensor.Uniform([3], 0.5, 1.5, g).To(device).RequireGrad();
        var bias = Tensor.Normal([3], 0, 1, g).To(device);
        var y = Tensor.BatchNorm(x, null, null, weight, bias, training: true);
        y.Backward(Tensor.Normal([2, 3, 4], 0, 1, g).To(device));
        Assert.NotNull(weight.Grad);
        Assert.Null(bias.Grad);
        Assert.Null(x.Grad);
    }

    private static void CheckAgainstReference(Device device, DType dtype, int outer, int channels, int inner, bool affine, Generator g, string what)
    {
        int[] shape = [outer, channels, inner];
        var xValues = Tensor.Normal(shape, 1.5, 2, g, DType.Float64).To(dtype).To(DType.Float64).ToArray<double>();
        var gradValues = Tensor.Normal(shape, 0, 1, g, DType.Float64).To(dtype).To(DType.Float64).ToArray<double>();
        double[]? w = affine ? Tensor.Uniform([channels], 0.5, 1.5, g, DType.Float64).To(dtype).To(DType.Float64).ToArray<double>() : null;
        double[]? b = affine ? Tensor.Normal([channels], 0, 1, g, DType.Float64).To(dtype).To(DType.Float64).ToArray<double>() : null;
        const double eps = 1e-5;

        var x = Tensor.FromArray(xValues, shape, device).To(dtype).RequireGrad();
        var weight = w is null ? null : Tensor.FromArray(w, [channels], device).To(dtype).RequireGrad();
        var bias = b is null ? null : Tensor.FromArray(b, [channels], device).To(dtype).RequireGrad();
        var y = Tensor.BatchNorm(x, null, null, weight, bias, training: true, eps: eps);
        y.Backward(Tensor.FromArray(gradValues, shape, device).To(dtype));

        var (mean, variance, expectedY) = Reference(xValues, outer, channels, inner, w, b, eps);
        var expected = ReferenceBackward(xValues, gradValues, mean, variance, outer, channels, inner, w, eps);
        double tol = dtype == DType.Float64 ? Float64Tol : Float32Tol;
        TensorAssert.Close(expectedY, y.To(DType.Float64).ToArray<double>(), tol, tol, $"{what}: y");
        CloseToTermSize(expected.Dx, expected.DxTerms, x.Grad!, tol, $"{what}: grad input");
        if (weight is null) return;
        CloseToTermSize(expected.Dw, expected.DwTerms, weight.Grad!, tol, $"{what}: grad weight");
        CloseToTermSize(expected.Db, expected.DbTerms, bias!.Grad!, tol, $"{what}: grad bias");
    }

    /// <summary>Every element within tol·(1 + the size of the terms it was computed from).</summary>
    private static void CloseToTermSize(double[] expected, double[] termSize, Tensor actual, double tol, string what)
    {
        var values = actual.To(DType.Float64).ToArray<double>();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++)
            if (!(Math.Abs(values[i] - expected[i]) <= tol * (1 + termSize[i])))
                Assert.Fail($"{what}: element {i} is {values[i]:G9}, expected {expected[i]:G9} (terms of size {termSize[i]:G3}, tolerance {tol:G3} of 1 + that)");
    }

    /// <summary>Two passes per channel in float64 (mean, then mean squared deviation), then (x - mean)/sqrt(var + eps)·w + b.</summary>
    private static (double[] Mean, double[] Variance, double[] Y) Reference(double[] x, int outer, int channels, int inner, double[]? w, double[]? b, double eps)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        var y = new double[x.Length];
        long count = (long)outer * inner;
        for (int c = 0; c < channels; c++)
        {
            foreach (var i in ChannelIndices(c, outer, channels, inner)) mean[c] += x[i];
            mean[c] /= count;
            foreach (var i in ChannelIndices(c, outer, channels, inner)) variance[c] += (x[i] - mean[c]) * (x[i] - mean[c]);
            variance[c] /= count;
            double invStd = 1 / Math.Sqrt(variance[c] + eps);
            foreach (var i in ChannelIndices(c, outer, channels, inner))
                y[i] = (x[i] - mean[c]) * invStd * (w?[c] ?? 1) + (b?[c] ?? 0);
        }
        return (mean, variance, y);
    }

    /// <summary>
    /// dx = w·invStd·(g - mean(g) - x̂·mean(g·x̂)), dw = Σ g·x̂, db = Σ g, straight from the definition;
    /// and for each result the summed size of the terms it is made of, with |x̂| bounded by
    /// invStd·(|x| + |mean|) (what the rounding of x - mean scales with).
    /// </summary>
    private static (double[] Dx, double[] DxTerms, double[] Dw, double[] DwTerms, double[] Db, double[] DbTerms) ReferenceBackward(
        double[] x, double[] g, double[] mean, double[] variance, int outer, int channels, int inner, double[]? w, double eps)
    {
        var (dx, dxTerms) = (new double[x.Length], new double[x.Length]);
        var (dw, dwTerms, db, dbTerms) = (new double[channels], new double[channels], new double[channels], new double[channels]);
        long count = (long)outer * inner;
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1 / Math.Sqrt(variance[c] + eps);
            double k = (w?[c] ?? 1) * invStd;
            foreach (var i in ChannelIndices(c, outer, channels, inner))
            {
                double normalizedSize = invStd * (Math.Abs(x[i]) + Math.Abs(mean[c]));
                db[c] += g[i];
                dbTerms[c] += Math.Abs(g[i]);
                dw[c] += g[i] * (x[i] - mean[c]) * invStd;
                dwTerms[c] += Math.Abs(g[i]) * normalizedSize;
            }
            foreach (var i in ChannelIndices(c, outer, channels, inner))
            {
                double normalized = (x[i] - mean[c]) * invStd, normalizedSize = invStd * (Math.Abs(x[i]) + Math.Abs(mean[c]));
                dx[i] = k * (g[i] - db[c] / count - normalized * dw[c] / count);
                dxTerms[i] = Math.Abs(k) * (Math.Abs(g[i]) + dbTerms[c] / count + normalizedSize * dwTerms[c] / count);
            }
        }
        return (dx, dxTerms, dw, dwTerms, db, dbTerms);
    }

    private static IEnumerable<long> ChannelIndices(int c, int outer, int channels, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                yield return ((long)o * channels + c) * inner + i;
    }
}
