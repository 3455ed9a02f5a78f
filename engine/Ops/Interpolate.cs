using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

/// <summary>How <see cref="Tensor.Interpolate"/> computes an output pixel from the input.</summary>
public enum InterpolateMode
{
    /// <summary>PyTorch's legacy 'nearest': the input pixel floor(dst · in/out), clamped to the last one.</summary>
    Nearest,
    /// <summary>Bilinear with align_corners=False: pixel centres are aligned, source = (dst + 0.5)·in/out - 0.5, clamped at 0.</summary>
    Bilinear,
}

// Resampling of [N, C, H, W] along H and W, as torch.nn.functional.interpolate 1.13. Forward and
// backward are each one backend call (IBackend.Interpolate, IBackend.InterpolateBackward), which
// apply torch's index and weight rules per axis; this op resolves sizes and scale factors as
// torch's Python front end does and records the backward.
public sealed partial class Tensor
{
    /// <summary>
    /// Resizes the spatial axes of a [N, C, H, W] tensor to <paramref name="size"/>, or by
    /// <paramref name="scaleFactor"/> (output = floor(input · factor)). As in PyTorch 1.13, with a
    /// scale factor and <paramref name="recomputeScaleFactor"/> null or false the interpolation uses
    /// 1/factor as the input-per-output step; with true it uses input/output sizes, as with an explicit size.
    /// </summary>
    public static Tensor Interpolate(Tensor input, Size2d? size = null, (double H, double W)? scaleFactor = null,
        InterpolateMode mode = InterpolateMode.Nearest, bool? recomputeScaleFactor = null)
    {
        if (input.Rank != 4 || !input.DType.IsFloatingPoint())
            throw new ArgumentException($"interpolate: expected a floating-point 4-D input [N, C, H, W], got {input.DType.Name()} {Shapes.Format(input.shape)}");
        if (input.shape[2] < 1 || input.shape[3] < 1)
            throw new ArgumentException($"interpolate: the input's height and width must be positive, got {Shapes.Format(input.shape)}");
        if ((size is null) == (scaleFactor is null))
            throw new ArgumentException($"interpolate: give exactly one of size and scale_factor (input {Shapes.Format(input.shape)})");
        if (size is not null && recomputeScaleFactor == true)
            throw new ArgumentException("interpolate: recompute_scale_factor is not meaningful with an explicit size");

        var (outH, scaleH) = ResolveAxis(input.shape[2], size?.H, scaleFactor?.H, recomputeScaleFactor);
        var (outW, scaleW) = ResolveAxis(input.shape[3], size?.W, scaleFactor?.W, recomputeScaleFactor);
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"interpolate: the output size ({outH}, {outW}) of input {Shapes.Format(input.shape)} must be positive");

        int[] inputShape = input.shape;
        var geometry = new InterpolateGeometry(inputShape[0] * inputShape[1], inputShape[2], inputShape[3], outH, outW, scaleH, scaleW);
        var y = new Tensor(input.Backend.Interpolate(input.Storage, geometry, mode), [inputShape[0], inputShape[1], outH, outW]);
        // Interpolation is linear in the input; its gradient is the adjoint kernel.
        return Record("interpolate", y, [input], saves: [], g =>
            [new Tensor(g.Backend.InterpolateBackward(g.Storage, geometry, mode), inputShape)]);
    }

    /// <summary>The output length of one axis and the scale factor handed to the kernel (null: the kernel uses in/out).</summary>
    private static (int Size, double? ScaleFactor) ResolveAxis(int inSize, int? size, double? scaleFactor, bool? recompute)
    {
        if (size is { } explicitSize) return (explicitSize, null);
        double factor = scaleFactor!.Value;
        if (!(factor > 0)) throw new ArgumentException($"interpolate: scale factors must be positive, not {factor}");
        int outSize = (int)Math.Floor(inSize * factor);
        return (outSize, recompute == true ? null : factor);
    }
}
