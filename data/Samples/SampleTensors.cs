using ScratchDetect.Data.Imaging;
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
        var data = image.Data;
        return Tensor.Create<float>([3, image.Height, image.Width], chw =>
        {
            for (int i = 0; i < plane; i++)
                for (int c = 0; c < 3; c++)
                    chw[c * plane + i] = data[i * 3 + c];
        });
    }

    /// <summary>
    /// A float32 (3, H, W) tensor straight from 8-bit RGB, each value divided by
    /// <paramref name="divisor"/> (255 gives torchvision's [0, 1] input). One pass, written straight
    /// into the tensor: the same values as <see cref="FloatImage.FromRgb"/>, <see cref="Image(FloatImage)"/>
    /// and a tensor division, without their two full-size intermediate copies.
    /// </summary>
    public static Tensor Image(RgbImage image, float divisor = 1f)
    {
        int plane = image.Width * image.Height;
        var pixels = image.Pixels;
        return Tensor.Create<float>([3, image.Height, image.Width], chw =>
        {
            for (int c = 0; c < 3; c++)
            {
                var channel = chw.Slice(c * plane, plane);
                for (int i = 0; i < plane; i++) channel[i] = pixels[i * 3 + c] / divisor;
            }
        });
    }

    /// <summary>The boxes as float32 (N, 4) and the 1-based labels as int64 (N).</summary>
    public static (Tensor Boxes, Tensor Labels) Targets(DetectionTargets targets) =>
        (Tensor.FromArray(targets.Boxes, targets.Count, 4), Tensor.FromArray(targets.Labels.Select(l => (long)l).ToArray(), targets.Count));
}
