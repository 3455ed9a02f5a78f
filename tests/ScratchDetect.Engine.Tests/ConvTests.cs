using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests;

/// <summary>Shape rules, hand-computed values and error messages of conv2d (PyTorch parity is in ConvParityTests).</summary>
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

    public static TheoryData<DType> FloatTypes() => new(DType.Float32, DType.Float64);

    [Theory, OnCpu(nameof(FloatTypes)), OnCuda(nameof(FloatTypes))]
    public void ConvolutionMatchesHandComputedSums(DType dtype, DeviceKind kind)
    {
        // Input 1..9 as a 3x3 image, a 2x2 kernel [[1, 0], [0, 2]] and bias 0.5: each output is
        // x[i][j] + 2·x[i+1][j+1] + 0.5, i.e. 1 + 2·5 + 0.5 = 11.5, 2 + 2·6 + 0.5 = 14.5, 4 + 2·8 + 0.5 = 20.5, 5 + 2·9 + 0.5 = 23.5.
        var device = TestDevices.Of(kind);
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, [1, 1, 3, 3], device).To(dtype);
        var w = Tensor.FromArray(new double[] { 1, 0, 0, 2 }, [1, 1, 2, 2], device).To(dtype);
        var b = Tensor.FromArray(new double[] { 0.5 }, [1], device).To(dtype);
        var y = Tensor.Conv2d(x, w, b);
        Assert.Equal([1, 1, 2, 2], y.Shape);
        Assert.Equal(device, y.Device);
        Assert.Equal([11.5, 14.5, 20.5, 23.5], y.To(DType.Float64).ToArray<double>());

        // With padding 1 the top-left output sees only x[0][0] at the kernel's "2" tap: 2·1 + 0.5.
        var padded = Tensor.Conv2d(x, w, b, padding: 1);
        Assert.Equal([1, 1, 4, 4], padded.Shape);
        Assert.Equal(2.5, padded.To(DType.Float64).ToArray<double>()[0]);
    }

    [Theory, OnCpu, OnCuda]
    public void ConvolutionWeightGradientSumsOverTheBatch(DeviceKind kind)
    {
        // A 1x1 convolution with weight w: y = w·x, so dL/dw for L = sum(y) is the sum of all inputs of both images: 1+2+3+4 + 10+20+30+40 = 110.
        var device = TestDevices.Of(kind);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 10, 20, 30, 40 }, [2, 1, 2, 2], device);
        var w = Tensor.FromArray(new float[] { 3 }, [1, 1, 1, 1], device).RequireGrad();
        Tensor.Conv2d(x, w).Sum().Backward();
        Assert.Equal(device, w.Grad!.Device);
        Assert.Equal(110f, w.Grad!.ToArray<float>()[0]);
    }

    [Theory, OnCpu, OnCuda]
    public void ChannelMismatchNamesConvAndBothShapes(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros([1, 3, 8, 8], device: device), Tensor.Zeros([4, 2, 3, 3], device: device)));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("[1, 3, 8, 8]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
        Assert.Contains("3 channels", e.Message);
    }

    public static TheoryData<int, int, int> BadGroups() => new()
    {
        { 3, 6, 2 }, // 3 input channels in 2 groups
        { 4, 3, 2 }, // 3 output channels in 2 groups
    };

    [Theory, OnCpu(nameof(BadGroups)), OnCuda(nameof(BadGroups))]
    public void GroupsMustDivideTheChannels(int inChannels, int outChannels, int groups, DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var input = Tensor.Zeros([1, inChannels, 5, 5], device: device);
        var weight = Tensor.Zeros([outChannels, Math.Max(1, inChannels / groups), 3, 3], device: device);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(input, weight, groups: groups));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains($"groups={groups}", e.Message);
        Assert.Contains(Shapes.Format(input.Shape), e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void KernelLargerThanThePaddedInputIsRejected(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        Tensor Zeros(params int[] shape) => Tensor.Zeros(shape, device: device);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Zeros(1, 1, 4, 4), Zeros(1, 1, 5, 5)));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("padded input is only (4, 4)", e.Message);
        // Dilation 3 spreads a 3-tap kernel over 7 pixels, more than 5 + 2·0.
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Zeros(1, 1, 5, 5), Zeros(1, 1, 3, 3), dilation: 3));
        Assert.Contains("spans (7, 7)", e.Message);
        // One pixel of padding on each side makes the 4x4 input 6x6, enough for the 5x5 kernel: a 2x2 output.
        Assert.Equal([1, 1, 2, 2], Tensor.Conv2d(Zeros(1, 1, 4, 4), Zeros(1, 1, 5, 5), padding: 1).Shape);
    }
}
