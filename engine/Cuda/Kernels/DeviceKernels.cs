using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Kernels;

/// <summary>
/// Launches our kernels on one ILGPU accelerator: a CUDA GPU in production, ILGPU's CPU
/// accelerator in CI (which emulates the thread grid, groups, shared memory and atomics, so the
/// same kernel code is tested without a GPU). Kernels are compiled on first use. Every method
/// takes device views and returns new device buffers that the caller owns; float32 only, the
/// dtype the detectors train in. Shapes follow <see cref="IBackend"/>'s conventions.
/// </summary>
internal sealed partial class DeviceKernels
{
    private readonly Dictionary<string, Delegate> loaded = [];

    /// <summary>Kernels for <paramref name="accelerator"/>.</summary>
    public DeviceKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        int limit = Math.Min(ReductionKernels.MaxGroupSize, accelerator.MaxNumThreadsPerGroup);
        GroupSize = (int)BitOperations.RoundUpToPowerOf2((uint)limit + 1) / 2; // largest power of two <= limit
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The (power-of-two) group size of the grouped kernels.</summary>
    public int GroupSize { get; }

    private T Kernel<T>(string name, Func<T> load) where T : Delegate
    {
        lock (loaded)
        {
            if (!loaded.TryGetValue(name, out var kernel)) loaded[name] = kernel = load();
            return (T)kernel;
        }
    }

    private MemoryBuffer1D<T, Stride1D.Dense> New<T>(long length) where T : unmanaged => Accelerator.Allocate1D<T>(Math.Max(length, 1));

