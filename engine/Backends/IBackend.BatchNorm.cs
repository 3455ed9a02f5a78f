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
}
