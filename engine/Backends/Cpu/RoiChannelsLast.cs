using System.Buffers;
using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

// float32 RoIAlign and RoIPool, vectorised across channels. The feature map is first copied into
// channels-last order ([H·W, C] per image), so the channels of one pixel are contiguous and one
// vector load serves Vector<float>.Count channels of a bilinear tap. Each lane does exactly the
// scalar reference's arithmetic in the same order (CpuBackend.Roi.cs, torchvision's kernels: the
// four weighted taps added left to right, the sample sums in sample order, one division by the
// count; in the backward pass the same sequence of additions into every input cell), and .NET
// never contracts a multiply and an add into an FMA, so the results are bit-identical to the
// reference's. The reference stays in CpuBackend.Roi.cs and serves float64.
public sealed partial class CpuBackend
{
    /// <summary>RoIAlign forward: RoIs in parallel, channels in vectors.</summary>
    internal static float[] RoiAlignChannelsLast(float[] input, float[] rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned)
    {
        int bins = g.OutputHeight * g.OutputWidth, channels = g.Channels, width = Vector<float>.Count;
        var output = NewArray<float>((long)roiCount * channels * bins);
        var plans = PlanAllRoiAlign(rois, roiCount, g, samplingRatio, aligned);
        var map = ToChannelsLast(input, g);
        try
        {
            ParallelRange(roiCount, (long)channels * bins * 4, (first, end) =>
            {
                Span<float> sums = stackalloc float[width];
                for (long r = first; r < end; r++)
                {
                    var roi = plans[r];
                    float count = Math.Max(roi.SamplesPerBin, 1);
                    var countVector = new Vector<float>(count);
                    long imageBase = (long)roi.Batch * g.Height * g.Width * channels;
                    long outBase = r * channels * bins;
                    for (int bin = 0; bin < bins; bin++)
                    {
                        int s0 = bin * roi.SamplesPerBin;
                        int c = 0;
                        for (; c <= channels - width; c += width)
                        {
                            var sum = Vector<float>.Zero;
                            for (int k = 0; k < roi.SamplesPerBin; k++)
                            {
                                var p = roi.Samples[s0 + k];
                                sum += new Vector<float>(p.WeightTopLeft) * Load(map, imageBase + (long)p.TopLeft * channels + c)
                                    + new Vector<float>(p.WeightTopRight) * Load(map, imageBase + (long)p.TopRight * channels + c)
                                    + new Vector<float>(p.WeightBottomLeft) * Load(map, imageBase + (long)p.BottomLeft * channels + c)
                                    + new Vector<float>(p.WeightBottomRight) * Load(map, imageBase + (long)p.BottomRight * channels + c);
                            }
                            (sum / countVector).CopyTo(sums);
                            for (int lane = 0; lane < width; lane++) output[outBase + (long)(c + lane) * bins + bin] = sums[lane];
                        }
                        for (; c < channels; c++)
                        {
                            float sum = 0;
                            for (int k = 0; k < roi.SamplesPerBin; k++)
                            {
                                var p = roi.Samples[s0 + k];
                                sum += p.WeightTopLeft * map[imageBase + (long)p.TopLeft * channels + c] + p.WeightTopRight * map[imageBase + (long)p.TopRight * channels + c]
                                    + p.WeightBottomLeft * map[imageBase + (long)p.BottomLeft * channels + c] + p.WeightBottomRight * map[imageBase + (long)p.BottomRight * channels + c];
                            }
                            output[outBase + (long)c * bins + bin] = sum / count;
                        }
                    }
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(map);
        }
        return output;
    }

    /// <summary>
    /// RoIAlign backward: the output gradients scattered with the bilinear weights into a
    /// channels-last gradient, RoIs in order; parallel over channel blocks, which own disjoint lanes
    /// of every cell, so each cell receives its additions in the reference's order.
    /// </summary>
    internal static float[] RoiAlignBackwardChannelsLast(float[] gradOutput, float[] rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned)
    {
        int bins = g.OutputHeight * g.OutputWidth, channels = g.Channels, width = Vector<float>.Count, plane = g.Height * g.Width;
        var plans = PlanAllRoiAlign(rois, roiCount, g, samplingRatio, aligned);
        long mapLength = (long)g.Batch * plane * channels;
        var map = ArrayPool<float>.Shared.Rent(checked((int)mapLength));
        try
        {
            Array.Clear(map, 0, (int)mapLength);
            int blocks = (channels + width - 1) / width;
            ParallelRange(blocks, (long)roiCount * bins * 4 * width, (firstBlock, endBlock) =>
            {
                Span<float> lanes = stackalloc float[width];
                for (long block = firstBlock; block < endBlock; block++)
                {
                    int c = (int)block * width;
                    bool whole = c + width <= channels;
                    for (int r = 0; r < roiCount; r++)
                    {
                        var roi = plans[r];
                        float count = Math.Max(roi.SamplesPerBin, 1);
                        var countVector = new Vector<float>(count);
                        long imageBase = (long)roi.Batch * plane * channels;
                        long outBase = (long)r * channels * bins;
                        for (int bin = 0; bin < bins; bin++)
                        {
                            int s0 = bin * roi.SamplesPerBin;
                            if (!whole)
                            {
                                for (int cc = c; cc < channels; cc++)
                                {
                                    float gradient = gradOutput[outBase + (long)cc * bins + bin];
                                    for (int k = 0; k < roi.SamplesPerBin; k++)
                                    {
                                        var p = roi.Samples[s0 + k];
                                        map[imageBase + (long)p.TopLeft * channels + cc] += gradient * p.WeightTopLeft / count;
                                        map[imageBase + (long)p.TopRight * channels + cc] += gradient * p.WeightTopRight / count;
                                        map[imageBase + (long)p.BottomLeft * channels + cc] += gradient * p.WeightBottomLeft / count;
                                        map[imageBase + (long)p.BottomRight * channels + cc] += gradient * p.WeightBottomRight / count;
                                    }
                                }
                                continue;
                            }
                            for (int lane = 0; lane < width; lane++) lanes[lane] = gradOutput[outBase + (long)(c + lane) * bins + bin];
                            var gradientVector = new Vector<float>(lanes);
                            for (int k = 0; k < roi.SamplesPerBin; k++)
                            {
                                var p = roi.Samples[s0 + k];
                                AddAt(map, imageBase + (long)p.TopLeft * channels + c, gradientVector * p.WeightTopLeft / countVector);
                                AddAt(map, imageBase + (long)p.TopRight * channels + c, gradientVector * p.WeightTopRight / countVector);
                                AddAt(map, imageBase + (long)p.BottomLeft * channels + c, gradientVector * p.WeightBottomLeft / countVector);
                                AddAt(map, imageBase + (long)p.BottomRight * channels + c, gradientVector * p.WeightBottomRight / countVector);
                            }
                        }
                    }
                }
            });
            return FromChannelsLast(map, g);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(map);
        }
    }

    /// <summary>RoIPool forward: RoIs in parallel, channels in vectors; each lane keeps the reference's strict "greater than" scan in row-major cell order.</summary>
    internal static float[] RoiPoolChannelsLast(float[] input, float[] rois, int roiCount, RoiGeometry g, long[] argmax)
    {
        int bins = g.OutputHeight * g.OutputWidth, channels = g.Channels, width = Vector<float>.Count;
        var output = NewArray<float>((long)roiCount * channels * bins);
        for (int r = 0; r < roiCount; r++) RoiBatchIndex("roi_pool", rois, r, g.Batch); // fail on the calling thread
        var map = ToChannelsLast(input, g);
        try
        {
            ParallelRange(roiCount, (long)channels * g.Height * g.Width, (first, end) =>
            {
                Span<float> bestLanes = stackalloc float[width];
                Span<int> atLanes = stackalloc int[width];
                for (int r = (int)first; r < end; r++)
                {
                    int batch = RoiBatchIndex("roi_pool", rois, r, g.Batch);
                    int RoundedCorner(int k) => int.CreateSaturating(MathF.Round(rois[r * 5 + k] * (float)g.SpatialScale, MidpointRounding.AwayFromZero));
                    int startX = RoundedCorner(1), startY = RoundedCorner(2), endX = RoundedCorner(3), endY = RoundedCorner(4);
                    float binHeight = (float)Math.Max(endY - startY + 1, 1) / g.OutputHeight;
                    float binWidth = (float)Math.Max(endX - startX + 1, 1) / g.OutputWidth;
                    long imageBase = (long)batch * g.Height * g.Width * channels;
                    for (int ph = 0; ph < g.OutputHeight; ph++)
                    {
                        var (hStart, hEnd) = PoolWindow(ph, binHeight, startY, g.Height);
                        for (int pw = 0; pw < g.OutputWidth; pw++)
                        {
                            var (wStart, wEnd) = PoolWindow(pw, binWidth, startX, g.Width);
                            bool empty = hEnd <= hStart || wEnd <= wStart;
                            long at = (long)r * channels * bins + ph * g.OutputWidth + pw;
                            int c = 0;
                            for (; c <= channels - width; c += width)
                            {
                                var best = new Vector<float>(empty ? 0f : -float.MaxValue);
                                var bestAt = new Vector<int>(-1); // nothing pooled: no gradient goes anywhere
                                for (int h = hStart; h < hEnd; h++)
                                    for (int w = wStart; w < wEnd; w++)
                                    {
                                        int cell = h * g.Width + w;
                                        var values = Load(map, imageBase + (long)cell * channels + c);
                                        var greater = Vector.GreaterThan(values, best); // all-ones lanes where values > best
                                        best = Vector.ConditionalSelect(greater, values, best);
                                        bestAt = Vector.ConditionalSelect(greater, new Vector<int>(cell), bestAt);
                                    }
                                best.CopyTo(bestLanes);
                                bestAt.CopyTo(atLanes);
                                for (int lane = 0; lane < width; lane++)
                                {
                                    output[at + (long)(c + lane) * bins] = bestLanes[lane];
                                    argmax[at + (long)(c + lane) * bins] = atLanes[lane];
                                }
                            }
                            for (; c < channels; c++)
                            {
                                float best = empty ? 0f : -float.MaxValue;
                                long bestAt = -1;
                                for (int h = hStart; h < hEnd; h++)
                                    for (int w = wStart; w < wEnd; w++)
                                    {
                                        float value = map[imageBase + (long)(h * g.Width + w) * channels + c];
                                        if (value > best)
                                        {
                                            best = value;
                                            bestAt = h * g.Width + w;
                                        }
                                    }
                                output[at + (long)c * bins] = best;
                                argmax[at + (long)c * bins] = bestAt;
                            }
                        }
                    }
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(map);
        }
        return output;
    }

    /// <summary>Every RoI's sampling plan, made once (in parallel) and shared by all channels.</summary>
    private static RoiAlignPlan<float>[] PlanAllRoiAlign(float[] rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned)
    {
        // Bad batch indices fail here, on the calling thread, with the reference's message.
        for (int r = 0; r < roiCount; r++) RoiBatchIndex("roi_align", rois, r, g.Batch);
        var plans = new RoiAlignPlan<float>[roiCount];
        ParallelRange(roiCount, (long)g.OutputHeight * g.OutputWidth * 16, (first, end) =>
        {
            for (long r = first; r < end; r++) plans[r] = PlanRoiAlign(rois, (int)r, g, samplingRatio, aligned);
        });
        return plans;
    }

    /// <summary>The [Batch, Channels, H, W] map as [Batch, H·W, Channels] in a pooled buffer (the caller returns it), copied in cache-sized blocks.</summary>
    private static float[] ToChannelsLast(float[] input, RoiGeometry g)
    {
        int plane = g.Height * g.Width, channels = g.Channels;
        var map = ArrayPool<float>.Shared.Rent(checked(g.Batch * plane * channels));
        TransposeBlocks(input, map, g.Batch, channels, plane);
        return map;
    }

    /// <summary>The channels-last gradient back as a new [Batch, Channels, H, W] array.</summary>
    private static float[] FromChannelsLast(float[] map, RoiGeometry g)
    {
        int plane = g.Height * g.Width;
        var gradInput = NewArray<float>((long)g.Batch * g.Channels * plane);
        TransposeBlocks(map, gradInput, g.Batch, plane, g.Channels);
        return gradInput;
    }

    /// <summary>target[b, j, i] = source[b, i, j] for each of <paramref name="batch"/> rows x columns matrices, in 32 x 32 blocks, parallel over row blocks.</summary>
    private static void TransposeBlocks(float[] source, float[] target, int batch, int rows, int columns)
    {
        const int Block = 32;
        int rowBlocks = (rows + Block - 1) / Block;
        ParallelRange((long)batch * rowBlocks, (long)Block * columns, (first, end) =>
        {
            for (long unit = first; unit < end; unit++)
            {
                long matrix = unit / rowBlocks * (long)rows * columns;
                int i0 = (int)(unit % rowBlocks) * Block, i1 = Math.Min(rows, i0 + Block);
                for (int j0 = 0; j0 < columns; j0 += Block)
                {
                    int j1 = Math.Min(columns, j0 + Block);
                    for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                            target[matrix + (long)j * rows + i] = source[matrix + (long)i * columns + j];
                }
            }
        });
    }

    private static Vector<float> Load(float[] data, long offset) => new(data.AsSpan((int)offset, Vector<float>.Count));

    private static void AddAt(float[] data, long offset, Vector<float> value)
    {
        var target = data.AsSpan((int)offset, Vector<float>.Count);
        (new Vector<float>(target) + value).CopyTo(target);
    }
}
