using System.Buffers;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// float32 1x1 convolutions without padding, at any stride: for one image and group the output
/// planes are weight (O/g x C/g) times the input planes (C/g x OutH·OutW) taken at every stride-th
/// row and column. At stride 1 the input planes are the GEMM operand as they are; at a larger
/// stride the picked pixels are first copied into one contiguous C/g x OutH·OutW block (a
/// subsampling copy of the pixels the kernel reads, not an im2col unrolling). Images and groups run in
/// parallel as well as inside the GEMM: the per-image GEMMs of small maps are too small to feed
/// every core on their own. The weight gradient, whose GEMM has the long pixel axis as its shared
/// dimension and few rows and columns, is split over images and pixel ranges into per-worker
/// partial sums that are added at the end. The general im2col path (CpuBackend.Conv.cs) stays the
/// reference and serves float64.
/// </summary>
public sealed partial class CpuBackend
{
    /// <summary>Whether the 1x1 path serves this float32 convolution: a 1x1 kernel without padding (dilation does not matter for one tap).</summary>
    internal static bool PointwiseApplies(Conv2dGeometry g) => g.Kernel == new Size2d(1, 1) && g.Padding == new Size2d(0, 0);

    /// <summary>
    /// The forward 1x1 convolution, output [N, O, OutH, OutW]; with <paramref name="residual"/> (laid out
    /// as the output) output + residual, and relu of that with <paramref name="relu"/>, both in the GEMM's epilogue.
    /// </summary>
    internal static float[] PointwiseConvForward(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu = false, float[]? residual = null)
    {
        int plane = g.OutH * g.OutW, cg = g.InPerGroup, og = g.OutPerGroup;
        var output = CpuBufferPool.RentZeroed<float>((long)g.Batch * g.OutChannels * plane);
        ParallelRange((long)g.Batch * g.Groups, (long)og * cg * plane, (first, end) =>
        {
            var picked = IsStrided(g) ? ArrayPool<float>.Shared.Rent(cg * plane) : null;
            for (long unit = first; unit < end; unit++)
            {
                int image = (int)(unit / g.Groups), group = (int)(unit % g.Groups);
                long outputOffset = OutputOffset(g, image, group);
                if (bias is not null)
                    for (int o = 0; o < og; o++)
                        output.AsSpan((int)(outputOffset + (long)o * plane), plane).Fill(bias[group * og + o]);
                long inputOffset = InputOffset(g, image, group);
                if (picked is not null) PickStrided(input, inputOffset, g, picked);
                GemmAccumulate(weight, (long)group * og * cg, false, picked ?? input, picked is null ? inputOffset : 0, false,
                    output, outputOffset, og, plane, cg, relu, residual: residual);
            }
            if (picked is not null) ArrayPool<float>.Shared.Return(picked);
        });
        return output;
    }

    /// <summary>The input gradient of a 1x1 convolution: weightᵀ · outputGradient, placed at the strided pixels (the others get 0).</summary>
    internal static float[] PointwiseConvBackwardData(float[] gradOutput, float[] weight, Conv2dGeometry g)
    {
        int plane = g.OutH * g.OutW, cg = g.InPerGroup, og = g.OutPerGroup;
        var gradInput = CpuBufferPool.RentZeroed<float>((long)g.Batch * g.InChannels * g.Height * g.Width);
        ParallelRange((long)g.Batch * g.Groups, (long)og * cg * plane, (first, end) =>
        {
            var picked = IsStrided(g) ? ArrayPool<float>.Shared.Rent(cg * plane) : null;
            for (long unit = first; unit < end; unit++)
            {
                int image = (int)(unit / g.Groups), group = (int)(unit % g.Groups);
                long inputOffset = InputOffset(g, image, group);
                if (picked is not null) Array.Clear(picked, 0, cg * plane); // the GEMM accumulates
                GemmAccumulate(weight, (long)group * og * cg, true, gradOutput, OutputOffset(g, image, group), false,
                    picked ?? gradInput, picked is null ? inputOffset : 0, cg, plane, og);
                if (picked is not null) PlaceStrided(picked, g, gradInput, inputOffset);
            }
            if (picked is not null) ArrayPool<float>.Shared.Return(picked);
        });
        return gradInput;
    }

