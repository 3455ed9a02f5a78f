using ScratchDetect.Engine;

namespace ScratchDetect.Data.Samples;

/// <summary>
/// The one place where data-pipeline samples become engine tensors: images go from the
/// pipeline's HWC layout to the models' CHW layout, boxes to float32 (N, 4), labels to int64 (N).
/// </summary>
public static class SampleTensors
{
    /// <summary>A float32 (3, H, W) tensor from an HWC image, values unchanged.</summary>
    public static Tensor Image(FloatImage image)
    {
        int plane = image.Width * image.Height;
        var chw = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                chw[c * plane + i] = image.Data[i * 3 + c];
        return Tensor.FromArray(chw, 3, image.Height, image.Width);
    }

    /// <summary>The boxes as float32 (N, 4) and the 1-based labels as int64 (N).</summary>
    public static (Tensor Boxes, Tensor Labels) Targets(DetectionTargets targets) =>
        (Tensor.FromArray(targets.Boxes, targets.Count, 4), Tensor.FromArray(targets.Labels.Select(l => (long)l).ToArray(), targets.Count));
}
