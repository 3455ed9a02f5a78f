using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>The ground truth of one training image: boxes (float [K, 4], x1 y1 x2 y2 in pixels) and their labels (int64 [K], 1..classes-1). K may be 0.</summary>
public sealed record DetectionTarget(Tensor Boxes, Tensor Labels);

/// <summary>The detections of one image: boxes (float32 [D, 4] in the image's pixels), labels (int64 [D]) and scores (float32 [D]), by decreasing score.</summary>
public sealed record Detection(Tensor Boxes, Tensor Labels, Tensor Scores);

/// <summary>
/// A batch of images padded to one size (float [N, C, H, W]) with the size of each image before
/// padding, as torchvision's ImageList.
/// </summary>
public sealed record ImageList(Tensor Tensors, IReadOnlyList<(int Height, int Width)> ImageSizes);
