using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests;

/// <summary>Softmax, losses and L2Norm: hand-computed values, edge cases and misuse errors, on every device.</summary>
public class LossesTests
{
    private static Tensor Row(Device device, params double[] values) => Tensor.FromArray(values, [1, values.Length], device);

    [Theory, OnCpu, OnCuda]
    public void SoftmaxOfHugeEqualLogitsIsUniform(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // exp(1000) overflows; subtracting the maximum first makes it exp(0) = 1 for each.
        var p = Tensor.Softmax(Row(device, 1000, 1000, 1000, 1000), 1).ToArray<double>();
        Assert.All(p, v => Assert.Equal(0.25, v, 15));
        var logP = Tensor.LogSoftmax(Row(device, 1000, 1000), 1).ToArray<double>();
        Assert.All(logP, v => Assert.Equal(-Math.Log(2), v, 12));
    }

    [Theory, OnCpu, OnCuda]
    public void SoftmaxRowsOfAnSsdSizedScoreMatrixSumToOne(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // SSD300 scores 8732 priors x 21 classes; logits spread over ±50 to stress the max shift.
        var scores = Tensor.Uniform([8732, 21], -50, 50, new Generator(3)).To(device);
        var sums = Tensor.Softmax(scores, -1).To(DType.Float64).Sum(1).ToArray<double>();
        // float32 probabilities: each sum is within a few ulps of 1 (21 terms).
        Assert.All(sums, s => Assert.Equal(1.0, s, 5));
    }

