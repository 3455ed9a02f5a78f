using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

// RoIAlign and RoIPool, following torchvision 0.14's CPU kernels (roi_align_kernel.cpp,
// roi_pool_kernel.cpp) operation by operation, in the element type, so float32 results agree with
// torchvision to the last bits. These are the reference kernels and serve float64; float32 runs
// their channels-last, vectorised twins in RoiChannelsLast.cs, which are bit-identical to them. Forward passes run RoIs in parallel (each writes its own output);
// backward passes scatter into the input gradient, where RoIs of one image collide, so they run
// channels in parallel instead (each channel plane is written by one thread).
public sealed partial class CpuBackend
{
    /// <summary>One bilinear sample: four cell positions in a channel plane and their weights (all 0 for a sample outside the map).</summary>
    private readonly record struct BilinearSample<T>(int TopLeft, int TopRight, int BottomLeft, int BottomRight, T WeightTopLeft, T WeightTopRight, T WeightBottomLeft, T WeightBottomRight);

    /// <summary>The sampling plan of one RoI: its image, and per output bin (row-major) <c>SamplesPerBin</c> consecutive samples.</summary>
    private readonly record struct RoiAlignPlan<T>(int Batch, int SamplesPerBin, BilinearSample<T>[] Samples);

    /// <inheritdoc />
    public Storage RoiAlign(Storage input, Storage rois, int roiCount, RoiGeometry geometry, int samplingRatio, bool aligned) => input.DType switch
    {
        DType.Float32 => Wrap(RoiAlignChannelsLast(Data<float>(input), Data<float>(rois), roiCount, geometry, samplingRatio, aligned)),
        DType.Float64 => Wrap(RoiAlignOf(Data<double>(input), Data<double>(rois), roiCount, geometry, samplingRatio, aligned)),
        _ => throw new ArgumentException($"roi_align: not defined for {input.DType.Name()} tensors"),
    };

