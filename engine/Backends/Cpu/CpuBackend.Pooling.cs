using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// Pooling kernels, parallel over the (batch · channel) planes. Average pooling and adaptive
/// average pooling are the same computation over different windows: every output (oh, ow) averages
/// the rectangle rows[oh] x columns[ow] of its plane, divided by a per-output divisor. They share
/// one forward kernel and one adjoint kernel; only the window lists differ.
/// </summary>
public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public (Storage Values, Storage Indices) MaxPool2d(Storage input, Pool2dGeometry geometry)
    {
        var indices = NewArray<long>((long)geometry.Planes * geometry.OutH * geometry.OutW);
        Storage values = input.DType switch
        {
            DType.Float32 => Wrap(MaxPool(Data<float>(input), geometry, indices)),
            DType.Float64 => Wrap(MaxPool(Data<double>(input), geometry, indices)),
            _ => throw new ArgumentException($"max_pool2d: not defined for {input.DType.Name()} tensors"),
        };
        return (values, Wrap(indices));
    }

    private static T[] MaxPool<T>(T[] input, Pool2dGeometry g, long[] indices) where T : struct, INumber<T>
    {
        var values = NewArray<T>((long)g.Planes * g.OutH * g.OutW);
        if (MaxPool2x2Applies(g)) MaxPool2x2(input, g, values, indices);
        else if (typeof(T) == typeof(float) && MaxPool3x3Stride2Applies(g)) MaxPool3x3Stride2((float[])(object)input, g, (float[])(object)values, indices);
        else MaxPoolWindows(input, g, values, indices);
        return values;
    }

    /// <summary>Whether <see cref="MaxPool2x2{T}"/> computes this pooling: 2x2 windows at stride 2, no padding or dilation, every window inside the input.</summary>
    internal static bool MaxPool2x2Applies(Pool2dGeometry g) =>
        g.Kernel == new Size2d(2, 2) && g.Stride == new Size2d(2, 2) && g.Padding == new Size2d(0, 0) && g.Dilation == new Size2d(1, 1)
        && 2 * g.OutH <= g.Height && 2 * g.OutW <= g.Width;

    /// <summary>
    /// VGG's and SSD's 2x2 stride-2 pooling without <see cref="MaxPoolWindows{T}"/>'s per-window tap
    /// bounds: the same four comparisons in the same order (the first tap, then any larger value or
    /// NaN takes over), so the same values and indices.
    /// </summary>
    internal static void MaxPool2x2<T>(T[] input, Pool2dGeometry g, T[] values, long[] indices) where T : struct, INumber<T>
    {
        int outH = g.OutH, outW = g.OutW, width = g.Width, inPlane = g.Height * width, outPlane = outH * outW;
        ParallelRange(g.Planes, outPlane * 4L, (first, end) =>
        {
            for (long p = first; p < end; p++)
            {
                long source = p * inPlane, target = p * outPlane;
                for (int oh = 0; oh < outH; oh++)
                    for (int ow = typeof(T) == typeof(float) ? MaxPool2x2RowVectorized((float[])(object)input, source, 2 * oh * width, width, (float[])(object)values, indices, target + oh * outW, outW) : 0; ow < outW; ow++)
                    {
                        int topLeft = 2 * oh * width + 2 * ow;
                        T best = input[source + topLeft];
                        int bestIndex = topLeft;
                        Take(topLeft + 1);
                        Take(topLeft + width);
                        Take(topLeft + width + 1);
                        values[target + oh * outW + ow] = best;
                        indices[target + oh * outW + ow] = bestIndex;

                        void Take(int index)
                        {
                            T value = input[source + index];
                            if (value > best || T.IsNaN(value))
                            {
                                best = value;
                                bestIndex = index;
                            }
                        }
                    }
            }
        });
    }

    /// <summary>
    /// <see cref="MaxPool2x2{T}"/>'s float32 outputs [target, target + outW) of one output row, 8 at a
    /// time with AVX2 (each window's four taps deinterleaved from two input rows), as far as whole
    /// groups of 8 go; returns the first column it left to the scalar loop. The same four
    /// comparisons in the same order per lane (a larger value or NaN takes over), so the same values
    /// and indices. <paramref name="topLeftRow"/> is the top input row's start within the plane.
    /// </summary>
    private static int MaxPool2x2RowVectorized(float[] input, long source, int topLeftRow, int width, float[] values, long[] indices, long target, int outW)
    {
        if (!Avx2.IsSupported) return 0;
        int ow = 0;
        for (; ow + 8 <= outW; ow += 8)
        {
            int topLeft = topLeftRow + 2 * ow;
            var (best, topRight) = Deinterleave(input.AsSpan((int)(source + topLeft), 16));
            var (bottomLeft, bottomRight) = Deinterleave(input.AsSpan((int)(source + topLeft + width), 16));
            var offset = Vector256<int>.Zero;
            TakeLargerOrNaN(ref best, ref offset, topRight, 1);
            TakeLargerOrNaN(ref best, ref offset, bottomLeft, width);
            TakeLargerOrNaN(ref best, ref offset, bottomRight, width + 1);
            StoreEightWindows(best, topLeft, offset, values, indices, target + ow);
        }
        return ow;
    }

    /// <summary>
    /// One more tap of eight windows, in the scalar kernels' rule: the lanes where the tap is larger
    /// than the best so far, or NaN, take its value and its offset from the window's top-left tap.
    /// </summary>
    private static void TakeLargerOrNaN(ref Vector256<float> best, ref Vector256<int> offset, Vector256<float> tap, int tapOffset)
    {
        var takes = Vector256.GreaterThan(tap, best) | ~Vector256.Equals(tap, tap);
        best = Vector256.ConditionalSelect(takes, tap, best);
        offset = Vector256.ConditionalSelect(takes.AsInt32(), Vector256.Create(tapOffset), offset);
    }

    /// <summary>
    /// Writes eight stride-2 windows' maxima at <paramref name="output"/> and their positions: the
    /// first window's top-left tap at <paramref name="topLeft"/> within the plane, each next one two
    /// columns on, plus each lane's winning <paramref name="offset"/>.
    /// </summary>
    private static void StoreEightWindows(Vector256<float> best, int topLeft, Vector256<int> offset, float[] values, long[] indices, long output)
    {
        best.CopyTo(values.AsSpan((int)output, 8));
        var (low, high) = Vector256.Widen(Vector256.Create(topLeft) + Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14) + offset);
        low.CopyTo(indices.AsSpan((int)output, 4));
        high.CopyTo(indices.AsSpan((int)(output + 4), 4));
    }

    /// <summary>The even- and odd-indexed ones of 16 consecutive floats, each in order.</summary>
    private static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(ReadOnlySpan<float> sixteen)
    {
        var first = Vector256.Create(sixteen[..8]);
        var second = Vector256.Create(sixteen.Slice(8, 8));
        // Shuffle picks within 128-bit lanes (a0 a2 b0 b2 | a4 a6 b4 b6); the permute puts the 64-bit pairs in order.
        var even = Avx2.Permute4x64(Avx.Shuffle(first, second, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(first, second, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return (even, odd);
    }

    /// <summary>
    /// Whether <see cref="MaxPool3x3Stride2"/> computes this pooling: 3x3 windows at stride 2 without
    /// dilation (ResNet's stem), any padding and rounding mode (windows that stick out go to the
    /// reference's per-window code).
    /// </summary>
    internal static bool MaxPool3x3Stride2Applies(Pool2dGeometry g) =>
        g.Kernel == new Size2d(3, 3) && g.Stride == new Size2d(2, 2) && g.Dilation == new Size2d(1, 1);

    /// <summary>
    /// ResNet's 3x3 stride-2 float32 max pooling: the windows that lie wholly inside the input 8 at a
    /// time with AVX2 (<see cref="MaxPool3x3Stride2Vectorized"/>), the border windows and each row's
    /// tail with <see cref="MaxOfWindow{T}"/>, the reference's own per-window code. The same taps in
    /// the same order as the reference, so the same values and indices.
    /// </summary>
    internal static void MaxPool3x3Stride2(float[] input, Pool2dGeometry g, float[] values, long[] indices)
    {
        int outH = g.OutH, outW = g.OutW, width = g.Width, inPlane = g.Height * width, outPlane = outH * outW;
        // The first column whose window starts inside the input; a group of 8 from column ow reads
        // input columns [2·ow - padding, 2·ow - padding + 18) (see MaxPool3x3Stride2Vectorized).
        int firstInside = (g.Padding.W + 1) / 2;
        ParallelRange(g.Planes, outPlane * 9L, (first, end) =>
        {
            for (long p = first; p < end; p++)
            {
                long source = p * inPlane, target = p * outPlane;
                for (int oh = 0; oh < outH; oh++)
                {
                    int top = 2 * oh - g.Padding.H;
                    bool rowsInside = Avx2.IsSupported && top >= 0 && top + 3 <= g.Height;
                    int ow = 0;
                    for (; ow < outW; ow++)
                    {
                        int left = 2 * ow - g.Padding.W;
                        if (rowsInside && ow >= firstInside && ow + 8 <= outW && left + 18 <= width)
                        {
                            MaxPool3x3Stride2Vectorized(input, source, top * width + left, width, values, indices, target + oh * outW + ow);
                            ow += 7;
                        }
                        else MaxOfWindow(input, source, g, oh, ow, values, indices, target + oh * outW + ow);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Eight outputs of <see cref="MaxPool3x3Stride2"/> whose windows lie inside the input, the first
    /// with its top-left tap at <paramref name="topLeft"/> within the plane: per input row, the left
    /// and middle taps deinterleaved from 16 floats at the window's column, the right taps from 16
    /// floats two columns on. Per lane the reference's order (rows top to bottom, columns left to
    /// right; the first tap, then any larger value or NaN takes over).
    /// </summary>
    private static void MaxPool3x3Stride2Vectorized(float[] input, long source, int topLeft, int width, float[] values, long[] indices, long target)
    {
        var best = Vector256<float>.Zero;
        var offset = Vector256<int>.Zero;
        for (int row = 0; row < 3; row++)
        {
            int rowStart = topLeft + row * width;
            var (leftTaps, middleTaps) = Deinterleave(input.AsSpan((int)(source + rowStart), 16));
            var (rightTaps, _) = Deinterleave(input.AsSpan((int)(source + rowStart + 2), 16));
            if (row == 0) best = leftTaps;
            else TakeLargerOrNaN(ref best, ref offset, leftTaps, row * width);
            TakeLargerOrNaN(ref best, ref offset, middleTaps, row * width + 1);
            TakeLargerOrNaN(ref best, ref offset, rightTaps, row * width + 2);
        }
        StoreEightWindows(best, topLeft, offset, values, indices, target);
    }

    /// <summary>Max pooling over any windows (the reference): each output the largest in-bounds tap of its window, or the last NaN, and its position h·W + w.</summary>
    internal static void MaxPoolWindows<T>(T[] input, Pool2dGeometry g, T[] values, long[] indices) where T : struct, INumber<T>
    {
        int outH = g.OutH, outW = g.OutW, inPlane = g.Height * g.Width, outPlane = outH * outW;
        ParallelRange(g.Planes, (long)outPlane * g.Kernel.H * g.Kernel.W, (first, end) =>
        {
            for (long p = first; p < end; p++)
                for (int oh = 0; oh < outH; oh++)
                    for (int ow = 0; ow < outW; ow++)
                        MaxOfWindow(input, p * inPlane, g, oh, ow, values, indices, p * outPlane + oh * outW + ow);
        });
    }

    /// <summary>
    /// The reference's one output (oh, ow) of the plane at <paramref name="source"/>, written at
    /// <paramref name="output"/>: the largest in-bounds tap of the window, or the last NaN, and its position h·W + w.
    /// </summary>
    private static void MaxOfWindow<T>(T[] input, long source, Pool2dGeometry g, int oh, int ow, T[] values, long[] indices, long output) where T : struct, INumber<T>
    {
        var (rowStart, rowEnd) = DilatedTaps(oh * g.Stride.H - g.Padding.H, g.Kernel.H, g.Dilation.H, g.Height);
        var (columnStart, columnEnd) = DilatedTaps(ow * g.Stride.W - g.Padding.W, g.Kernel.W, g.Dilation.W, g.Width);
        // As PyTorch: start from -inf at the first in-bounds tap; a larger value or any NaN takes over.
        T best = T.CreateChecked(double.NegativeInfinity);
        long bestIndex = (long)rowStart * g.Width + columnStart;
        for (int ih = rowStart; ih < rowEnd; ih += g.Dilation.H)
            for (int iw = columnStart; iw < columnEnd; iw += g.Dilation.W)
            {
                long index = (long)ih * g.Width + iw;
                T value = input[source + index];
                if (value > best || T.IsNaN(value))
                {
                    best = value;
                    bestIndex = index;
                }
            }
        values[output] = best;
        indices[output] = bestIndex;
    }

    /// <summary>
    /// The in-bounds taps start, start + dilation, ... (kernel of them) of a window along an axis of
    /// <paramref name="size"/>: the first in-bounds tap and an exclusive end for a loop stepping by dilation.
    /// </summary>
    private static (int Start, int End) DilatedTaps(int start, int kernel, int dilation, int size)
    {
        int end = Math.Min(start + (kernel - 1) * dilation + 1, size);
        while (start < 0) start += dilation;
        return (start, end);
    }

    /// <summary>One axis of an averaging window: elements [Start, End) of the input axis, and its share of the divisor.</summary>
    private readonly record struct WindowSpan(int Start, int End, int DivisorFactor);

    /// <summary>
    /// The windows of torch's avg_pool2d along one axis: the window is clipped to the padded input
    /// (that length is the divisor factor with count_include_pad) and then to the input (the factor without).
    /// </summary>
    private static WindowSpan[] AvgPoolSpans(int outSize, int inSize, int kernel, int stride, int padding, bool countIncludePad)
    {
        var spans = new WindowSpan[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = o * stride - padding, end = Math.Min(start + kernel, inSize + padding);
            int paddedLength = end - start;
            start = Math.Max(start, 0);
            end = Math.Min(end, inSize);
            spans[o] = new WindowSpan(start, end, countIncludePad ? paddedLength : end - start);
        }
        return spans;
    }

    /// <summary>The windows of torch's adaptive_avg_pool2d along one axis: [floor(o·in/out), ceil((o+1)·in/out)).</summary>
    private static WindowSpan[] AdaptiveSpans(int outSize, int inSize)
    {
        var spans = new WindowSpan[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = (int)((long)o * inSize / outSize);
            int end = (int)(((long)(o + 1) * inSize + outSize - 1) / outSize);
            spans[o] = new WindowSpan(start, end, end - start);
        }
        return spans;
    }

    /// <summary>The divisor of every output: the product of its row and column factors, or the override.</summary>
    private static int[] Divisors(WindowSpan[] rows, WindowSpan[] columns, int? divisorOverride)
    {
        var divisors = new int[rows.Length * columns.Length];
        for (int oh = 0; oh < rows.Length; oh++)
            for (int ow = 0; ow < columns.Length; ow++)
                divisors[oh * columns.Length + ow] = divisorOverride ?? rows[oh].DivisorFactor * columns[ow].DivisorFactor;
        return divisors;
    }

    /// <inheritdoc />
    public Storage AvgPool2d(Storage input, Pool2dGeometry geometry, bool countIncludePad, int? divisorOverride)
    {
        var (rows, columns) = AvgPoolWindows(geometry, countIncludePad);
        return AverageWindows(input, geometry.Planes, geometry.Height, geometry.Width, rows, columns, Divisors(rows, columns, divisorOverride));
    }

    /// <inheritdoc />
    public Storage MaxPool2dBackward(Storage gradOutput, Storage indices, Pool2dGeometry geometry) =>
        // Per plane, a scatter-add of the output gradient at the winners' positions (windows that
        // overlap add up, in output order as PyTorch does).
        ScatterAdd(gradOutput, [geometry.Planes, geometry.OutH * geometry.OutW], 1, indices, [geometry.Planes, geometry.Height * geometry.Width], "max_pool2d backward");

    /// <inheritdoc />
    public Storage AvgPool2dBackward(Storage gradOutput, Pool2dGeometry geometry, bool countIncludePad, int? divisorOverride)
    {
        var (rows, columns) = AvgPoolWindows(geometry, countIncludePad);
        return SpreadOverWindows(gradOutput, geometry.Planes, geometry.Height, geometry.Width, rows, columns, Divisors(rows, columns, divisorOverride));
    }

    private static (WindowSpan[] Rows, WindowSpan[] Columns) AvgPoolWindows(Pool2dGeometry g, bool countIncludePad) =>
        (AvgPoolSpans(g.OutH, g.Height, g.Kernel.H, g.Stride.H, g.Padding.H, countIncludePad),
         AvgPoolSpans(g.OutW, g.Width, g.Kernel.W, g.Stride.W, g.Padding.W, countIncludePad));

    /// <inheritdoc />
    public Storage AdaptiveAvgPool2d(Storage input, int planes, int height, int width, int outHeight, int outWidth)
    {
        WindowSpan[] rows = AdaptiveSpans(outHeight, height), columns = AdaptiveSpans(outWidth, width);
        return AverageWindows(input, planes, height, width, rows, columns, Divisors(rows, columns, null));
    }

    /// <inheritdoc />
    public Storage AdaptiveAvgPool2dBackward(Storage gradOutput, int planes, int height, int width, int outHeight, int outWidth)
    {
        WindowSpan[] rows = AdaptiveSpans(outHeight, height), columns = AdaptiveSpans(outWidth, width);
        return SpreadOverWindows(gradOutput, planes, height, width, rows, columns, Divisors(rows, columns, null));
    }

    private static Storage AverageWindows(Storage input, int planes, int height, int width, WindowSpan[] rows, WindowSpan[] columns, int[] divisors) => input.DType switch
    {
        DType.Float32 => Wrap(AverageWindows(Data<float>(input), planes, height, width, rows, columns, divisors)),
        DType.Float64 => Wrap(AverageWindows(Data<double>(input), planes, height, width, rows, columns, divisors)),
        _ => throw new ArgumentException($"avg_pool2d: not defined for {input.DType.Name()} tensors"),
    };

    private static T[] AverageWindows<T>(T[] input, int planes, int height, int width, WindowSpan[] rows, WindowSpan[] columns, int[] divisors) where T : struct, INumber<T>
    {
        int inPlane = height * width, outPlane = rows.Length * columns.Length;
        var output = NewArray<T>((long)planes * outPlane);
        ParallelRange(planes, inPlane + outPlane, (first, end) =>
        {
            for (long p = first; p < end; p++)
                for (int oh = 0; oh < rows.Length; oh++)
                    for (int ow = 0; ow < columns.Length; ow++)
                    {
                        T sum = T.Zero;
                        for (int ih = rows[oh].Start; ih < rows[oh].End; ih++)
                            for (int iw = columns[ow].Start; iw < columns[ow].End; iw++)
                                sum += input[p * inPlane + ih * width + iw];
                        output[p * outPlane + oh * columns.Length + ow] = sum / T.CreateChecked(divisors[oh * columns.Length + ow]);
                    }
        });
        return output;
    }

    private static Storage SpreadOverWindows(Storage gradOutput, int planes, int height, int width, WindowSpan[] rows, WindowSpan[] columns, int[] divisors) => gradOutput.DType switch
    {
        DType.Float32 => Wrap(SpreadOverWindows(Data<float>(gradOutput), planes, height, width, rows, columns, divisors)),
        DType.Float64 => Wrap(SpreadOverWindows(Data<double>(gradOutput), planes, height, width, rows, columns, divisors)),
        _ => throw new ArgumentException($"avg_pool2d backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    private static T[] SpreadOverWindows<T>(T[] gradOutput, int planes, int height, int width, WindowSpan[] rows, WindowSpan[] columns, int[] divisors) where T : struct, INumber<T>
    {
        int inPlane = height * width, outPlane = rows.Length * columns.Length;
        var gradInput = CpuBufferPool.RentZeroed<T>((long)planes * inPlane);
        ParallelRange(planes, inPlane + outPlane, (first, end) =>
        {
            for (long p = first; p < end; p++)
                for (int oh = 0; oh < rows.Length; oh++)
                    for (int ow = 0; ow < columns.Length; ow++)
                    {
                        T share = gradOutput[p * outPlane + oh * columns.Length + ow] / T.CreateChecked(divisors[oh * columns.Length + ow]);
                        for (int ih = rows[oh].Start; ih < rows[oh].End; ih++)
                            for (int iw = columns[ow].Start; iw < columns[ow].End; iw++)
                                gradInput[p * inPlane + ih * width + iw] += share;
                    }
        });
        return gradInput;
    }
}
