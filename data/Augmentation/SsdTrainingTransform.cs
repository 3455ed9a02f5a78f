using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Augmentation;

/// <summary>
/// <see cref="SsdAugmentation"/>'s training recipe (PhotometricDistort, Expand, RandomSampleCrop,
/// RandomMirror) in the form <c>Detector.Losses</c> takes: boxes stay in the augmented image's pixels
/// and values are scaled to [0, 1], because our <c>Ssd</c> resizes and normalises inside the model
/// (as torchvision's does) instead of in the data pipeline (as ssd.pytorch's does, whose
/// ToPercentCoords, Resize and SubtractMeans are therefore left out). Photometric distortion can push
/// values past 0..255; they are clamped, as torchvision's RandomPhotometricDistort clamps.
/// Without <c>train</c> the sample is only scaled.
/// </summary>
/// <param name="train">Whether to augment (training) or only scale (evaluation).</param>
/// <param name="expand">Whether training includes Expand (zoom out onto a canvas up to 4x larger).
/// It teaches small objects but shrinks every object; for data whose objects are already small it can be left out.</param>
/// <param name="crop">Whether training includes RandomSampleCrop (zoom in on part of the image). Left out, training sees
/// whole images with photometric distortion and mirroring only: milder, which suits plentiful data whose objects
/// already span the sizes the default boxes cover.</param>
public sealed class SsdTrainingTransform(bool train, bool expand = true, bool crop = true) : ISampleTransform
{
    /// <inheritdoc />
    public DetectionSample Apply(DetectionSample sample, Random rng)
    {
        var image = sample.Image;
        var targets = sample.Targets;
        if (train)
        {
            image = SsdAugmentation.PhotometricDistort(image, rng);
            if (expand) (image, targets) = SsdAugmentation.Expand(image, targets, rng);
            if (crop) (image, targets) = SsdAugmentation.RandomSampleCrop(image, targets, rng);
            (image, targets) = SsdAugmentation.RandomMirror(image, targets, rng);
        }
        return sample with { Image = ImageOps.ToUnitRange(image, clamp: train), Targets = targets };
    }
}
