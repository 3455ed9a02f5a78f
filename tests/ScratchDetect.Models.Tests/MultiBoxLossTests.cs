using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// MultiBoxLoss on small hand-made cases: 8 default boxes, 2 classes (background and one object).
/// Cross entropies are written out as ln(Σ e^logit) - logit[target] next to each case.
/// </summary>
public class MultiBoxLossTests
{
    private const int Boxes = 8;

    /// <summary>Default boxes [10k, 0, 10k + 10, 10] side by side.</summary>
    private static readonly Tensor DefaultBoxes = Tensor.FromArray(Enumerable.Range(0, Boxes).SelectMany(k => new float[] { 10 * k, 0, 10 * k + 10, 10 }).ToArray(), Boxes, 4);

    /// <summary>Logits [1, 8, 2] = (0, a_k) per box.</summary>
    private static Tensor Logits(params float[] objectLogits) =>
        Tensor.FromArray(objectLogits.SelectMany(a => new[] { 0f, a }).ToArray(), 1, objectLogits.Length, 2);

    /// <summary>Cross entropy of logits (0, a) for the background (target 0): ln(1 + e^a).</summary>
    private static double Background(double a) => Math.Log(1 + Math.Exp(a));

    /// <summary>Cross entropy of logits (0, a) for the object (target 1): ln(1 + e^a) - a.</summary>
    private static double Object(double a) => Math.Log(1 + Math.Exp(a)) - a;

    /// <summary>The target boxes are the default boxes at <paramref name="positives"/>, so each matches its own default box exactly.</summary>
    private static (Tensor Matches, DetectionTarget Target) Matched(params int[] positives)
    {
        var matches = Enumerable.Repeat(-1L, Boxes).ToArray();
        for (int i = 0; i < positives.Length; i++) matches[positives[i]] = i;
        var boxes = Tensor.Cat(positives.Select(p => DefaultBoxes.Narrow(0, p, 1)).Append(Tensor.Zeros([0, 4])).ToList(), 0);
        return (Tensor.FromArray(matches, Boxes), new DetectionTarget(boxes, Tensor.Full([positives.Length], 1, DType.Int64)));
    }

    private static Dictionary<string, Tensor> Compute(MultiBoxLoss loss, Tensor regression, Tensor logits, params (Tensor Matches, DetectionTarget Target)[] images) =>
        loss.Compute(regression, logits, DefaultBoxes, images.Select(i => i.Matches).ToList(), images.Select(i => i.Target).ToList());

    [Fact]
    public void HandComputedLossWithThreeToOneMining()
    {
        // Box 0 is the one positive; its target codes are 0 (the gt is its default box), and its
        // predicted codes (0.5, -2, 0, 0) cost smooth L1 0.5·0.5² + (2 - 0.5) = 1.625.
        var regression = Tensor.Zeros([1, Boxes, 4]);
        regression = Tensor.Cat([Tensor.FromArray(new[] { 0.5f, -2, 0, 0 }, 1, 1, 4), regression.Narrow(1, 1, Boxes - 1)], 1);
        float[] a = [(float)Math.Log(3), 1, 5, 2, 4, 3, 0, -1];
        var losses = Compute(new MultiBoxLoss(), regression, Logits(a), Matched(0));

        // 3 negatives per positive: the background boxes with the largest losses, a = 5, 4, 3. N = 1.
        double expected = Object(Math.Log(3)) + Background(5) + Background(4) + Background(3);
        Assert.Equal(1.625, losses["bbox_regression"].Item(), 5);
        Assert.Equal(expected, losses["classification"].Item(), 5);
        // With ratio 1, only the hardest negative (a = 5).
        Assert.Equal(Object(Math.Log(3)) + Background(5), Compute(new MultiBoxLoss(negativeToPositiveRatio: 1), regression, Logits(a), Matched(0))["classification"].Item(), 5);
    }

