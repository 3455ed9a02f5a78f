using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// SSD's test-time (and training-time input) transform: every float [3, H, W] RGB image in [0, 1]
/// becomes a fixed <see cref="Size"/> x <see cref="Size"/> input, and target boxes are rescaled with it.
/// <list type="bullet">
/// <item><see cref="SsdPreprocessing.Torchvision"/>, as torchvision's GeneralizedRCNNTransform with
/// fixed_size: (image - mean) / std with mean (0.48235, 0.45882, 0.40784) and std 1/255, then a
/// bilinear resize (align_corners false);</item>
/// <item><see cref="SsdPreprocessing.SsdPytorch"/>, as ssd.pytorch's BaseTransform: the image times 255,
/// channels in BGR order, the bilinear resize, minus (104, 117, 123). BaseTransform resizes the
/// uint8 image with OpenCV (rounding each resized pixel to an integer) where this resizes the float
/// image: the inputs differ by up to half a grey level, well inside what a trained network ignores.</item>
/// </list>
/// Detections are mapped back with <see cref="GeneralizedRcnnTransform.ResizeBoxes"/>.
/// </summary>
public sealed class SsdTransform(int size, SsdPreprocessing preprocessing)
{
    /// <summary>torchvision's ssd300_vgg16 image mean (RGB, in [0, 1]).</summary>
    public static readonly float[] TorchvisionMean = [0.48235f, 0.45882f, 0.40784f];

    /// <summary>torchvision's ssd300_vgg16 image std: 1/255, which undoes the [0, 1] scaling.</summary>
    public static readonly float[] TorchvisionStd = [1f / 255, 1f / 255, 1f / 255];

    /// <summary>ssd.pytorch's mean in its BGR channel order (its VOC means: B 104, G 117, R 123).</summary>
    public static readonly float[] SsdPytorchMeanBgr = [104f, 117f, 123f];

    /// <summary>The side of the square network input.</summary>
    public int Size { get; } = size > 0 ? size : throw new ArgumentException($"ssd_transform: the size must be positive, got {size}");

    /// <summary>The input convention.</summary>
    public SsdPreprocessing Preprocessing { get; } = preprocessing;

    /// <summary>The batch [N, 3, Size, Size] and, when given, the targets with boxes in its pixels.</summary>
    public (ImageList Images, IReadOnlyList<DetectionTarget>? Targets) Apply(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget>? targets)
    {
        if (images.Count == 0) throw new ArgumentException("ssd_transform: no images given");
        var inputs = new List<Tensor>(images.Count);
        var resized = targets is null ? null : new List<DetectionTarget>(targets.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (image.Rank != 3 || !image.DType.IsFloatingPoint() || image.Size(0) != 3)
                throw new ArgumentException($"ssd_transform: image {i} must be a floating-point [3, H, W] RGB tensor with values in [0, 1], not {image.DType.Name()} {Shapes.Format(image.Shape)}");
            inputs.Add(Preprocess(image));
            if (resized is not null)
                resized.Add(targets![i] with { Boxes = GeneralizedRcnnTransform.ResizeBoxes(targets[i].Boxes, (image.Size(1), image.Size(2)), (Size, Size)) });
        }
        var batch = Tensor.Stack(inputs, 0);
        foreach (var input in inputs) input.Dispose();
        return (new ImageList(batch, inputs.Select(_ => (Size, Size)).ToList()), resized);
    }

    private Tensor Preprocess(Tensor image)
    {
        switch (Preprocessing)
        {
            case SsdPreprocessing.Torchvision:
                return image.NormalizeChannels(Vector(TorchvisionMean, image), Vector(TorchvisionStd, image)).Then(Resize);
            case SsdPreprocessing.SsdPytorch:
                using (var bgr = Tensor.FromArray(new long[] { 2, 1, 0 }, [3], image.Device))
                using (var mean = Column(SsdPytorchMeanBgr, image))
                    return (image * 255).Then(x => x.IndexSelect(0, bgr)).Then(Resize).Then(x => x - mean);
            default:
                throw new ArgumentOutOfRangeException(nameof(Preprocessing));
        }
    }

    private Tensor Resize(Tensor image)
    {
        using var batch = image.Unsqueeze(0);
        return Tensor.Interpolate(batch, size: (Size, Size), mode: InterpolateMode.Bilinear).Then(resized => resized.Squeeze(0));
    }

    private static Tensor Column(float[] values, Tensor image) => Tensor.FromArray(values, [3, 1, 1], image.Device).To(image.DType);

    /// <summary>A per-channel constant [3] on the image's device, in its dtype.</summary>
    private static Tensor Vector(float[] values, Tensor image) => Tensor.FromArray(values, [3], image.Device).To(image.DType);
}
