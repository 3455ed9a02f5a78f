using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The float32 Winograd F(2x2, 3x3) forward kernel (the float32 forward pass of 3x3 stride-1
/// convolutions with more than 128 input channels, see CpuBackend.Conv2d) against the direct reference (the same
/// convolution in float64 through im2col), on <see cref="WinogradTests"/>' shapes: tiles cut at
/// every edge, vector tails across tiles, 1xN and Nx1 maps, odd channel counts, batches, groups,
/// every padding up to 2 and images split into several chunks of tile rows.
/// </summary>
public class WinogradF2Tests
{
    // Relative to Σ|x·w| (+|bias|) of each output, as WinogradTests. F(2x2)'s transform entries are
    // 0, ±1 and ±½, so its rounding stays of the direct float32 sum's order (about 1e-7); measured
    // up to 1.4e-7 on these shapes (F(4x4): 1.4e-6). 1e-6 holds that with room for other seeds and is
    // a tenth of F(4x4)'s bound; an indexing or transform bug gives errors of order 1.
    private const double RelativeBound = 1e-6;

    [Theory]
    [MemberData(nameof(WinogradTests.Shapes), MemberType = typeof(WinogradTests))]
    public void ForwardMatchesTheDirectFloat64Convolution(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool withBias)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(17);
        var x = WinogradTests.Random(batch * channels * height * width, random);
        var w = WinogradTests.Random(outChannels * (channels / groups) * 9, random);
        var b = withBias ? WinogradTests.Random(outChannels, random) : null;

        var fast = CpuBackend.WinogradF2ConvForward(x, w, b, g);
        var exact = WinogradTests.Float64Forward(x, w, b, g, absolute: false);
        var scale = WinogradTests.Float64Forward(x, w, b, g, absolute: true);
        WinogradTests.AssertWithinBound(exact, scale, fast, $"winograd F(2x2) forward {g}", RelativeBound);

        // The fused ReLU of the output transform is exactly relu of the unfused result.
        var rectified = CpuBackend.WinogradF2ConvForward(x, w, b, g, relu: true);
        Assert.Equal(fast.Select(v => v > 0 ? v : 0f).ToArray(), rectified);
    }
}
