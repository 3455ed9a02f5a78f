using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests;

/// <summary>Shape rules, hand-computed values and error messages of the convolution family (PyTorch parity is in ConvParityTests).</summary>
public class ConvTests
{
    [Theory]
    // conv, ResNet stem: 224 + 2·3 - 1·(7-1) - 1 = 223; floor(223 / 2) + 1 = 112.
    [InlineData(224, 7, 2, 3, 1, false, 112)]
    // ResNet max pool: 112 + 2 - 2 - 1 = 111; floor(111 / 2) + 1 = 56.
    [InlineData(112, 3, 2, 1, 1, false, 56)]
    // 6 + 2 - 2 - 1 = 5: floor(5 / 2) + 1 = 3, but ceil(5 / 2) + 1 = 4 (the 4th window starts at 6 - 1 = 5, inside the input).
    [InlineData(6, 3, 2, 1, 1, false, 3)]
    [InlineData(6, 3, 2, 1, 1, true, 4)]
    // 5 + 2 - 1 - 1 = 5: ceil(5 / 2) + 1 = 4, but the 4th window would start at 3·2 - 1 = 5 = H, in the right padding only: 3.
    [InlineData(5, 2, 2, 1, 1, true, 3)]
    // dilation 2 makes a 3-tap kernel span 5: 7 - 2·2 - 1 = 2; 2 / 1 + 1 = 3.
    [InlineData(7, 3, 1, 0, 2, false, 3)]
    public void OutputSizeFollowsPyTorch(int input, int kernel, int stride, int padding, int dilation, bool ceilMode, int expected) =>
        Assert.Equal(expected, SlidingWindow.OutputSize(input, kernel, stride, padding, dilation, ceilMode));

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void ConvolutionMatchesHandComputedSums(DType dtype)
    {
        // Input 1..9 as a 3x3 image, a 2x2 kernel [[1, 0], [0, 2]] and bias 0.5: each output is
        // x[i][j] + 2·x[i+1][j+1] + 0.5, i.e. 1 + 2·5 + 0.5 = 11.5, 2 + 2·6 + 0.5 = 14.5, 4 + 2·8 + 0.5 = 20.5, 5 + 2·9 + 0.5 = 23.5.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 1, 3, 3).To(dtype);
        var w = Tensor.FromArray(new double[] { 1, 0, 0, 2 }, 1, 1, 2, 2).To(dtype);
        var b = Tensor.FromArray(new double[] { 0.5 }, 1).To(dtype);
        var y = Tensor.Conv2d(x, w, b);
        Assert.Equal([1, 1, 2, 2], y.Shape);
        Assert.Equal([11.5, 14.5, 20.5, 23.5], y.To(DType.Float64).ToArray<double>());

        // With padding 1 the top-left output sees only x[0][0] at the kernel's "2" tap: 2·1 + 0.5.
        var padded = Tensor.Conv2d(x, w, b, padding: 1);
        Assert.Equal([1, 1, 4, 4], padded.Shape);
        Assert.Equal(2.5, padded.To(DType.Float64).ToArray<double>()[0]);
    }

