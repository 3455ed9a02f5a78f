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

    /// <summary>For one image's labels (int64 or float [N]), the masks (bool [N]) of the sampled positives and negatives, on the labels' device.</summary>
    public (Tensor Positive, Tensor Negative) Sample(Tensor labels, Generator generator)
    {
        var positives = labels.Ge(1).Nonzero().Reshape(-1);
        var negatives = labels.Eq(0).Nonzero().Reshape(-1);
        int numPositive = Math.Min(positives.Size(0), (int)(BatchSizePerImage * PositiveFraction));
        int numNegative = Math.Min(negatives.Size(0), BatchSizePerImage - numPositive);
        int length = labels.Size(0);
        return (Mask(length, positives, numPositive, generator), Mask(length, negatives, numNegative, generator));
    }

    private static Tensor Mask(int length, Tensor candidates, int count, Generator generator)
    {
        var device = candidates.Device;
        // The one inherent host step: the seeded permutation of the candidates, drawn once per image
        // from the Generator (its state lives on the host); the selection itself stays on the device.
        var order = Tensor.Randperm(candidates.Size(0), generator).To(device).Narrow(0, 0, count);
        var chosen = candidates.IndexSelect(0, order);
        return Tensor.Zeros([length], DType.Int64, device).IndexAdd(0, chosen, Tensor.Ones([count], DType.Int64, device)).Gt(0);
    }
}
