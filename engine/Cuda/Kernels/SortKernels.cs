using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// A stable sort of every (outer, ·, inner) slice by a bitonic network. Each slice is loaded into
// a power-of-two work row of (key, position) pairs, padded with pairs of position -1 that sort
// after everything. Comparing positions on equal keys makes the network stable (bitonic sorting
// itself is not), and NaN sorts as the largest value, as on the CPU. Top-k is the sort's first k.
internal static class SortKernels
{
    /// <summary>Whether (a, ia) must come before (b, ib): real entries before padding, then by key (NaN largest; reversed when descending), then by position.</summary>
    public static bool Before(float a, int ia, float b, int ib, int descending)
    {
        if (ia < 0 || ib < 0) return ib < 0 && ia >= 0;
        bool aNan = XMath.IsNaN(a), bNan = XMath.IsNaN(b);
        int order = aNan ? (bNan ? 0 : 1) : bNan ? -1 : a < b ? -1 : a > b ? 1 : 0;
        if (descending != 0) order = -order;
        return order != 0 ? order < 0 : ia < ib;
    }

    [DeviceKernel]
    public static void Load(Index1D i, ArrayView<float> x, ArrayView<float> keys, ArrayView<int> positions, int size, int inner, int width)
    {
        long slice = i / width;
        int p = (int)(i % width);
        if (p < size)
        {
            keys[i] = x[slice / inner * size * (long)inner + (long)p * inner + slice % inner];
            positions[i] = p;
        }
        else
        {
            keys[i] = 0f;
            positions[i] = -1;
        }
    }

    /// <summary>One compare-exchange stage (block size <paramref name="k"/>, distance <paramref name="j"/>) of the bitonic network.</summary>
    [DeviceKernel]
    public static void Step(Index1D i, ArrayView<float> keys, ArrayView<int> positions, int width, int j, int k, int descending)
    {
        int p = (int)(i % width);
        int partner = p ^ j;
        if (partner <= p) return;
        long a = i, b = i - p + partner;
        bool ascendingBlock = (p & k) == 0;
        bool swap = ascendingBlock
            ? Before(keys[b], positions[b], keys[a], positions[a], descending)
            : Before(keys[a], positions[a], keys[b], positions[b], descending);
        if (!swap) return;
        (keys[a], keys[b]) = (keys[b], keys[a]);
        (positions[a], positions[b]) = (positions[b], positions[a]);
    }

    /// <summary>Writes the first <paramref name="count"/> sorted entries of each slice back in (outer, count, inner) layout: values and int64 positions.</summary>
    [DeviceKernel]
    public static void Store(Index1D i, ArrayView<float> keys, ArrayView<int> positions, ArrayView<float> values, ArrayView<long> indices, int count, int inner, int width)
    {
        long o = i / ((long)count * inner);
        int p = (int)(i / inner % count);
        long slice = o * inner + i % inner;
        values[i] = keys[slice * width + p];
        indices[i] = positions[slice * width + p];
    }
}
