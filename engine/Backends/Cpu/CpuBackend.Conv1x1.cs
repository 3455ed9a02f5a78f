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
/// dimension and few rows and columns, is split over blocks of its own rows or columns instead
/// (<see cref="PointwiseConvBackwardFilter"/>). The general im2col path (CpuBackend.Conv.cs) stays the
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
    /// The weight gradient of a 1x1 convolution, Σ over images of outputGradient · pickedInputᵀ, over
    /// the tensors' own layout: each image's output-gradient planes and (at stride 1) input planes are
    /// the GEMM's operands where they lie; at a larger stride the picked pixels of every image are
    /// gathered once first. The weight gradient is cut into blocks of whole rows (output channels) or
    /// whole columns (input channels), whichever axis is longer, one per core; a block is a block of
    /// consecutive operand rows, so no operand is copied, and only the shorter operand is packed by
    /// more than one block. Each block adds its images' products in image order, so every weight gets
    /// the same sums in the same order as one GEMM per image (<see cref="ConvBackwardFilter{T}"/>'s
    /// order), on any number of cores.
    /// </summary>
    internal static float[] PointwiseConvBackwardFilter(float[] gradOutput, float[] input, Conv2dGeometry g)
    {
        int plane = g.OutH * g.OutW, cg = g.InPerGroup, og = g.OutPerGroup;
        var gradWeight = CpuBufferPool.RentZeroed<float>((long)g.OutChannels * cg);
        float[] pixels = IsStrided(g) ? PickEveryImage(input, g) : input;
        long PixelOffset(int image, int group) => IsStrided(g) ? ((long)image * g.InChannels + (long)group * cg) * plane : InputOffset(g, image, group);

        // Rows split in multiples of the micro-tile's rows, columns in multiples of its columns.
        bool byRows = og >= cg;
        int extent = byRows ? og : cg, tile = byRows ? MR : NR;
        // One block where the GEMM's own tasks already occupy every core: a second block would pack the shorter operand again.
        bool gemmFillsCores = (long)((og + MC - 1) / MC) * ((cg + NTile - 1) / NTile) >= Environment.ProcessorCount;
        int blocks = gemmFillsCores ? 1 : Math.Clamp(Environment.ProcessorCount, 1, (extent + tile - 1) / tile);
        int blockLength = ((extent + blocks - 1) / blocks + tile - 1) / tile * tile;
        blocks = (extent + blockLength - 1) / blockLength;
        ParallelRange((long)g.Groups * blocks, (long)og * cg * plane * g.Batch / blocks, (first, end) =>
        {
            for (long unit = first; unit < end; unit++)
            {
                int group = (int)(unit / blocks), from = (int)(unit % blocks) * blockLength, length = Math.Min(blockLength, extent - from);
                long weightOffset = (long)group * og * cg;
                for (int image = 0; image < g.Batch; image++)
                {
                    long gradOffset = OutputOffset(g, image, group), pixelOffset = PixelOffset(image, group);
                    if (byRows)
                        GemmAccumulate(gradOutput, gradOffset + (long)from * plane, false, pixels, pixelOffset, true,
                            gradWeight, weightOffset + (long)from * cg, length, cg, plane);
                    else
                        GemmAccumulate(gradOutput, gradOffset, false, pixels, pixelOffset + (long)from * plane, true,
                            gradWeight, weightOffset + from, og, length, plane, ldc: cg);
                }
            }
        });
        if (!ReferenceEquals(pixels, input)) ArrayPool<float>.Shared.Return(pixels);
        return gradWeight;
    }

    /// <summary>The picked pixels (<see cref="PickStrided"/>) of every image and group, [N, C, OutH·OutW], in a pooled array the caller returns.</summary>
    private static float[] PickEveryImage(float[] input, Conv2dGeometry g)
    {
        int plane = g.OutH * g.OutW, cg = g.InPerGroup;
        var picked = ArrayPool<float>.Shared.Rent(g.Batch * g.InChannels * plane);
        ParallelRange((long)g.Batch * g.Groups, (long)cg * plane, (first, end) =>
        {
            for (long unit = first; unit < end; unit++)
            {
                int image = (int)(unit / g.Groups), group = (int)(unit % g.Groups);
                PickStrided(input, InputOffset(g, image, group), g, picked, ((long)image * g.InChannels + (long)group * cg) * plane);
            }
        });
        return picked;
    }

    private static bool IsStrided(Conv2dGeometry g) => g.Stride != new Size2d(1, 1);

    /// <summary>
    /// picked[pickedOffset + c·OutH·OutW + oh·OutW + ow] = input[c, oh·strideH, ow·strideW] for the
    /// channels of one group of one image (<paramref name="inputOffset"/>).
    /// </summary>
    private static void PickStrided(float[] input, long inputOffset, Conv2dGeometry g, float[] picked, long pickedOffset = 0)
    {
        int outH = g.OutH, outW = g.OutW, inPlane = g.Height * g.Width;
        long target = pickedOffset;
        for (int c = 0; c < g.InPerGroup; c++)
            for (int oh = 0; oh < outH; oh++)
            {
                long sourceRow = inputOffset + (long)c * inPlane + (long)oh * g.Stride.H * g.Width;
                for (int ow = 0; ow < outW; ow++)
                    picked[target++] = input[sourceRow + (long)ow * g.Stride.W];
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
