using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>SsdMatcher's forced matches are an index_put on the quality's device (no host copy); expected matches worked out by hand.</summary>
public class SsdMatcherDeviceTests
{
    [Theory, OnCpu, OnCuda]
    public void ForcedMatchesAreWrittenOnTheQualitysDevice(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // 3 boxes x 5 default boxes. By threshold only column 0 matches (box 0, 0.8); every other
        // column is below 0.5 and background. Forced: box 0's best is column 0; boxes 1 and 2 both have
        // column 4 as their best (0.3 and 0.4), written in box order, so box 2 ends with it.
        var quality = Tensor.FromArray(new[]
        {
            0.8f, 0.1f, 0.0f, 0.2f, 0.1f,
            0.1f, 0.0f, 0.2f, 0.1f, 0.3f,
            0.0f, 0.1f, 0.0f, 0.15f, 0.4f,
        }, [3, 5], device);
        var matches = new SsdMatcher().Match(quality);
        Assert.Equal(device, matches.Device);
        Assert.Equal([0L, Matcher.BelowLowThreshold, Matcher.BelowLowThreshold, Matcher.BelowLowThreshold, 2], matches.To(Device.Cpu).ToArray<long>());
    }
}
