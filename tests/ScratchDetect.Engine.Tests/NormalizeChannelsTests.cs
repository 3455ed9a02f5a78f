namespace ScratchDetect.Engine.Tests;

/// <summary>
/// <see cref="Tensor.NormalizeChannels"/> (torchvision's F.normalize in one pass) and
/// <see cref="Tensor.Create{T}"/> (a tensor written in place), each on every device.
/// </summary>
public class NormalizeChannelsTests
{
    /// <summary>
    /// Every value equals (x - mean[c]) / std[c] evaluated as two float32 operations, which is what
    /// torch does for `(image - mean[:, None, None]) / std[:, None, None]`: IEEE subtraction and
    /// division are correctly rounded, so the fused pass must match them exactly (tolerance 0).
    /// Plane sizes 1..67 cover every SIMD tail of 4, 8 and 16 lanes; 3 and 5 channels and a batch axis
    /// check the channel index of each row.
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void MatchesASubtractionFollowedByADivisionExactly(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var random = new Random(11);
        foreach (var (batch, channels) in new[] { (1, 3), (2, 5) })
            for (int plane = 1; plane <= 67; plane += 3)
            {
                var x = Enumerable.Range(0, batch * channels * plane).Select(_ => (float)random.NextDouble()).ToArray();
                var mean = Enumerable.Range(0, channels).Select(_ => (float)random.NextDouble()).ToArray();
                var std = Enumerable.Range(0, channels).Select(_ => 0.1f + (float)random.NextDouble()).ToArray();
                var expected = x.Select((v, i) => (v - mean[i / plane % channels]) / std[i / plane % channels]).ToArray();

                var image = Tensor.FromArray(x, [batch, channels, 1, plane], device);
                var y = image.NormalizeChannels(Tensor.FromArray(mean, [channels], device), Tensor.FromArray(std, [channels], device));

                Assert.Equal(device, y.Device);
                Assert.Equal(new[] { batch, channels, 1, plane }, y.Shape);
                Assert.Equal(expected, y.ToArray<float>());
            }
    }

    /// <summary>The input gradient is g / std[c] (d/dx of (x - m) / s); hand values with std 2 and 4.</summary>
    [Theory, OnCpu, OnCuda]
    public void TheInputGradientIsDividedByTheChannelsStd(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, [2, 1, 2], device).RequireGrad();
        var y = x.NormalizeChannels(Tensor.FromArray(new[] { 0.5f, -1f }, [2], device), Tensor.FromArray(new[] { 2f, 4f }, [2], device));
        y.Backward(Tensor.FromArray(new[] { 1f, 2f, 4f, 8f }, [2, 1, 2], device));
        Assert.Equal(new[] { 0.5f, 1f, 1f, 2f }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void RefusesMismatchedOrDifferentiableStatistics()
    {
        var image = Tensor.Zeros([3, 4, 4]);
        var error = Assert.Throws<ArgumentException>(() => image.NormalizeChannels(Tensor.Zeros([2]), Tensor.Ones([3])));
        Assert.Contains("mean [2] must be [3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => image.NormalizeChannels(Tensor.Zeros([3]), Tensor.Ones([3]).RequireGrad()));
        Assert.Contains("std is a constant", error.Message);
        error = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3, 4]).NormalizeChannels(Tensor.Zeros([3]), Tensor.Ones([3])));
        Assert.Contains("[..., C, H, W]", error.Message);
    }

    /// <summary>Create hands the fill the tensor's whole row-major extent and keeps what it wrote.</summary>
    [Theory, OnCpu, OnCuda]
    public void CreateKeepsWhatTheFillWrote(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        int seen = -1;
        var t = Tensor.Create<float>([2, 3], span =>
        {
            seen = span.Length;
            for (int i = 0; i < span.Length; i++) span[i] = i * 0.5f;
        }, device);
        Assert.Equal(6, seen);
        Assert.Equal(device, t.Device);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1.5f, 2f, 2.5f }, t.ToArray<float>());
    }
}
