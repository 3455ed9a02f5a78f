using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Augmentation;

/// <summary>
/// torchvision's detection reference recipe for Faster R-CNN: for training, a horizontal flip with probability
/// 0.5 (boxes mirrored in the continuous frame, x1' = W - x2); then pixel values scaled to [0, 1]
/// (ConvertImageDtype). Resizing and normalisation happen inside the model, as in torchvision.
/// </summary>
/// <param name="train">Whether to flip at random (training) or not at all (evaluation).</param>
/// <param name="flipProbability">The chance of a flip when training.</param>
public sealed class FasterRcnnTransform(bool train, double flipProbability = 0.5) : ISampleTransform
{
    /// <inheritdoc />
    public DetectionSample Apply(DetectionSample sample, Random rng)
    {
        var image = sample.Image;
        var targets = sample.Targets;
        // torchvision: `if torch.rand(1) < self.p: flip`.
        if (train && rng.NextDouble() < flipProbability)
        {
            image = ImageOps.FlipHorizontal(image);
            targets = targets with { Boxes = ImageOps.FlipBoxesHorizontal(targets.Boxes, image.Width) };
        }
        return sample with { Image = ImageOps.ToUnitRange(image), Targets = targets };
    }
}
