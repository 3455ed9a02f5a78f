using ILGPU;
using ILGPU.Algorithms;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Reductions of the middle axis of an (outer, size, inner) tensor. One thread group per output
// element (grid-strided over the outputs): each thread folds a strided share of the axis, then
// the group combines its partial results by a tree in shared memory. The arg-reductions carry
// (value, index) pairs and break ties by the lower index, so the tree's order cannot change the
// answer: the first extreme wins and a NaN beats every number, as on the CPU.
internal static class ReductionKernels
{
    /// <summary>The largest group the reduction kernels are launched with (the size of their shared arrays).</summary>
    public const int MaxGroupSize = 256;

    /// <summary>Whether (a, ia) beats (b, ib) for a max (or, with <paramref name="max"/> false, a min): NaN first, then the extreme, then the lower index.</summary>
    public static bool Beats(float a, long ia, float b, long ib, bool max)
    {
        bool aNan = XMath.IsNaN(a), bNan = XMath.IsNaN(b);
        if (aNan || bNan) return aNan && (!bNan || ia < ib);
        if (a != b) return max ? a > b : a < b;
        return ia < ib;
    }

    /// <summary>Sums <paramref name="value"/> over the group; every thread gets the total. <paramref name="shared"/> holds at least the group size.</summary>
    public static float GroupSum(float value, ArrayView<float> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) shared[t] += shared[t + half];
            Group.Barrier();
        }
        float total = shared[0];
        Group.Barrier();
        return total;
    }

    /// <summary>The group's maximum of <paramref name="value"/> (NaN if any is NaN); every thread gets it.</summary>
    public static float GroupMax(float value, ArrayView<float> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                float other = shared[t + half];
                if (XMath.IsNaN(other) || other > shared[t]) shared[t] = other;
            }
            Group.Barrier();
        }
        float result = shared[0];
        Group.Barrier();
        return result;
    }

    /// <summary>
    /// Sum, Max, Min, ArgMax or ArgMin over the axis. Values go to <paramref name="values"/>
    /// (Sum, Max, Min) and positions to <paramref name="indices"/> (all but Sum). Launched with a
    /// power-of-two group size of at most <see cref="MaxGroupSize"/>.
    /// </summary>
    [DeviceKernel(grouped: true)]
    public static void Reduce(ArrayView<float> x, ArrayView<float> values, ArrayView<long> indices, int outer, int size, int inner, int op)
    {
        var sharedValue = SharedMemory.Allocate<float>(MaxGroupSize);
        var sharedIndex = SharedMemory.Allocate<long>(MaxGroupSize);
        int t = Group.IdxX;
        bool isSum = op == (int)ReduceOp.Sum;
        bool max = op == (int)ReduceOp.Max || op == (int)ReduceOp.ArgMax;
        long outputs = (long)outer * inner;
        for (long o = Grid.IdxX; o < outputs; o += Grid.DimX)
        {
            long baseOffset = o / inner * size * (long)inner + o % inner;
            // Each thread folds positions t, t + groupSize, ... of the axis.
            float best = isSum ? 0f : float.NaN;
            long bestAt = -1;
            for (long j = t; j < size; j += Group.DimX)
            {
                float v = x[baseOffset + j * inner];
                if (isSum) best += v;
                else if (bestAt < 0 || Beats(v, j, best, bestAt, max)) { best = v; bestAt = j; }
            }
            sharedValue[t] = best;
            sharedIndex[t] = bestAt;
            Group.Barrier();
            for (int half = Group.DimX / 2; half > 0; half /= 2)
            {
                if (t < half)
                {
                    if (isSum) sharedValue[t] += sharedValue[t + half];
                    else
                    {
                        long otherAt = sharedIndex[t + half];
                        if (otherAt >= 0 && (sharedIndex[t] < 0 || Beats(sharedValue[t + half], otherAt, sharedValue[t], sharedIndex[t], max)))
                        {
                            sharedValue[t] = sharedValue[t + half];
                            sharedIndex[t] = otherAt;
                        }
                    }
                }
                Group.Barrier();
            }
            if (t == 0)
            {
                if (values.Length > 0) values[o] = sharedValue[0];
                if (indices.Length > 0) indices[o] = sharedIndex[0];
            }
            Group.Barrier();
        }
    }
}
