using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2015; the transforms of NNPACK and wincnn).
/// The output is cut into 4x4 tiles; each tile needs a 6x6 input patch d, and
/// <code>Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A</code>
/// gives all 16 outputs of the tile from 36 products instead of 144. Summed over input channels,
/// the 36 element-wise products become 36 independent matrix products, one per transform point ξ:
/// <code>M[ξ] (tiles x O) = V[ξ]ᵀ (tiles x C) · U[ξ] (C x O)</code>
/// which run on the packed GEMM. Where V, the transformed input, is the larger operand (many tiles,
/// few channels: SSD300's 64-channel layers at 300 px), the forward GEMMs run transposed, M[ξ]ᵀ
/// (O x tiles) = U[ξ]ᵀ · V[ξ], so V is packed by row copies; see <see cref="WinogradChannelsAsGemmRows"/>. The weight
/// gradient's GEMMs keep channels on both sides. So the work is: transform the weights (U), transform the input
/// patches (V), 36 GEMMs, transform the products back (M to Y). The transforms are vectorised
/// across neighbouring tiles; tiles are processed in chunks of whole tile rows so the buffers stay
/// bounded on large images.
/// <para>
/// Accuracy: float32 rounding in the transformed domain is amplified by the transforms' entries.
/// The usual points 0, ±1, ±2 and ∞ (Lavin and Gray; entries up to 8 in Aᵀ and 5 in Bᵀ) measured
/// up to 3.4e-6 of the sum of the absolute products Σ|x·w| of an output (about 1e-7 for the direct
/// float32 sum) and 3.1e-6 in relative L2 on VGG16's layers. The forward pass and the backward-data
/// pass (<see cref="F4x4Transforms"/>) therefore use 0, ±1, ½, -2 and ∞ instead, a set of the kind
/// Barabasz et al. ("Error analysis and improving the accuracy of Winograd convolution for deep
/// neural networks", 2019) found more accurate: a smaller point's powers shrink where a larger
/// one's grow, and Bᵀ's entries stay within 2.5. Measured on the same layers: up to 1.6e-6 of
/// Σ|x·w| and 2.1e-6 in relative L2; in a simulation of the float32 arithmetic none of five other
/// sets (0, ±1, ±½; 0, ±1, 2, -½; 0, ±½, ±2; 0, ±1, ±3/2; ±1, ±½, 2) did better. The weight gradient keeps the integer points
/// (<see cref="F4x4IntegerPointTransforms"/>, with the adjoints <see cref="GradOutputTransform"/>
/// and <see cref="KernelTransformAdjoint"/>): it measured 1.3e-6, and with the fractions 1/3 and
/// 1/15 of the other set's G the taps that only ever meet padding (1xN maps) came out at 1e-6
/// instead of exactly 0. The tests (WinogradTests) hold every pass below 1e-5 of Σ|x·w|. float64
/// always takes the direct (im2col) reference path.
/// </para>
/// The transforms are a type argument (<see cref="IWinogradTransforms"/>): the forward kernel
/// and the input transform serve both F(4x4, 3x3) point sets and F(2x2, 3x3) (WinogradF2.cs) alike.
/// <para>
/// The backward-data pass of a 3x3 stride-1 convolution is itself a 3x3 stride-1 convolution of
/// the output gradient with the flipped, transposed kernel and padding 2 - p, so it reuses the
/// forward kernel; the backward-filter pass is the algorithm's adjoint (transformed output
/// gradients times transformed inputs, 36 GEMMs again, then Gᵀ · G back to 3x3).
/// </para>
/// </summary>
public sealed partial class CpuBackend
{
    private const int WinogradOut = 4;    // outputs per tile side
    private const int WinogradIn = 6;     // input patch side: WinogradOut + 3 - 1
    private const int WinogradPoints = WinogradIn * WinogradIn;

    /// <summary>Tiles per chunk aim at this many bytes of transformed input and products (V and M): a few L2-sized pieces.</summary>
    private const long WinogradChunkBytes = 4 << 20;

    /// <summary>At least this many tiles per chunk: each chunk packs all of U again for its 36 GEMMs.</summary>
    private const int WinogradMinChunkTiles = 128;

    /// <summary>
    /// Whether the Winograd kernel serves this float32 convolution: a 3x3 kernel at stride 1 and
    /// dilation 1, with enough channels per group that the 36 GEMMs outweigh the input and output
    /// transforms, and enough tiles that they outweigh the weight transform (U is 4 times the size
    /// of the weights and is packed again for every GEMM: with a handful of tiles, as on ResNet's
    /// 7x7 maps, im2col's single pass over the weights is faster).
    /// </summary>
    internal static bool WinogradApplies(Conv2dGeometry g) =>
        g.Kernel == new Size2d(3, 3) && g.Stride == new Size2d(1, 1) && g.Dilation == new Size2d(1, 1)
        && g.InPerGroup >= 16 && g.OutPerGroup >= 16
        && (long)g.Batch * ((g.OutH + WinogradOut - 1) / WinogradOut) * ((g.OutW + WinogradOut - 1) / WinogradOut) >= WinogradMinTiles;

    /// <summary>Below this many 4x4 output tiles the weight transform costs more than Winograd saves (measured with the conv benchmark).</summary>
    private const int WinogradMinTiles = 48;

    /// <summary>Whether the backward-data pass can run as a Winograd forward pass: as <see cref="WinogradApplies"/>, with padding at most 2 (the adjoint's padding is 2 - p).</summary>
    internal static bool WinogradBackwardDataApplies(Conv2dGeometry g) =>
        WinogradApplies(g) && g.Padding.H <= 2 && g.Padding.W <= 2;

    /// <summary>The forward 3x3 stride-1 convolution by F(4x4, 3x3) (<see cref="F4x4Transforms"/>), output [N, O, OutH, OutW], with the bias added in the output transform and relu(output) with <paramref name="relu"/>.</summary>
    internal static float[] WinogradConvForward(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu = false) =>
        WinogradForward<F4x4Transforms>(input, weight, bias, g, relu, WinogradKernels.Forward);

