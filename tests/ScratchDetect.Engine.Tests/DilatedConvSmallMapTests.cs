namespace ScratchDetect.Engine.Tests;

/// <summary>
/// A dilated convolution whose kernel is wider than its input map, as SSD's conv6 (3x3, dilation 6,
/// padding 6) meets on small images: the input reaches conv6 at 4x4 from a 67x67 image. Every tap but
/// the centre then falls wholly in the padding, a case the im2col copy once indexed outside the input.
/// </summary>
public class DilatedConvSmallMapTests
{
    /// <summary>
    /// Hand calculation: output (oh, ow) sums w[ki, kj]·x[oh + 6ki - 6, ow + 6kj - 6]; on a 4x4 map the
    /// offsets -6 and +6 are outside, so only the centre tap remains: y = w[1, 1]·x + b. The input
    /// gradient is w[1, 1]·g, the weight gradient is 0 except at the centre, where it is Σ g·x, and the
    /// bias gradient is Σ g. Small integers, so every value is exact (tolerance 0).
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void OnlyTheCentreTapReachesAMapSmallerThanTheDilation(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var xs = Enumerable.Range(1, 16).Select(v => (float)v).ToArray();
        var ws = Enumerable.Range(1, 9).Select(v => (float)v).ToArray(); // centre w[1, 1] = 5
        var x = Tensor.FromArray(xs, [1, 1, 4, 4], device).RequireGrad();
        var w = Tensor.FromArray(ws, [1, 1, 3, 3], device).RequireGrad();
        var b = Tensor.FromArray(new[] { 0.5f }, [1], device).RequireGrad();

        var y = Tensor.Conv2d(x, w, b, padding: 6, dilation: 6);

        Assert.Equal(new[] { 1, 1, 4, 4 }, y.Shape);
        Assert.Equal(xs.Select(v => 5 * v + 0.5f).ToArray(), y.ToArray<float>());
        var gs = Enumerable.Range(0, 16).Select(v => (float)(v % 3)).ToArray();
        y.Backward(Tensor.FromArray(gs, [1, 1, 4, 4], device));
        Assert.Equal(gs.Select(g => 5 * g).ToArray(), x.Grad!.ToArray<float>());
        float centre = xs.Zip(gs, (a, g) => a * g).Sum();
        Assert.Equal(new[] { 0f, 0, 0, 0, centre, 0, 0, 0, 0 }, w.Grad!.ToArray<float>());
        Assert.Equal(new[] { gs.Sum() }, b.Grad!.ToArray<float>());
    }
}
