using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

/// <summary>Faster R-CNN's checks on training targets, and training on images without boxes.</summary>
public class FasterRcnnValidationTests
{
    // A small model (ResNet-18, 64 x 64 inputs, few proposals and samples) keeps the one forward pass cheap.
    private static readonly Lazy<FasterRcnn> Model = new(() => FasterRcnn.ResNetFpn(ResNetDepth.ResNet18, numClasses: 3, minSizes: [64], maxSize: 64,
        rpn: new RpnOptions { PreNmsTopNTrain = 100, PostNmsTopNTrain = 50 }, roiHeads: new RoiHeadsOptions { BatchSizePerImage = 32 }));

    private static Tensor[] Images(int count) => Enumerable.Range(0, count).Select(i => Tensor.Full([3, 64, 64], 0.1 * (i + 1))).ToArray();

    private static DetectionTarget Target(float[] boxes, long[] labels) =>
        new(Tensor.FromArray(boxes, labels.Length, 4), Tensor.FromArray(labels, labels.Length));

    private static readonly DetectionTarget Valid = Target([4, 4, 40, 50], [1]);

    [Theory]
    [InlineData(10f, 5f, 10f, 20f, 1L, "no area")]                       // x2 == x1
    [InlineData(10f, 5f, 9f, 20f, 1L, "no area")]                        // x2 < x1
    [InlineData(10f, 5f, 20f, 5f, 1L, "no area")]                        // y2 == y1
    [InlineData(10f, 25f, 20f, 5f, 2L, "no area")]                       // y2 < y1
    [InlineData(float.NaN, 5f, 20f, 25f, 1L, "non-finite")]
    [InlineData(10f, 5f, float.PositiveInfinity, 25f, 1L, "non-finite")]
    [InlineData(10f, float.NegativeInfinity, 20f, 25f, 1L, "non-finite")]
    [InlineData(10f, 5f, 20f, 25f, 0L, "label 0, outside [1, 3)")]       // the background is not a target class
    [InlineData(10f, 5f, 20f, 25f, 3L, "label 3, outside [1, 3)")]       // num_classes = 3
    [InlineData(10f, 5f, 20f, 25f, -1L, "label -1, outside [1, 3)")]
    public void BadTargetNamesImageAndBox(float x1, float y1, float x2, float y2, long label, string problem)
    {
        // The bad box is box 1 of image 1.
        var targets = new[] { Valid, Target([1, 1, 30, 30, x1, y1, x2, y2], [2, label]) };
        var error = Assert.Throws<ArgumentException>(() => Model.Value.Train().Losses(Images(2), targets, new Generator(0)));
        Assert.Contains("image 1, box 1", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void MismatchedTargetShapesAreRejected()
    {
        var labelsAsFloat = new DetectionTarget(Tensor.FromArray(new[] { 1f, 1, 30, 30 }, 1, 4), Tensor.FromArray(new[] { 1f }, 1));
        Assert.Contains("target 0", Assert.Throws<ArgumentException>(() => Model.Value.Train().Losses(Images(1), [labelsAsFloat], new Generator(0))).Message);
        Assert.Throws<ArgumentException>(() => Model.Value.Train().Losses(Images(2), [Valid], new Generator(0)));
    }

    [Fact]
    public void ImagesWithoutBoxesAreTrainingSamples()
    {
        var empty = new DetectionTarget(Tensor.Zeros([0, 4]), Tensor.Zeros([0], DType.Int64));
        var model = Model.Value.Train();
        var mixed = model.Losses(Images(2), [empty, Valid], new Generator(1));
        Assert.All(mixed.Values, loss => Assert.True(double.IsFinite(loss.Item()), string.Join(", ", mixed.Select(kv => $"{kv.Key} {kv.Value.Item()}"))));

        // Only empty images: no positives anywhere, so both box losses are exactly 0 and the
        // classification losses are positive (every sample is background with a nonzero loss).
        var none = model.Losses(Images(1), [empty], new Generator(1));
        Assert.Equal(0.0, none["loss_box_reg"].Item());
        Assert.Equal(0.0, none["loss_rpn_box_reg"].Item());
        Assert.True(none["loss_classifier"].Item() > 0 && none["loss_objectness"].Item() > 0);
    }
}
