using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// A detection model of any architecture, as the tools that run one see it: a module (so weights
/// load by name) that maps images to detections in evaluation mode.
/// </summary>
public abstract class Detector : Module
{
    /// <summary>Detections for float [3, H, W] RGB images in [0, 1], boxes in each image's own pixels (continuous frame).</summary>
    public abstract Detection[] Detect(IReadOnlyList<Tensor> images);
}
