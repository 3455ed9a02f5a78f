using System.Globalization;
using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// The checks every detector runs on its training targets before using them, so that a bad box is
/// reported by image and box rather than surfacing later as a NaN loss (the log of a negative width).
/// </summary>
public static class TargetValidation
{
    /// <summary>
    /// Rejects a target count that differs from the image count, targets that are not boxes [K, 4]
    /// with int64 labels [K], boxes with x2 ≤ x1 or y2 ≤ y1 or a non-finite coordinate, and labels
    /// outside [1, <paramref name="numClasses"/>). Errors start with <paramref name="detector"/>.
    /// </summary>
    public static void Validate(string detector, int imageCount, IReadOnlyList<DetectionTarget> targets, int numClasses)
    {
        if (targets.Count != imageCount) throw new ArgumentException($"{detector}: {imageCount} images but {targets.Count} targets");
        for (int i = 0; i < targets.Count; i++) Validate(detector, i, targets[i], numClasses);
    }

    private static void Validate(string detector, int image, DetectionTarget target, int numClasses)
    {
        if (target.Boxes.Rank != 2 || target.Boxes.Size(1) != 4 || target.Labels.DType != DType.Int64 || target.Labels.Rank != 1 || target.Labels.Size(0) != target.Boxes.Size(0))
            throw new ArgumentException($"{detector}: target {image} must have boxes [K, 4] and int64 labels [K], got {Shapes.Format(target.Boxes.Shape)} and {target.Labels.DType.Name()} {Shapes.Format(target.Labels.Shape)}");
        var boxes = target.Boxes.To(DType.Float64).ToArray<double>();
        var labels = target.Labels.ToArray<long>();
        for (int k = 0; k < labels.Length; k++)
        {
            var box = boxes.AsSpan(4 * k, 4).ToArray();
            string shown = $"[{string.Join(", ", box.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}]";
            if (box.Any(v => !double.IsFinite(v)))
                throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has a non-finite coordinate");
            if (box[2] <= box[0] || box[3] <= box[1])
                throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has no area (needs x2 > x1 and y2 > y1)");
            if (labels[k] < 1 || labels[k] >= numClasses)
                throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has label {labels[k]}, outside [1, {numClasses})");
        }
    }
}
