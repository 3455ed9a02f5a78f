using ILGPU;
using ILGPU.Runtime;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Launchers of the layout, indexing and resampling-gradient kernels.
internal sealed partial class DeviceKernels
{
    /// <summary>Throws if an index kernel flagged an out-of-range index (reads one int back; the launch has finished by then).</summary>
    private static void CheckIndices(MemoryBuffer1D<int, Stride1D.Dense> error, string op, int size)
    {
        if (error.View.SubView(0, 1).GetAsArray1D()[0] != 0)
            throw new ArgumentOutOfRangeException("index", $"{op}: an index is out of range for an axis of size {size}");
    }

    private MemoryBuffer1D<int, Stride1D.Dense> ErrorFlag()
    {
        var error = Accelerator.Allocate1D<int>(1);
        error.MemSetToZero();
        return error;
    }

    /// <summary>The axes reordered: output axis a is input axis perm[a].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Permute(ArrayView<float> x, int[] shape, int[] perm)
    {
        var kernel = Kernel("permute", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int>(LayoutKernels.Permute));
        int rank = shape.Length;
        var strides = new int[rank];
        for (int axis = rank - 1, stride = 1; axis >= 0; stride *= shape[axis], axis--) strides[axis] = stride;
        var layout = new int[2 * rank];
        for (int a = 0; a < rank; a++)
        {
            layout[a] = shape[perm[a]];
            layout[rank + a] = strides[perm[a]];
        }
        using var deviceLayout = Upload(layout);
        var y = New<float>(x.Length);
        if (x.Length > 0) kernel((int)x.Length, x, y.View, deviceLayout.View, rank);
        return y;
    }

    /// <summary>Elements [start, start + length) of the middle axis of (outer, size, inner).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Slice(ArrayView<float> x, int outer, int size, int inner, int start, int length)
    {
        var kernel = Kernel("slice", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayoutKernels.Slice));
        long count = (long)outer * length * inner;
        var y = New<float>(count);
        if (count > 0) kernel((int)count, x, y.View, size, start, length, inner);
        return y;
    }

    /// <summary>Parts (outer, sizes[p], inner) concatenated along the middle axis.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Concat(IReadOnlyList<ArrayView<float>> parts, int outer, int[] sizes, int inner)
    {
        var kernel = Kernel("place", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayoutKernels.Place));
        int total = sizes.Sum();
        var y = New<float>((long)outer * total * inner);
        for (int p = 0, start = 0; p < parts.Count; start += sizes[p], p++)
        {
            long count = (long)outer * sizes[p] * inner;
            if (count > 0) kernel((int)count, parts[p], y.View, total, start, sizes[p], inner);
        }
        return y;
    }

    /// <summary>Entries of the middle axis of (outer, size, inner) picked by an int64 index; indices are checked.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> IndexSelect(ArrayView<float> x, int outer, int size, int inner, ArrayView<long> index, int count)
    {
        var kernel = Kernel("index_select", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, int, int, int>(LayoutKernels.IndexSelect));
        long length = (long)outer * count * inner;
        var y = New<float>(length);
        using var error = ErrorFlag();
        if (length > 0) kernel((int)length, x, index, y.View, error.View, size, count, inner);
        CheckIndices(error, "index_select", size);
        return y;
    }

    /// <summary>The adjoint of <see cref="IndexSelect"/>: a zero (outer, size, inner) tensor with the source rows added at the indexed positions.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> IndexAdd(ArrayView<float> source, int outer, int size, int inner, ArrayView<long> index, int count)
    {
        var kernel = Kernel("index_add", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, int, int, int>(LayoutKernels.IndexAdd));
        var y = New<float>((long)outer * size * inner);
        y.MemSetToZero();
        using var error = ErrorFlag();
        long length = (long)outer * count * inner;
        if (length > 0) kernel((int)length, source, index, y.View, error.View, size, count, inner);
        CheckIndices(error, "index_add", size);
        return y;
    }

    /// <summary>Gather along <paramref name="dim"/>: the output has the index's shape.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Gather(ArrayView<float> x, int[] xShape, int dim, ArrayView<long> index, int[] indexShape)
    {
        var kernel = Kernel("gather", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int>(LayoutKernels.Gather));
        long length = Shapes.Numel(indexShape);
        var y = New<float>(length);
        using var layout = Upload([.. indexShape, .. xShape]);
        using var error = ErrorFlag();
        if (length > 0) kernel((int)length, x, index, y.View, layout.View, error.View, indexShape.Length, dim);
        CheckIndices(error, "gather", xShape[dim]);
        return y;
    }

    /// <summary>The adjoint of <see cref="Gather"/>: a zero tensor of <paramref name="outShape"/> with the source added at the indexed positions.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ScatterAdd(ArrayView<float> source, int[] indexShape, int dim, ArrayView<long> index, int[] outShape)
    {
        var kernel = Kernel("scatter_add", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int>(LayoutKernels.ScatterAdd));
        var y = New<float>(Shapes.Numel(outShape));
        y.MemSetToZero();
        using var layout = Upload([.. indexShape, .. outShape]);
        using var error = ErrorFlag();
        long length = Shapes.Numel(indexShape);
        if (length > 0) kernel((int)length, source, index, y.View, layout.View, error.View, indexShape.Length, dim);
        CheckIndices(error, "scatter_add", outShape[dim]);
        return y;
    }

    /// <summary>cond ? a : b with broadcasting of all three (cond one byte per element).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Where(ArrayView<byte> condition, int[] conditionShape, ArrayView<float> a, int[] aShape, ArrayView<float> b, int[] bShape, int[] outShape)
    {
        var kernel = Kernel("where", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int>(LayoutKernels.Where));
        int rank = outShape.Length;
        var abLayout = BroadcastLayout(aShape, bShape, outShape);
        var conditionLayout = BroadcastLayout(conditionShape, conditionShape, outShape);
        using var layout = Upload([.. abLayout, .. conditionLayout.AsSpan(rank, rank)]);
        long length = Shapes.Numel(outShape);
        var y = New<float>(length);
        if (length > 0) kernel((int)length, condition, a, b, y.View, layout.View, rank);
        return y;
    }

    /// <summary>[planes, h, w] padded at the bottom and right with -inf, for a ceil-mode max pooling on cuDNN.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> PadForCeilPooling(ArrayView<float> x, int planes, int height, int width, int extraBottom, int extraRight)
    {
        var kernel = Kernel("pad_ceil_pooling", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayoutKernels.PadForCeilPooling));
        int paddedHeight = height + extraBottom, paddedWidth = width + extraRight;
        long length = (long)planes * paddedHeight * paddedWidth;
        var y = New<float>(length);
        if (length > 0) kernel((int)length, x, y.View, height, width, paddedHeight, paddedWidth);
        return y;
    }

    /// <summary>The input gradient [planes, inH, inW] of <see cref="Interpolate"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> InterpolateBackward(ArrayView<float> gradOutput, int planes, int inH, int inW, int outH, int outW, float stepH, float stepW, InterpolateMode mode)
    {
        var kernel = mode == InterpolateMode.Nearest
            ? Kernel("nearest_backward", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, float, float>(ResampleKernels.NearestBackward))
            : Kernel("bilinear_backward", () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, float, float>(ResampleKernels.BilinearBackward));
        var gradInput = New<float>((long)planes * inH * inW);
        gradInput.MemSetToZero();
        long length = (long)planes * outH * outW;
        if (length > 0) kernel((int)length, gradOutput, gradInput.View, inH, inW, outH, outW, stepH, stepW);
        return gradInput;
    }
}
