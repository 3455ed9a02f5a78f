namespace ScratchDetect.Engine.Backends;

public partial interface IBackend
{
    // ---- batch normalisation ------------------------------------------------------------------

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
}
