using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.NN;

/// <summary>
/// The fixed per-channel transform of an inference-time batch norm,
/// y = (x - mean) / sqrt(variance + eps) · gamma + beta (gamma and beta optional).
/// </summary>
internal sealed record NormStatistics(Tensor? Gamma, Tensor? Beta, Tensor Mean, Tensor Variance, double Eps)
{
    /// <summary>The tensors the transform is made of.</summary>
    public IEnumerable<Tensor> Tensors => new[] { Gamma, Beta, Mean, Variance }.OfType<Tensor>();
}

/// <summary>
/// A convolution's weight and bias with the batch norm after it folded in: with
/// s = gamma / sqrt(variance + eps) per output channel o, norm(conv(x, W) + b) = conv(x, W') + b' for
/// W'[o] = W[o]·s[o] and b'[o] = (b[o] - mean[o])·s[o] + beta[o]. One pass over the output less per
/// convolution (Faster R-CNN's ResNet50 has a FrozenBatchNorm2d after every one). The scale and
/// bias are computed in float64, the weights in their own dtype. The result differs from the
/// unfolded layers only by rounding: there, conv(x, W) is rounded before it is scaled.
/// </summary>
internal sealed class NormFold : IDisposable
{
    private NormFold(Tensor weight, Tensor bias)
    {
        Weight = weight;
        Bias = bias;
    }

    /// <summary>W', [O, C/groups, kh, kw].</summary>
    public Tensor Weight { get; }

    /// <summary>b', [O].</summary>
    public Tensor Bias { get; }

    /// <summary>The statistics of a norm layer that can be folded (a FrozenBatchNorm2d, an evaluation-mode BatchNorm2d with running statistics), or null.</summary>
    public static NormStatistics? Statistics(Layer norm) => norm switch
    {
        FrozenBatchNorm2d frozen => new(frozen.Weight, frozen.Bias, frozen.RunningMean, frozen.RunningVar, frozen.Eps),
        BatchNorm2d { Training: false, RunningMean: { } mean, RunningVar: { } variance } batchNorm =>
            new(batchNorm.Weight, batchNorm.Bias, mean, variance, batchNorm.Eps),
        _ => null,
    };

    /// <summary>Folds <paramref name="statistics"/> into <paramref name="weight"/> and the optional <paramref name="bias"/>.</summary>
    public static NormFold Fold(Tensor weight, Tensor? bias, NormStatistics statistics)
    {
        int outChannels = weight.Shape[0];
        if (statistics.Mean.Shape[0] != outChannels)
            throw new ArgumentException($"conv2d + batch norm: the norm has {statistics.Mean.Shape[0]} channels but the convolution {outChannels} outputs");
        using var _ = GradMode.NoGrad();
        var dtype = weight.DType;
        // The per-channel vectors in float64; the weight is multiplied in its own dtype by the scale
        // rounded to it: one rounding more per weight than a float64 product, but no float64 copy of
        // every weight (which the buffer pool would then keep).
        Tensor Wide(Tensor t) => t.To(DType.Float64);
        var scale = 1.0 / (Wide(statistics.Variance) + statistics.Eps).Sqrt();
        if (statistics.Gamma is not null) scale = Wide(statistics.Gamma) * scale;
        var foldedWeight = weight * scale.To(dtype).Reshape(outChannels, 1, 1, 1);
        var centred = bias is null ? -Wide(statistics.Mean) : Wide(bias) - Wide(statistics.Mean);
        var shifted = centred * scale;
        var foldedBias = (statistics.Beta is null ? shifted : shifted + Wide(statistics.Beta)).To(dtype);
        return new NormFold(foldedWeight, foldedBias);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
