namespace ScratchDetect.Engine.Backends;

/// <summary>
/// The sizes of an interpolation of <paramref name="Planes"/> (N·C) planes of
/// <paramref name="InH"/> x <paramref name="InW"/> to <paramref name="OutH"/> x <paramref name="OutW"/>,
/// and per axis the scale factor torch's kernels take: when given, the input-per-output step is
/// 1/factor; when null it is in/out (an explicit size, or recompute_scale_factor=True).
/// </summary>
public readonly record struct InterpolateGeometry(int Planes, int InH, int InW, int OutH, int OutW, double? ScaleH, double? ScaleW);

// Resampling of [planes, H, W], forward and backward, as torch.nn.functional.interpolate 1.13 on
// CPU (cuDNN has no resize; torch's CUDA kernels use the same index rules). An axis whose size does
// not change is copied, whatever its scale factor.
public partial interface IBackend
{
    /// <summary>
    /// Resizes every plane. Nearest reads the input pixel min(floor(dst·step), in - 1) (dst/2 when
    /// doubling), the step computed in float32 as torch's nearest_idx. Bilinear (align_corners=False)
    /// blends the two pixels around source = max((dst + 0.5)·step - 0.5, 0), computed in the
    /// storage's precision, along W first and then along H, each product rounded before the sum.
    /// </summary>
    Storage Interpolate(Storage input, InterpolateGeometry geometry, InterpolateMode mode);

    /// <summary>The adjoint of <see cref="Interpolate"/>: each output gradient added, with its weight, to the input pixels it was read from. Returns [planes, InH, InW].</summary>
    Storage InterpolateBackward(Storage gradOutput, InterpolateGeometry geometry, InterpolateMode mode);
}
