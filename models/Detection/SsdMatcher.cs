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
        var matches = base.Match(quality).ToArray<long>();
        // The first of equal maxima, as torch.max(dim=1) on CPU.
        var bestPrediction = quality.Argmax(1).ToArray<long>();
        // One write per ground-truth box (a handful per image), on the host.
        for (int gt = 0; gt < bestPrediction.Length; gt++) matches[bestPrediction[gt]] = gt;
        return Tensor.FromArray(matches, matches.Length);
    }
}
