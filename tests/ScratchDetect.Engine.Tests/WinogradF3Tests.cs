using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The float32 Winograd F(3x3, 3x3) forward kernel (WinogradF3.cs) against the direct reference (the
/// same convolution in float64 through im2col), on <see cref="WinogradTests"/>' shapes: tiles cut at
/// every edge (3 outputs a tile side: sizes that are not multiples of 3), vector tails across tiles,
/// 1xN and Nx1 maps, odd channel counts, batches, groups, every padding up to 2 and several chunks.
/// </summary>
public class WinogradF3Tests
{
    // Relative to Σ|x·w| (+|bias|) of each output, as WinogradTests. A float32 simulation put
    // F(3x3)'s rounding at up to 4e-7 of Σ|x·w| on 256- and 512-channel layers (F(2x2) 7e-8, F(4x4)
    // 4e-7); measured up to 2.2e-6 on these shapes. 3e-6 holds that with room for other seeds
    // and is well below the error of order 1 that an indexing or transform bug gives.
    private const double RelativeBound = 3e-6;

    [Theory]
    [MemberData(nameof(WinogradTests.Shapes), MemberType = typeof(WinogradTests))]
    public void ForwardMatchesTheDirectFloat64Convolution(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool withBias)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(23);
        var x = WinogradTests.Random(batch * channels * height * width, random);
        var w = WinogradTests.Random(outChannels * (channels / groups) * 9, random);
        var b = withBias ? WinogradTests.Random(outChannels, random) : null;

        var fast = CpuBackend.WinogradF3ConvForward(x, w, b, g);
        var exact = WinogradTests.Float64Forward(x, w, b, g, absolute: false);
        var scale = WinogradTests.Float64Forward(x, w, b, g, absolute: true);
        WinogradTests.AssertWithinBound(exact, scale, fast, $"winograd F(3x3) forward {g}", RelativeBound);

        // The fused ReLU of the output transform is exactly relu of the unfused result.
        var rectified = CpuBackend.WinogradF3ConvForward(x, w, b, g, relu: true);
        Assert.Equal(fast.Select(v => v > 0 ? v : 0f).ToArray(), rectified);
    }
}