    /// <summary>
    /// The forward 3x3 stride-1 convolution by the Winograd algorithm <typeparamref name="T"/>, output
    /// [N, O, OutH, OutW], with the bias added in the output transform and relu(output) with
    /// <paramref name="relu"/>: transform the weights (U), then per chunk of tile rows the input
    /// patches (V), one GEMM per transform point, and the products back to output tiles.
    /// <paramref name="kernels"/> says how <paramref name="weight"/> holds the kernels of <paramref name="g"/>.
    /// </summary>
    private static float[] WinogradForward<T>(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu, WinogradKernels kernels) where T : struct, IWinogradTransforms
    {
        int outH = g.OutH, outW = g.OutW, cg = g.InPerGroup, og = g.OutPerGroup, width = Vector<float>.Count;
        var (tilesH, tilesW, tileRows, rowsPerChunk) = WinogradTiling(g, T.Out, T.Points);
        bool channelsAsRows = WinogradChannelsAsGemmRows(og, rowsPerChunk * tilesW);
        if (!channelsAsRows) rowsPerChunk = WinogradRowsReadingWeightsInPlace(tileRows, tilesW, rowsPerChunk);
        int maxTiles = rowsPerChunk * tilesW;

        // Not zeroed: the output transforms write every element of every plane.
        var output = CpuBufferPool.Rent<float>((long)g.Batch * g.OutChannels * outH * outW);
        var transformedWeight = ArrayPool<float>.Shared.Rent(T.Points * og * cg);
        var transformedInput = ArrayPool<float>.Shared.Rent(T.Points * cg * maxTiles);
        // Slack of one vector: the output transforms load whole vectors past the last tile of a row or the last channel.
        var products = ArrayPool<float>.Shared.Rent(T.Points * og * maxTiles + width);
        try
        {
            for (int group = 0; group < g.Groups; group++)
            {
                WinogradTransformWeights<T>(weight, kernels, group, g, transformedWeight);
                for (int row0 = 0; row0 < tileRows; row0 += rowsPerChunk)
                {
                    int rows = Math.Min(rowsPerChunk, tileRows - row0), tiles = rows * tilesW;
                    WinogradTransformInput<T>(input, group, g, row0, rows, tilesH, tilesW, transformedInput);
                    Array.Clear(products, 0, T.Points * og * tiles); // the GEMM accumulates
                    if (channelsAsRows)
                    {
                        CpuWorkers.For(T.Points, point => GemmAccumulate(
                            transformedWeight, (long)point * cg * og, true,
                            transformedInput, (long)point * cg * tiles, false,
                            products, (long)point * og * tiles, og, tiles, cg));
                        WinogradTransformOutput<T>(products, bias, relu, group, g, row0, rows, tilesH, tilesW, output);
                    }
                    else
                    {
                        CpuWorkers.For(T.Points, point => GemmAccumulate(
                            transformedInput, (long)point * cg * tiles, true,
                            transformedWeight, (long)point * cg * og, false,
                            products, (long)point * tiles * og, tiles, og, cg));
                        WinogradTransformOutputAcrossChannels<T>(products, bias, relu, group, g, row0, tiles, tilesH, tilesW, output);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transformedWeight);
            ArrayPool<float>.Shared.Return(transformedInput);
            ArrayPool<float>.Shared.Return(products);
        }
        return output;
    }

    /// <summary>
    /// Whether the forward GEMMs take output channels as rows (M[ξ]ᵀ = U[ξ]ᵀ · V[ξ]) rather than
    /// tiles (M[ξ] = V[ξ]ᵀ · U[ξ]) for <paramref name="outChannels"/> channels and chunks of
    /// <paramref name="tiles"/> tiles. The rule counts what the GEMM repacked when it packed its row
    /// operand once per task of <see cref="NTile"/> columns: channels as rows repack U (O x C) once
    /// per NTile tiles, tiles as rows repack V (tiles x C) once per NTile channels. Measured then (CPU
    /// time on one thread, loaded machine, SSD300's layers at batch 1): 64 channels at 300 px 0.8-0.9x
    /// the time with channels as rows; 512 channels at 19 px, where a chunk has only 100 tiles,
    /// about 1.4x. Since the GEMM packs A once per k block, the two orientations measured within
    /// the noise of a loaded machine on SSD300's and FPN's shapes (best CPU time of 9 on one core,
    /// ±20%), so the rule stays until a quiet measurement says otherwise. Both give the same sums in
    /// the same order, so the same results.
    /// </summary>
    private static bool WinogradChannelsAsGemmRows(int outChannels, int tiles) =>
        (long)outChannels * ((tiles + NTile - 1) / NTile) < (long)tiles * ((outChannels + NTile - 1) / NTile);

    /// <summary>
    /// Tile rows per chunk when the forward GEMMs take tiles as rows (M[ξ] = V[ξ]ᵀ · U[ξ]): chunks of
    /// equal size with at most as many tiles as the GEMM reads its B operand, U[ξ], in place for
    /// (<see cref="ReadsBInPlace"/>), instead of <paramref name="rowsPerChunk"/>, whose larger GEMMs
    /// pack all of U[ξ] (C x O: 1 MB at 512 channels) for each of the chunk's points. Unchanged when
    /// one tile row is already too many. The GEMMs' sums run in the same order either way.
    /// </summary>
    private static int WinogradRowsReadingWeightsInPlace(int tileRows, int tilesW, int rowsPerChunk)
    {
        if (!ReadsBInPlace(false, tilesW)) return rowsPerChunk;
        int mostRows = Math.Min(rowsPerChunk, tileRows);
        while (!ReadsBInPlace(false, mostRows * tilesW)) mostRows--;
        int chunks = (tileRows + mostRows - 1) / mostRows;
        return (tileRows + chunks - 1) / chunks;
    }

    /// <summary>
    /// The tile grid of a convolution's output and its chunks: whole tile rows within the byte
    /// budget, but never so few tiles that packing U for every GEMM outweighs them. For tiles of
    /// <paramref name="tileOut"/> outputs a side and <paramref name="points"/> transform points.
    /// </summary>
    private static (int TilesH, int TilesW, int TileRows, int RowsPerChunk) WinogradTiling(Conv2dGeometry g, int tileOut = WinogradOut, int points = WinogradPoints)
    {
        int tilesH = (g.OutH + tileOut - 1) / tileOut, tilesW = (g.OutW + tileOut - 1) / tileOut;
        int tileRows = g.Batch * tilesH;
        long bytesPerTile = (long)points * (g.InPerGroup + g.OutPerGroup) * sizeof(float);
        long budgetRows = WinogradChunkBytes / (bytesPerTile * tilesW), minimumRows = (WinogradMinChunkTiles + tilesW - 1) / tilesW;
        return (tilesH, tilesW, tileRows, (int)Math.Clamp(Math.Max(budgetRows, minimumRows), 1, tileRows));
    }

    /// <summary>
    /// The input gradient of a 3x3 stride-1 convolution as a Winograd forward pass: gradInput[c] =
    /// Σ_o gradOutput[o] ⋆ flip(weight[o, c]), with padding 2 - p, which gives back the input's size.
    /// The weight transform reads the flipped, transposed kernels straight from the weight
    /// (<see cref="WinogradKernels.FlippedTranspose"/>): a copy of them took longer than the transform
    /// itself on 512-channel layers (its writes are 9 floats, og·9 apart).
    /// </summary>
    internal static float[] WinogradConvBackwardData(float[] gradOutput, float[] weight, Conv2dGeometry g)
    {
        var adjoint = new Conv2dGeometry(g.Batch, g.OutChannels, g.OutH, g.OutW, g.InChannels, new Size2d(3, 3),
            new Size2d(1, 1), new Size2d(2 - g.Padding.H, 2 - g.Padding.W), new Size2d(1, 1), g.Groups);
        return WinogradForward<F4x4Transforms>(gradOutput, weight, null, adjoint, relu: false, WinogradKernels.FlippedTranspose);
    }

    /// <summary>How a weight array holds the 3x3 kernels of the convolution whose weights are transformed.</summary>
    private enum WinogradKernels
    {
        /// <summary>As its own weight, [O, C/groups, 3, 3].</summary>
        Forward,

        /// <summary>
        /// As the weight of the convolution it is the input gradient of (<see cref="WinogradConvBackwardData"/>):
        /// kernel (group·og + o, c) is that weight's kernel (group·cg + c, o) rotated by 180°, where og and cg
        /// are this convolution's output and input channels per group (that one's input and output).
        /// </summary>
        FlippedTranspose,
    }

    /// <summary>
    /// The weight gradient of a 3x3 stride-1 convolution, summed over the batch, by the adjoint of
    /// the forward algorithm: with M = U ⊙ V and Y = Aᵀ M A per tile, the gradient of U is
    /// Σ_tiles (A dY Aᵀ) ⊙ V, which for all channels is again 36 GEMMs,
    /// <code>dU[ξ] (C x O) += V[ξ] (C x tiles) · Ŷ[ξ]ᵀ (tiles x O),  Ŷ = A dY Aᵀ,</code>
    /// accumulated over the chunks of tiles, and the kernel gradient is Gᵀ dU[ξ] G.
    /// </summary>
    internal static float[] WinogradConvBackwardFilter(float[] gradOutput, float[] input, Conv2dGeometry g)
    {
        int cg = g.InPerGroup, og = g.OutPerGroup;
        var (tilesH, tilesW, tileRows, rowsPerChunk) = WinogradTiling(g);
        int maxTiles = rowsPerChunk * tilesW;
        var gradWeight = CpuBufferPool.Rent<float>((long)g.OutChannels * cg * 9); // every tap is written per group
        var transformedInput = ArrayPool<float>.Shared.Rent(WinogradPoints * cg * maxTiles);
        var transformedGrad = ArrayPool<float>.Shared.Rent(WinogradPoints * og * maxTiles);
        // Slack of one vector: the inverse transform loads whole vectors past the last channel.
        var gradU = ArrayPool<float>.Shared.Rent(WinogradPoints * cg * og + Vector<float>.Count);
        try
        {
            for (int group = 0; group < g.Groups; group++)
            {
                Array.Clear(gradU, 0, WinogradPoints * cg * og); // the GEMMs accumulate over the chunks
                for (int row0 = 0; row0 < tileRows; row0 += rowsPerChunk)
                {
                    int rows = Math.Min(rowsPerChunk, tileRows - row0), tiles = rows * tilesW;
                    WinogradTransformInput<F4x4IntegerPointTransforms>(input, group, g, row0, rows, tilesH, tilesW, transformedInput);
                    WinogradTransformGradOutput(gradOutput, group, g, row0, rows, tilesH, tilesW, transformedGrad);
                    CpuWorkers.For(WinogradPoints, point => GemmAccumulate(
                        transformedInput, (long)point * cg * tiles, false,
                        transformedGrad, (long)point * og * tiles, true,
                        gradU, (long)point * cg * og, cg, og, tiles));
                }
                WinogradGradWeightsFromPoints(gradU, group, g, gradWeight);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transformedInput);
            ArrayPool<float>.Shared.Return(transformedGrad);
            ArrayPool<float>.Shared.Return(gradU);
        }
        return gradWeight;
    }

    /// <summary>
    /// Ŷ[ξ, o, t] = (A dY Aᵀ)[ξ] for the 4x4 output-gradient tile dY (0 beyond the output) of every
    /// tile t in tile rows [row0, row0 + rows) and output channel o of one group. Parallel over
    /// channels; each gradient row is split by column phase (x mod 4) so the four tile columns of
    /// consecutive tiles are four contiguous vectors.
    /// </summary>
    private static void WinogradTransformGradOutput(float[] gradOutput, int group, Conv2dGeometry g, int row0, int rows, int tilesH, int tilesW, float[] transformed)
    {
        int og = g.OutPerGroup, tiles = rows * tilesW, width = Vector<float>.Count, outH = g.OutH, outW = g.OutW;
        int phaseLength = tilesW + width; // tiles + a vector of zeros for the tail loads
        ParallelRange(og, (long)tiles * WinogradPoints * 4, (firstChannel, endChannel) =>
        {
            var phaseBuffer = ArrayPool<float>.Shared.Rent(WinogradOut * WinogradOut * phaseLength);
            var phases = phaseBuffer.AsSpan(0, WinogradOut * WinogradOut * phaseLength);
            ref float phase = ref MemoryMarshal.GetReference(phases);
            ref float source = ref MemoryMarshal.GetArrayDataReference(gradOutput);
            Span<Vector<float>> d = stackalloc Vector<float>[WinogradPoints];
            for (long o = firstChannel; o < endChannel; o++)
                for (int r = 0; r < rows; r++)
                {
                    int image = (row0 + r) / tilesH, ty = (row0 + r) % tilesH;
                    long plane = ((long)image * g.OutChannels + (long)group * og + o) * outH * outW;
                    // phases[(i·4 + q)·phaseLength + j] = dY[4ty + i, 4j + q] (0 beyond the output).
                    phases.Clear();
                    for (int i = 0; i < WinogradOut; i++)
                    {
                        int y = ty * WinogradOut + i;
                        if (y >= outH) break;
                        ref float sourceRow = ref Unsafe.Add(ref source, (nint)(plane + (long)y * outW));
                        ref float phaseRows = ref Unsafe.Add(ref phase, i * WinogradOut * phaseLength);
                        for (int x = 0; x < outW; x++)
                            Unsafe.Add(ref phaseRows, (x & 3) * phaseLength + (x >> 2)) = Unsafe.Add(ref sourceRow, x);
                    }
                    for (int tx = 0; tx < tilesW; tx += width)
                    {
                        // d[i·6 + k]: first the 4x4 tile in rows i, columns k < 4; then widened to 6 x 6 in place.
                        for (int i = 0; i < WinogradOut; i++)
                        {
                            for (int q = 0; q < WinogradOut; q++)
                                d[i * WinogradIn + q] = Vector.LoadUnsafe(ref phase, (nuint)((i * WinogradOut + q) * phaseLength + tx));
                            GradOutputTransform(d, i * WinogradIn, 1);
                        }
                        for (int k = 0; k < WinogradIn; k++) GradOutputTransform(d, k, WinogradIn);
                        // Stored up to the chunk's last tile: lanes past the row's end land on later rows' tiles, which this task writes next.
                        int t = r * tilesW + tx, count = tiles - t >= width ? width : tiles - t;
                        for (int point = 0; point < WinogradPoints; point++)
                            StoreLanes(d[point], transformed, ((long)point * og + o) * tiles + t, count);
                    }
                }
            ArrayPool<float>.Shared.Return(phaseBuffer);
        });
    }

    /// <summary>A·(y0..y3) in place on values[start + k·stride] (k = 0..5): the adjoint of <see cref="F4x4IntegerPointTransforms.Output"/>, 4 gradients to the 6 points.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradOutputTransform(Span<Vector<float>> values, int start, int stride)
    {
        var y0 = values[start];
        var y1 = values[start + stride];
        var y2 = values[start + 2 * stride];
        var y3 = values[start + 3 * stride];
        var even = y0 + y2;
        var odd = y1 + y3;
        var evenScaled = y0 + y2 * 4f;
        var oddScaled = y1 * 2f + y3 * 8f;
        values[start] = y0;
        values[start + stride] = even + odd;
        values[start + 2 * stride] = even - odd;
        values[start + 3 * stride] = evenScaled + oddScaled;
        values[start + 4 * stride] = evenScaled - oddScaled;
        values[start + 5 * stride] = y3;
    }

    /// <summary>
    /// gradWeight[group·og + o, c] = Gᵀ dU[·, c, o] G (the adjoint of the weight transform) for one
    /// group. Parallel over input channels; vectorised across consecutive output channels.
    /// </summary>
    private static void WinogradGradWeightsFromPoints(float[] gradU, int group, Conv2dGeometry g, float[] gradWeight)
    {
        int og = g.OutPerGroup, cg = g.InPerGroup, width = Vector<float>.Count;
        ParallelRange(cg, (long)og * WinogradPoints * 8, (firstChannel, endChannel) =>
        {
            Span<Vector<float>> u = stackalloc Vector<float>[WinogradPoints];
            Span<Vector<float>> s = stackalloc Vector<float>[WinogradIn * 3];
            Span<Vector<float>> taps = stackalloc Vector<float>[9];
            ref float points = ref MemoryMarshal.GetArrayDataReference(gradU);
            for (long c = firstChannel; c < endChannel; c++)
                for (int o0 = 0; o0 < og; o0 += width)
                {
                    int count = Math.Min(width, og - o0);
                    for (int point = 0; point < WinogradPoints; point++)
                        u[point] = Vector.LoadUnsafe(ref points, (nuint)(((long)point * cg + c) * og + o0));
                    // s[i, col] = Σ_j G[j, col] dU[i, j]; then taps[r, col] = Σ_i G[i, r] s[i, col].
                    for (int i = 0; i < WinogradIn; i++) KernelTransformAdjoint(u, i * WinogradIn, 1, s, i * 3, 1);
                    for (int col = 0; col < 3; col++) KernelTransformAdjoint(s, col, 3, taps, col, 3);
                    for (int lane = 0; lane < count; lane++)
                    {
                        long target = ((long)(group * og + o0 + lane) * cg + c) * 9;
                        for (int tap = 0; tap < 9; tap++) gradWeight[target + tap] = taps[tap][lane];
                    }
                }
        });
    }

    /// <summary>Gᵀ·(u0..u5): the adjoint of <see cref="F4x4IntegerPointTransforms.Kernel"/>, 6 point gradients to the 3 kernel taps, read at source[start + k·stride], written at target[targetStart + r·targetStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KernelTransformAdjoint(Span<Vector<float>> source, int start, int stride, Span<Vector<float>> target, int targetStart, int targetStride)
    {
        var u0 = source[start];
        var u1 = source[start + stride];
        var u2 = source[start + 2 * stride];
        var u3 = source[start + 3 * stride];
        var u4 = source[start + 4 * stride];
        var u5 = source[start + 5 * stride];
        var sum12 = u1 + u2;
        var diff12 = u2 - u1;
        var sum34 = u3 + u4;
        var diff34 = u3 - u4;
        target[targetStart] = u0 * (1f / 4) - sum12 * (1f / 6) + sum34 * (1f / 24);
        target[targetStart + targetStride] = diff12 * (1f / 6) + diff34 * (1f / 12);
        target[targetStart + 2 * targetStride] = (sum34 - sum12) * (1f / 6) + u5;
    }

    /// <summary>
    /// U[ξ, c, o] = (G g Gᵀ)[ξ] (G of <typeparamref name="T"/>) for the 3x3 kernel g (o, c) of one
    /// group, read from <paramref name="weight"/> as <paramref name="kernels"/> says. Parallel over
    /// input channels; vectorised across consecutive output channels after gathering each of the 9
    /// taps of those kernels into its own contiguous row.
    /// </summary>
    private static void WinogradTransformWeights<T>(float[] weight, WinogradKernels kernels, int group, Conv2dGeometry g, float[] transformed) where T : struct, IWinogradTransforms
    {
        int og = g.OutPerGroup, cg = g.InPerGroup, width = Vector<float>.Count;
        long first = (long)group * og * cg * 9;
        // Kernel (o, c) starts at first + o·outputStride + c·inputStride; flipped, its tap k is at 8 - k.
        bool flipped = kernels == WinogradKernels.FlippedTranspose;
        long outputStride = flipped ? 9 : (long)cg * 9, inputStride = flipped ? (long)og * 9 : 9;
        ParallelRange(cg, (long)og * T.Points * 8, (firstChannel, endChannel) =>
        {
            Span<float> taps = stackalloc float[9 * width];
            Span<Vector<float>> rows = stackalloc Vector<float>[T.In * 3];
            Span<Vector<float>> point = stackalloc Vector<float>[T.In];
            ref float weights = ref MemoryMarshal.GetArrayDataReference(weight);
            ref float tapRows = ref MemoryMarshal.GetReference(taps);
            // Channels outer: for one c, the 36 (16) rows U[ξ, c, ·] are each written from start to end.
            // With c inner, every store went to another of 36·(channels per task) rows, og floats apart:
            // 2.1x the time on a 512x512 layer (scratch timing, F(4x4)), though each kernel's taps were read in order.
            for (long c = firstChannel; c < endChannel; c++)
                for (int o0 = 0; o0 < og; o0 += width)
                {
                    int count = Math.Min(width, og - o0);
                    if (count < width) taps.Clear();
                    for (int lane = 0; lane < count; lane++)
                    {
                        ref float kernel = ref Unsafe.Add(ref weights, (nint)(first + (o0 + lane) * outputStride + c * inputStride));
                        for (int tap = 0; tap < 9; tap++) Unsafe.Add(ref tapRows, tap * width + lane) = Unsafe.Add(ref kernel, flipped ? 8 - tap : tap);
                    }
                    // Rows pass: G applied to each kernel column gives In x 3; columns pass: that times Gᵀ gives In x In.
                    for (int column = 0; column < 3; column++)
                        T.Kernel(Vector.LoadUnsafe(ref tapRows, (nuint)(column * width)), Vector.LoadUnsafe(ref tapRows, (nuint)((3 + column) * width)),
                            Vector.LoadUnsafe(ref tapRows, (nuint)((6 + column) * width)), rows, column, 3);
                    for (int i = 0; i < T.In; i++)
                    {
                        T.Kernel(rows[i * 3], rows[i * 3 + 1], rows[i * 3 + 2], point, 0, 1);
                        for (int j = 0; j < T.In; j++)
                            StoreLanes(point[j], transformed, (((long)(i * T.In + j) * cg + c) * og + o0), count);
                    }
                }
        });
    }

    /// <summary>
    /// V[ξ, c, t] = (Bᵀ d B)[ξ] (Bᵀ of <typeparamref name="T"/>) for the In x In input patch d of every tile t in tile rows
    /// [row0, row0 + rows) and every input channel c of one group. Parallel over channels. Each
    /// patch row is first split by column phase (x mod Out), so each patch column of consecutive
    /// tiles is one contiguous vector.
    /// </summary>
    private static void WinogradTransformInput<T>(float[] input, int group, Conv2dGeometry g, int row0, int rows, int tilesH, int tilesW, float[] transformed) where T : struct, IWinogradTransforms
    {
        int cg = g.InPerGroup, tiles = rows * tilesW, width = Vector<float>.Count;
        int phaseLength = tilesW + 1 + width; // tiles + the next tile's first two columns + a vector of zeros for the tail loads
        int height = g.Height, inputWidth = g.Width, padH = g.Padding.H, padW = g.Padding.W;
        // Input columns that land in some patch: x + padW < (tilesW + 1)·Out.
        int xEnd = Math.Min(inputWidth, (tilesW + 1) * T.Out - padW);
        ParallelRange(cg, (long)tiles * T.Points * 4, (firstChannel, endChannel) =>
        {
            var phaseBuffer = ArrayPool<float>.Shared.Rent(T.In * T.Out * phaseLength);
            var phases = phaseBuffer.AsSpan(0, T.In * T.Out * phaseLength);
            ref float phase = ref MemoryMarshal.GetReference(phases);
            ref float source = ref MemoryMarshal.GetArrayDataReference(input);
            Span<Vector<float>> d = stackalloc Vector<float>[T.Points];
            // SplitByPhase writes the same slots of a patch row's phases for every image row, so the
            // slots of padding columns stay zero from this one clear; a patch row's phases are cleared
            // again only when it falls outside the image after holding an image row.
            phases.Clear();
            Span<bool> holdsImageRow = stackalloc bool[T.In];
            holdsImageRow.Clear();
            for (long c = firstChannel; c < endChannel; c++)
            {
                for (int r = 0; r < rows; r++)
                {
                    int image = (row0 + r) / tilesH, ty = (row0 + r) % tilesH;
                    long plane = ((long)image * g.InChannels + (long)group * cg + c) * height * inputWidth;
                    // phases[(py·Out + q)·phaseLength + j] = input[y, Out·j + q - padW] for patch row py (0 outside the image).
                    for (int py = 0; py < T.In; py++)
                    {
                        int y = ty * T.Out + py - padH;
                        if ((uint)y >= (uint)height)
                        {
                            if (holdsImageRow[py]) phases.Slice(py * T.Out * phaseLength, T.Out * phaseLength).Clear();
                            holdsImageRow[py] = false;
                            continue;
                        }
                        holdsImageRow[py] = true;
                        SplitByPhase<T>(ref Unsafe.Add(ref source, (nint)(plane + (long)y * inputWidth)), xEnd, padW,
                            ref Unsafe.Add(ref phase, py * T.Out * phaseLength), phaseLength);
                    }
                    for (int tx = 0; tx < tilesW; tx += width)
                    {
                        // d[py·6 + px] = patch(py, px) of the tiles tx .. tx + width - 1.
                        for (int py = 0; py < T.In; py++)
                            for (int px = 0; px < T.In; px++)
                                d[py * T.In + px] = Vector.LoadUnsafe(ref phase, (nuint)((py * T.Out + (px % T.Out)) * phaseLength + tx + (px / T.Out)));
                        for (int py = 0; py < T.In; py++) T.Input(d, py * T.In, 1);
                        for (int px = 0; px < T.In; px++) T.Input(d, px, T.In);
                        // Stored up to the chunk's last tile: lanes past the row's end land on later rows' tiles, which this task writes next.
                        int t = r * tilesW + tx, count = tiles - t >= width ? width : tiles - t;
                        for (int point = 0; point < T.Points; point++)
                            StoreLanes(d[point], transformed, ((long)point * cg + c) * tiles + t, count);
                    }
                }
            }
            ArrayPool<float>.Shared.Return(phaseBuffer);
        });
    }

    /// <summary>
    /// phases[(x + padW) mod Out][(x + padW) / Out] = row[x] for x &lt; <paramref name="xEnd"/> (phase
    /// rows <paramref name="phaseLength"/> apart): an input row split by column phase for
    /// <see cref="WinogradTransformInput{T}"/>. On AVX, F(4x4) takes 32 columns at a time by a 4x8
    /// transpose (lane permutes and unpacks), F(2x2) 16 by two shuffles and permutes; element by
    /// element before the first column of phase 0, after the last whole block, and otherwise.
    /// </summary>
    private static void SplitByPhase<T>(ref float row, int xEnd, int padW, ref float phases, int phaseLength) where T : struct, IWinogradTransforms
    {
        int x = 0;
        if (T.Out == 4 && Avx.IsSupported)
        {
            // Columns x + 4k + q (k < 8) go to phase q, slot (x + padW)/4 + k, once x + padW is a multiple of 4.
            int first = Math.Min((4 - padW % 4) % 4, xEnd);
            for (; x < first; x++) Unsafe.Add(ref phases, (x + padW) % 4 * phaseLength + (x + padW) / 4) = Unsafe.Add(ref row, x);
            for (; x + 32 <= xEnd; x += 32)
            {
                var a = Vector256.LoadUnsafe(ref row, (nuint)x);       // columns k = 0, 1 (4 each)
                var b = Vector256.LoadUnsafe(ref row, (nuint)x + 8);   // k = 2, 3
                var c = Vector256.LoadUnsafe(ref row, (nuint)x + 16);  // k = 4, 5
                var d = Vector256.LoadUnsafe(ref row, (nuint)x + 24);  // k = 6, 7
                var e0 = Avx.Permute2x128(a, c, 0x20); // k = 0 | 4
                var e1 = Avx.Permute2x128(a, c, 0x31); // k = 1 | 5
                var e2 = Avx.Permute2x128(b, d, 0x20); // k = 2 | 6
                var e3 = Avx.Permute2x128(b, d, 0x31); // k = 3 | 7
                var t0 = Avx.UnpackLow(e0, e1).AsDouble();  // phases 0, 1 of k = 0, 1 | 4, 5
                var t1 = Avx.UnpackHigh(e0, e1).AsDouble(); // phases 2, 3 of k = 0, 1 | 4, 5
                var t2 = Avx.UnpackLow(e2, e3).AsDouble();  // phases 0, 1 of k = 2, 3 | 6, 7
                var t3 = Avx.UnpackHigh(e2, e3).AsDouble();
                ref float slot = ref Unsafe.Add(ref phases, (x + padW) / 4);
                Avx.UnpackLow(t0, t2).AsSingle().StoreUnsafe(ref slot);
                Avx.UnpackHigh(t0, t2).AsSingle().StoreUnsafe(ref Unsafe.Add(ref slot, phaseLength));
                Avx.UnpackLow(t1, t3).AsSingle().StoreUnsafe(ref Unsafe.Add(ref slot, 2 * phaseLength));
                Avx.UnpackHigh(t1, t3).AsSingle().StoreUnsafe(ref Unsafe.Add(ref slot, 3 * phaseLength));
            }
        }
        else if (T.Out == 2 && Avx2.IsSupported)
        {
            // Columns x + 2k + q (k < 8) go to phase q, slot (x + padW)/2 + k, once x + padW is even.
            int first = Math.Min(padW % 2, xEnd);
            for (; x < first; x++) Unsafe.Add(ref phases, (x + padW) % 2 * phaseLength + (x + padW) / 2) = Unsafe.Add(ref row, x);
            for (; x + 16 <= xEnd; x += 16)
            {
                var a = Vector256.LoadUnsafe(ref row, (nuint)x);
                var b = Vector256.LoadUnsafe(ref row, (nuint)x + 8);
                // Shuffle takes columns 0, 2, 8, 10 | 4, 6, 12, 14 (odd: 1, 3, 9, 11 | ...); the 64-bit permute puts them in order.
                ref float slot = ref Unsafe.Add(ref phases, (x + padW) / 2);
                Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle().StoreUnsafe(ref slot);
                Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle().StoreUnsafe(ref Unsafe.Add(ref slot, phaseLength));
            }
        }
        for (; x < xEnd; x++)
        {
            int shifted = x + padW;
            Unsafe.Add(ref phases, (shifted % T.Out) * phaseLength + (shifted / T.Out)) = Unsafe.Add(ref row, x);
        }
    }

    /// <summary>
    /// Y = Aᵀ M A (Aᵀ of <typeparamref name="T"/>) for every tile and output channel of one group, plus the bias, then the ReLU when asked, written into the
    /// output planes (tiles on the right and bottom edges keep only their part inside the output).
    /// M is [point, o, tile] (channels as the GEMMs' rows, <see cref="WinogradChannelsAsGemmRows"/>).
    /// Parallel over (channel, tile row) pairs; vectorised across consecutive tiles of a row, whose
    /// outputs are then interleaved back into contiguous output rows.
    /// </summary>
    private static void WinogradTransformOutput<T>(float[] products, float[]? bias, bool relu, int group, Conv2dGeometry g, int row0, int rows, int tilesH, int tilesW, float[] output) where T : struct, IWinogradTransforms
    {
        int og = g.OutPerGroup, outH = g.OutH, outW = g.OutW, width = Vector<float>.Count, tiles = rows * tilesW;
        ParallelRange((long)og * rows, (long)tilesW * T.Points * 4, (first, end) =>
        {
            Span<Vector<float>> m = stackalloc Vector<float>[T.Points];
            Span<float> outputRow = stackalloc float[T.Out * width];
            ref float product = ref MemoryMarshal.GetArrayDataReference(products);
            ref float result = ref MemoryMarshal.GetArrayDataReference(output);
            for (long at = first; at < end; at++)
            {
                int o = (int)(at / rows), r = (int)(at % rows);
                int tileRow = row0 + r, image = tileRow / tilesH, y0 = tileRow % tilesH * T.Out;
                int rowsInside = Math.Min(T.Out, outH - y0);
                var biasVector = new Vector<float>(bias is null ? 0f : bias[group * og + o]);
                long planeStart = ((long)image * g.OutChannels + group * og + o) * outH * outW;
                for (int tx = 0; tx < tilesW; tx += width)
                {
                    // Loads past the chunk's last tile read the next row of M (or the slack): lanes never stored.
                    for (int point = 0; point < T.Points; point++)
                        m[point] = Vector.LoadUnsafe(ref product, (nuint)(((long)point * og + o) * tiles + r * tilesW + tx));
                    for (int py = 0; py < T.In; py++) T.Output(m, py * T.In, 1);
                    for (int j = 0; j < T.Out; j++) T.Output(m, j, T.In);
                    // Rows 0..Out-1 of m now hold output (i, j) of the tiles tx.. at m[i·In + j], one tile a lane.
                    int x0 = tx * T.Out, columns = Math.Min(width * T.Out, outW - x0);
                    for (int i = 0; i < rowsInside; i++)
                    {
                        for (int j = 0; j < T.Out; j++)
                        {
                            var y = m[i * T.In + j] + biasVector;
                            m[i * T.In + j] = relu ? Relu(y) : y;
                        }
                        // Whole groups of tiles go straight into the output row; the row's last, partial group through outputRow.
                        ref float target = ref Unsafe.Add(ref result, (nint)(planeStart + (long)(y0 + i) * outW + x0));
                        if (columns == width * T.Out)
                        {
                            InterleaveTileColumns<T>(m.Slice(i * T.In, T.Out), ref target);
                            continue;
                        }
                        InterleaveTileColumns<T>(m.Slice(i * T.In, T.Out), ref MemoryMarshal.GetReference(outputRow));
                        outputRow[..columns].CopyTo(MemoryMarshal.CreateSpan(ref target, columns));
                    }
                }
            }
        });
    }

    /// <summary>
    /// <see cref="WinogradTransformOutput{T}"/> for M laid out [point, tile, o] (tiles as the GEMMs'
    /// rows): parallel over tiles; vectorised across consecutive output channels. Each channel's
    /// outputs are then made contiguous by 4 x width transposes, so a whole tile row goes into its
    /// plane with one store (partial tiles on the edges element by element).
    /// </summary>
    private static void WinogradTransformOutputAcrossChannels<T>(float[] products, float[]? bias, bool relu, int group, Conv2dGeometry g, int row0, int tiles, int tilesH, int tilesW, float[] output) where T : struct, IWinogradTransforms
    {
        int og = g.OutPerGroup, outH = g.OutH, outW = g.OutW, width = Vector<float>.Count;
        long outPlane = (long)outH * outW;
        ParallelRange(tiles, (long)og * T.Points * 4, (firstTile, endTile) =>
        {
            Span<Vector<float>> m = stackalloc Vector<float>[T.Points];
            // The tile's outputs (i, j) as vectors across channels, k = i·Out + j, in groups of 4 (zero-padded).
            int groups = (T.Out * T.Out + 3) / 4;
            Span<Vector<float>> outputs = stackalloc Vector<float>[groups * 4];
            outputs.Clear();
            // values[(k / 4)·4·width + lane·4 + k mod 4]: each group turned lane-major, so a lane's outputs are contiguous.
            Span<float> values = stackalloc float[groups * 4 * width];
            Span<float> shift = stackalloc float[width];
            ref float product = ref MemoryMarshal.GetArrayDataReference(products);
            ref float result = ref MemoryMarshal.GetArrayDataReference(output);
            ref float laneValues = ref MemoryMarshal.GetReference(values);
            for (long t = firstTile; t < endTile; t++)
            {
                int tileRow = row0 + (int)(t / tilesW), tx = (int)(t % tilesW);
                int image = tileRow / tilesH, y0 = tileRow % tilesH * T.Out, x0 = tx * T.Out;
                int rowsInside = Math.Min(T.Out, outH - y0), columnsInside = Math.Min(T.Out, outW - x0);
                for (int o0 = 0; o0 < og; o0 += width)
                {
                    int count = Math.Min(width, og - o0);
                    for (int point = 0; point < T.Points; point++)
                        m[point] = Vector.LoadUnsafe(ref product, (nuint)(((long)point * tiles + t) * og + o0));
                    for (int py = 0; py < T.In; py++) T.Output(m, py * T.In, 1);
                    for (int j = 0; j < T.Out; j++) T.Output(m, j, T.In);
                    shift.Clear();
                    if (bias is not null) bias.AsSpan(group * og + o0, count).CopyTo(shift);
                    var biasVector = new Vector<float>(shift);
                    // Rows 0..Out-1 of m now hold the tile's output (i, j) at m[i·In + j].
                    for (int i = 0; i < T.Out; i++)
                        for (int j = 0; j < T.Out; j++)
                        {
                            var y = m[i * T.In + j] + biasVector;
                            outputs[i * T.Out + j] = relu ? Relu(y) : y;
                        }
                    // The 4-column interleave of the output transform (a 4 x width transpose) serves here as one of 4 outputs x width channels.
                    for (int q = 0; q < groups; q++)
                        InterleaveTileColumns<F4x4Transforms>(outputs.Slice(q * 4, 4), ref Unsafe.Add(ref laneValues, q * 4 * width));
                    for (int lane = 0; lane < count; lane++)
                    {
                        long planeStart = ((long)image * g.OutChannels + group * og + o0 + lane) * outPlane;
                        for (int i = 0; i < rowsInside; i++)
                        {
                            ref float target = ref Unsafe.Add(ref result, (nint)(planeStart + (long)(y0 + i) * outW + x0));
                            int k = i * T.Out; // for Out = 4 and 2 a row's outputs are contiguous within one group
                            ref float source = ref Unsafe.Add(ref laneValues, k / 4 * 4 * width + lane * 4 + k % 4);
                            if (T.Out == 4 && columnsInside == 4)
                                Vector128.LoadUnsafe(ref source).StoreUnsafe(ref target);
                            else if (T.Out == 2 && columnsInside == 2)
                                Unsafe.WriteUnaligned(ref Unsafe.As<float, byte>(ref target), Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<float, byte>(ref source)));
                            else
                                for (int j = 0; j < columnsInside; j++)
                                {
                                    int kj = k + j;
                                    Unsafe.Add(ref target, j) = Unsafe.Add(ref laneValues, kj / 4 * 4 * width + lane * 4 + kj % 4);
                                }
                        }
                    }
                }
            }
        });
    }

    /// <summary>
    /// target[lane·Out + j] = columns[j][lane]: the Out output columns of Vector&lt;float&gt;.Count
    /// neighbouring tiles (one tile a lane) back in image order. Unpacks and lane permutes on AVX
    /// for 8 tiles of F(4x4) (a 4x8 transpose) and F(2x2); element by element otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveTileColumns<T>(ReadOnlySpan<Vector<float>> columns, ref float target) where T : struct, IWinogradTransforms
    {
        if (Avx.IsSupported && Vector<float>.Count == 8 && (T.Out == 4 || T.Out == 2))
        {
            var c0 = columns[0].AsVector256();
            var c1 = columns[1].AsVector256();
            if (T.Out == 2)
            {
                // unpack: tiles 0,1 | 4,5 and 2,3 | 6,7, each as (column 0, column 1) pairs
                var low = Avx.UnpackLow(c0, c1);
                var high = Avx.UnpackHigh(c0, c1);
                Avx.Permute2x128(low, high, 0x20).StoreUnsafe(ref target);
                Avx.Permute2x128(low, high, 0x31).StoreUnsafe(ref target, 8);
                return;
            }
            var c2 = columns[2].AsVector256();
            var c3 = columns[3].AsVector256();
            var t0 = Avx.UnpackLow(c0, c1).AsDouble();   // c0[0] c1[0] c0[1] c1[1] | lanes 4, 5
            var t1 = Avx.UnpackHigh(c0, c1).AsDouble();  // lanes 2, 3 | 6, 7
            var t2 = Avx.UnpackLow(c2, c3).AsDouble();
            var t3 = Avx.UnpackHigh(c2, c3).AsDouble();
            var tile0 = Avx.UnpackLow(t0, t2).AsSingle();  // tile 0's four columns | tile 4's
            var tile1 = Avx.UnpackHigh(t0, t2).AsSingle(); // tile 1 | tile 5
            var tile2 = Avx.UnpackLow(t1, t3).AsSingle();  // tile 2 | tile 6
            var tile3 = Avx.UnpackHigh(t1, t3).AsSingle(); // tile 3 | tile 7
            Avx.Permute2x128(tile0, tile1, 0x20).StoreUnsafe(ref target);
            Avx.Permute2x128(tile2, tile3, 0x20).StoreUnsafe(ref target, 8);
            Avx.Permute2x128(tile0, tile1, 0x31).StoreUnsafe(ref target, 16);
            Avx.Permute2x128(tile2, tile3, 0x31).StoreUnsafe(ref target, 24);
            return;
        }
        for (int lane = 0; lane < Vector<float>.Count; lane++)
            for (int j = 0; j < T.Out; j++)
                Unsafe.Add(ref target, lane * T.Out + j) = columns[j][lane];
    }

    /// <summary>
    /// The transforms of one Winograd algorithm F(m x m, 3x3): m outputs a tile side (<see cref="Out"/>)
    /// from patches of m + 2 (<see cref="In"/>), and the 1-D transforms that the 2-D ones apply to
    /// every row and then every column. The kernels above are generic over it, so the JIT compiles
    /// each algorithm with its constants and transforms inlined (as the element-wise operator structs).
    /// </summary>
    private interface IWinogradTransforms
    {
        /// <summary>Outputs per tile side.</summary>
        static abstract int Out { get; }

        /// <summary>Input patch side: Out + 3 - 1.</summary>
        static abstract int In { get; }

        /// <summary>Transform points per tile: In².</summary>
        static abstract int Points { get; }

        /// <summary>G·(g0, g1, g2): the In kernel values at the interpolation points, written at target[start + k·stride].</summary>
        static abstract void Kernel(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride);

        /// <summary>Bᵀ·(d0..d(In-1)) in place on values[start + k·stride].</summary>
        static abstract void Input(Span<Vector<float>> values, int start, int stride);

        /// <summary>Aᵀ·(m0..m(In-1)) in place on values[start + k·stride] (k &lt; Out): the outputs from the points.</summary>
        static abstract void Output(Span<Vector<float>> values, int start, int stride);
    }

    /// <summary>
    /// F(4x4, 3x3) at the interpolation points 0, 1, -1, ½, -2 and ∞ (the forward and backward-data
    /// passes; see the class summary for why not ±2):
    /// <code>Aᵀ = [1 1 1 1 1 0; 0 1 -1 ½ -2 0; 0 1 1 ¼ 4 0; 0 1 -1 ⅛ -8 1],
    /// G = [1 0 0; ⅓ ⅓ ⅓; -⅓ ⅓ -⅓; -16/15 -8/15 -4/15; 1/15 -2/15 4/15; 0 0 1],
    /// Bᵀ = [1 -3/2 -2 3/2 1 0; 0 -1 ½ 5/2 1 0; 0 1 -5/2 ½ 1 0; 0 -2 -1 2 1 0; 0 ½ -1 -½ 1 0; 0 1 -3/2 -2 3/2 1]</code>
    /// (Aᵀ and G by Cook and Toom's construction, as wincnn's; Bᵀ solved so that the algorithm is exact).
    /// </summary>
    private readonly struct F4x4Transforms : IWinogradTransforms
    {
        /// <inheritdoc />
        public static int Out => WinogradOut;

        /// <inheritdoc />
        public static int In => WinogradIn;

        /// <inheritdoc />
        public static int Points => WinogradPoints;

        /// <summary>G·(g0, g1, g2): the 6 kernel values at the points 0, 1, -1, ½, -2, ∞, written at target[start + k·stride].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Kernel(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride)
        {
            var outer = g0 + g2;
            target[start] = g0;
            target[start + stride] = (outer + g1) * (1f / 3);
            target[start + 2 * stride] = (outer - g1) * (-1f / 3);
            target[start + 3 * stride] = (g0 * 4f + g1 * 2f + g2) * (-4f / 15);
            target[start + 4 * stride] = (g0 - g1 * 2f + g2 * 4f) * (1f / 15);
            target[start + 5 * stride] = g2;
        }

        /// <summary>Bᵀ·(d0..d5) in place on values[start + k·stride]: the patch at the points 0, 1, -1, ½, -2, ∞.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input(Span<Vector<float>> values, int start, int stride)
        {
            var d0 = values[start];
            var d1 = values[start + stride];
            var d2 = values[start + 2 * stride];
            var d3 = values[start + 3 * stride];
            var d4 = values[start + 4 * stride];
            var d5 = values[start + 5 * stride];
            var diff31 = d3 - d1;
            var diff42 = d4 - d2;
            values[start] = d0 + d4 - d2 * 2f + diff31 * 1.5f;
            values[start + stride] = d4 - d1 + d2 * 0.5f + d3 * 2.5f;
            values[start + 2 * stride] = d4 + d1 - d2 * 2.5f + d3 * 0.5f;
            values[start + 3 * stride] = diff42 + diff31 * 2f;
            values[start + 4 * stride] = diff42 - diff31 * 0.5f;
            values[start + 5 * stride] = d1 + d5 - d3 * 2f + diff42 * 1.5f;
        }

        /// <summary>Aᵀ·(m0..m5) in place on values[start + k·stride] (k = 0..3): the 4 outputs from the 6 points.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output(Span<Vector<float>> values, int start, int stride)
        {
            var m0 = values[start];
            var m1 = values[start + stride];
            var m2 = values[start + 2 * stride];
            var m3 = values[start + 3 * stride];
            var m4 = values[start + 4 * stride];
            var m5 = values[start + 5 * stride];
            var sum12 = m1 + m2;
            var diff12 = m1 - m2;
            values[start] = m0 + sum12 + m3 + m4;
            values[start + stride] = diff12 + m3 * 0.5f - m4 * 2f;
            values[start + 2 * stride] = sum12 + m3 * 0.25f + m4 * 4f;
            values[start + 3 * stride] = diff12 + m3 * 0.125f - m4 * 8f + m5;
        }
    }

    /// <summary>F(4x4, 3x3) at the interpolation points 0, ±1, ±2 and ∞ (Lavin and Gray's; the weight gradient's input transform, whose adjoints are <see cref="GradOutputTransform"/> and <see cref="KernelTransformAdjoint"/>).</summary>
    private readonly struct F4x4IntegerPointTransforms : IWinogradTransforms
    {
        /// <inheritdoc />
        public static int Out => WinogradOut;

        /// <inheritdoc />
        public static int In => WinogradIn;

        /// <inheritdoc />
        public static int Points => WinogradPoints;

        /// <summary>G·(g0, g1, g2): the 6 kernel values at the points 0, 1, -1, 2, -2, ∞, written at target[start + k·stride].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Kernel(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride)
        {
            var outer = g0 + g2;
            var evenPart = g0 * (1f / 24) + g2 * (1f / 6);
            var oddPart = g1 * (1f / 12);
            target[start] = g0 * (1f / 4);
            target[start + stride] = (outer + g1) * (-1f / 6);
            target[start + 2 * stride] = (outer - g1) * (-1f / 6);
            target[start + 3 * stride] = evenPart + oddPart;
            target[start + 4 * stride] = evenPart - oddPart;
            target[start + 5 * stride] = g2;
        }

        /// <summary>Bᵀ·(d0..d5) in place on values[start + k·stride]: the patch at the points 0, 1, -1, 2, -2, ∞.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input(Span<Vector<float>> values, int start, int stride)
        {
            var d0 = values[start];
            var d1 = values[start + stride];
            var d2 = values[start + 2 * stride];
            var d3 = values[start + 3 * stride];
            var d4 = values[start + 4 * stride];
            var d5 = values[start + 5 * stride];
            var sum12 = d1 + d2;
            var diff12 = d1 - d2;
            var sum34 = d3 + d4;
            var diff43 = d4 - d3;
            var diff42 = d4 - d2;
            var diff31 = d3 - d1;
            values[start] = d0 * 4f - d2 * 5f + d4;
            values[start + stride] = sum34 - sum12 * 4f;
            values[start + 2 * stride] = diff43 + diff12 * 4f;
            values[start + 3 * stride] = diff42 + diff31 * 2f;
            values[start + 4 * stride] = diff42 - diff31 * 2f;
            values[start + 5 * stride] = d1 * 4f - d3 * 5f + d5;
        }

        /// <summary>Aᵀ·(m0..m5) in place on values[start + k·stride] (k = 0..3): the 4 outputs from the 6 points.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output(Span<Vector<float>> values, int start, int stride)
        {
            var m0 = values[start];
            var m1 = values[start + stride];
            var m2 = values[start + 2 * stride];
            var m3 = values[start + 3 * stride];
            var m4 = values[start + 4 * stride];
            var m5 = values[start + 5 * stride];
            var sum12 = m1 + m2;
            var diff12 = m1 - m2;
            var sum34 = m3 + m4;
            var diff34 = m3 - m4;
            values[start] = m0 + sum12 + sum34;
            values[start + stride] = diff12 + diff34 * 2f;
            values[start + 2 * stride] = sum12 + sum34 * 4f;
            values[start + 3 * stride] = diff12 + diff34 * 8f + m5;
        }
    }

    /// <summary>Writes the first <paramref name="count"/> lanes of <paramref name="value"/> to target[offset..] (a whole vector when it fits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreLanes(Vector<float> value, float[] target, long offset, int count)
    {
        if (count == Vector<float>.Count)
        {
            value.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(target), (nuint)offset);
            return;
        }
        for (int lane = 0; lane < count; lane++) target[offset + lane] = value[lane];
    }
}
