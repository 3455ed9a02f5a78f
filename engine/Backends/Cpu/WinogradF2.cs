using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The forward 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) (Lavin and Gray 2015), the
/// accurate sibling of <see cref="WinogradConvForward"/>'s F(4x4, 3x3): 2x2 output tiles from 4x4
/// input patches d,
/// <code>Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
/// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 -1 -1]</code>
/// 16 products per tile instead of 36 (2.25x fewer multiplications than the direct sum, against
/// F(4x4)'s 4x), as 16 GEMMs M[ξ] (tiles x O) = V[ξ]ᵀ · U[ξ] over the input channels. Every entry of
/// the three matrices is 0, ±1 or ±½ (exact in binary), so the transforms only add: the rounding
/// stays of the direct sum's order (F(4x4)'s entries up to 8 amplify it about 20-fold). The
/// structure, chunking and vectorisation are those of the F(4x4) kernel (Winograd.cs); bias and
/// an optional ReLU are applied in the output transform.
/// <para>
/// Not dispatched yet (see <see cref="Conv2d"/>): with it as the float32 forward, SSD300's float32
/// training-step parity with torchvision failed (conv6's weight gradient 2.5e-3 of its largest
/// away: a hard-negative-mining near-tie decided the other way), although both detectors'
/// detections matched torchvision and its measured error is 1.4e-7 of Σ|x·w|. Measured in the conv
/// benchmark (loaded machine, same run as PyTorch): SSD300-VGG16's 3x3 stride-1 forward rows went
/// from 0.83-2.34x PyTorch's time with im2col to 0.63-1.41x.
/// </para>
/// </summary>
public sealed partial class CpuBackend
{
    private const int F2Out = 2;                 // outputs per tile side
    private const int F2In = 4;                  // input patch side: F2Out + 3 - 1
    private const int F2Points = F2In * F2In;

