using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Tests;

public class SampleTensorsTests
{
    [Fact]
    public void ImageBecomesChannelsFirst()
    {
        // A 2x1 image: pixel (0,0) = (1,2,3), pixel (1,0) = (4,5,6). CHW puts each channel's row together.
        var image = new FloatImage(2, 1, [1, 2, 3, 4, 5, 6]);
        var tensor = SampleTensors.Image(image);
        Assert.Equal([3, 1, 2], tensor.Shape);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, tensor.ToArray<float>());
    }

    /// <summary>
    /// The one-pass conversion `detect` uses must give the very bits of the path it replaced
    /// (FloatImage, CHW tensor, then the engine's tensor division by 255.0, which torchvision's
    /// ConvertImageDtype matches): checked for all 256 byte values in every channel.
    /// </summary>
    [Fact]
    public void RgbImageDividedInOnePassMatchesTheTensorDivisionBitForBit()
    {
        var pixels = Enumerable.Range(0, 256 * 3).Select(i => (byte)((i / 3 + 85 * (i % 3)) % 256)).ToArray();
        var rgb = new Data.Imaging.RgbImage(16, 16, pixels);
        var expected = (SampleTensors.Image(FloatImage.FromRgb(rgb)) / 255.0).ToArray<float>();
        var actual = SampleTensors.Image(rgb, divisor: 255f);
        Assert.Equal([3, 16, 16], actual.Shape);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.ToArray<float>().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void TargetsBecomeBoxAndLabelTensors()
    {
        var targets = new DetectionTargets([0, 1, 10, 11, 5, 5, 6, 7], [3, 1], [false, true]);
        var (boxes, labels) = SampleTensors.Targets(targets);
        Assert.Equal([2, 4], boxes.Shape);
        Assert.Equal(new float[] { 0, 1, 10, 11, 5, 5, 6, 7 }, boxes.ToArray<float>());
        Assert.Equal(new long[] { 3, 1 }, labels.ToArray<long>());
    }

    [Fact]
    public void NoObjectsGiveEmptyTensors()
    {
        var (boxes, labels) = SampleTensors.Targets(new DetectionTargets([], [], []));
        Assert.Equal([0, 4], boxes.Shape);
        Assert.Equal([0], labels.Shape);
    }
}
