using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// Picks a training mini-batch of predictions per image with a fixed share of positives, as
/// torchvision 0.14's <c>_utils.BalancedPositiveNegativeSampler</c>: at most
/// batchSize·positiveFraction positives (labels ≥ 1), then negatives (label 0) up to batchSize;
/// label -1 is never picked. Which ones are picked is random (a permutation from the seeded
/// <see cref="Generator"/>; torch.randperm draws other numbers, so only configurations where every
/// candidate is kept reproduce torchvision exactly).
/// </summary>
public sealed class BalancedPositiveNegativeSampler(int batchSizePerImage, double positiveFraction)
{
    /// <summary>Predictions sampled per image.</summary>
    public int BatchSizePerImage { get; } = batchSizePerImage;

    /// <summary>The largest share of positives in a batch.</summary>
    public double PositiveFraction { get; } = positiveFraction;

    /// <summary>For one image's labels (int64 or float [N]), the masks (bool [N]) of the sampled positives and negatives.</summary>
    public (Tensor Positive, Tensor Negative) Sample(Tensor labels, Generator generator)
    {
        var values = labels.To(DType.Float64).ToArray<double>();
        var positives = Enumerable.Range(0, values.Length).Where(i => values[i] >= 1).ToArray();
        var negatives = Enumerable.Range(0, values.Length).Where(i => values[i] == 0).ToArray();
        int numPositive = Math.Min(positives.Length, (int)(BatchSizePerImage * PositiveFraction));
        int numNegative = Math.Min(negatives.Length, BatchSizePerImage - numPositive);
        return (Mask(values.Length, positives, numPositive, generator), Mask(values.Length, negatives, numNegative, generator));
    }

    private static Tensor Mask(int length, int[] candidates, int count, Generator generator)
    {
        var mask = new bool[length];
        var order = Tensor.Randperm(candidates.Length, generator).ToArray<long>();
        for (int i = 0; i < count; i++) mask[candidates[order[i]]] = true;
        return Tensor.FromArray(mask, length);
    }
}
