namespace ScratchDetect.Engine.NN;

/// <summary>Which formula an <see cref="L2Norm"/> layer uses. The two differ only in how eps keeps the denominator from 0.</summary>
public enum L2NormStyle
{
    /// <summary>ssd.pytorch's layers/modules/l2norm.py: x / (‖x‖ + 1e-10) · weight (<see cref="Tensor.L2Norm"/>).</summary>
    SsdPytorch,

    /// <summary>torchvision's SSD300 (scale_weight on the VGG backbone): F.normalize(x) · weight = x / max(‖x‖, 1e-12) · weight (<see cref="Tensor.Normalize"/>).</summary>
    Torchvision,
}

/// <summary>
/// SSD's L2Norm layer: normalises each position's channel vector of an [N, C, H, W] input to unit
/// length, then scales channel c by the learned weight[c] (initialised to <c>scale</c>, 20 in
/// SSD, because conv4_3 features are larger than the deeper ones they are concatenated with).
/// One parameter, "weight" [C].
/// </summary>
public sealed class L2Norm : Layer
{
    /// <summary>A layer over <paramref name="channels"/> channels with every weight set to <paramref name="scale"/>.</summary>
    public L2Norm(int channels, double scale = 20, L2NormStyle style = L2NormStyle.SsdPytorch)
    {
        if (channels <= 0) throw new ArgumentException($"l2norm: channels must be positive, not {channels}");
        Style = style;
        Weight = RegisterParameter("weight", Tensor.Full([channels], scale));
    }

    /// <summary>The per-channel scale, [C].</summary>
    public Tensor Weight { get; }

    /// <summary>The formula used (ssd.pytorch's or torchvision's).</summary>
    public L2NormStyle Style { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Apply(input, Weight, Style);

    /// <summary>
    /// The layer's formula with a weight held elsewhere (torchvision's SSD keeps it as the
    /// backbone's own parameter "scale_weight" rather than in a child module).
    /// </summary>
    public static Tensor Apply(Tensor input, Tensor weight, L2NormStyle style)
    {
        switch (style)
        {
            case L2NormStyle.SsdPytorch:
                return Tensor.L2Norm(input, weight);
            case L2NormStyle.Torchvision:
                using (var perChannel = weight.Reshape([weight.Size(0), .. Enumerable.Repeat(1, Math.Max(input.Rank - 2, 0))]))
                    return Tensor.Normalize(input).Then(normalized => normalized * perChannel);
            default:
                throw new ArgumentOutOfRangeException(nameof(style));
        }
    }
}
