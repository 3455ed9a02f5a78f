using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// SsdMatcher against torchvision 0.14's SSDMatcher and ssd.pytorch's match: IoU ≥ 0.5 matches the
/// best box, below is background (-1), and then every ground-truth box takes its best default box.
/// Expected matches are worked out by hand from those rules.
/// </summary>
public class SsdMatcherTests
{
    private static long[] Match(float[,] values) =>
        new SsdMatcher().Match(Tensor.FromArray(values.Cast<float>().ToArray(), values.GetLength(0), values.GetLength(1))).ToArray<long>();

    [Fact]
    public void ThresholdIsInclusiveAndBelowIsBackground()
    {
        // Box 0's best default box is column 2 (0.9); columns 0 (exactly 0.5) and 1 (just below) are decided by the threshold.
        Assert.Equal([0, Matcher.BelowLowThreshold, 0, Matcher.BelowLowThreshold], Match(new float[,] { { 0.5f, 0.49999997f, 0.9f, 0.1f } }));
    }

    [Fact]
    public void EveryGroundTruthKeepsItsBestDefaultBoxBelowTheThreshold()
    {
        // Box 1 overlaps nothing by 0.5; its best (column 1, 0.3) is forced to it. Column 0 goes to box 0.
        Assert.Equal([0, 1, Matcher.BelowLowThreshold], Match(new float[,] { { 0.8f, 0.2f, 0.1f }, { 0.1f, 0.3f, 0.2f } }));
    }

    [Fact]
    public void TiesGoToTheFirstBestAndASharedBestGoesToTheLaterBox()
    {
        // Column 0 ties between boxes 0 and 1 at 0.6: the first (0), as torch.max(dim=0); the
        // forced matches (box 0: column 2, box 1: column 1) leave it alone.
        Assert.Equal([0, 1, 0], Match(new float[,] { { 0.6f, 0.3f, 0.9f }, { 0.6f, 0.7f, 0.1f } }));
        // The box's own best ties between columns 0 and 1 (0.3): only the first is forced.
        Assert.Equal([0, Matcher.BelowLowThreshold], Match(new float[,] { { 0.3f, 0.3f } }));
        // Both boxes' best is column 0: forced in box order, so box 1 ends with it, as
        // ssd.pytorch's loop `best_truth_idx[best_prior_idx[j]] = j` and torch's index_put on CPU.
        Assert.Equal([1, Matcher.BelowLowThreshold], Match(new float[,] { { 0.4f, 0.1f }, { 0.45f, 0.2f } }));
    }

    [Fact]
    public void SsdMatcherIsAMatcher()
    {
        Matcher matcher = new SsdMatcher(0.5);
        Assert.Equal(0.5, matcher.HighThreshold);
        Assert.Equal(0.5, matcher.LowThreshold);
        Assert.False(matcher.AllowLowQualityMatches);
    }
}
