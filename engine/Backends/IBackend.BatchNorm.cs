namespace ScratchDetect.Engine.Backends;

public partial interface IBackend
{
    // ---- batch normalisation ------------------------------------------------------------------
    // Tensors are (outer, channels, inner): [N, C, H, W] is (N, C, H·W). Per-channel vectors have
    // the input's dtype and `channels` elements; weight and bias are optional (1 and 0).

    /// <summary>
    /// y[o, c, i] = x[o, c, i]·scale[c] + shift[c] over an (outer, channels, inner) tensor, the shift
    /// optional: batch-norm inference with the statistics folded into a per-channel scale and shift
    /// (what cudnnBatchNormalizationForwardInference computes), and, without a shift, its input gradient.
    /// </summary>
    Storage ChannelAffine(Storage x, Storage scale, Storage? shift, int outer, int channels, int inner);

    /// <summary>
    /// y[o, c, i] = (x[o, c, i] - mean[c]) / std[c] over an (outer, channels, inner) tensor, the mean
    /// optional: image normalisation in one pass with the rounding of a subtraction followed by a
    /// division (torchvision's normalize), so a full-size image needs one output and no intermediate.
    /// </summary>
    Storage ChannelNormalize(Storage x, Storage? mean, Storage std, int outer, int channels, int inner);

    /// <summary>
    /// Batch-norm training forward (cudnnBatchNormalizationForwardTraining): per channel, the mean and
    /// the biased variance of its M = outer·inner values (accumulated in float64), then
    /// y = (x - mean)·invStd·weight + bias with invStd = 1 / sqrt(variance + eps). When given, the
    /// running statistics are updated in place, running = (1 - momentum)·running + momentum·batch,
    /// with the unbiased variance (·M / (M - 1)) for <paramref name="runningVar"/>, as PyTorch.
    /// Returns y and the per-channel mean and invStd that <see cref="BatchNormTrainingBackward"/> takes.
    /// </summary>
    (Storage Output, Storage Mean, Storage InvStd) BatchNormTraining(Storage x, Storage? weight, Storage? bias, Storage? runningMean, Storage? runningVar,
        int outer, int channels, int inner, double momentum, double eps);

    /// <summary>
    /// Batch-norm training backward (cudnnBatchNormalizationBackward) from the forward's input and saved
    /// mean and invStd. With x̂ = (x - mean)·invStd and M values per channel: gradWeight = Σ g·x̂ and
    /// gradBias = Σ g per channel (accumulated in float64), and, when <paramref name="inputGradient"/>,
    /// gradInput = weight·invStd·(g - gradBias / M - x̂·gradWeight / M), which differentiates through
    /// the batch statistics (null otherwise).
    /// </summary>
    (Storage? GradInput, Storage GradWeight, Storage GradBias) BatchNormTrainingBackward(Storage gradOutput, Storage x, Storage mean, Storage invStd, Storage? weight,
        int outer, int channels, int inner, bool inputGradient);
}
