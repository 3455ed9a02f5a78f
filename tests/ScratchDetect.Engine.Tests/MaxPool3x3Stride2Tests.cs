using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The CPU backend's 3x3 stride-2 float32 max-pooling fast path (ResNet's stem) against its general
/// window kernel (the reference, which PoolingParityTests compare with PyTorch): the same values
/// bitwise and the same indices, with ties (values drawn from a few integers: the first tap must
/// win), -inf and NaN (the last NaN of a window wins). Padding 1 (ResNet) and 0, floor and ceil mode
/// (windows that stick out at the bottom and right); widths around the 8-wide groups' edge (a group
/// from column ow reads input columns up to 2·ow - padding + 18) and their tails; 1xN and Nx1
/// planes, where every window is a border window. CPU-only by nature: a CPU kernel against the CPU
/// reference kernel.
/// </summary>
public class MaxPool3x3Stride2Tests
{
    [Theory]
    [InlineData(1, 2, 35, 37, 1, false)]
    [InlineData(1, 3, 40, 40, 1, false)]
    [InlineData(2, 2, 17, 34, 1, false)]
    [InlineData(1, 2, 18, 35, 1, true)]
    [InlineData(1, 2, 19, 36, 0, false)]
    [InlineData(1, 2, 20, 37, 0, true)]
    [InlineData(2, 4, 64, 90, 1, false)]
    [InlineData(1, 3, 1, 50, 1, false)]
    [InlineData(1, 3, 50, 1, 1, false)]
    [InlineData(1, 1, 3, 3, 0, false)]
    public void FastPathEqualsTheWindowKernel(int batch, int channels, int height, int width, int padding, bool ceilMode)
    {
        var g = new Pool2dGeometry(batch, channels, height, width, new Size2d(3, 3), new Size2d(2, 2), new Size2d(padding, padding), new Size2d(1, 1), ceilMode);
        Assert.True(CpuBackend.MaxPool3x3Stride2Applies(g));
        var random = new Random(batch * 1000 + height * 10 + width + padding);
        int length = batch * channels * height * width, outputs = g.Planes * g.OutH * g.OutW;
        var input = new float[length];
        for (int i = 0; i < length; i++)
            input[i] = random.Next(10) switch { 0 => float.NaN, 1 => float.NegativeInfinity, _ => random.Next(4) - 2f };
        float[] fast = new float[outputs], reference = new float[outputs];
        long[] fastIndices = new long[outputs], referenceIndices = new long[outputs];
        CpuBackend.MaxPool3x3Stride2(input, g, fast, fastIndices);
        CpuBackend.MaxPoolWindows(input, g, reference, referenceIndices);
        for (int o = 0; o < outputs; o++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(fast[o]) == BitConverter.SingleToInt32Bits(reference[o]), $"output {o}: {fast[o]} fast, {reference[o]} reference");
            Assert.True(fastIndices[o] == referenceIndices[o], $"output {o}: index {fastIndices[o]} fast, {referenceIndices[o]} reference");
        }
    }

    [Fact]
    public void OtherWindowsStayOnTheReference()
    {
        Assert.False(CpuBackend.MaxPool3x3Stride2Applies(new Pool2dGeometry(1, 1, 8, 8, new Size2d(3, 3), new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), CeilMode: false)));
        Assert.False(CpuBackend.MaxPool3x3Stride2Applies(new Pool2dGeometry(1, 1, 8, 8, new Size2d(3, 3), new Size2d(2, 2), new Size2d(1, 1), new Size2d(2, 2), CeilMode: false)));
        Assert.False(CpuBackend.MaxPool3x3Stride2Applies(new Pool2dGeometry(1, 1, 8, 8, new Size2d(2, 2), new Size2d(2, 2), new Size2d(0, 0), new Size2d(1, 1), CeilMode: false)));
    }
}
