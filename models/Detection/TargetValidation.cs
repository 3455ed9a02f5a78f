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
        // Checked with tensor ops on the targets' device; only the first offending box reaches the host, for the message.
        var boxes = target.Boxes.Detach();
        var nonFinite = boxes.Ne(boxes).Or(boxes.Abs().Eq(double.PositiveInfinity)).To(DType.Int64).Sum(1).Gt(0);
        var noArea = boxes.Narrow(1, 2, 1).Le(boxes.Narrow(1, 0, 1)).Or(boxes.Narrow(1, 3, 1).Le(boxes.Narrow(1, 1, 1))).Reshape(-1);
        var badLabel = target.Labels.Lt(1).Or(target.Labels.Ge(numClasses));
        var bad = nonFinite.Or(noArea).Or(badLabel).Nonzero();
        if (bad.Size(0) == 0) return;
        int k = (int)bad.Narrow(0, 0, 1).Item();
        var box = boxes.Narrow(0, k, 1).To(DType.Float64).ToArray<double>();
        long label = (long)target.Labels.Narrow(0, k, 1).Item();
        string shown = $"[{string.Join(", ", box.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}]";
        if (box.Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has a non-finite coordinate");
        if (box[2] <= box[0] || box[3] <= box[1])
            throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has no area (needs x2 > x1 and y2 > y1)");
        throw new ArgumentException($"{detector}: image {image}, box {k} {shown} has label {label}, outside [1, {numClasses})");
    }
}
