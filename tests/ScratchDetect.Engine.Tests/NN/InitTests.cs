using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests.NN;

/// <summary>
/// The initialisations against their theoretical distributions. Sample statistics of n draws have
/// standard errors: mean σ/√n; standard deviation of a uniform σ·½√(0.8/n) (its kurtosis is 9/5),
/// of a normal σ/√(2n). The tolerances below are 6 standard errors, so an honest implementation
/// fails with negligible probability, while the sizes (n ≥ 3000) make them a few percent at most,
/// so a wrong bound or std (off by the √3, a gain or the wrong fan, all ≥ 15%) fails surely.
/// </summary>
public class InitTests
{
    private static (double Mean, double Std, double Min, double Max) Stats(Tensor tensor)
    {
        var values = tensor.To(DType.Float64).ToArray<double>();
        double mean = values.Average();
        double variance = values.Select(v => (v - mean) * (v - mean)).Average();
        return (mean, Math.Sqrt(variance), values.Min(), values.Max());
    }

    /// <summary>Checks U(-bound, bound): range, mean 0 and std bound/√3.</summary>
    private static void AssertUniform(Tensor tensor, double bound, string what)
    {
        var (mean, std, min, max) = Stats(tensor);
        double n = tensor.Numel;
        Assert.True(min >= -bound && max <= bound, $"{what}: values in [{min}, {max}] outside ±{bound}");
        // P(max < bound·(1 - t)) = (1 - t/2)^n ≈ e^(-nt/2): with t = 60/n that is e^-30.
        double fill = bound * (1 - 60 / n);
        Assert.True(min < -fill && max > fill, $"{what}: values in [{min}, {max}] do not fill ±{bound}");
        double expectedStd = bound / Math.Sqrt(3);
        Assert.True(Math.Abs(mean) < 6 * expectedStd / Math.Sqrt(n), $"{what}: mean {mean}");
        Assert.True(Math.Abs(std / expectedStd - 1) < 6 * 0.5 * Math.Sqrt(0.8 / n), $"{what}: std {std}, expected {expectedStd}");
    }

    /// <summary>Checks N(mean, std²) by its sample mean and standard deviation.</summary>
    private static void AssertNormal(Tensor tensor, double expectedMean, double expectedStd, string what)
    {
        var (mean, std, _, _) = Stats(tensor);
        double n = tensor.Numel;
        Assert.True(Math.Abs(mean - expectedMean) < 6 * expectedStd / Math.Sqrt(n), $"{what}: mean {mean}, expected {expectedMean}");
        Assert.True(Math.Abs(std / expectedStd - 1) < 6 / Math.Sqrt(2 * n), $"{what}: std {std}, expected {expectedStd}");
    }

    [Fact]
    public void FansFollowPyTorch()
    {
        Assert.Equal((6, 4), Init.FanInAndFanOut([4, 6]));          // linear [out, in]
        Assert.Equal((3 * 25, 8 * 25), Init.FanInAndFanOut([8, 3, 5, 5])); // conv: channels times the 5x5 receptive field
        Assert.Throws<ArgumentException>(() => Init.FanInAndFanOut([7]));
    }

    [Fact]
    public void GainsFollowCalculateGain()
    {
        Assert.Equal(1.0, Init.Gain(Nonlinearity.Linear));
        Assert.Equal(5.0 / 3, Init.Gain(Nonlinearity.Tanh));
        Assert.Equal(Math.Sqrt(2), Init.Gain(Nonlinearity.Relu));
        Assert.Equal(Math.Sqrt(2 / 1.0001), Init.Gain(Nonlinearity.LeakyRelu), 15);        // default slope 0.01
        Assert.Equal(Math.Sqrt(1.0 / 3), Init.Gain(Nonlinearity.LeakyRelu, Math.Sqrt(5)), 15); // √(2 / (1 + 5))
    }

    [Fact]
    public void KaimingUniformDefaultsToReluLikeFanIn()
    {
        // a = 0, fan_in = 64·3·3 = 576: bound = √3·√2/√576 = √6/24 ≈ 0.10206.
        var weight = Init.KaimingUniform(Tensor.Zeros([256, 64, 3, 3]), new Generator(1));
        AssertUniform(weight, Math.Sqrt(6) / 24, "kaiming_uniform_");
    }

