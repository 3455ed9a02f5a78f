using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// Assigns each prediction (anchor or proposal) the ground-truth box it overlaps most, as
/// torchvision 0.14's <c>_utils.Matcher</c>: a best IoU of at least <see cref="HighThreshold"/>
/// gives that box's index, one below <see cref="LowThreshold"/> gives
/// <see cref="BelowLowThreshold"/> (-1, background) and one in between
/// <see cref="BetweenThresholds"/> (-2, ignored). With low-quality matches allowed (the RPN's
/// setting) every ground-truth box also keeps the predictions it overlaps most, ties included,
/// even below the high threshold. <see cref="SsdMatcher"/> extends it, as torchvision's SSDMatcher.
/// </summary>
public class Matcher
{
    /// <summary>The match of a prediction whose best IoU is below the low threshold.</summary>
    public const long BelowLowThreshold = -1;

    /// <summary>The match of a prediction whose best IoU lies between the thresholds.</summary>
    public const long BetweenThresholds = -2;

    /// <summary>A matcher with the given thresholds.</summary>
    public Matcher(double highThreshold, double lowThreshold, bool allowLowQualityMatches = false)
    {
        if (lowThreshold > highThreshold)
            throw new ArgumentException($"matcher: low_threshold {lowThreshold} must not exceed high_threshold {highThreshold}");
        HighThreshold = highThreshold;
        LowThreshold = lowThreshold;
        AllowLowQualityMatches = allowLowQualityMatches;
    }

    /// <summary>IoU from which a prediction is matched.</summary>
    public double HighThreshold { get; }

    /// <summary>IoU below which a prediction is background.</summary>
    public double LowThreshold { get; }

    /// <summary>Whether each ground-truth box keeps its best predictions whatever their IoU.</summary>
    public bool AllowLowQualityMatches { get; }

    /// <summary>
    /// The match (int64 [N]) of each of N predictions for an [M, N] IoU matrix of M ground-truth
    /// boxes against N predictions; M and N must be positive.
    /// </summary>
    public virtual Tensor Match(Tensor quality)
    {
        if (quality.Rank != 2 || quality.Numel == 0)
            throw new ArgumentException(quality.Rank == 2 && quality.Size(0) == 0
                ? "matcher: no ground-truth boxes available for one of the images"
                : $"matcher: expected a non-empty [M, N] quality matrix, got {Shapes.Format(quality.Shape)}");
        // Tensor ops on the quality's device. The thresholds are compared in the quality's dtype, as
        // torch compares a tensor with a Python float: an IoU of 0.7f (0.69999998...) is a match at 0.7.
        // Max(0) returns the first of equal maxima, as torch.max(dim=0) on CPU.
        var (best, bestIndex) = quality.Max(0);
        var matches = Tensor.Where(best.Lt(LowThreshold), bestIndex.FullLike(BelowLowThreshold),
            Tensor.Where(best.Lt(HighThreshold), bestIndex.FullLike(BetweenThresholds), bestIndex));
        if (!AllowLowQualityMatches) return matches;
        // Every prediction tied for some box's highest IoU gets its own best match back (which may
        // be another box with the same IoU), as set_low_quality_matches_.
        var highestPerBox = quality.Amax(1, keepDim: true);
        var tiedForABest = quality.Eq(highestPerBox).To(DType.Int64).Sum(0).Gt(0);
        return Tensor.Where(tiedForABest, bestIndex, matches);
    }
}