    /// <inheritdoc />
    public Storage RoiAlignBackward(Storage gradOutput, Storage rois, int roiCount, RoiGeometry geometry, int samplingRatio, bool aligned) => gradOutput.DType switch
    {
        DType.Float32 => Wrap(RoiAlignBackwardChannelsLast(Data<float>(gradOutput), Data<float>(rois), roiCount, geometry, samplingRatio, aligned)),
        DType.Float64 => Wrap(RoiAlignBackwardOf(Data<double>(gradOutput), Data<double>(rois), roiCount, geometry, samplingRatio, aligned)),
        _ => throw new ArgumentException($"roi_align backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    internal static T[] RoiAlignOf<T>(T[] input, T[] rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned) where T : struct, IFloatingPointIeee754<T>
    {
        int bins = g.OutputHeight * g.OutputWidth, plane = g.Height * g.Width;
        var output = NewArray<T>((long)roiCount * g.Channels * bins);
        ParallelRange(roiCount, (long)g.Channels * bins * 4, (first, end) =>
        {
            for (long r = first; r < end; r++)
            {
                var roi = PlanRoiAlign(rois, (int)r, g, samplingRatio, aligned);
                // torchvision divides by max(count, 1): a bin without samples outputs 0.
                T count = T.CreateChecked(Math.Max(roi.SamplesPerBin, 1));
                for (int c = 0; c < g.Channels; c++)
                {
                    var values = input.AsSpan(((roi.Batch * g.Channels) + c) * plane, plane);
                    long outBase = (r * g.Channels + c) * bins;
                    for (int bin = 0, s = 0; bin < bins; bin++)
                    {
                        T sum = T.Zero;
                        for (int k = 0; k < roi.SamplesPerBin; k++, s++)
                        {
                            var p = roi.Samples[s];
                            sum += p.WeightTopLeft * values[p.TopLeft] + p.WeightTopRight * values[p.TopRight]
                                + p.WeightBottomLeft * values[p.BottomLeft] + p.WeightBottomRight * values[p.BottomRight];
                        }
                        output[outBase + bin] = sum / count;
                    }
                }
            }
        });
        return output;
    }

    internal static T[] RoiAlignBackwardOf<T>(T[] gradOutput, T[] rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned) where T : struct, IFloatingPointIeee754<T>
    {
        int bins = g.OutputHeight * g.OutputWidth, plane = g.Height * g.Width;
        var gradInput = CpuBufferPool.RentZeroed<T>((long)g.Batch * g.Channels * plane);
        ParallelRange(g.Channels, (long)roiCount * bins * 4, (firstChannel, endChannel) =>
        {
            for (int r = 0; r < roiCount; r++)
            {
                // Planned once per RoI per channel chunk: cheap next to the channels it serves.
                var roi = PlanRoiAlign(rois, r, g, samplingRatio, aligned);
                T count = T.CreateChecked(Math.Max(roi.SamplesPerBin, 1));
                for (long c = firstChannel; c < endChannel; c++)
                {
                    var grads = gradInput.AsSpan((int)((roi.Batch * g.Channels + c) * plane), plane);
                    long outBase = (r * g.Channels + c) * bins;
                    for (int bin = 0, s = 0; bin < bins; bin++)
                    {
                        T gradient = gradOutput[outBase + bin];
                        // (gradient · weight) / count in torchvision's order, for bitwise-equal float32 results.
                        for (int k = 0; k < roi.SamplesPerBin; k++, s++)
                        {
                            var p = roi.Samples[s];
                            grads[p.TopLeft] += gradient * p.WeightTopLeft / count;
                            grads[p.TopRight] += gradient * p.WeightTopRight / count;
                            grads[p.BottomLeft] += gradient * p.WeightBottomLeft / count;
                            grads[p.BottomRight] += gradient * p.WeightBottomRight / count;
                        }
                    }
                }
            }
        });
        return gradInput;
    }

    /// <summary>Where RoI <paramref name="r"/> samples the map, bin by bin (torchvision's pre_calc_for_bilinear_interpolate).</summary>
    private static RoiAlignPlan<T> PlanRoiAlign<T>(T[] rois, int r, RoiGeometry g, int samplingRatio, bool aligned) where T : struct, IFloatingPointIeee754<T>
    {
        int batch = RoiBatchIndex("roi_align", rois, r, g.Batch);
        T scale = T.CreateChecked(g.SpatialScale);
        T offset = aligned ? T.CreateChecked(0.5) : T.Zero;
        T startX = rois[r * 5 + 1] * scale - offset;
        T startY = rois[r * 5 + 2] * scale - offset;
        T roiWidth = rois[r * 5 + 3] * scale - offset - startX;
        T roiHeight = rois[r * 5 + 4] * scale - offset - startY;
        if (!aligned)
        {
            // Legacy behaviour: malformed or tiny RoIs are forced to 1 x 1 cells.
            roiWidth = T.Max(roiWidth, T.One);
            roiHeight = T.Max(roiHeight, T.One);
        }
        T binHeight = roiHeight / T.CreateChecked(g.OutputHeight);
        T binWidth = roiWidth / T.CreateChecked(g.OutputWidth);
        int gridH = samplingRatio > 0 ? samplingRatio : int.CreateSaturating(T.Ceiling(roiHeight / T.CreateChecked(g.OutputHeight)));
        int gridW = samplingRatio > 0 ? samplingRatio : int.CreateSaturating(T.Ceiling(roiWidth / T.CreateChecked(g.OutputWidth)));
        gridH = Math.Max(gridH, 0);
        gridW = Math.Max(gridW, 0);

        var samples = new BilinearSample<T>[g.OutputHeight * g.OutputWidth * gridH * gridW];
        int s = 0;
        T half = T.CreateChecked(0.5);
        for (int ph = 0; ph < g.OutputHeight; ph++)
            for (int pw = 0; pw < g.OutputWidth; pw++)
                for (int iy = 0; iy < gridH; iy++)
                {
                    T y = startY + T.CreateChecked(ph) * binHeight + (T.CreateChecked(iy) + half) * binHeight / T.CreateChecked(gridH);
                    for (int ix = 0; ix < gridW; ix++)
                    {
                        T x = startX + T.CreateChecked(pw) * binWidth + (T.CreateChecked(ix) + half) * binWidth / T.CreateChecked(gridW);
                        samples[s++] = Bilinear(y, x, g.Height, g.Width);
                    }
                }
        return new RoiAlignPlan<T>(batch, gridH * gridW, samples);
    }

    /// <summary>The four neighbours of (y, x) and their weights, with torchvision's edge rules.</summary>
    private static BilinearSample<T> Bilinear<T>(T y, T x, int height, int width) where T : struct, IFloatingPointIeee754<T>
    {
        // More than one cell outside the map: the sample is empty (contributes 0).
        if (y < -T.One || y > T.CreateChecked(height) || x < -T.One || x > T.CreateChecked(width))
            return default;
        // Within one cell outside: clamp onto the border cells.
        if (y <= T.Zero) y = T.Zero;
        if (x <= T.Zero) x = T.Zero;
        int yLow = int.CreateTruncating(y), xLow = int.CreateTruncating(x), yHigh, xHigh;
        if (yLow >= height - 1)
        {
            yHigh = yLow = height - 1;
            y = T.CreateChecked(yLow);
        }
        else
        {
            yHigh = yLow + 1;
        }
        if (xLow >= width - 1)
        {
            xHigh = xLow = width - 1;
            x = T.CreateChecked(xLow);
        }
        else
        {
            xHigh = xLow + 1;
        }
        T ly = y - T.CreateChecked(yLow), lx = x - T.CreateChecked(xLow);
        T hy = T.One - ly, hx = T.One - lx;
        return new BilinearSample<T>(yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh, hy * hx, hy * lx, ly * hx, ly * lx);
    }

    private static int RoiBatchIndex<T>(string op, T[] rois, int r, int batch) where T : struct, IFloatingPointIeee754<T>
    {
        T value = rois[r * 5];
        int index = int.CreateSaturating(value);
        if (index < 0 || index >= batch || T.IsNaN(value))
            throw new ArgumentOutOfRangeException(nameof(rois), $"{op}: RoI {r} has batch index {value}, but the input holds {batch} image(s)");
        return index;
    }

    /// <inheritdoc />
    public (Storage Output, Storage Argmax) RoiPool(Storage input, Storage rois, int roiCount, RoiGeometry geometry)
    {
        var argmax = NewArray<long>((long)roiCount * geometry.Channels * geometry.OutputHeight * geometry.OutputWidth);
        Storage output = input.DType switch
        {
            DType.Float32 => Wrap(RoiPoolChannelsLast(Data<float>(input), Data<float>(rois), roiCount, geometry, argmax)),
            DType.Float64 => Wrap(RoiPoolOf(Data<double>(input), Data<double>(rois), roiCount, geometry, argmax)),
            _ => throw new ArgumentException($"roi_pool: not defined for {input.DType.Name()} tensors"),
        };
        return (output, Wrap(argmax));
    }

    internal static T[] RoiPoolOf<T>(T[] input, T[] rois, int roiCount, RoiGeometry g, long[] argmax) where T : struct, IFloatingPointIeee754<T>
    {
        int bins = g.OutputHeight * g.OutputWidth, plane = g.Height * g.Width;
        var output = NewArray<T>((long)roiCount * g.Channels * bins);
        // torchvision starts from -FLT_MAX (also for double): values below it are never picked.
        T lowest = T.CreateChecked(-float.MaxValue);
        ParallelRange(roiCount, (long)g.Channels * plane, (first, end) =>
        {
            for (int r = (int)first; r < end; r++)
            {
                int batch = RoiBatchIndex("roi_pool", rois, r, g.Batch);
                T scale = T.CreateChecked(g.SpatialScale);
                int RoundedCorner(int k) => int.CreateSaturating(T.Round(rois[r * 5 + k] * scale, MidpointRounding.AwayFromZero));
                int startX = RoundedCorner(1), startY = RoundedCorner(2), endX = RoundedCorner(3), endY = RoundedCorner(4);
                // Malformed RoIs are forced to 1 x 1 cells; the corners are inclusive, hence +1.
                T binHeight = T.CreateChecked(Math.Max(endY - startY + 1, 1)) / T.CreateChecked(g.OutputHeight);
                T binWidth = T.CreateChecked(Math.Max(endX - startX + 1, 1)) / T.CreateChecked(g.OutputWidth);
                // Bin windows [start, end) in rows and columns, clipped to the map; shared by all channels.
                var rows = Enumerable.Range(0, g.OutputHeight).Select(ph => PoolWindow(ph, binHeight, startY, g.Height)).ToArray();
                var columns = Enumerable.Range(0, g.OutputWidth).Select(pw => PoolWindow(pw, binWidth, startX, g.Width)).ToArray();
                // Channels outside, bins inside (torchvision nests them the other way): one channel plane stays in cache.
                for (int c = 0; c < g.Channels; c++)
                {
                    var values = input.AsSpan((batch * g.Channels + c) * plane, plane);
                    long at = ((long)r * g.Channels + c) * bins;
                    foreach (var (hStart, hEnd) in rows)
                        foreach (var (wStart, wEnd) in columns)
                        {
                            bool empty = hEnd <= hStart || wEnd <= wStart;
                            T best = empty ? T.Zero : lowest;
                            long bestAt = -1; // nothing pooled: no gradient goes anywhere
                            for (int h = hStart; h < hEnd; h++)
                                for (int w = wStart; w < wEnd; w++)
                                    if (values[h * g.Width + w] > best)
                                    {
                                        best = values[h * g.Width + w];
                                        bestAt = h * g.Width + w;
                                    }
                            output[at] = best;
                            argmax[at++] = bestAt;
                        }
                }
            }
        });
        return output;
    }

    /// <summary>Cells [floor(p·binSize), ceil((p + 1)·binSize)) of bin p, shifted by the RoI's start and clipped to [0, limit].</summary>
    private static (int Start, int End) PoolWindow<T>(int p, T binSize, int roiStart, int limit) where T : struct, IFloatingPointIeee754<T> =>
        (Math.Clamp(int.CreateSaturating(T.Floor(T.CreateChecked(p) * binSize)) + roiStart, 0, limit),
         Math.Clamp(int.CreateSaturating(T.Ceiling(T.CreateChecked(p + 1) * binSize)) + roiStart, 0, limit));

    /// <inheritdoc />
    public Storage RoiPoolBackward(Storage gradOutput, Storage argmax, Storage rois, int roiCount, RoiGeometry geometry) => gradOutput.DType switch
    {
        DType.Float32 => Wrap(RoiPoolBackwardOf(Data<float>(gradOutput), Data<long>(argmax), Data<float>(rois), roiCount, geometry)),
        DType.Float64 => Wrap(RoiPoolBackwardOf(Data<double>(gradOutput), Data<long>(argmax), Data<double>(rois), roiCount, geometry)),
        _ => throw new ArgumentException($"roi_pool backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    private static T[] RoiPoolBackwardOf<T>(T[] gradOutput, long[] argmax, T[] rois, int roiCount, RoiGeometry g) where T : struct, IFloatingPointIeee754<T>
    {
        int bins = g.OutputHeight * g.OutputWidth, plane = g.Height * g.Width;
        var gradInput = CpuBufferPool.RentZeroed<T>((long)g.Batch * g.Channels * plane);
        ParallelRange(g.Channels, (long)roiCount * bins, (firstChannel, endChannel) =>
        {
            for (int r = 0; r < roiCount; r++)
            {
                int batch = RoiBatchIndex("roi_pool", rois, r, g.Batch);
                for (long c = firstChannel; c < endChannel; c++)
                {
                    long planeBase = (batch * g.Channels + c) * plane, outBase = (r * g.Channels + c) * bins;
                    for (int bin = 0; bin < bins; bin++)
                        if (argmax[outBase + bin] >= 0)
                            gradInput[planeBase + argmax[outBase + bin]] += gradOutput[outBase + bin];
                }
            }
        });
        return gradInput;
    }
}