    [Fact]
    public void LossesAreDividedByTheBatchsPositives()
    {
        // Two images: two positives and one; N = 3 for both images' sums.
        float[] a = [1, 1, 0, 0, 0, 0, 0, 0];
        var logits = Tensor.Cat([Logits(a), Logits(a)], 0);
        var losses = Compute(new MultiBoxLoss(), Tensor.Zeros([2, Boxes, 4]), logits, Matched(0, 1), Matched(0));
        // Image 0: 2 positives (a = 1) + min(6, 6 negatives) background boxes (a = 0, ln 2 each);
        // image 1: 1 positive (a = 1) + 3 of its 7 negatives: box 1 (a = 1) and two a = 0 ones.
        double expected = (2 * Object(1) + 6 * Background(0) + Object(1) + Background(1) + 2 * Background(0)) / 3;
        Assert.Equal(expected, losses["classification"].Item(), 5);
        Assert.Equal(0, losses["bbox_regression"].Item(), 6);
    }

    [Fact]
    public void PositivesAreNeverCountedAgainAmongTheNegatives()
    {
        // 3 positives want 9 negatives, but there are 5: each of the 8 boxes counts exactly once
        // (torchvision's sum of cls_loss[fg] and cls_loss[bg] would add the positives twice).
        float[] a = [2, -1, 0.5f, 1, 2, 3, -2, 0];
        var losses = Compute(new MultiBoxLoss(), Tensor.Zeros([1, Boxes, 4]), Logits(a), Matched(0, 1, 2));
        double expected = (Object(2) + Object(-1) + Object(0.5) + Background(1) + Background(2) + Background(3) + Background(-2) + Background(0)) / 3;
        Assert.Equal(expected, losses["classification"].Item(), 5);
    }

    [Fact]
    public void NegativesAreClampedAtAllButOneBox()
    {
        // No positives, but at least 100 hard negatives wanted: clamped at 8 - 1 = 7, so the
        // easiest box (a = -1) is left out; N = max(1, 0) = 1.
        float[] a = [1, 5, 2, 4, 3, 0, -1, 0.5f];
        var loss = new MultiBoxLoss(minHardNegatives: 100);
        var losses = Compute(loss, Tensor.Zeros([1, Boxes, 4]), Logits(a), Matched());
        double expected = a.Where(v => v != -1).Sum(v => Background(v));
        Assert.Equal(expected, losses["classification"].Item(), 5);
    }

    [Fact]
    public void BatchWithoutObjectsGivesZeroLossesAndZeroGradients()
    {
        // The documented choice: N = max(1, 0) and no negatives without positives, so 0 and not 0/0.
        var regression = Tensor.Uniform([2, Boxes, 4], -1, 1, new Generator(0)).RequireGrad();
        var logits = Tensor.Uniform([2, Boxes, 2], -3, 3, new Generator(1)).RequireGrad();
        var losses = Compute(new MultiBoxLoss(), regression, logits, Matched(), Matched());
        Assert.Equal(0.0, losses["bbox_regression"].Item());
        Assert.Equal(0.0, losses["classification"].Item());
        (losses["bbox_regression"] + losses["classification"]).Backward();
        Assert.All(logits.Grad!.ToArray<float>(), g => Assert.Equal(0f, g));
        // With min_hard_negatives the background is trained on such a batch.
        var mined = Compute(new MultiBoxLoss(minHardNegatives: 2), regression.Detach(), logits.Detach(), Matched(), Matched());
        Assert.True(mined["classification"].Item() > 0);
    }

    [Fact]
    public void MiningIsPerImageAndEqualLossesAreTakenInBoxOrder()
    {
        // Image 0: one positive (box 7) and seven equal negatives: the first three (boxes 0, 1, 2)
        // are mined, as a stable sort. Image 1 has no positive, so none of its boxes is mined:
        // mining ranks each image's row on its own (the flat masking ssd.pytorch's reshape trap breaks).
        var loss = Tensor.Zeros([2, Boxes]) + 0.25;
        var positive = Tensor.FromArray(new[] { false, false, false, false, false, false, false, true, false, false, false, false, false, false, false, false }, 2, Boxes);
        var negatives = new MultiBoxLoss().HardNegatives(loss, positive).ToArray<bool>();
        Assert.Equal([true, true, true, false, false, false, false, false, false, false, false, false, false, false, false, false], negatives);
    }
}
