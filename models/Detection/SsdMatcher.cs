using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// SSD's matching, as torchvision 0.14's <c>SSDMatcher</c> (and ssd.pytorch's <c>match</c>): a
/// <see cref="Matcher"/> with one threshold (0.5: an IoU of at least it matches, anything below is
/// background), after which every ground-truth box takes the default box it overlaps most, even
/// below the threshold, so that no object goes unmatched. A default box that is the best of two
/// ground-truth boxes goes to the later one, as torch's index_put on CPU and ssd.pytorch's loop.
/// </summary>
public sealed class SsdMatcher(double threshold = 0.5) : Matcher(threshold, threshold)
{
    /// <inheritdoc/>
    public override Tensor Match(Tensor quality)
    {
        using var matches = base.Match(quality);
        // The first of equal maxima, as torch.max(dim=1) on CPU.
        using var bestPrediction = quality.Argmax(1);
        // matches[bestPrediction[gt]] = gt for every ground-truth box, on the quality's device.
        using var boxIndices = Tensor.Arange(bestPrediction.Size(0), DType.Int64, quality.Device);
        return matches.IndexPut(0, bestPrediction, boxIndices);
    }
}
