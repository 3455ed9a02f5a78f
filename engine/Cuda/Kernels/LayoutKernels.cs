using ILGPU;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Layout and indexing kernels, float32 data with int64 indices, one thread per output (or source)
// element. Index kernels cannot throw on the device: an out-of-range index sets error[0] and the
// launcher raises the error after the kernel (one byte read back), as the CPU backend would.
internal static class LayoutKernels
{
    /// <summary>Output axis a of the permutation reads input axis perm[a]; layout is [outShape | input strides in output-axis order].</summary>
    [DeviceKernel]
    public static void Permute(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> layout, int rank) =>
        y[i] = x[ElementwiseKernels.BroadcastOffset(i, layout, rank, 1)];

    /// <summary>y (outer, length, inner) = x[:, start : start + length, :] of an (outer, size, inner) x.</summary>
    [DeviceKernel]
    public static void Slice(Index1D i, ArrayView<float> x, ArrayView<float> y, int size, int start, int length, int inner)
    {
        long o = i / ((long)length * inner), j = i / inner % length, k = i % inner;
        y[i] = x[(o * size + start + j) * inner + k];
    }

    /// <summary>The inverse of <see cref="Slice"/>: writes the (outer, length, inner) part into y[:, start : start + length, :] of an (outer, size, inner) y (Concat runs it once per part).</summary>
    [DeviceKernel]
    public static void Place(Index1D i, ArrayView<float> part, ArrayView<float> y, int size, int start, int length, int inner)
    {
        long o = i / ((long)length * inner), j = i / inner % length, k = i % inner;
        y[(o * size + start + j) * inner + k] = part[i];
    }

    /// <summary>y (outer, count, inner) = x[:, index[j], :]; an index outside [0, size) sets error[0].</summary>
    [DeviceKernel]
    public static void IndexSelect(Index1D i, ArrayView<float> x, ArrayView<long> index, ArrayView<float> y, ArrayView<int> error, int size, int count, int inner)
    {
        long o = i / ((long)count * inner), j = i / inner % count, k = i % inner;
        long at = index[j];
        if (at < 0 || at >= size)
        {
            error[0] = 1;
            y[i] = float.NaN;
            return;
        }
        y[i] = x[(o * size + at) * inner + k];
    }

    /// <summary>The adjoint of <see cref="IndexSelect"/>: source (outer, count, inner) added into y[:, index[j], :] (y zeroed first; repeats add up).</summary>
    [DeviceKernel]
    public static void IndexAdd(Index1D i, ArrayView<float> source, ArrayView<long> index, ArrayView<float> y, ArrayView<int> error, int size, int count, int inner)
    {
        long o = i / ((long)count * inner), j = i / inner % count, k = i % inner;
        long at = index[j];
        if (at < 0 || at >= size)
        {
            error[0] = 1;
            return;
        }
        Atomic.Add(ref y[(o * size + at) * inner + k], source[i]);
    }

    /// <summary>The offset in a tensor of <c>shape</c> (layout[shapeAt..]) of index element i (shape layout[0..rank]) with its coordinate along <paramref name="dim"/> replaced by <paramref name="along"/>.</summary>
    public static long GatherOffset(long i, ArrayView<int> layout, int rank, int dim, long along)
    {
        long index = i, offset = 0, stride = 1;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int extent = layout[axis];
            long coordinate = index % extent;
            index /= extent;
            offset += (axis == dim ? along : coordinate) * stride;
            stride *= layout[rank + axis];
        }
        return offset;
    }

    /// <summary>out[..., j, ...] = x[..., index[..., j, ...], ...] along <paramref name="dim"/>; layout is [indexShape | xShape].</summary>
    [DeviceKernel]
    public static void Gather(Index1D i, ArrayView<float> x, ArrayView<long> index, ArrayView<float> y, ArrayView<int> layout, ArrayView<int> error, int rank, int dim)
    {
        long along = index[i];
        if (along < 0 || along >= layout[rank + dim])
        {
            error[0] = 1;
            y[i] = float.NaN;
            return;
        }
        y[i] = x[GatherOffset(i, layout, rank, dim, along)];
    }

    /// <summary>The adjoint of <see cref="Gather"/>: source[i] added at position index[i] along <paramref name="dim"/> of y (zeroed first); layout is [indexShape | outShape].</summary>
    [DeviceKernel]
    public static void ScatterAdd(Index1D i, ArrayView<float> source, ArrayView<long> index, ArrayView<float> y, ArrayView<int> layout, ArrayView<int> error, int rank, int dim)
    {
        long along = index[i];
        if (along < 0 || along >= layout[rank + dim])
        {
            error[0] = 1;
            return;
        }
        Atomic.Add(ref y[GatherOffset(i, layout, rank, dim, along)], source[i]);
    }

    /// <summary>cond ? a : b with broadcasting of all three; layout is [outShape | aStrides | bStrides | condStrides], cond one byte per element.</summary>
    [DeviceKernel]
    public static void Where(Index1D i, ArrayView<byte> condition, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, ArrayView<int> layout, int rank)
    {
        bool chooseA = condition[ElementwiseKernels.BroadcastOffset(i, layout, rank, 3)] != 0;
        y[i] = chooseA ? a[ElementwiseKernels.BroadcastOffset(i, layout, rank, 1)] : b[ElementwiseKernels.BroadcastOffset(i, layout, rank, 2)];
    }

    /// <summary>Pads [planes, height, width] at the bottom and right with -inf to [planes, height + extraBottom, width + extraRight]: the input of a ceil-mode max pooling on cuDNN (see MaxPoolingPlan).</summary>
    [DeviceKernel]
    public static void PadForCeilPooling(Index1D i, ArrayView<float> x, ArrayView<float> y, int height, int width, int paddedHeight, int paddedWidth)
    {
        long plane = i / ((long)paddedHeight * paddedWidth);
        int h = (int)(i / paddedWidth % paddedHeight), w = (int)(i % paddedWidth);
        y[i] = h < height && w < width ? x[(plane * height + h) * width + w] : float.NegativeInfinity;
    }
}
