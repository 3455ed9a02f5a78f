using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// The balanced sampler's counts by torchvision 0.14's rule: positives (label ≥ 1)
/// min(count, ⌊batch · fraction⌋), then negatives (label 0) min(count, batch - positives); -1 never.
/// </summary>
public class BalancedPositiveNegativeSamplerTests
{
    /// <summary>Labels: <paramref name="positives"/> of classes 1..3 in turn, then negatives, then ignored (-1).</summary>
    private static Tensor Labels(int positives, int negatives, int ignored)
    {
        var labels = Enumerable.Range(0, positives).Select(i => (long)(1 + i % 3))
            .Concat(Enumerable.Repeat(0L, negatives))
            .Concat(Enumerable.Repeat(-1L, ignored)).ToArray();
        return Tensor.FromArray(labels, labels.Length);
    }

    private static int Count(Tensor mask) => mask.ToArray<bool>().Count(b => b);

    [Theory]
    [InlineData(1000, 1000, 100, 128, 128)] // plenty of both: 256 · 0.5 = 128 each
    [InlineData(10, 1000, 100, 10, 246)]    // few positives: negatives fill up to 256
    [InlineData(10, 20, 1000, 10, 20)]      // few of both: everything available, no ignored ones
    [InlineData(0, 5, 0, 0, 5)]
    public void CountsFollowBatchSizeAndFraction(int positives, int negatives, int ignored, int expectedPositive, int expectedNegative)
    {
        var labels = Labels(positives, negatives, ignored);
        var (pos, neg) = new BalancedPositiveNegativeSampler(256, 0.5).Sample(labels, new Generator(1));
        Assert.Equal(expectedPositive, Count(pos));
        Assert.Equal(expectedNegative, Count(neg));
        var values = labels.ToArray<long>();
        var posMask = pos.ToArray<bool>();
        var negMask = neg.ToArray<bool>();
        for (int i = 0; i < values.Length; i++)
        {
            if (posMask[i]) Assert.True(values[i] >= 1, $"label {values[i]} at {i} sampled as positive");
            if (negMask[i]) Assert.True(values[i] == 0, $"label {values[i]} at {i} sampled as negative");
        }
    }

    [Fact]
    public void FractionIsFlooredAsTorchvisionsInt()
    {
        // RoI heads: int(512 · 0.25) = 128 positives; int(10 · 0.33) = int(3.3) = 3.
        Assert.Equal(128, Count(new BalancedPositiveNegativeSampler(512, 0.25).Sample(Labels(1000, 1000, 0), new Generator(2)).Positive));
        var (pos, neg) = new BalancedPositiveNegativeSampler(10, 0.33).Sample(Labels(100, 100, 0), new Generator(2));
        Assert.Equal(3, Count(pos));
        Assert.Equal(7, Count(neg));
    }

    [Fact]
    public void SameSeedSameSampleOtherSeedOtherSample()
    {
        var labels = Labels(1000, 1000, 100);
        var sampler = new BalancedPositiveNegativeSampler(256, 0.5);
        var (a, an) = sampler.Sample(labels, new Generator(42));
        var (b, bn) = sampler.Sample(labels, new Generator(42));
        var (c, _) = sampler.Sample(labels, new Generator(43));
        Assert.Equal(a.ToArray<bool>(), b.ToArray<bool>());
        Assert.Equal(an.ToArray<bool>(), bn.ToArray<bool>());
        // 128 of 1000 positives drawn twice: the same subset has probability 1 / C(1000, 128).
        Assert.NotEqual(a.ToArray<bool>(), c.ToArray<bool>());
    }

    [Fact]
    public void FloatLabelsWork()
    {
        // The RPN passes float labels (1, 0, -1).
        var labels = Tensor.FromArray(new[] { 1f, 0f, -1f, 1f, 0f }, 5);
        var (pos, neg) = new BalancedPositiveNegativeSampler(256, 0.5).Sample(labels, new Generator(3));
        Assert.Equal([true, false, false, true, false], pos.ToArray<bool>());
        Assert.Equal([false, true, false, false, true], neg.ToArray<bool>());
    }
}
