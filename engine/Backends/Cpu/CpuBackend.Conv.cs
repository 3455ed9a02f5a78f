using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// 2-D convolution as matrix products (im2col + GEMM). For one image and one group, im2col unrolls
/// every receptive field into a column: the "columns" matrix has PatchSize = C/groups·kh·kw rows
/// (one per input channel and kernel tap) and OutH·OutW columns (one per output position). Then
/// <list type="bullet">
/// <item>forward: output[O/g, OutH·OutW] = weight[O/g, PatchSize] · columns;</item>
/// <item>backward-data: columns-gradient = weightᵀ · outputGradient, folded back onto the input by col2im (the adjoint of im2col: overlapping taps add up);</item>
/// <item>backward-filter: weightGradient += outputGradient · columnsᵀ, summed over the batch.</item>
/// </list>
/// A 1x1 kernel at stride 1 without padding needs no unrolling: the input planes are the columns.
/// The GEMM accumulates into its output, which gives the bias (pre-filled) and the batch sum for free.
/// Column buffers come from the shared ArrayPool: a ResNet50 step would otherwise allocate gigabytes
/// of short-lived arrays. Work is parallel inside the GEMM and across the rows of im2col/col2im.
/// </summary>
public sealed partial class CpuBackend
{
    /// <inheritdoc />
    /// <remarks>
    /// float32 3x3 stride-1 convolutions (dilation 1) with enough channels and tiles
    /// (<see cref="WinogradApplies"/>, the thresholds of the backward passes) run by Winograd, the
    /// others by im2col + GEMM (<see cref="ConvForward{T}"/>, also the float64 reference that the fast
    /// kernels are tested against). Which Winograd, by the input channels per group:
    /// <list type="bullet">
    /// <item>up to <see cref="WinogradF4MaxChannels"/>: F(4x4, 3x3) (Winograd.cs). Its 36 GEMMs then
    /// have a short inner dimension, and F(2x2)'s 4 transformed values per output (F(4x4): 2.25) cost
    /// more than the products: SSD300's 64- and 128-channel layers at 300 and 150 px took 0.43-0.56x
    /// F(2x2)'s time, the 128-channel one at 75 px about the same.</item>
    /// <item>above: F(2x2, 3x3) (WinogradF2.cs). F(4x4) measured 0.76-1.07x its time there, and its
    /// rounding (about 4 times F(2x2)'s in relative L2, which stays at the direct sum's) then reaches
    /// every layer of a deep network: with F(4x4) on all layers, a detection score of Faster R-CNN at
    /// 800/1333 moved 1.1e-4 from torchvision's (the test's tolerance is 1e-4; with this split 4.5e-5,
    /// with the split at 256 channels 9.3e-5),
    /// and with Lavin and Gray's original points SSD300's training-step gradients missed the parity bound
    /// (see GradientParity in the tests; measured with this split: worst relative L2 7.4e-4,
    /// torchvision's own float32 5.6e-4).</item>
    /// </list>
    /// </remarks>
    public Storage Conv2d(Storage input, Storage weight, Storage? bias, Conv2dGeometry geometry) =>
        Conv2dBiasActivation(input, weight, bias, ConvActivation.None, geometry);

    /// <summary>The most input channels per group for which the forward pass takes F(4x4, 3x3) rather than F(2x2, 3x3) (see <see cref="Conv2d"/>).</summary>
    internal const int WinogradF4MaxChannels = 128;