    [Fact]
    public void KaimingUniformWithSlopeOne()
    {
        // FPN's choice a = 1: gain √(2/2) = 1, fan_in = 500: bound = √3/√500 ≈ 0.07746.
        var weight = Init.KaimingUniform(Tensor.Zeros([300, 500]), new Generator(2), a: 1);
        AssertUniform(weight, Math.Sqrt(3.0 / 500), "kaiming_uniform_(a=1)");
    }

    [Fact]
    public void KaimingNormalFanOutRelu()
    {
        // ResNet's choice: fan_out = 128·3·3 = 1152, gain √2: std = √2/√1152 = 1/24.
        var weight = Init.KaimingNormal(Tensor.Zeros([128, 64, 3, 3]), new Generator(3), mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        AssertNormal(weight, 0, 1.0 / 24, "kaiming_normal_(fan_out, relu)");
    }

    [Fact]
    public void XavierUniformUsesBothFans()
    {
        // fan_in 200, fan_out 300: bound = √(6/500) ≈ 0.10954.
        var weight = Init.XavierUniform(Tensor.Zeros([300, 200]), new Generator(4));
        AssertUniform(weight, Math.Sqrt(6.0 / 500), "xavier_uniform_");
    }

    [Theory, OnCpu, OnCuda]
    public void NormalUniformAndConstantFillInPlace(DeviceKind kind)
    {
        var tensor = Tensor.Zeros([200, 200], DType.Float64, TestDevices.Of(kind));
        Assert.Same(tensor, Init.Normal(tensor, new Generator(5), mean: 2, std: 0.5));
        AssertNormal(tensor, 2, 0.5, "normal_");

        Init.Uniform(tensor, new Generator(6), -3, -1);
        var (mean, _, min, max) = Stats(tensor);
        // Range [-3, -1): std 2/√12 = 1/√3, so the mean of 40000 draws is -2 within 6·(1/√3)/200.
        Assert.True(min >= -3 && max < -1 && Math.Abs(mean + 2) < 6 * (1 / Math.Sqrt(3)) / 200, $"uniform_(-3, -1): [{min}, {max}], mean {mean}");

        Init.Constant(tensor, 0.25);
        Assert.All(tensor.ToArray<double>(), v => Assert.Equal(0.25, v));
        Init.Zeros(tensor);
        Assert.All(tensor.ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void LinearDefaultMatchesPyTorchResetParameters()
    {
        // Weight and bias both U(±1/√fan_in) with fan_in = 50 (see Init.TorchDefault).
        var linear = new Linear(50, 3000, new Generator(7));
        AssertUniform(linear.Weight, 1 / Math.Sqrt(50), "Linear weight");
        AssertUniform(linear.Bias!, 1 / Math.Sqrt(50), "Linear bias");
    }

    [Theory, OnCpu, OnCuda]
    public void TorchDefaultOnAConvolutionShape(DeviceKind kind)
    {
        // [out 16, in/groups 8, 5, 5]: fan_in = 200, bound 1/√200 for weight and bias.
        var device = TestDevices.Of(kind);
        var weight = Tensor.Zeros([16, 8, 5, 5], device: device).RequireGrad();
        var bias = Tensor.Zeros([4000], device: device).RequireGrad(); // long, so the bias statistics are meaningful
        Init.TorchDefault(weight, bias, new Generator(8));
        AssertUniform(weight, 1 / Math.Sqrt(200), "conv weight");
        AssertUniform(bias, 1 / Math.Sqrt(200), "conv bias");
        Assert.True(weight.RequiresGrad && weight.IsLeaf);
        Assert.Equal(device, weight.Device);
    }

    [Fact]
    public void SameSeedSameValues()
    {
        var a = new Linear(5, 5, new Generator(9)).Weight.ToArray<float>();
        var b = new Linear(5, 5, new Generator(9)).Weight.ToArray<float>();
        var c = new Linear(5, 5, new Generator(10)).Weight.ToArray<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
