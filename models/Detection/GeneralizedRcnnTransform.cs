using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// The input side of a two-stage detector, as torchvision 0.14's
/// <c>GeneralizedRCNNTransform</c>: normalises each float [C, H, W] image in [0, 1] with a mean
/// and standard deviation, resizes it so its short side is the min size unless that makes the long
/// side exceed the max size (bilinear, the output size floor(side · scale) with the scale computed
/// in float32), rescales the target boxes with it, and pads the batch with zeros to a multiple of
/// <see cref="SizeDivisible"/>. In training the min size is drawn from <see cref="MinSizes"/>.
/// </summary>
public sealed class GeneralizedRcnnTransform(IReadOnlyList<int> minSizes, int maxSize, IReadOnlyList<float> imageMean, IReadOnlyList<float> imageStd, int sizeDivisible = 32)
{
    /// <summary>ImageNet's per-channel mean, torchvision's default.</summary>
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet's per-channel standard deviation, torchvision's default.</summary>
    public static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>Short-side sizes; training draws one per image, evaluation uses the last.</summary>
    public IReadOnlyList<int> MinSizes { get; } = minSizes.Count > 0 ? minSizes : throw new ArgumentException("transform: give at least one min size");

    /// <summary>The largest long side after resizing.</summary>
    public int MaxSize { get; } = maxSize;

    /// <summary>Per-channel mean subtracted from the images.</summary>
    public IReadOnlyList<float> ImageMean { get; } = imageMean;

    /// <summary>Per-channel standard deviation the images are divided by.</summary>
    public IReadOnlyList<float> ImageStd { get; } = imageStd;

    /// <summary>The padded batch's height and width are multiples of this.</summary>
    public int SizeDivisible { get; } = sizeDivisible;

    /// <summary>
    /// Normalises, resizes and batches <paramref name="images"/>; rescales the boxes of
    /// <paramref name="targets"/> when given. <paramref name="generator"/> draws the min size in
    /// training (required there when there is more than one).
    /// </summary>
    public (ImageList Images, IReadOnlyList<DetectionTarget>? Targets) Apply(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget>? targets, bool training, Generator? generator = null)
    {
        if (images.Count == 0) throw new ArgumentException("transform: no images given");
        var resized = new List<Tensor>(images.Count);
        var resizedTargets = targets is null ? null : new List<DetectionTarget>(targets.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (image.Rank != 3 || !image.DType.IsFloatingPoint() || image.Size(0) != ImageMean.Count)
                throw new ArgumentException($"transform: image {i} must be a floating-point [{ImageMean.Count}, H, W] tensor with values in [0, 1], not {image.DType.Name()} {Shapes.Format(image.Shape)}");
            int minSize = training && MinSizes.Count > 1
                ? MinSizes[(int)((generator ?? throw new ArgumentException("transform: training with several min sizes needs a generator")).NextDouble() * MinSizes.Count)]
                : MinSizes[^1];
            var output = Normalize(image).Then(normalized => Resize(normalized, minSize));
            resized.Add(output);
            if (targets is not null)
            {
                var t = targets[i];
                resizedTargets!.Add(t with { Boxes = ResizeBoxes(t.Boxes, (image.Size(1), image.Size(2)), (output.Size(1), output.Size(2))) });
            }
        }
        var sizes = resized.Select(r => (r.Size(1), r.Size(2))).ToList();
        var batch = Batch(resized);
        foreach (var r in resized) r.Dispose();
        return (new ImageList(batch, sizes), resizedTargets);
    }

    /// <summary>Maps boxes from the resized image back to the original image's pixels.</summary>
    public static Tensor ResizeBoxes(Tensor boxes, (int Height, int Width) from, (int Height, int Width) to)
    {
        // float32 ratios, as torch.tensor(s, float32) / torch.tensor(s_orig, float32).
        float ratioH = (float)to.Height / from.Height, ratioW = (float)to.Width / from.Width;
        var scale = Tensor.FromArray(new[] { ratioW, ratioH, ratioW, ratioH }, [4], boxes.Device).To(boxes.DType);
        return boxes * scale;
    }

    /// <summary>
    /// (image - mean) / std in one pass: a full-size photo gets its normalised copy and no centred
    /// intermediate, which is what bounds the transform's memory on an 8000 x 6000 input.
    /// </summary>
    private Tensor Normalize(Tensor image)
    {
        using var mean = Tensor.FromArray(ImageMean.ToArray(), [ImageMean.Count], image.Device).To(image.DType);
        using var std = Tensor.FromArray(ImageStd.ToArray(), [ImageStd.Count], image.Device).To(image.DType);
        return image.NormalizeChannels(mean, std);
    }

    private Tensor Resize(Tensor image, int minSize)
    {
        int height = image.Size(1), width = image.Size(2);
        // As _resize_image_and_masks: the scale is float32, and `size / tensor` is computed by torch
        // as size · (1 / tensor), which can land one float below the exact quotient: 160 / 200 gives
        // 0.79999995, so a 200 x 300 image becomes 159 x 239, not 160 x 240.
        float scale = Math.Min(minSize * (1f / Math.Min(height, width)), MaxSize * (1f / Math.Max(height, width)));
        using var batch = image.Unsqueeze(0);
        return Tensor.Interpolate(batch, scaleFactor: (scale, scale), mode: InterpolateMode.Bilinear, recomputeScaleFactor: true).Then(resized => resized.Squeeze(0));
    }

    private Tensor Batch(List<Tensor> images)
    {
        int height = RoundUp(images.Max(i => i.Size(1))), width = RoundUp(images.Max(i => i.Size(2)));
        var padded = images.Select(image =>
        {
            var right = Tensor.Zeros([image.Size(0), image.Size(1), width - image.Size(2)], image.DType, image.Device);
            var rows = Tensor.Cat([image, right], 2);
            var bottom = Tensor.Zeros([image.Size(0), height - image.Size(1), width], image.DType, image.Device);
            var full = Tensor.Cat([rows, bottom], 1);
            rows.Dispose();
            return full;
        }).ToList();
        var batch = Tensor.Stack(padded, 0);
        foreach (var p in padded) p.Dispose();
        return batch;
    }

    private int RoundUp(int size) => (int)Math.Ceiling((double)size / SizeDivisible) * SizeDivisible;
}