    /// <inheritdoc />
    /// <remarks>
    /// The bias is the GEMM's starting value (Winograd: added in the output transform); the ReLU is
    /// applied to each block of the output as the GEMM (or, for banded im2col, the band's copy into
    /// the output; for Winograd, the output transform) completes it, so it costs no pass of its own
    /// over the output, and the result is bit for bit relu of the unfused convolution.
    /// </remarks>
    public Storage Conv2dBiasActivation(Storage input, Storage weight, Storage? bias, ConvActivation activation, Conv2dGeometry geometry, Storage? residual = null)
    {
        bool relu = activation switch
        {
            ConvActivation.None => false,
            ConvActivation.Relu => true,
            _ => throw new ArgumentException($"conv2d: unknown fused activation {activation}"),
        };
        if (residual is not null)
            return ConvResidualActivation(input, weight, bias, relu, geometry, residual);
        return input.DType switch
        {
            DType.Float32 when PointwiseApplies(geometry) => Wrap(PointwiseConvForward(Data<float>(input), Data<float>(weight), bias is null ? null : Data<float>(bias), geometry, relu)),
            DType.Float32 when WinogradApplies(geometry) && geometry.InPerGroup <= WinogradF4MaxChannels => Wrap(WinogradConvForward(Data<float>(input), Data<float>(weight), bias is null ? null : Data<float>(bias), geometry, relu)),
            DType.Float32 when WinogradApplies(geometry) => Wrap(WinogradF2ConvForward(Data<float>(input), Data<float>(weight), bias is null ? null : Data<float>(bias), geometry, relu)),
            DType.Float32 => Wrap(ConvForward(Data<float>(input), Data<float>(weight), bias is null ? null : Data<float>(bias), geometry, relu)),
            DType.Float64 => Wrap(ConvForward(Data<double>(input), Data<double>(weight), bias is null ? null : Data<double>(bias), geometry, relu)),
            _ => throw new ArgumentException($"conv2d: not defined for {input.DType.Name()} tensors"),
        };
    }

    /// <summary>
    /// activation(conv + bias + residual). 1x1 float32 convolutions (a bottleneck's conv3) add the
    /// residual in the GEMM's epilogue; the other kernels have no residual epilogue, so their output
    /// gets the add and the activation in one pass of its own (<see cref="AddResidualInPlace{T}"/>).
    /// </summary>
    private Storage ConvResidualActivation(Storage input, Storage weight, Storage? bias, bool relu, Conv2dGeometry geometry, Storage residual)
    {
        long outputs = (long)geometry.Batch * geometry.OutChannels * geometry.OutH * geometry.OutW;
        if (residual.DType != input.DType || residual.Length != outputs)
            throw new ArgumentException($"conv2d: the residual must be {input.DType.Name()} with the output's {outputs} elements, got {residual.DType.Name()} with {residual.Length}");
        if (input.DType == DType.Float32 && PointwiseApplies(geometry))
            return Wrap(PointwiseConvForward(Data<float>(input), Data<float>(weight), bias is null ? null : Data<float>(bias), geometry, relu, Data<float>(residual)));
        var output = Conv2dBiasActivation(input, weight, bias, ConvActivation.None, geometry);
        if (output.DType == DType.Float32) AddResidualInParallel(Data<float>(output), Data<float>(residual), outputs, relu);
        else AddResidualInParallel(Data<double>(output), Data<double>(residual), outputs, relu);
        return output;
    }

    private static void AddResidualInParallel<T>(T[] output, T[] residual, long length, bool relu) where T : struct, IFloatingPointIeee754<T> =>
        ParallelRange(length, 1, (first, end) =>
            AddResidualInPlace(output.AsSpan((int)first, (int)(end - first)), residual.AsSpan((int)first, (int)(end - first)), relu));

