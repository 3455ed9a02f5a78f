using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Augmentation;

/// <summary>A (possibly random) transform of an image and its boxes.</summary>
public interface ISampleTransform
{
    /// <summary>
    /// Returns the transformed sample; <paramref name="sample"/> is left unchanged. All randomness comes from
    /// <paramref name="rng"/>, so the same seed gives the same result.
    /// </summary>
    DetectionSample Apply(DetectionSample sample, Random rng);
}
