using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// Matcher against torchvision 0.14's _utils.Matcher rules: best IoU ≥ high → that box; &lt; low →
/// -1 (BELOW_LOW_THRESHOLD); in between → -2 (BETWEEN_THRESHOLDS); with low-quality matches every
/// prediction tied for a ground-truth box's highest IoU gets its best box back. Each expected match
/// below is worked out from these rules and was confirmed once with torchvision 0.14's Matcher.
/// </summary>
public class MatcherTests
{
    private const long Below = Matcher.BelowLowThreshold, Between = Matcher.BetweenThresholds;

    private static Tensor Quality(float[,] values)
    {
        int m = values.GetLength(0), n = values.GetLength(1);
        return Tensor.FromArray(values.Cast<float>().ToArray(), m, n);
    }

    private static long[] Match(Matcher matcher, float[,] values) => matcher.Match(Quality(values)).ToArray<long>();

    [Fact]
    public void ThresholdsAreInclusiveHighAndExclusiveLow()
    {
        // Columns: 0.7 exactly (fg: >= high), 0.3 exactly (between: not < low), just below 0.3
        // (background), just below 0.7 (between), 1 and 0.
        var quality = new float[,]
        {
            { 0.7f, 0.3f, 0.29999998f, 0.1f, 1f, 0f },
            { 0.1f, 0.2f, 0.2f, 0.69999993f, 0.5f, 0f },
        };
        Assert.Equal([0, Between, Below, Between, 0, Below], Match(new Matcher(0.7, 0.3), quality));
    }

    [Fact]
    public void ThresholdsCompareInTheQualityDType()
    {
        // torch compares a float32 tensor with a Python float in float32: an IoU of 0.7f
        // (0.69999998807907...) is >= 0.7 there, so the prediction is matched, and 0.5f is a
        // match at the RoI heads' 0.5 / 0.5.
        Assert.Equal([0], Match(new Matcher(0.7, 0.3), new float[,] { { 0.7f } }));
        Assert.Equal([0, Below], Match(new Matcher(0.5, 0.5), new float[,] { { 0.5f, 0.49999997f } }));
    }

    [Fact]
    public void ForegroundTakesTheBestBoxAndTheFirstOfEqualBests()
    {
        var quality = new float[,]
        {
            { 0.8f, 0.9f, 0.75f },
            { 0.9f, 0.8f, 0.75f },
        };
        // Column 2 ties: torch.max(dim=0) on CPU returns the first index.
        Assert.Equal([1, 0, 0], Match(new Matcher(0.7, 0.3), quality));
    }

    [Fact]
    public void LowQualityMatchesRestoreEveryPredictionTiedForABoxsBest()
    {
        // Box 0's highest IoU is 0.4, reached by predictions 1 and 3 (a tie: both come back);
        // box 1's is 0.6 at prediction 2. Without low-quality matches all three are in between.
        // Prediction 0 (0.1 / 0.2) stays background.
        var quality = new float[,]
        {
            { 0.1f, 0.4f, 0.35f, 0.4f },
            { 0.2f, 0.3f, 0.6f, 0.05f },
        };
        Assert.Equal([Below, Between, Between, Between], Match(new Matcher(0.7, 0.3), quality));
        Assert.Equal([Below, 0, 1, 0], Match(new Matcher(0.7, 0.3, allowLowQualityMatches: true), quality));
    }

    [Fact]
    public void LowQualityMatchGivesThePredictionItsOwnBestBox()
    {
        // Prediction 0 is box 0's best (0.5), but box 1 overlaps it more (0.6): as torchvision
        // (matches[pred] = all_matches[pred]) it gets box 1, its own argmax.
        var quality = new float[,]
        {
            { 0.5f, 0.1f },
            { 0.6f, 0.65f },
        };
        Assert.Equal([1, 1], Match(new Matcher(0.7, 0.3, allowLowQualityMatches: true), quality));
    }

    [Fact]
    public void NoGroundTruthOrNoPredictionsIsAnError()
    {
        // torchvision raises for both ("No ground-truth boxes available ..." / "No proposal boxes
        // available ..."); the RPN and RoI heads handle images without boxes before matching.
        var noBoxes = Assert.Throws<ArgumentException>(() => new Matcher(0.7, 0.3).Match(Tensor.Zeros([0, 5])));
        Assert.Contains("no ground-truth boxes", noBoxes.Message);
        var noPredictions = Assert.Throws<ArgumentException>(() => new Matcher(0.7, 0.3).Match(Tensor.Zeros([2, 0])));
        Assert.Contains("[2, 0]", noPredictions.Message);
    }

    [Fact]
    public void LowAboveHighIsRejected() =>
        Assert.Throws<ArgumentException>(() => new Matcher(0.3, 0.7));
}