    /// <inheritdoc />
    public Storage Conv2dBackwardData(Storage gradOutput, Storage weight, Conv2dGeometry geometry) => gradOutput.DType switch
    {
        DType.Float32 when PointwiseApplies(geometry) => Wrap(PointwiseConvBackwardData(Data<float>(gradOutput), Data<float>(weight), geometry)),
        DType.Float32 when WinogradBackwardDataApplies(geometry) => Wrap(WinogradConvBackwardData(Data<float>(gradOutput), Data<float>(weight), geometry)),
        DType.Float32 => Wrap(ConvBackwardData(Data<float>(gradOutput), Data<float>(weight), geometry)),
        DType.Float64 => Wrap(ConvBackwardData(Data<double>(gradOutput), Data<double>(weight), geometry)),
        _ => throw new ArgumentException($"conv2d backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    /// <inheritdoc />
    public Storage Conv2dBackwardFilter(Storage gradOutput, Storage input, Conv2dGeometry geometry) => gradOutput.DType switch
    {
        DType.Float32 when PointwiseApplies(geometry) => Wrap(PointwiseConvBackwardFilter(Data<float>(gradOutput), Data<float>(input), geometry)),
        DType.Float32 when WinogradApplies(geometry) => Wrap(WinogradConvBackwardFilter(Data<float>(gradOutput), Data<float>(input), geometry)),
        DType.Float32 => Wrap(ConvBackwardFilter(Data<float>(gradOutput), Data<float>(input), geometry)),
        DType.Float64 => Wrap(ConvBackwardFilter(Data<double>(gradOutput), Data<double>(input), geometry)),
        _ => throw new ArgumentException($"conv2d backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    private static T[] ConvForward<T>(T[] input, T[] weight, T[]? bias, Conv2dGeometry g, bool relu = false) where T : struct, IFloatingPointIeee754<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize;
        if (BatchedColumnsFit(g))
            return ConvForwardBatched(input, weight, bias, g, relu);
        var output = CpuBufferPool.RentZeroed<T>((long)g.Batch * g.OutChannels * plane);
        if (bias is not null)
            for (long image = 0; image < g.Batch; image++)
                for (int o = 0; o < g.OutChannels; o++)
                    output.AsSpan((int)((image * g.OutChannels + o) * plane), plane).Fill(bias[o]);

        if (g.IsPointwise)
        {
            for (int image = 0; image < g.Batch; image++)
                for (int group = 0; group < g.Groups; group++)
                    GemmAccumulate(weight, (long)group * g.OutPerGroup * patch, false, input, InputOffset(g, image, group), false,
                        output, OutputOffset(g, image, group), g.OutPerGroup, plane, patch, relu);
            return output;
        }
        // The columns of a band of output rows at a time, so the im2col buffer stays within
        // ColumnBudget elements whatever the image size (a 3x3 256-channel conv at stride 4 of an
        // 800x1088 image would otherwise unroll to 500 MB). A band's outputs are the same rows of
        // every output plane, so the GEMM adds them in place (C's rows a plane apart) onto the bias.
        int bandRows = Math.Clamp(ColumnBudget / Math.Max(1, patch * g.OutW), 1, g.OutH), bandPlane = bandRows * g.OutW;
        var columns = ArrayPool<T>.Shared.Rent(patch * bandPlane);
        for (int image = 0; image < g.Batch; image++)
            for (int group = 0; group < g.Groups; group++)
            {
                long inputOffset = InputOffset(g, image, group), outputOffset = OutputOffset(g, image, group);
                for (int firstRow = 0; firstRow < g.OutH; firstRow += bandRows)
                {
                    int rows = Math.Min(bandRows, g.OutH - firstRow);
                    Im2Col(input, inputOffset, g, columns, firstRow, rows);
                    GemmAccumulate(weight, (long)group * g.OutPerGroup * patch, false, columns, 0, false,
                        output, outputOffset + (long)firstRow * g.OutW, g.OutPerGroup, rows * g.OutW, patch, relu, ldc: plane);
                }
            }
        ArrayPool<T>.Shared.Return(columns);
        return output;
    }

    /// <summary>
    /// <see cref="ConvForward{T}"/> for a batch whose columns all fit in <see cref="ColumnBudget"/>: every
    /// image's columns side by side (column image·plane + position), one GEMM over all of them into
    /// [O, batch·plane] starting from the bias, then each image's planes copied into the output.
    /// Small maps (a 96 px SSD's 12x12 .. 1x1) would otherwise take one GEMM
    /// per image with too few columns to fill its register tiles and parallel tasks. Each output is
    /// the same sum in the same order as in the per-image GEMM (its k loop does not depend on the
    /// column), so the results are identical.
    /// </summary>
    private static T[] ConvForwardBatched<T>(T[] input, T[] weight, T[]? bias, Conv2dGeometry g, bool relu) where T : struct, IFloatingPointIeee754<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize, columnsPerRow = g.Batch * plane;
        var output = NewArray<T>((long)g.Batch * g.OutChannels * plane);
        var columns = ArrayPool<T>.Shared.Rent(patch * columnsPerRow);
        var products = ArrayPool<T>.Shared.Rent(g.OutChannels * columnsPerRow);
        Im2ColBatch(input, g, columns);
        for (int o = 0; o < g.OutChannels; o++)
            products.AsSpan(o * columnsPerRow, columnsPerRow).Fill(bias is null ? T.Zero : bias[o]);
        GemmAccumulate(weight, 0, false, columns, 0, false, products, 0, g.OutChannels, columnsPerRow, patch, relu);
        SwapLeadingAxes(products, g.OutChannels, g.Batch, plane, output);
        ArrayPool<T>.Shared.Return(columns);
        ArrayPool<T>.Shared.Return(products);
        return output;
    }

    /// <summary>The most elements one forward im2col buffer holds (8M: 32 MB of float32, a few hundred output columns of a wide layer).</summary>
    private const int ColumnBudget = 8 << 20;

    /// <summary>
    /// Whether a batch's im2col passes run on all its images at once (<see cref="ConvForwardBatched{T}"/>,
    /// <see cref="ConvBackwardDataBatched{T}"/>, <see cref="ConvBackwardFilterBatched{T}"/>): one group,
    /// a kernel that needs unrolling, and every image's columns and output rows together within
    /// <see cref="ColumnBudget"/> (the scratch a batched pass holds; large maps, where one image already
    /// fills the GEMM, stay per image).
    /// </summary>
    private static bool BatchedColumnsFit(Conv2dGeometry g) =>
        !g.IsPointwise && g.Groups == 1 && g.Batch > 1 && ((long)g.PatchSize + g.OutChannels) * g.Batch * g.OutH * g.OutW <= ColumnBudget;

    /// <summary>destination[j, i, :] = source[i, j, :] for source [<paramref name="first"/>, <paramref name="second"/>, <paramref name="plane"/>] (row-major).</summary>
    private static void SwapLeadingAxes<T>(T[] source, int first, int second, int plane, T[] destination)
    {
        ParallelRange((long)first * second, plane, (start, end) =>
        {
            for (long at = start; at < end; at++)
            {
                long i = at / second, j = at % second;
                source.AsSpan((int)(at * plane), plane).CopyTo(destination.AsSpan((int)((j * first + i) * plane), plane));
            }
        });
    }

    private static T[] ConvBackwardData<T>(T[] gradOutput, T[] weight, Conv2dGeometry g) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize;
        var gradInput = CpuBufferPool.RentZeroed<T>((long)g.Batch * g.InChannels * g.Height * g.Width);
        if (BatchedColumnsFit(g)) return ConvBackwardDataBatched(gradOutput, weight, g, gradInput);
        var columns = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(patch * plane);
        for (int image = 0; image < g.Batch; image++)
            for (int group = 0; group < g.Groups; group++)
            {
                long inputOffset = InputOffset(g, image, group);
                // The GEMM accumulates: into the (zero) input gradient directly when pointwise, else into cleared columns.
                if (columns is not null) Array.Clear(columns, 0, patch * plane);
                GemmAccumulate(weight, (long)group * g.OutPerGroup * patch, true,
                    gradOutput, OutputOffset(g, image, group), false,
                    columns ?? gradInput, columns is null ? inputOffset : 0, patch, plane, g.OutPerGroup);
                if (columns is not null) Col2Im(columns, g, gradInput, inputOffset);
            }
        if (columns is not null) ArrayPool<T>.Shared.Return(columns);
        return gradInput;
    }

    private static T[] ConvBackwardFilter<T>(T[] gradOutput, T[] input, Conv2dGeometry g) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize;
        var gradWeight = CpuBufferPool.RentZeroed<T>((long)g.OutChannels * patch);
        if (BatchedColumnsFit(g)) return ConvBackwardFilterBatched(gradOutput, input, g, gradWeight);
        var columns = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(patch * plane);
        for (int image = 0; image < g.Batch; image++)
            for (int group = 0; group < g.Groups; group++)
            {
                long inputOffset = InputOffset(g, image, group);
                if (columns is not null) Im2Col(input, inputOffset, g, columns, 0, g.OutH);
                GemmAccumulate(gradOutput, OutputOffset(g, image, group), false,
                    columns ?? input, columns is null ? inputOffset : 0, true,
                    gradWeight, (long)group * g.OutPerGroup * patch, g.OutPerGroup, patch, plane);
            }
        if (columns is not null) ArrayPool<T>.Shared.Return(columns);
        return gradWeight;
    }