    [Theory, OnCpu, OnCuda]
    public void CrossEntropyOfUniformLogitsIsLogOfClassCount(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var logits = Tensor.Zeros([3, 5], DType.Float64, device: device);
        var loss = Tensor.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 4, 2 }, [3], device));
        Assert.Equal(Math.Log(5), loss.Item(), 12);
    }

    [Theory, OnCpu, OnCuda]
    public void WeightedMeanDividesBySummedWeightsOfNonIgnoredTargets(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Uniform logits over 2 classes: every per-sample loss is weight · log 2. Weights 1 and 3;
        // targets 0, 1, ignored: mean = (1 + 3)·log 2 / (1 + 3) = log 2; sum = 4 log 2.
        var logits = Tensor.Zeros([3, 2], DType.Float64, device: device);
        var targets = Tensor.FromArray(new long[] { 0, 1, -100 }, [3], device);
        var weight = Tensor.FromArray(new[] { 1.0, 3.0 }, [2], device);
        Assert.Equal(Math.Log(2), Tensor.CrossEntropy(logits, targets, weight).Item(), 12);
        Assert.Equal(4 * Math.Log(2), Tensor.CrossEntropy(logits, targets, weight, reduction: Reduction.Sum).Item(), 12);
        Assert.Equal([Math.Log(2), 3 * Math.Log(2), 0], Tensor.CrossEntropy(logits, targets, weight, reduction: Reduction.None).ToArray<double>());
    }

    [Theory, OnCpu, OnCuda]
    public void CrossEntropyWithEveryTargetIgnoredIsNaNWithZeroGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // PyTorch 1.13: the mean is 0/0 = NaN and the logits' gradient is 0 (also checked in the parity fixture).
        var logits = Tensor.Ones([2, 3], DType.Float64, device: device).RequireGrad();
        var loss = Tensor.CrossEntropy(logits, Tensor.FromArray(new long[] { -100, -100 }, [2], device));
        Assert.True(double.IsNaN(loss.Item()));
        loss.Backward();
        Assert.All(logits.Grad!.ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    public static TheoryData<long> BadTargets() => new(5L, -1L);

    [Theory, OnCpu(nameof(BadTargets)), OnCuda(nameof(BadTargets))]
    public void CrossEntropyRejectsTargetsOutOfRange(long bad, DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.CrossEntropy(Tensor.Zeros([2, 5], device: device), Tensor.FromArray(new long[] { 0, bad }, [2], device)));
        Assert.Contains("cross_entropy", e.Message);
        Assert.Contains($"target value {bad}", e.Message);
        Assert.Contains("5 classes", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void LossesNameTheOpAndShapesOnMismatch(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var ce = Assert.Throws<ArgumentException>(() => Tensor.CrossEntropy(Tensor.Zeros([4, 3], device: device), Tensor.Zeros([3], DType.Int64, device: device)));
        Assert.Contains("cross_entropy", ce.Message);
        Assert.Contains("[4, 3]", ce.Message);
        var weight = Assert.Throws<ArgumentException>(() => Tensor.CrossEntropy(Tensor.Zeros([4, 3], device: device), Tensor.Zeros([4], DType.Int64, device: device), Tensor.Ones([2], device: device)));
        Assert.Contains("[3]", weight.Message);
        var bce = Assert.Throws<ArgumentException>(() => Tensor.BinaryCrossEntropyWithLogits(Tensor.Zeros([2, 3], device: device), Tensor.Zeros([3, 2], device: device)));
        Assert.Contains("binary_cross_entropy_with_logits", bce.Message);
        Assert.Contains("[3, 2]", bce.Message);
        var posWeight = Assert.Throws<ArgumentException>(() => Tensor.BinaryCrossEntropyWithLogits(Tensor.Zeros([2, 3], device: device), Tensor.Zeros([2, 3], device: device), posWeight: Tensor.Ones([2], device: device)));
        Assert.Contains("binary_cross_entropy_with_logits", posWeight.Message);
        var l1 = Assert.Throws<ArgumentException>(() => Tensor.SmoothL1(Tensor.Zeros([4], device: device), Tensor.Zeros([4], DType.Float64, device: device)));
        Assert.Contains("smooth_l1_loss", l1.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.SmoothL1(Tensor.Zeros([4], device: device), Tensor.Zeros([4], device: device), beta: -1));
    }

    [Theory, OnCpu, OnCuda]
    public void BinaryCrossEntropyGradientAtZeroLogitIsHalfMinusTarget(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // At x = 0 relu and abs both have kinks; the loss itself is smooth: d/dx = sigmoid(0) - t = 0.5 - t.
        var x = Tensor.Zeros([3], DType.Float64, device: device).RequireGrad();
        var t = Tensor.FromArray(new[] { 0.0, 0.25, 1.0 }, [3], device);
        var loss = Tensor.BinaryCrossEntropyWithLogits(x, t, reduction: Reduction.Sum);
        Assert.Equal(3 * Math.Log(2), loss.Item(), 12); // log(1 + e^0) each
        loss.Backward();
        Assert.Equal([0.5, 0.25, -0.5], x.Grad!.ToArray<double>());
    }

    [Theory, OnCpu, OnCuda]
    public void BinaryCrossEntropyStaysFiniteForExtremeLogits(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var loss = Tensor.BinaryCrossEntropyWithLogits(Tensor.FromArray(new[] { -1000f, 1000f }, [2], device), Tensor.FromArray(new[] { 1f, 0f }, [2], device), reduction: Reduction.None);
        // Confidently wrong by 1000: the loss is 1000 (not inf, as log(sigmoid) would give).
        Assert.Equal([1000f, 1000f], loss.ToArray<float>());
    }

    [Theory, OnCpu, OnCuda]
    public void SmoothL1MatchesHandValuesOnBothSidesOfBeta(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // beta 0.5: |d| = 0.25 < beta -> 0.5·0.0625/0.5 = 0.0625; |d| = 2 -> 2 - 0.25 = 1.75.
        var input = Tensor.FromArray(new[] { 0.25, -2.0 }, [2], device);
        var loss = Tensor.SmoothL1(input, Tensor.Zeros([2], DType.Float64, device: device), 0.5, Reduction.None);
        Assert.Equal([0.0625, 1.75], loss.ToArray<double>());
        // beta 0 is L1.
        Assert.Equal(2.25, Tensor.SmoothL1(input, Tensor.Zeros([2], DType.Float64, device: device), 0, Reduction.Sum).Item());
    }

    [Theory, OnCpu, OnCuda]
    public void L2NormOfAZeroVectorHasAFiniteGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // At x = 0 the norm's own gradient is taken as 0, so d(x / (‖x‖ + eps) · w)/dx = w / eps:
        // 20 / 1e-10 = 2e11 (ssd.pytorch's written-out formula would give NaN here).
        var x = Tensor.Zeros([1, 2, 1, 1], DType.Float64, device: device).RequireGrad();
        Tensor.L2Norm(x, Tensor.Full([2], 20, DType.Float64, device)).Sum().Backward();
        Assert.All(x.Grad!.ToArray<double>(), v => Assert.Equal(2e11, v, 1));
    }

    [Theory, OnCpu, OnCuda]
    public void L2NormModuleHasOneWeightInitialisedToScaleAndUnitNormOutput(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var layer = new L2Norm(3);
        Assert.Equal(["weight"], layer.NamedParameters().Select(p => p.Key));
        Assert.All(layer.Weight.ToArray<float>(), v => Assert.Equal(20f, v));
        // Channel vector (3, 0, 4) has norm 5: the output is 20 · (0.6, 0, 0.8) in both styles.
        var x = Tensor.FromArray(new[] { 3f, 0f, 4f }, [1, 3, 1, 1], device);
        foreach (var style in new[] { L2NormStyle.SsdPytorch, L2NormStyle.Torchvision })
        {
            var y = new L2Norm(3, style: style).To(device).Forward(x).ToArray<float>();
            // float32 division and sqrt: within 1e-5 of the exact 12, 0, 16.
            TensorAssert.Close([12, 0, 16], y.Select(v => (double)v).ToArray(), 1e-5, 0, $"l2norm {style}");
        }
    }
}