    /// <summary>The forward 3x3 stride-1 convolution by F(2x2, 3x3), output [N, O, OutH, OutW], relu(output) with <paramref name="relu"/>.</summary>
    internal static float[] WinogradF2ConvForward(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu = false)
    {
        int cg = g.InPerGroup, og = g.OutPerGroup, width = Vector<float>.Count;
        var (tilesH, tilesW, tileRows, rowsPerChunk) = WinogradTiling(g, F2Out, F2Points);
        int maxTiles = rowsPerChunk * tilesW;

        var output = CpuBufferPool.RentZeroed<float>((long)g.Batch * g.OutChannels * g.OutH * g.OutW);
        var transformedWeight = ArrayPool<float>.Shared.Rent(F2Points * og * cg);
        var transformedInput = ArrayPool<float>.Shared.Rent(F2Points * cg * maxTiles);
        // Slack of one vector: the output transform loads whole vectors past the last channel of a row.
        var products = ArrayPool<float>.Shared.Rent(F2Points * og * maxTiles + width);
        try
        {
            for (int group = 0; group < g.Groups; group++)
            {
                F2TransformWeights(weight, group, g, transformedWeight);
                for (int row0 = 0; row0 < tileRows; row0 += rowsPerChunk)
                {
                    int rows = Math.Min(rowsPerChunk, tileRows - row0), tiles = rows * tilesW;
                    F2TransformInput(input, group, g, row0, rows, tilesH, tilesW, transformedInput);
                    Array.Clear(products, 0, F2Points * og * tiles); // the GEMM accumulates
                    Parallel.For(0, F2Points, point => GemmAccumulate(
                        transformedInput, (long)point * cg * tiles, true,
                        transformedWeight, (long)point * cg * og, false,
                        products, (long)point * tiles * og, tiles, og, cg));
                    F2TransformOutput(products, bias, relu, group, g, row0, tiles, tilesH, tilesW, output);
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
    /// U[ξ, c, o] = (G g Gᵀ)[ξ] for the kernel g = weight[group·og + o, c] of one group. Parallel
    /// over input channels; vectorised across consecutive output channels.
    /// </summary>
    private static void F2TransformWeights(float[] weight, int group, Conv2dGeometry g, float[] transformed)
    {
        int og = g.OutPerGroup, cg = g.InPerGroup, width = Vector<float>.Count;
        long first = (long)group * og * cg * 9;
        ParallelRange(cg, (long)og * F2Points * 8, (firstChannel, endChannel) =>
        {
            Span<float> taps = stackalloc float[9 * width];
            Span<Vector<float>> rows = stackalloc Vector<float>[F2In * 3];
            Span<Vector<float>> point = stackalloc Vector<float>[F2In];
            ref float weights = ref MemoryMarshal.GetArrayDataReference(weight);
            ref float tapRows = ref MemoryMarshal.GetReference(taps);
            for (long c = firstChannel; c < endChannel; c++)
                for (int o0 = 0; o0 < og; o0 += width)
                {
                    int count = Math.Min(width, og - o0);
                    if (count < width) taps.Clear();
                    for (int lane = 0; lane < count; lane++)
                    {
                        ref float kernel = ref Unsafe.Add(ref weights, (nint)(first + ((long)(o0 + lane) * cg + c) * 9));
                        for (int tap = 0; tap < 9; tap++) Unsafe.Add(ref tapRows, tap * width + lane) = Unsafe.Add(ref kernel, tap);
                    }
                    // G on each kernel column gives 4 x 3, that times Gᵀ gives 4 x 4.
                    for (int column = 0; column < 3; column++)
                        F2KernelTransform(Vector.LoadUnsafe(ref tapRows, (nuint)(column * width)), Vector.LoadUnsafe(ref tapRows, (nuint)((3 + column) * width)),
                            Vector.LoadUnsafe(ref tapRows, (nuint)((6 + column) * width)), rows, column, 3);
                    for (int i = 0; i < F2In; i++)
                    {
                        F2KernelTransform(rows[i * 3], rows[i * 3 + 1], rows[i * 3 + 2], point, 0, 1);
                        for (int j = 0; j < F2In; j++)
                            StoreLanes(point[j], transformed, ((long)(i * F2In + j) * cg + c) * og + o0, count);
                    }
                }
        });
    }

    /// <summary>G·(g0, g1, g2) = (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2), written at target[start + k·stride].</summary>
    private static void F2KernelTransform(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride)
    {
        var outer = g0 + g2;
        target[start] = g0;
        target[start + stride] = (outer + g1) * 0.5f;
        target[start + 2 * stride] = (outer - g1) * 0.5f;
        target[start + 3 * stride] = g2;
    }

    /// <summary>
    /// V[ξ, c, t] = (Bᵀ d B)[ξ] for the 4x4 input patch d of every tile t in tile rows
    /// [row0, row0 + rows) and every input channel c of one group. Parallel over channels; each
    /// patch row is split by column parity first, so the four patch columns of consecutive tiles
    /// are four contiguous vectors.
    /// </summary>
    private static void F2TransformInput(float[] input, int group, Conv2dGeometry g, int row0, int rows, int tilesH, int tilesW, float[] transformed)
    {
        int cg = g.InPerGroup, tiles = rows * tilesW, width = Vector<float>.Count;
        int phaseLength = tilesW + 1 + width; // tiles + the next tile's first two columns + a vector of zeros for the tail loads
        int height = g.Height, inputWidth = g.Width, padH = g.Padding.H, padW = g.Padding.W;
        // Input columns that land in some patch: x + padW < (tilesW + 1)·2.
        int xEnd = Math.Min(inputWidth, (tilesW + 1) * F2Out - padW);
        ParallelRange(cg, (long)tiles * F2Points * 2, (firstChannel, endChannel) =>
        {
            var phaseBuffer = ArrayPool<float>.Shared.Rent(F2In * F2Out * phaseLength);
            var phases = phaseBuffer.AsSpan(0, F2In * F2Out * phaseLength);
            ref float phase = ref MemoryMarshal.GetReference(phases);
            ref float source = ref MemoryMarshal.GetArrayDataReference(input);
            Span<Vector<float>> d = stackalloc Vector<float>[F2Points];
            for (long c = firstChannel; c < endChannel; c++)
                for (int r = 0; r < rows; r++)
                {
                    int image = (row0 + r) / tilesH, ty = (row0 + r) % tilesH;
                    long plane = ((long)image * g.InChannels + (long)group * cg + c) * height * inputWidth;
                    // phases[(py·2 + q)·phaseLength + j] = input[y, 2j + q - padW] for patch row py (0 outside the image).
                    phases.Clear();
                    for (int py = 0; py < F2In; py++)
                    {
                        int y = ty * F2Out + py - padH;
                        if ((uint)y >= (uint)height) continue;
                        ref float sourceRow = ref Unsafe.Add(ref source, (nint)(plane + (long)y * inputWidth));
                        ref float phaseRows = ref Unsafe.Add(ref phase, py * F2Out * phaseLength);
                        for (int x = 0; x < xEnd; x++)
                        {
                            int shifted = x + padW;
                            Unsafe.Add(ref phaseRows, (shifted & 1) * phaseLength + (shifted >> 1)) = Unsafe.Add(ref sourceRow, x);
                        }
                    }
                    for (int tx = 0; tx < tilesW; tx += width)
                    {
                        // d[py·4 + px] = patch(py, px) of the tiles tx .. tx + width - 1.
                        for (int py = 0; py < F2In; py++)
                            for (int px = 0; px < F2In; px++)
                                d[py * F2In + px] = Vector.LoadUnsafe(ref phase, (nuint)((py * F2Out + (px & 1)) * phaseLength + tx + (px >> 1)));
                        for (int py = 0; py < F2In; py++) F2InputTransform(d, py * F2In, 1);
                        for (int px = 0; px < F2In; px++) F2InputTransform(d, px, F2In);
                        int count = Math.Min(width, tilesW - tx), t = r * tilesW + tx;
                        for (int point = 0; point < F2Points; point++)
                            StoreLanes(d[point], transformed, ((long)point * cg + c) * tiles + t, count);
                    }
                }
            ArrayPool<float>.Shared.Return(phaseBuffer);
        });
    }

    /// <summary>Bᵀ·(d0..d3) = (d0 - d2, d1 + d2, d2 - d1, d1 - d3) in place on values[start + k·stride].</summary>
    private static void F2InputTransform(Span<Vector<float>> values, int start, int stride)
    {
        var d0 = values[start];
        var d1 = values[start + stride];
        var d2 = values[start + 2 * stride];
        var d3 = values[start + 3 * stride];
        values[start] = d0 - d2;
        values[start + stride] = d1 + d2;
        values[start + 2 * stride] = d2 - d1;
        values[start + 3 * stride] = d1 - d3;
    }

    /// <summary>
    /// Y = Aᵀ M A for every tile and output channel of one group, plus the bias, then the ReLU when
    /// asked, written into the output planes (edge tiles keep only their part inside the output).
    /// Parallel over tiles; vectorised across consecutive output channels.
    /// </summary>
    private static void F2TransformOutput(float[] products, float[]? bias, bool relu, int group, Conv2dGeometry g, int row0, int tiles, int tilesH, int tilesW, float[] output)
    {
        int og = g.OutPerGroup, outH = g.OutH, outW = g.OutW, width = Vector<float>.Count;
        long outPlane = (long)outH * outW;
        ParallelRange(tiles, (long)og * F2Points * 2, (firstTile, endTile) =>
        {
            Span<Vector<float>> m = stackalloc Vector<float>[F2Points];
            Span<float> values = stackalloc float[F2Out * F2Out * width];
            Span<float> shift = stackalloc float[width];
            ref float product = ref MemoryMarshal.GetArrayDataReference(products);
            ref float result = ref MemoryMarshal.GetArrayDataReference(output);
            for (long t = firstTile; t < endTile; t++)
            {
                int tileRow = row0 + (int)(t / tilesW), tx = (int)(t % tilesW);
                int image = tileRow / tilesH, y0 = tileRow % tilesH * F2Out, x0 = tx * F2Out;
                int rowsInside = Math.Min(F2Out, outH - y0), columnsInside = Math.Min(F2Out, outW - x0);
                for (int o0 = 0; o0 < og; o0 += width)
                {
                    int count = Math.Min(width, og - o0);
                    for (int point = 0; point < F2Points; point++)
                        m[point] = Vector.LoadUnsafe(ref product, (nuint)(((long)point * tiles + t) * og + o0));
                    for (int py = 0; py < F2In; py++) F2OutputTransform(m, py * F2In, 1);
                    for (int j = 0; j < F2Out; j++) F2OutputTransform(m, j, F2In);
                    shift.Clear();
                    if (bias is not null) bias.AsSpan(group * og + o0, count).CopyTo(shift);
                    var biasVector = new Vector<float>(shift);
                    // Rows 0..1 of m now hold the tile's output (i, j) at m[i·4 + j].
                    for (int i = 0; i < F2Out; i++)
                        for (int j = 0; j < F2Out; j++)
                        {
                            var y = m[i * F2In + j] + biasVector;
                            if (relu) y = Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero) | ~Vector.Equals(y, y), y, Vector<float>.Zero);
                            y.CopyTo(values[((i * F2Out + j) * width)..]);
                        }
                    for (int lane = 0; lane < count; lane++)
                    {
                        long planeStart = ((long)image * g.OutChannels + group * og + o0 + lane) * outPlane;
                        for (int i = 0; i < rowsInside; i++)
                        {
                            ref float target = ref Unsafe.Add(ref result, (nint)(planeStart + (long)(y0 + i) * outW + x0));
                            for (int j = 0; j < columnsInside; j++)
                                Unsafe.Add(ref target, j) = values[(i * F2Out + j) * width + lane];
                        }
                    }
                }
            }
        });
    }

    /// <summary>Aᵀ·(m0..m3) = (m0 + m1 + m2, m1 - m2 - m3) in place on values[start + k·stride] (k = 0, 1).</summary>
    private static void F2OutputTransform(Span<Vector<float>> values, int start, int stride)
    {
        var m0 = values[start];
        var m1 = values[start + stride];
        var m2 = values[start + 2 * stride];
        var m3 = values[start + 3 * stride];
        values[start] = m0 + m1 + m2;
        values[start + stride] = m1 - m2 - m3;
    }
}
