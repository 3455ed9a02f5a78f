namespace ScratchDetect.Engine.Backends;

// Convolution: the forward pass and its two adjoints, split the way cuDNN splits them
// (cudnnConvolutionForward / BackwardData / BackwardFilter) so a GPU backend maps one to one.
public partial interface IBackend
{
    /// <summary>
    /// The 2-D cross-correlation of <paramref name="input"/> [N, C, H, W] with <paramref name="weight"/>
    /// [O, C/groups, kh, kw] plus an optional <paramref name="bias"/> [O], giving [N, O, OutH, OutW].
    /// float32 and float64.
    /// </summary>
    Storage Conv2d(Storage input, Storage weight, Storage? bias, Conv2dGeometry geometry);

    /// <summary>
    /// <see cref="Conv2d"/> with its epilogue fused: activation(conv + bias), or with a
    /// <paramref name="residual"/> (same shape as the output, a residual block's shortcut)
    /// activation(conv + bias + residual), the bias, the residual and the activation applied in the
    /// convolution's output pass rather than in passes of their own (cuDNN's
    /// cudnnConvolutionBiasActivationForward, whose z input is the residual). With
    /// <see cref="ConvActivation.None"/> and no residual it is <see cref="Conv2d"/>.
    /// </summary>
    Storage Conv2dBiasActivation(Storage input, Storage weight, Storage? bias, ConvActivation activation, Conv2dGeometry geometry, Storage? residual = null);

    /// <summary>The gradient of <see cref="Conv2d"/> with respect to its input: [N, C, H, W] from the output gradient [N, O, OutH, OutW].</summary>
    Storage Conv2dBackwardData(Storage gradOutput, Storage weight, Conv2dGeometry geometry);

    /// <summary>The gradient of <see cref="Conv2d"/> with respect to its weight, summed over the batch: [O, C/groups, kh, kw].</summary>
    Storage Conv2dBackwardFilter(Storage gradOutput, Storage input, Conv2dGeometry geometry);
}

/// <summary>The activation a fused convolution applies to its output (see <see cref="IBackend.Conv2dBiasActivation"/>).</summary>
public enum ConvActivation
{
    /// <summary>The output as it is.</summary>
    None,
    /// <summary>max(x, 0), NaN kept, as <see cref="UnaryOp.Relu"/>.</summary>
    Relu,
}