    private MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] data) where T : unmanaged =>
        data.Length == 0 ? Accelerator.Allocate1D<T>(1) : Accelerator.Allocate1D(data);

    /// <summary>Grid size for grid-strided grouped kernels: one group per item, capped (the kernels loop over the rest).</summary>
    private KernelConfig GroupedConfig(long items) => new((int)Math.Clamp(items, 1, 65535), GroupSize);

    // ---- element-wise -----------------------------------------------------------------------

    /// <summary>op(x) element by element.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Unary(UnaryOp op, ArrayView<float> x)
    {
        var kernel = Kernel("unary", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.Unary));
        var y = New<float>(x.Length);
        if (x.Length > 0) kernel((int)x.Length, x, y.View, (int)op);
        return y;
    }

    /// <summary>x clamped into [min, max].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Clamp(ArrayView<float> x, float min, float max)
    {
        var kernel = Kernel("clamp", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(ElementwiseKernels.Clamp));
        var y = New<float>(x.Length);
        if (x.Length > 0) kernel((int)x.Length, x, y.View, min, max);
        return y;
    }

    /// <summary>The [outShape | aStrides | bStrides] layout of a broadcast: row-major strides of each operand, 0 on its broadcast axes.</summary>
    internal static int[] BroadcastLayout(int[] aShape, int[] bShape, int[] outShape)
    {
        int rank = outShape.Length;
        var layout = new int[3 * rank];
        outShape.CopyTo(layout, 0);
        FillStrides(aShape, layout.AsSpan(rank, rank));
        FillStrides(bShape, layout.AsSpan(2 * rank, rank));
        return layout;

        void FillStrides(int[] shape, Span<int> strides)
        {
            int stride = 1, offset = rank - shape.Length;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                int extent = axis >= offset ? shape[axis - offset] : 1;
                strides[axis] = extent == 1 ? 0 : stride;
                stride *= extent;
            }
        }
    }

    /// <summary>a op b with NumPy broadcasting to <paramref name="outShape"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Binary(BinaryOp op, ArrayView<float> a, int[] aShape, ArrayView<float> b, int[] bShape, int[] outShape)
    {
        var kernel = Kernel("binary", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(ElementwiseKernels.Binary));
        long length = Shapes.Numel(outShape);
        var y = New<float>(length);
        using var layout = Upload(BroadcastLayout(aShape, bShape, outShape));
        if (length > 0) kernel((int)length, a, b, y.View, layout.View, outShape.Length, (int)op);
        return y;
    }

    /// <summary>a op b compared with broadcasting; one byte (0 or 1) per element.</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Compare(CompareOp op, ArrayView<float> a, int[] aShape, ArrayView<float> b, int[] bShape, int[] outShape)
    {
        var kernel = Kernel("compare", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<int>, int, int>(ElementwiseKernels.Compare));
        long length = Shapes.Numel(outShape);
        var y = New<byte>(length);
        using var layout = Upload(BroadcastLayout(aShape, bShape, outShape));
        if (length > 0) kernel((int)length, a, b, y.View, layout.View, outShape.Length, (int)op);
        return y;
    }

    // ---- reductions and softmax ---------------------------------------------------------------

    /// <summary>Reduces the middle axis of (outer, size, inner): values for Sum/Max/Min, int64 positions for ArgMax/ArgMin.</summary>
    public (MemoryBuffer1D<float, Stride1D.Dense> Values, MemoryBuffer1D<long, Stride1D.Dense> Indices) Reduce(ReduceOp op, ArrayView<float> x, int outer, int size, int inner)
    {
        var kernel = Kernel("reduce", () => Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<long>, int, int, int, int>(ReductionKernels.Reduce));
        long outputs = (long)outer * inner;
        var values = New<float>(outputs);
        var indices = New<long>(outputs);
        if (outputs > 0) kernel(GroupedConfig(outputs), x, values.View, indices.View, outer, size, inner, (int)op);
        return (values, indices);
    }

    /// <summary>The sum of all elements, as a one-element buffer.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Sum(ArrayView<float> x)
    {
        var (values, indices) = Reduce(ReduceOp.Sum, x, 1, (int)x.Length, 1);
        indices.Dispose();
        return values;
    }

    /// <summary>Softmax (or log-softmax) over the middle axis of (outer, size, inner).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Softmax(ArrayView<float> x, int outer, int size, int inner, bool log)
    {
        var kernel = Kernel("softmax", () => Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, int>(SoftmaxKernels.Softmax));
        var y = New<float>(x.Length);
        if (x.Length > 0) kernel(GroupedConfig((long)outer * inner), x, y.View, outer, size, inner, log ? 1 : 0);
        return y;
    }

    // ---- losses -------------------------------------------------------------------------------

    /// <summary>Combines per-element losses as PyTorch's reduction argument does; takes ownership of <paramref name="losses"/>.</summary>
    private MemoryBuffer1D<float, Stride1D.Dense> Reduced(MemoryBuffer1D<float, Stride1D.Dense> losses, long count, Reduction reduction)
    {
        if (reduction == Reduction.None) return losses;
        var sum = Sum(losses.View.SubView(0, count));
        losses.Dispose();
        if (reduction == Reduction.Mean)
        {
            var scale = Kernel("scale", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ElementwiseKernels.Scale));
            scale(1, sum.View, sum.View, 1f / count);
        }
        return sum;
    }

    /// <summary>Cross entropy of [N, C] logits against int64 targets [N], as Tensor.CrossEntropy (class weights optional, empty view for none).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> CrossEntropy(ArrayView<float> logits, ArrayView<long> target, ArrayView<float> classWeight, int rows, int classes, long ignoreIndex, Reduction reduction)
    {
        var kernel = Kernel("cross_entropy", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, long>(LossKernels.CrossEntropyRows));
        var losses = New<float>(rows);
        using var weights = New<float>(rows);
        if (rows > 0) kernel(rows, logits, target, classWeight, losses.View, weights.View, classes, ignoreIndex);
        if (reduction != Reduction.Mean) return Reduced(losses, rows, reduction);
        // The weighted mean: Σ loss / Σ weight of the non-ignored rows (0/0 = NaN when all are ignored).
        using var lossSum = Sum(losses.View.SubView(0, rows));
        using var weightSum = Sum(weights.View.SubView(0, rows));
        losses.Dispose();
        var divide = Kernel("divide_scalars", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.DivideScalars));
        var mean = New<float>(1);
        divide(1, lossSum.View, weightSum.View, mean.View);
        return mean;
    }

    /// <summary>Smooth L1 loss of two equally shaped tensors.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> SmoothL1(ArrayView<float> input, ArrayView<float> target, float beta, Reduction reduction)
    {
        var kernel = Kernel("smooth_l1", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(LossKernels.SmoothL1));
        var losses = New<float>(input.Length);
        if (input.Length > 0) kernel((int)input.Length, input, target, losses.View, beta);
        return Reduced(losses, input.Length, reduction);
    }

    /// <summary>Binary cross entropy with logits; <paramref name="weight"/> and <paramref name="posWeight"/> full-size or empty.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> weight, ArrayView<float> posWeight, Reduction reduction)
    {
        var kernel = Kernel("bce_with_logits", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(LossKernels.BceWithLogits));
        var losses = New<float>(logits.Length);
        if (logits.Length > 0) kernel((int)logits.Length, logits, targets, weight, posWeight, losses.View);
        return Reduced(losses, logits.Length, reduction);
    }

    // ---- interpolation and L2Norm ------------------------------------------------------------

    /// <summary>Resizes [planes, inH, inW] to [planes, outH, outW]; steps are input pixels per output pixel (1/scale_factor or in/out), as Tensor.Interpolate computes them.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Interpolate(ArrayView<float> x, int planes, int inH, int inW, int outH, int outW, float stepH, float stepW, InterpolateMode mode)
    {
        var kernel = mode == InterpolateMode.Nearest
            ? Kernel("nearest", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, float, float>(ResampleKernels.Nearest))
            : Kernel("bilinear", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, float, float>(ResampleKernels.Bilinear));
        long length = (long)planes * outH * outW;
        var y = New<float>(length);
        if (length > 0) kernel((int)length, x, y.View, inH, inW, outH, outW, stepH, stepW);
        return y;
    }

    /// <summary>SSD's L2Norm of [N, C, spatial] with per-channel weights [C].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> L2Norm(ArrayView<float> x, ArrayView<float> weight, int batch, int channels, int spatial, float eps)
    {
        var kernel = Kernel("l2norm", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(ResampleKernels.L2Norm));
        var y = New<float>(x.Length);
        if ((long)batch * spatial > 0) kernel(batch * spatial, x, weight, y.View, channels, spatial, eps);
        return y;
    }

    // ---- RoI pooling --------------------------------------------------------------------------

    private MemoryBuffer1D<int, Stride1D.Dense> GeometryBuffer(RoiGeometry g) => Upload(new[] { g.Batch, g.Channels, g.Height, g.Width, g.OutputHeight, g.OutputWidth });

    private static long RoiOutputs(int roiCount, RoiGeometry g) => (long)roiCount * g.Channels * g.OutputHeight * g.OutputWidth;

    /// <summary>RoIAlign forward, [R, C, PH, PW].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> RoiAlign(ArrayView<float> input, ArrayView<float> rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned)
    {
        var kernel = Kernel("roi_align", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int>(RoiKernels.RoiAlign));
        long outputs = RoiOutputs(roiCount, g);
        var output = New<float>(outputs);
        using var geometry = GeometryBuffer(g);
        if (outputs > 0) kernel((int)outputs, input, rois, output.View, geometry.View, (float)g.SpatialScale, samplingRatio, aligned ? 1 : 0);
        return output;
    }

    /// <summary>RoIAlign's input gradient, [B, C, H, W].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> RoiAlignBackward(ArrayView<float> gradOutput, ArrayView<float> rois, int roiCount, RoiGeometry g, int samplingRatio, bool aligned)
    {
        var kernel = Kernel("roi_align_backward", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int>(RoiKernels.RoiAlignBackward));
        var gradInput = New<float>((long)g.Batch * g.Channels * g.Height * g.Width);
        gradInput.MemSetToZero();
        using var geometry = GeometryBuffer(g);
        long outputs = RoiOutputs(roiCount, g);
        if (outputs > 0) kernel((int)outputs, gradOutput, rois, gradInput.View, geometry.View, (float)g.SpatialScale, samplingRatio, aligned ? 1 : 0);
        return gradInput;
    }

    /// <summary>RoIPool forward: outputs and int64 argmax positions (-1 for empty bins).</summary>
    public (MemoryBuffer1D<float, Stride1D.Dense> Output, MemoryBuffer1D<long, Stride1D.Dense> Argmax) RoiPool(ArrayView<float> input, ArrayView<float> rois, int roiCount, RoiGeometry g)
    {
        var kernel = Kernel("roi_pool", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<long>, ArrayView<int>, float>(RoiKernels.RoiPool));
        long outputs = RoiOutputs(roiCount, g);
        var output = New<float>(outputs);
        var argmax = New<long>(outputs);
        using var geometry = GeometryBuffer(g);
        if (outputs > 0) kernel((int)outputs, input, rois, output.View, argmax.View, geometry.View, (float)g.SpatialScale);
        return (output, argmax);
    }

    /// <summary>RoIPool's input gradient, [B, C, H, W].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> RoiPoolBackward(ArrayView<float> gradOutput, ArrayView<long> argmax, ArrayView<float> rois, int roiCount, RoiGeometry g)
    {
        var kernel = Kernel("roi_pool_backward", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(RoiKernels.RoiPoolBackward));
        var gradInput = New<float>((long)g.Batch * g.Channels * g.Height * g.Width);
        gradInput.MemSetToZero();
        using var geometry = GeometryBuffer(g);
        long outputs = RoiOutputs(roiCount, g);
        if (outputs > 0) kernel((int)outputs, gradOutput, argmax, rois, gradInput.View, geometry.View);
        return gradInput;
    }

    // ---- boxes --------------------------------------------------------------------------------

    /// <summary>The [n, m] IoU matrix.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> BoxIou(ArrayView<float> a, int n, ArrayView<float> b, int m)
    {
        var kernel = Kernel("box_iou", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(BoxKernels.BoxIou));
        var iou = New<float>((long)n * m);
        if ((long)n * m > 0) kernel(n * m, a, b, iou.View, m);
        return iou;
    }

    /// <summary>
    /// Greedy NMS with torchvision's semantics: boxes sorted by score (descending, stable) on the
    /// device, the suppression bitmask computed on the device, and the greedy pass (one read of
    /// each mask row) on the host. Returns the kept indices in visiting order.
    /// </summary>
    public long[] Nms(ArrayView<float> boxes, ArrayView<float> scores, int count, double iouThreshold)
    {
        if (count == 0) return [];
        var (sortedScores, order) = Sort(scores, 1, count, 1, descending: true, keep: count);
        sortedScores.Dispose();
        using var orderBuffer = order;
        var gather = Kernel("gather_boxes", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>>(BoxKernels.GatherBoxes));
        var maskKernel = Kernel("nms_mask", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ulong>, int, int, double>(BoxKernels.NmsMask));
        using var sorted = New<float>(count * 4L);
        gather(count * 4, boxes, orderBuffer.View, sorted.View);
        int words = (count + BoxKernels.MaskBits - 1) / BoxKernels.MaskBits;
        using var mask = New<ulong>((long)count * words);
        maskKernel(count * words, sorted.View, mask.View, count, words, iouThreshold);
        var maskHost = mask.View.SubView(0, (long)count * words).GetAsArray1D();
        var orderHost = orderBuffer.View.SubView(0, count).GetAsArray1D();
        return GreedyKeep(maskHost, orderHost, count, words);
    }

    /// <summary>The host half of bitmask NMS: visit sorted boxes in order, keep one unless a kept box's mask row removed it, then remove what it overlaps.</summary>
    internal static long[] GreedyKeep(ulong[] mask, long[] order, int count, int words)
    {
        var removed = new ulong[words];
        var kept = new List<long>();
        for (int i = 0; i < count; i++)
        {
            if ((removed[i / BoxKernels.MaskBits] >> (i % BoxKernels.MaskBits) & 1) != 0) continue;
            kept.Add(order[i]);
            for (int w = 0; w < words; w++) removed[w] |= mask[(long)i * words + w];
        }
        return kept.ToArray();
    }

    /// <summary>Box codes [K, 4] that move <paramref name="references"/> onto <paramref name="targets"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> EncodeBoxes(ArrayView<float> targets, ArrayView<float> references, int count, (float X, float Y, float W, float H) weights)
    {
        var kernel = Kernel("box_encode", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float>(BoxKernels.Encode));
        var codes = New<float>(count * 4L);
        if (count > 0) kernel(count, targets, references, codes.View, weights.X, weights.Y, weights.W, weights.H);
        return codes;
    }

    /// <summary>Boxes [K, C, 4] from codes [K, 4·C] and references [K, 4].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> DecodeBoxes(ArrayView<float> codes, ArrayView<float> references, int count, int perReference, (float X, float Y, float W, float H) weights, float clip)
    {
        var kernel = Kernel("box_decode", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float, float, float, float>(BoxKernels.Decode));
        var boxes = New<float>((long)count * perReference * 4);
        if ((long)count * perReference > 0) kernel(count * perReference, codes, references, boxes.View, perReference, weights.X, weights.Y, weights.W, weights.H, clip);
        return boxes;
    }

    // ---- sort and top-k -----------------------------------------------------------------------

    /// <summary>
    /// Stable sort of the middle axis of (outer, size, inner), keeping the first <paramref name="keep"/>
    /// entries of each slice (all for a sort, k for top-k): values and int64 positions, (outer, keep, inner).
    /// </summary>
    public (MemoryBuffer1D<float, Stride1D.Dense> Values, MemoryBuffer1D<long, Stride1D.Dense> Indices) Sort(ArrayView<float> x, int outer, int size, int inner, bool descending, int keep)
    {
        if (keep < 0 || keep > size) throw new ArgumentOutOfRangeException(nameof(keep), $"sort: keep={keep} is outside 0..{size}");
        var load = Kernel("sort_load", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(SortKernels.Load));
        var step = Kernel("sort_step", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, int, int, int>(SortKernels.Step));
        var store = Kernel("sort_store", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<long>, int, int, int>(SortKernels.Store));
        long slices = (long)outer * inner;
        int width = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(size, 1));
        var values = New<float>(slices * keep);
        var indices = New<long>(slices * keep);
        if (slices == 0 || size == 0) return (values, indices);
        using var keys = New<float>(slices * width);
        using var positions = New<int>(slices * width);
        int work = checked((int)(slices * width));
        load(work, x, keys.View, positions.View, size, inner, width);
        for (int k = 2; k <= width; k <<= 1)
            for (int j = k >> 1; j > 0; j >>= 1)
                step(work, keys.View, positions.View, width, j, k, descending ? 1 : 0);
        if (keep > 0) store(checked((int)(slices * keep)), keys.View, positions.View, values.View, indices.View, keep, inner, width);
        return (values, indices);
    }
}
