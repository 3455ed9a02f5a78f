using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>RoI heads edge cases.</summary>
public class RoiHeadsTests
{
    [Fact]
    public void ImageWithoutProposalsGetsNoDetections()
    {
        // torchvision returns empty boxes, labels and scores for an image whose proposals were all
        // removed (e.g. by the RPN's min size); the other image in the batch is unaffected.
        var heads = new RoiHeads(8, 3, new RoiHeadsOptions { ScoreThresh = 0 }, new Generator(0));
        var features = Enumerable.Range(2, 4).Select(k => Tensor.Ones([2, 8, 256 >> k, 256 >> k])).ToList();
        var proposals = new[] { Tensor.Zeros([0, 4]), Tensor.FromArray(new[] { 10f, 10f, 100f, 120f }, 1, 4) };
        var detections = heads.Detect(features, proposals, [(256, 256), (256, 256)]);
        Assert.Equal([0, 4], detections[0].Boxes.Shape);
        Assert.Equal([0], detections[0].Labels.Shape);
        Assert.Equal([0], detections[0].Scores.Shape);
        // One proposal, two foreground classes, score threshold 0: a detection per class.
        Assert.Equal([2, 4], detections[1].Boxes.Shape);

        var none = heads.Detect(features, [Tensor.Zeros([0, 4]), Tensor.Zeros([0, 4])], [(256, 256), (256, 256)]);
        Assert.All(none, d => Assert.Equal(0, d.Boxes.Size(0)));
    }
}
