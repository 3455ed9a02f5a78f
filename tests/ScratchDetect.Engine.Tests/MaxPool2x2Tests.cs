using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The CPU backend's 2x2 stride-2 max-pooling fast path against its general window kernel (the
/// reference, which PoolingParityTests compare with PyTorch): the same values bitwise and the same
/// indices, in float32 and float64, on even and odd sizes (floor mode drops the last row or column),
/// with ties (values drawn from a few integers: the first tap must win), -inf and NaN (the last NaN
/// of a window wins). Rows of 48 and 18 outputs cover the float32 path's 8-wide groups and their tail. Ceil mode on an odd size has windows that stick out and stays on the reference.
/// CPU-only by nature: a CPU kernel against the CPU reference kernel.
/// </summary>
public class MaxPool2x2Tests
{
    [Theory]
    [InlineData(2, 3, 8, 8)]
    [InlineData(1, 2, 7, 9)]
    [InlineData(3, 1, 2, 2)]
    [InlineData(2, 4, 96, 96)]
    [InlineData(1, 5, 13, 2)]
    [InlineData(1, 3, 35, 37)]
    public void FastPathEqualsTheWindowKernel(int batch, int channels, int height, int width)
    {
        var g = new Pool2dGeometry(batch, channels, height, width, new Size2d(2, 2), new Size2d(2, 2), new Size2d(0, 0), new Size2d(1, 1), CeilMode: false);
        Assert.True(CpuBackend.MaxPool2x2Applies(g));
        var random = new Random(batch * 1000 + height * 10 + width);
        int length = batch * channels * height * width, outputs = g.Planes * g.OutH * g.OutW;
        var data = new double[length];
        for (int i = 0; i < length; i++)
            data[i] = random.Next(10) switch { 0 => double.NaN, 1 => double.NegativeInfinity, _ => random.Next(4) - 2.0 };
        Compare(Array.ConvertAll(data, v => (float)v));
        Compare(data);

        void Compare<T>(T[] input) where T : struct, System.Numerics.INumber<T>
        {
            T[] fast = new T[outputs], reference = new T[outputs];
            long[] fastIndices = new long[outputs], referenceIndices = new long[outputs];
            CpuBackend.MaxPool2x2(input, g, fast, fastIndices);
            CpuBackend.MaxPoolWindows(input, g, reference, referenceIndices);
            for (int o = 0; o < outputs; o++)
            {
                Assert.True(fast[o].Equals(reference[o]), $"{typeof(T).Name} output {o}: {fast[o]} fast, {reference[o]} reference");
                Assert.True(fastIndices[o] == referenceIndices[o], $"{typeof(T).Name} output {o}: index {fastIndices[o]} fast, {referenceIndices[o]} reference");
            }
        }
    }

    [Fact]
    public void WindowsThatStickOutStayOnTheReference()
    {
        Assert.False(CpuBackend.MaxPool2x2Applies(new Pool2dGeometry(1, 1, 7, 8, new Size2d(2, 2), new Size2d(2, 2), new Size2d(0, 0), new Size2d(1, 1), CeilMode: true)));
        Assert.False(CpuBackend.MaxPool2x2Applies(new Pool2dGeometry(1, 1, 8, 8, new Size2d(3, 3), new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), CeilMode: false)));
    }
}
