using System.Numerics;

namespace ScratchDetect.Engine;

/// <summary>How <see cref="Tensor.Interpolate"/> computes an output pixel from the input.</summary>
public enum InterpolateMode
{
    /// <summary>PyTorch's legacy 'nearest': the input pixel floor(dst · in/out), clamped to the last one.</summary>
    Nearest,
    /// <summary>Bilinear with align_corners=False: pixel centres are aligned, source = (dst + 0.5)·in/out - 0.5, clamped at 0.</summary>
    Bilinear,
}

// Resampling of [N, C, H, W] along H and W, as torch.nn.functional.interpolate 1.13.
// Both modes are separable: each output row (column) reads one or two input rows (columns) at
// positions that depend only on the sizes and the scale. So the op is built from index_select
// along one axis at a time (nearest: one selection; bilinear: two selections blended by per-row
// weights), and its gradient is theirs: index_add of the output gradient, weighted for bilinear.
// Source positions are computed in the tensor's precision (float for float32) with PyTorch's
// exact formulas, so the chosen pixels match PyTorch's even where a position lands on an integer.
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
        if ((size is null) == (scaleFactor is null))
            throw new ArgumentException($"interpolate: give exactly one of size and scale_factor (input {Shapes.Format(input.shape)})");
        if (size is not null && recomputeScaleFactor == true)
            throw new ArgumentException("interpolate: recompute_scale_factor is not meaningful with an explicit size");

        var (outH, stepH) = ResolveAxis(input.shape[2], size?.H, scaleFactor?.H, recomputeScaleFactor);
        var (outW, stepW) = ResolveAxis(input.shape[3], size?.W, scaleFactor?.W, recomputeScaleFactor);
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"interpolate: the output size ({outH}, {outW}) of input {Shapes.Format(input.shape)} must be positive");

        // Width first, then height: PyTorch's bilinear kernel blends along W inside and along H outside, and this keeps its rounding.
        var resized = ResampleAxis(input, 3, outW, stepW, mode);
        return ReferenceEquals(resized, input) ? ResampleAxis(input, 2, outH, stepH, mode) : resized.Then(r => ResampleAxis(r, 2, outH, stepH, mode));
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

    private static Tensor ResampleAxis(Tensor x, int axis, int outSize, double? scaleFactor, InterpolateMode mode)
    {
        int inSize = x.shape[axis];
        // An axis whose size does not change is left alone: PyTorch copies it, whatever the scale factor says.
        if (outSize == inSize) return x;
        if (mode == InterpolateMode.Nearest)
            return x.IndexSelect(axis, FromArray(NearestSources(inSize, outSize, scaleFactor), [outSize], x.Device));

        var (first, second, firstWeight, secondWeight) = x.DType == DType.Float32
            ? LinearTaps<float>(inSize, outSize, scaleFactor, x.Device)
            : LinearTaps<double>(inSize, outSize, scaleFactor, x.Device);
        // Weights vary along the resampled axis: [out, 1] broadcasts over W when resampling H.
        int[] weightShape = axis == 2 ? [outSize, 1] : [outSize];
        var fromFirst = x.IndexSelect(axis, first).Then(t => t * firstWeight.Reshape(weightShape));
        var fromSecond = x.IndexSelect(axis, second).Then(t => t * secondWeight.Reshape(weightShape));
        var blended = fromFirst + fromSecond;
        fromFirst.Dispose();
        fromSecond.Dispose();
        return blended;
    }

    /// <summary>
    /// torch's nearest_idx for differing sizes: dst/2 when doubling, else
    /// min(floor(dst · step), in - 1) in float, with step = 1/scale_factor or in/out.
    /// </summary>
    private static long[] NearestSources(int inSize, int outSize, double? scaleFactor)
    {
        var sources = new long[outSize];
        float step = StepOf<float>(inSize, outSize, scaleFactor);
        for (int dst = 0; dst < outSize; dst++)
            sources[dst] = outSize == 2 * inSize ? dst >> 1 : Math.Min((long)MathF.Floor(dst * step), inSize - 1);
        return sources;
    }

    /// <summary>
    /// torch's compute_source_index_and_lambda for align_corners=False and differing sizes, computed in
    /// <typeparamref name="T"/>: source = max((dst + 0.5)·step - 0.5, 0), blended from floor(source)
    /// and the next pixel (the same one at the last pixel) with weights 1 - frac and frac.
    /// </summary>
    private static (Tensor First, Tensor Second, Tensor FirstWeight, Tensor SecondWeight) LinearTaps<T>(int inSize, int outSize, double? scaleFactor, Device device)
        where T : struct, IFloatingPoint<T>
    {
        var first = new long[outSize];
        var second = new long[outSize];
        var firstWeight = new T[outSize];
        var secondWeight = new T[outSize];
        T step = StepOf<T>(inSize, outSize, scaleFactor), half = T.CreateChecked(0.5);
        for (int dst = 0; dst < outSize; dst++)
        {
            T source = T.Max(step * (T.CreateChecked(dst) + half) - half, T.Zero);
            long index = long.CreateTruncating(source);
            first[dst] = index;
            second[dst] = index < inSize - 1 ? index + 1 : index;
            secondWeight[dst] = source - T.CreateChecked(index);
            firstWeight[dst] = T.One - secondWeight[dst];
        }
        return (FromArray(first, [outSize], device), FromArray(second, [outSize], device), FromArray(firstWeight, [outSize], device), FromArray(secondWeight, [outSize], device));
    }

    /// <summary>torch's compute_scales_value: input pixels per output pixel, 1/scale_factor when one is used, else in/out (computed in <typeparamref name="T"/>).</summary>
    private static T StepOf<T>(int inSize, int outSize, double? scaleFactor) where T : struct, IFloatingPoint<T> =>
        scaleFactor is { } factor ? T.CreateChecked(1.0 / factor) : T.CreateChecked(inSize) / T.CreateChecked(outSize);
}
