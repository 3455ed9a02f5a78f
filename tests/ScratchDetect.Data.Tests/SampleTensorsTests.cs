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
