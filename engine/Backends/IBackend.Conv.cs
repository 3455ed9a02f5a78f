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

    /// <summary>The gradient of <see cref="Conv2d"/> with respect to its input: [N, C, H, W] from the output gradient [N, O, OutH, OutW].</summary>
    Storage Conv2dBackwardData(Storage gradOutput, Storage weight, Conv2dGeometry geometry);

    /// <summary>The gradient of <see cref="Conv2d"/> with respect to its weight, summed over the batch: [O, C/groups, kh, kw].</summary>
    Storage Conv2dBackwardFilter(Storage gradOutput, Storage input, Conv2dGeometry geometry);
}
