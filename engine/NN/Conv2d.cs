using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.NN;

/// <summary>
/// A 2-D convolution layer, as torch.nn.Conv2d (zero padding): weight [out, in/groups, kh, kw] and
/// an optional bias [out], initialised as PyTorch does (<see cref="Init.TorchDefault"/>).
/// </summary>
public sealed class Conv2d : Layer
{
    /// <summary>A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels, initialised from <paramref name="generator"/>.</summary>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Generator generator, Size2d? stride = null, Size2d? padding = null,
        Size2d? dilation = null, int groups = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"conv2d: groups={groups} must divide both in_channels={inChannels} and out_channels={outChannels}, all positive");
        if (kernelSize.H <= 0 || kernelSize.W <= 0)
            throw new ArgumentException($"conv2d: kernel size {kernelSize} must be positive");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Zeros([outChannels, inChannels / groups, kernelSize.H, kernelSize.W]));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros([outChannels])) : null;
        Init.TorchDefault(Weight, Bias, generator);
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel height and width.</summary>
    public Size2d KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public Size2d Stride { get; }

    /// <summary>Zeros added on each side.</summary>
    public Size2d Padding { get; }

    /// <summary>Spacing between kernel taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>The weight, [out, in/groups, kh, kw].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, [out], or null when the layer has none.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    /// <summary>
    /// This convolution, then <paramref name="norm"/> (any layer, or null), then the
    /// <paramref name="residual"/> added when there is one (a residual block's shortcut, the output's
    /// shape), then a ReLU when <paramref name="relu"/> is set: the same result as running the layers
    /// and the add one after another, with as much as autograd allows done in one fused backend call.
    /// <list type="bullet">
    /// <item>The residual add and the ReLU always fuse into the convolution's output pass when the
    /// norm does (or there is none): the ReLU's backward needs only the output, which the fused op
    /// keeps, and the add's needs nothing.</item>
    /// <item>A <see cref="FrozenBatchNorm2d"/>, or a <see cref="BatchNorm2d"/> in evaluation mode, is
    /// folded into the weights and bias when no gradient is recorded through it (under
    /// <see cref="Autograd.GradMode.NoGrad"/>, or when neither the input nor any weight or statistic
    /// requires grad; <see cref="NormFold"/> says how), afresh on each call, so a changed weight or
    /// statistic is always used.</item>
    /// <item>Otherwise the norm runs as its own layer, then the add and the ReLU as their own ops.</item>
    /// </list>
    /// </summary>
    public Tensor Forward(Tensor input, Layer? norm, bool relu = false, Tensor? residual = null)
    {
        var activation = relu ? ConvActivation.Relu : ConvActivation.None;
        if (norm is null)
            return Tensor.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups, activation, residual);
        if (NormFold.Statistics(norm) is { } statistics && !NeedsGradThrough(input, statistics))
        {
            // Folded afresh on every call: one pass over the weights, small next to the convolution,
            // where a cached copy of every folded weight (94 MB for ResNet50) would raise detect's peak
            // memory above torchvision's.
            using var folded = NormFold.Fold(Weight, Bias, statistics);
            return Tensor.Conv2d(input, folded.Weight, folded.Bias, Stride, Padding, Dilation, Groups, activation, residual);
        }
        var normalized = Forward(input).Then(norm.Forward);
        if (residual is not null) normalized = normalized.Then(t => t + residual);
        return relu ? normalized.Then(t => t.Relu()) : normalized;
    }

    private bool NeedsGradThrough(Tensor input, NormStatistics statistics) =>
        Autograd.GradMode.IsEnabled && (input.RequiresGrad || Weight.RequiresGrad || Bias?.RequiresGrad == true || statistics.Tensors.Any(t => t.RequiresGrad));
}
