using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// A detection model of any architecture, as the tools that run one see it: a module (so weights
/// load by name) that maps images to detections in evaluation mode and images with their targets
/// to named losses in training mode (the one entry point a training loop needs).
/// </summary>
public abstract class Detector : Module
{
    /// <summary>
    /// The training losses by name (torchvision's names, e.g. "loss_classifier" or "bbox_regression")
    /// for float [3, H, W] RGB images in [0, 1] and their targets (boxes in the images' pixels);
    /// images without boxes are valid. <paramref name="generator"/> drives every random choice
    /// (samplers, sizes), so a seeded run repeats. Needs training mode.
    /// </summary>
    public abstract Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Generator generator);

    /// <summary>Detections for float [3, H, W] RGB images in [0, 1], boxes in each image's own pixels (continuous frame).</summary>
    public abstract Detection[] Detect(IReadOnlyList<Tensor> images);
}