    [Fact]
    public void ConvolutionWeightGradientSumsOverTheBatch()
    {
        // A 1x1 convolution with weight w: y = w·x, so dL/dw for L = sum(y) is the sum of all inputs of both images: 1+2+3+4 + 10+20+30+40 = 110.
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 10, 20, 30, 40 }, 2, 1, 2, 2);
        var w = Tensor.FromArray(new float[] { 3 }, 1, 1, 1, 1).RequireGrad();
        Tensor.Conv2d(x, w).Sum().Backward();
        Assert.Equal(110f, w.Grad!.ToArray<float>()[0]);
    }

    [Fact]
    public void ChannelMismatchNamesConvAndBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros([1, 3, 8, 8]), Tensor.Zeros([4, 2, 3, 3])));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("[1, 3, 8, 8]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
        Assert.Contains("3 channels", e.Message);
    }

    [Theory]
    [InlineData(3, 6, 2)] // 3 input channels in 2 groups
    [InlineData(4, 3, 2)] // 3 output channels in 2 groups
    public void GroupsMustDivideTheChannels(int inChannels, int outChannels, int groups)
    {
        var input = Tensor.Zeros([1, inChannels, 5, 5]);
        var weight = Tensor.Zeros([outChannels, Math.Max(1, inChannels / groups), 3, 3]);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(input, weight, groups: groups));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains($"groups={groups}", e.Message);
        Assert.Contains(Shapes.Format(input.Shape), e.Message);
    }

    [Fact]
    public void KernelLargerThanThePaddedInputIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 5, 5])));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("padded input is only (4, 4)", e.Message);
        // Dilation 3 spreads a 3-tap kernel over 7 pixels, more than 5 + 2·0.
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros([1, 1, 5, 5]), Tensor.Zeros([1, 1, 3, 3]), dilation: 3));
        Assert.Contains("spans (7, 7)", e.Message);
        // One pixel of padding on each side makes the 4x4 input 6x6, enough for the 5x5 kernel: a 2x2 output.
        Assert.Equal([1, 1, 2, 2], Tensor.Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 5, 5]), padding: 1).Shape);
    }

    [Fact]
    public void PoolingPaddingMustBeAtMostHalfTheKernel()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.MaxPool2d(Tensor.Zeros([1, 1, 6, 6]), 3, padding: 2));
        Assert.Contains("max_pool2d", e.Message);
        Assert.Contains("half the kernel size", e.Message);
    }

    [Fact]
    public void MaxPoolNaNWinsAndAllMinusInfinityPicksTheFirstTap()
    {
        // Windows of 2: [1, NaN] -> NaN at 1; [-inf, -inf] -> -inf at its first tap 2 (as PyTorch: start at -inf, only > or NaN replaces).
        float inf = float.PositiveInfinity;
        var x = Tensor.FromArray(new[] { 1f, float.NaN, -inf, -inf }, 1, 1, 1, 4);
        var (values, indices) = Tensor.MaxPool2dWithIndices(x, (1, 2));
        var v = values.ToArray<float>();
        Assert.True(float.IsNaN(v[0]));
        Assert.Equal(-inf, v[1]);
        Assert.Equal([1L, 2L], indices.ToArray<long>());
    }

    [Fact]
    public void BatchNormTrainingNeedsMoreThanOneValuePerChannel()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([1, 3]), null, null, training: true));
        Assert.Contains("more than 1 value per channel", e.Message);
        Assert.Contains("[1, 3]", e.Message);
    }

    [Fact]
    public void BatchNormRejectsStatisticsOfTheWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([2, 3, 2, 2]), Tensor.Zeros([4]), Tensor.Ones([4])));
        Assert.Contains("running_mean [4] must be [3]", e.Message);
    }

    [Fact]
    public void InterpolateNeedsExactlyOneOfSizeAndScale()
    {
        var x = Tensor.Zeros([1, 1, 4, 4]);
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x));
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x, size: 2, scaleFactor: (2, 2)));
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x, size: 2, recomputeScaleFactor: true));
    }

    [Fact]
    public void NearestWithAScaleFactorUsesItsReciprocal()
    {
        // Width 10, scale 0.3: 3 outputs. With step 1/0.3 = 3.333: sources floor(0, 3.33, 6.67) = 0, 3, 6.
        // Recomputed from the sizes the step is 10/3 = 3.333 too; with scale 0.35 (floor(3.5) = 3 outputs)
        // the step is 2.857: sources 0, 2, 5, but from the sizes it is 10/3: 0, 3, 6.
        var x = Tensor.Arange(10, DType.Float32).Reshape(1, 1, 1, 10);
        Assert.Equal([0f, 3f, 6f], Tensor.Interpolate(x, scaleFactor: (1, 0.3)).ToArray<float>());
        Assert.Equal([0f, 2f, 5f], Tensor.Interpolate(x, scaleFactor: (1, 0.35)).ToArray<float>());
        Assert.Equal([0f, 3f, 6f], Tensor.Interpolate(x, scaleFactor: (1, 0.35), recomputeScaleFactor: true).ToArray<float>());
    }

    [Fact]
    public void BilinearBlendsTheTwoNearestCentres()
    {
        // Width 2 -> 4: sources (dst + 0.5)·0.5 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (last pixel, no right neighbour).
        // Values [0, 8]: 0, 0.75·0 + 0.25·8 = 2, 6, 8.
        var x = Tensor.FromArray(new float[] { 0, 8 }, 1, 1, 1, 2);
        Assert.Equal([0f, 2f, 6f, 8f], Tensor.Interpolate(x, size: (1, 4), mode: InterpolateMode.Bilinear).ToArray<float>());
    }
}