    /// <summary>
    /// <see cref="ConvBackwardData{T}"/> over the whole batch at once (see <see cref="BatchedColumnsFit"/>):
    /// the output gradient's images side by side [O, batch·plane], one GEMM into every image's column
    /// gradients, each folded back by col2im. Each column gradient is the same sum over O in the same
    /// order as per image, so the results are identical.
    /// </summary>
    private static T[] ConvBackwardDataBatched<T>(T[] gradOutput, T[] weight, Conv2dGeometry g, T[] gradInput) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize, columnsPerRow = g.Batch * plane;
        var gradRows = ArrayPool<T>.Shared.Rent(g.OutChannels * columnsPerRow);
        var columns = ArrayPool<T>.Shared.Rent(patch * columnsPerRow);
        SwapLeadingAxes(gradOutput, g.Batch, g.OutChannels, plane, gradRows);
        Array.Clear(columns, 0, patch * columnsPerRow);
        GemmAccumulate(weight, 0, true, gradRows, 0, false, columns, 0, patch, columnsPerRow, g.OutChannels);
        Col2ImBatch(columns, g, gradInput);
        ArrayPool<T>.Shared.Return(gradRows);
        ArrayPool<T>.Shared.Return(columns);
        return gradInput;
    }

    /// <summary>
    /// <see cref="ConvBackwardFilter{T}"/> over the whole batch at once (see <see cref="BatchedColumnsFit"/>):
    /// one GEMM of the output gradient's images side by side [O, batch·plane] with every image's
    /// columns. The sum over the batch's positions is blocked differently from the per-image
    /// accumulation, so results agree within the rounding of a sum of batch·plane products.
    /// </summary>
    private static T[] ConvBackwardFilterBatched<T>(T[] gradOutput, T[] input, Conv2dGeometry g, T[] gradWeight) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW, patch = g.PatchSize, columnsPerRow = g.Batch * plane;
        var gradRows = ArrayPool<T>.Shared.Rent(g.OutChannels * columnsPerRow);
        var columns = ArrayPool<T>.Shared.Rent(patch * columnsPerRow);
        SwapLeadingAxes(gradOutput, g.Batch, g.OutChannels, plane, gradRows);
        Im2ColBatch(input, g, columns);
        GemmAccumulate(gradRows, 0, false, columns, 0, true, gradWeight, 0, g.OutChannels, patch, columnsPerRow);
        ArrayPool<T>.Shared.Return(gradRows);
        ArrayPool<T>.Shared.Return(columns);
        return gradWeight;
    }

    /// <summary>Where the input planes of one group of one image start.</summary>
    private static long InputOffset(Conv2dGeometry g, int image, int group) =>
        ((long)image * g.InChannels + (long)group * g.InPerGroup) * g.Height * g.Width;

    /// <summary>Where the output planes of one group of one image start.</summary>
    private static long OutputOffset(Conv2dGeometry g, int image, int group) =>
        ((long)image * g.OutChannels + (long)group * g.OutPerGroup) * g.OutH * g.OutW;

    /// <summary>
    /// Unrolls the receptive fields of one group of one image for output rows
    /// [<paramref name="firstRow"/>, firstRow + <paramref name="rows"/>): row (c, ki, kj) of
    /// <paramref name="columns"/> holds, for every output position (oh, ow) of the band, the input
    /// element (c, oh·stride + ki·dilation - pad, ow·stride + kj·dilation - pad), or 0 in the padding.
    /// Parallel over the rows.
    /// </summary>
    private static void Im2Col<T>(T[] input, long inputOffset, Conv2dGeometry g, T[] columns, int firstRow, int rows) where T : struct, INumber<T>
    {
        int plane = rows * g.OutW;
        ParallelRange(g.PatchSize, plane, (first, end) =>
        {
            for (long row = first; row < end; row++)
                Im2ColRow(input, inputOffset, g, (int)row, columns.AsSpan((int)row * plane, plane), firstRow, rows);
        });
    }

    /// <summary>
    /// <see cref="Im2Col{T}"/> of every image's whole output for a one-group convolution, side by side:
    /// row r of <paramref name="columns"/> is batch·plane long and holds image i's positions from i·plane.
    /// Parallel over (image, row) pairs, one parallel loop for the batch.
    /// </summary>
    private static void Im2ColBatch<T>(T[] input, Conv2dGeometry g, T[] columns) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW, rowLength = g.Batch * plane;
        ParallelRange((long)g.Batch * g.PatchSize, plane, (first, end) =>
        {
            for (long at = first; at < end; at++)
            {
                int image = (int)(at / g.PatchSize), row = (int)(at % g.PatchSize);
                Im2ColRow(input, InputOffset(g, image, 0), g, row, columns.AsSpan(row * rowLength + image * plane, plane), 0, g.OutH);
            }
        });
    }

    /// <summary>Row (c, ki, kj) of <see cref="Im2Col{T}"/> for output rows [firstRow, firstRow + rows), into <paramref name="target"/>.</summary>
    private static void Im2ColRow<T>(T[] input, long inputOffset, Conv2dGeometry g, int row, Span<T> target, int firstRow, int rows) where T : struct, INumber<T>
    {
        int outW = g.OutW, taps = g.Kernel.H * g.Kernel.W;
        int channel = row / taps, ki = row % taps / g.Kernel.W, kj = row % taps % g.Kernel.W;
        long source = inputOffset + (long)channel * g.Height * g.Width;
        int rowShift = ki * g.Dilation.H - g.Padding.H, columnShift = kj * g.Dilation.W - g.Padding.W;
        for (int oh = firstRow; oh < firstRow + rows; oh++)
        {
            var outputRow = target.Slice((oh - firstRow) * outW, outW);
            int ih = oh * g.Stride.H + rowShift;
            if ((uint)ih >= (uint)g.Height)
            {
                outputRow.Clear();
                continue;
            }
            long sourceRow = source + (long)ih * g.Width;
            if (g.Stride.W == 1)
            {
                // Consecutive outputs read consecutive inputs: copy the in-bounds run, zero the padding on either side.
                var (lo, hi) = InBoundsRun(outW, columnShift, g.Width);
                outputRow[..lo].Clear();
                if (hi > lo) input.AsSpan((int)(sourceRow + lo + columnShift), hi - lo).CopyTo(outputRow[lo..hi]);
                outputRow[hi..].Clear();
                continue;
            }
            int start = 0;
            if (g.Stride.W == 2 && typeof(T) == typeof(float) && Avx512F.IsSupported)
                start = PickEvenColumns(MemoryMarshal.Cast<T, float>(input.AsSpan()), sourceRow, columnShift, g.Width, MemoryMarshal.Cast<T, float>(outputRow));
            for (int ow = start, iw = columnShift + start * g.Stride.W; ow < outW; ow++, iw += g.Stride.W)
                outputRow[ow] = (uint)iw < (uint)g.Width ? input[sourceRow + iw] : T.Zero;
        }
    }

    /// <summary>
    /// The stride-2 part of an im2col row by AVX-512 (the stem's 7x7 and the stage transitions' 3x3
    /// at stride 2): output[ow] = row[2·ow + shift], sixteen outputs from two loads and one
    /// even-lane permute, over the outputs from the first whose column is in the row for as long as
    /// all 32 loaded columns are. Outputs before that first one (the left padding) are zeroed here;
    /// returns where the scalar loop takes over.
    /// </summary>
    private static int PickEvenColumns(ReadOnlySpan<float> input, long sourceRow, int shift, int width, Span<float> output)
    {
        int first = Math.Min((Math.Max(-shift, 0) + 1) / 2, output.Length); // the first ow with 2·ow + shift >= 0
        output[..first].Clear();
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        int ow = first;
        for (; ow + 16 <= output.Length && 2 * ow + shift + 32 <= width; ow += 16)
        {
            var from = input.Slice((int)(sourceRow + 2 * ow + shift), 32);
            Avx512F.PermuteVar16x32x2(Vector512.Create(from[..16]), even, Vector512.Create(from[16..])).CopyTo(output[ow..]);
        }
        return ow;
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}"/>: adds every entry of <paramref name="columns"/> onto the
    /// input element it was read from. Parallel over input channels, which own disjoint rows.
    /// </summary>
    private static void Col2Im<T>(T[] columns, Conv2dGeometry g, T[] gradInput, long inputOffset) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW;
        ParallelRange(g.InPerGroup, (long)g.Kernel.H * g.Kernel.W * plane, (first, end) =>
        {
            for (long channel = first; channel < end; channel++)
                Col2ImChannel(columns, plane, 0, g, gradInput, inputOffset, (int)channel);
        });
    }

    /// <summary>
    /// The adjoint of <see cref="Im2ColBatch{T}"/>: <see cref="Col2Im{T}"/> of every image from the
    /// columns side by side, parallel over (image, channel) pairs, one parallel loop for the batch.
    /// </summary>
    private static void Col2ImBatch<T>(T[] columns, Conv2dGeometry g, T[] gradInput) where T : struct, INumber<T>
    {
        int plane = g.OutH * g.OutW;
        ParallelRange((long)g.Batch * g.InChannels, (long)g.Kernel.H * g.Kernel.W * plane, (first, end) =>
        {
            for (long at = first; at < end; at++)
            {
                int image = (int)(at / g.InChannels), channel = (int)(at % g.InChannels);
                Col2ImChannel(columns, g.Batch * plane, image * plane, g, gradInput, InputOffset(g, image, 0), channel);
            }
        });
    }

    /// <summary>
    /// Adds the column rows of input channel <paramref name="channel"/> (each <paramref name="rowLength"/>
    /// long, this image's positions from <paramref name="columnOffset"/>) onto that channel's plane.
    /// </summary>
    private static void Col2ImChannel<T>(T[] columns, int rowLength, int columnOffset, Conv2dGeometry g, T[] gradInput, long inputOffset, int channel) where T : struct, INumber<T>
    {
        int outH = g.OutH, outW = g.OutW, taps = g.Kernel.H * g.Kernel.W;
        long target = inputOffset + (long)channel * g.Height * g.Width;
        for (int tap = 0; tap < taps; tap++)
        {
            int ki = tap / g.Kernel.W, kj = tap % g.Kernel.W;
            int rowShift = ki * g.Dilation.H - g.Padding.H, columnShift = kj * g.Dilation.W - g.Padding.W;
            long row = (long)channel * taps + tap;
            for (int oh = 0; oh < outH; oh++)
            {
                int ih = oh * g.Stride.H + rowShift;
                if ((uint)ih >= (uint)g.Height) continue;
                var source = columns.AsSpan((int)(row * rowLength + columnOffset + oh * outW), outW);
                long targetRow = target + (long)ih * g.Width;
                if (g.Stride.W == 1)
                {
                    var (lo, hi) = InBoundsRun(outW, columnShift, g.Width);
                    if (hi > lo) AddInto<T>(gradInput.AsSpan((int)(targetRow + lo + columnShift), hi - lo), source[lo..hi]);
                    continue;
                }
                for (int ow = 0, iw = columnShift; ow < outW; ow++, iw += g.Stride.W)
                    if ((uint)iw < (uint)g.Width) gradInput[targetRow + iw] += source[ow];
            }
        }
    }

    /// <summary>
    /// For stride 1: the outputs [lo, hi) whose input column ow + shift lies inside [0, width). The run
    /// is empty (lo == hi) when the tap falls wholly in the padding, as a dilated kernel wider than a
    /// small map does; callers then read nothing (the start index may lie outside the input).
    /// </summary>
    private static (int Lo, int Hi) InBoundsRun(int outW, int shift, int width)
    {
        int lo = Math.Clamp(-shift, 0, outW);
        int hi = Math.Clamp(width - shift, lo, outW);
        return (lo, hi);
    }
}