    /// <summary>
    /// The weight gradient of a 1x1 convolution, Σ over images of outputGradient · pickedInputᵀ. The
    /// pixel axis of every image is cut into slices so that even one image feeds every core; each
    /// worker sums its slices into its own partial gradient, and the partials are added at the end.
    /// </summary>
    internal static float[] PointwiseConvBackwardFilter(float[] gradOutput, float[] input, Conv2dGeometry g)
    {
        int plane = g.OutH * g.OutW, cg = g.InPerGroup, og = g.OutPerGroup;
        int slicesPerImage = Math.Clamp((Environment.ProcessorCount + g.Batch - 1) / g.Batch, 1, Math.Max(1, plane / 256));
        int sliceLength = (plane + slicesPerImage - 1) / slicesPerImage;
        int weights = g.OutChannels * cg;
        var gradWeight = CpuBufferPool.RentZeroed<float>(weights);
        var partials = new SortedList<long, float[]>(); // keyed by the first unit: added in a fixed order, so the result is deterministic
        ParallelRange((long)g.Batch * slicesPerImage, (long)og * cg * sliceLength * g.Groups, (first, end) =>
        {
            var partial = new float[weights];
            var pickedInput = ArrayPool<float>.Shared.Rent(cg * sliceLength);
            var pickedGrad = ArrayPool<float>.Shared.Rent(og * sliceLength);
            for (long unit = first; unit < end; unit++)
            {
                int image = (int)(unit / slicesPerImage), start = (int)(unit % slicesPerImage) * sliceLength;
                int length = Math.Min(sliceLength, plane - start);
                if (length <= 0) continue;
                for (int group = 0; group < g.Groups; group++)
                {
                    // Both operands of this slice as contiguous rows: the GEMM takes dense matrices.
                    PickSlice(input, InputOffset(g, image, group), g, start, length, pickedInput);
                    for (int o = 0; o < og; o++)
                        Array.Copy(gradOutput, OutputOffset(g, image, group) + (long)o * plane + start, pickedGrad, (long)o * length, length);
                    GemmAccumulate(pickedGrad, 0, false, pickedInput, 0, true, partial, (long)group * og * cg, og, cg, length);
                }
            }
            ArrayPool<float>.Shared.Return(pickedInput);
            ArrayPool<float>.Shared.Return(pickedGrad);
            lock (partials) partials.Add(first, partial);
        });
        foreach (var partial in partials.Values) AddInto<float>(gradWeight, partial);
        return gradWeight;
    }

    private static bool IsStrided(Conv2dGeometry g) => g.Stride != new Size2d(1, 1);

    /// <summary>picked[c, oh·OutW + ow] = input[c, oh·strideH, ow·strideW] for the channels of one group of one image.</summary>
    private static void PickStrided(float[] input, long inputOffset, Conv2dGeometry g, float[] picked) =>
        PickSlice(input, inputOffset, g, 0, g.OutH * g.OutW, picked);

    /// <summary>picked[c, p - start] for output pixels p in [start, start + length): the input pixel each one reads.</summary>
    private static void PickSlice(float[] input, long inputOffset, Conv2dGeometry g, int start, int length, float[] picked)
    {
        int outW = g.OutW, inPlane = g.Height * g.Width;
        for (int c = 0; c < g.InPerGroup; c++)
        {
            long source = inputOffset + (long)c * inPlane;
            int target = c * length;
            if (!IsStrided(g))
            {
                Array.Copy(input, source + start, picked, target, length);
                continue;
            }
            for (int p = start; p < start + length; p++)
                picked[target++] = input[source + (long)(p / outW) * g.Stride.H * g.Width + (long)(p % outW) * g.Stride.W];
        }
    }

    /// <summary>The adjoint of <see cref="PickStrided"/>: gradInput[c, oh·strideH, ow·strideW] = picked[c, oh·OutW + ow] (1x1 windows never overlap).</summary>
    private static void PlaceStrided(float[] picked, Conv2dGeometry g, float[] gradInput, long inputOffset)
    {
        int outH = g.OutH, outW = g.OutW, plane = outH * outW, inPlane = g.Height * g.Width;
        for (int c = 0; c < g.InPerGroup; c++)
            for (int oh = 0; oh < outH; oh++)
            {
                long targetRow = inputOffset + (long)c * inPlane + (long)oh * g.Stride.H * g.Width;
                int source = c * plane + oh * outW;
                for (int ow = 0; ow < outW; ow++)
                    gradInput[targetRow + (long)ow * g.Stride.W] = picked[source + ow];
            }
    }
}
