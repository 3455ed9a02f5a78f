using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// A value reduction (sum, max, min) as a struct, for <see cref="CpuBackend.ReduceAxes"/>'s one
/// generic walker (the TensorPrimitives pattern of <see cref="IBinaryOperator{T}"/>): the JIT
/// specialises the walker per reducer, so the two inner loops below are vectorised with no call per
/// element. Elements are <typeparamref name="T"/>; the running value is <typeparamref name="TAcc"/>,
/// wider than the elements where precision needs it (float32 sums accumulate in float64).
/// </summary>
internal interface IAxisReducer<T, TAcc> where T : struct where TAcc : struct
{
    /// <summary>The running value before any element: 0, or -inf / +inf (the type's extreme) for max / min.</summary>
    static abstract TAcc Identity { get; }

    /// <summary>accumulators[i] ⊕= row[i]: a reduced axis outside a kept, contiguous one.</summary>
    static abstract void AccumulateRow(Span<TAcc> accumulators, ReadOnlySpan<T> row);

    /// <summary>accumulator ⊕ run[0] ⊕ run[1] ⊕ ...: a reduced, contiguous innermost axis.</summary>
    static abstract TAcc AccumulateRun(TAcc accumulator, ReadOnlySpan<T> run);

    /// <summary>The result element from the running value.</summary>
    static abstract T Result(TAcc accumulator);
}

/// <summary>float32 sum accumulated in float64 (see <see cref="CpuBackend.Reduce"/> for why).</summary>
internal readonly struct WidenedSumReducer : IAxisReducer<float, double>
{
    public static double Identity => 0;
    public static void AccumulateRow(Span<double> accumulators, ReadOnlySpan<float> row) => CpuBackend.AddWidened(accumulators, row);
    public static double AccumulateRun(double accumulator, ReadOnlySpan<float> run) => accumulator + CpuBackend.SumWidened(run);
    public static float Result(double accumulator) => (float)accumulator;
}

/// <summary>Sum in the element type (float64, int64).</summary>
internal readonly struct SumReducer<T> : IAxisReducer<T, T> where T : struct, INumber<T>
{
    public static T Identity => T.Zero;
    public static void AccumulateRow(Span<T> accumulators, ReadOnlySpan<T> row) => CpuBackend.AddInto<T>(accumulators, row);
    public static T AccumulateRun(T accumulator, ReadOnlySpan<T> run) => accumulator + CpuBackend.SumContiguous(run);
    public static T Result(T accumulator) => accumulator;
}

/// <summary>Largest value, NaN-propagating as PyTorch's amax (the <see cref="MaximumOperator{T}"/> of element-wise maximum).</summary>
internal readonly struct MaxReducer<T> : IAxisReducer<T, T> where T : struct, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.NegativeInfinity);
    public static void AccumulateRow(Span<T> accumulators, ReadOnlySpan<T> row) => ExtremeRows.CombineRow<T, MaximumOperator<T>>(accumulators, row);
    public static T AccumulateRun(T accumulator, ReadOnlySpan<T> run) => ExtremeRows.CombineRun<T, MaximumOperator<T>>(accumulator, run);
    public static T Result(T accumulator) => accumulator;
}

/// <summary>Smallest value, NaN-propagating as PyTorch's amin.</summary>
internal readonly struct MinReducer<T> : IAxisReducer<T, T> where T : struct, INumber<T>
{
    public static T Identity => T.CreateSaturating(double.PositiveInfinity);
    public static void AccumulateRow(Span<T> accumulators, ReadOnlySpan<T> row) => ExtremeRows.CombineRow<T, MinimumOperator<T>>(accumulators, row);
    public static T AccumulateRun(T accumulator, ReadOnlySpan<T> run) => ExtremeRows.CombineRun<T, MinimumOperator<T>>(accumulator, run);
    public static T Result(T accumulator) => accumulator;
}

/// <summary>The two vectorised loops of max and min, over any element-wise operator.</summary>
internal static class ExtremeRows
{
    /// <summary>accumulators[i] = op(accumulators[i], row[i]).</summary>
    public static void CombineRow<T, TOp>(Span<T> accumulators, ReadOnlySpan<T> row) where T : struct, INumber<T> where TOp : IBinaryOperator<T>
    {
        int i = 0;
        if (CpuBackend.IsVectorizable<T>())
        {
            int width = Vector<T>.Count;
            for (; i <= accumulators.Length - width; i += width)
                TOp.Invoke(new Vector<T>(accumulators.Slice(i, width)), new Vector<T>(row.Slice(i, width))).CopyTo(accumulators.Slice(i, width));
        }
        for (; i < accumulators.Length; i++) accumulators[i] = TOp.Invoke(accumulators[i], row[i]);
    }

    /// <summary>op folded over the run, starting from <paramref name="accumulator"/>: one vector of partial results, then its lanes.</summary>
    public static T CombineRun<T, TOp>(T accumulator, ReadOnlySpan<T> run) where T : struct, INumber<T> where TOp : IBinaryOperator<T>
    {
        int i = 0, width = Vector<T>.Count;
        if (CpuBackend.IsVectorizable<T>() && run.Length >= width)
        {
            var partial = new Vector<T>(run[..width]);
            for (i = width; i <= run.Length - width; i += width) partial = TOp.Invoke(partial, new Vector<T>(run.Slice(i, width)));
            for (int lane = 0; lane < width; lane++) accumulator = TOp.Invoke(accumulator, partial[lane]);
        }
        for (; i < run.Length; i++) accumulator = TOp.Invoke(accumulator, run[i]);
        return accumulator;
    }
}

/// <summary>
/// A multi-axis reduction's shape, coalesced: axes of length 1 dropped, neighbouring axes that are
/// both kept or both reduced merged into one run, so the runs alternate kept / reduced. A conv bias
/// gradient over [N, C, H, W] with axes (0, 2, 3) becomes three runs: N reduced, C kept, H·W reduced.
/// </summary>
internal sealed class AxisReducePlan
{
    /// <summary>Length of each run, outermost first.</summary>
    public required int[] Sizes { get; init; }

    /// <summary>Whether each run is reduced (else kept).</summary>
    public required bool[] Reduced { get; init; }

    /// <summary>Elements between consecutive indices of each run in the input.</summary>
    public required long[] InputStrides { get; init; }

    /// <summary>Elements between consecutive indices of each kept run in the output (0 for reduced runs).</summary>
    public required long[] OutputStrides { get; init; }

    /// <summary>The index of the outermost kept run (0 or 1, runs alternate), or -1 when every axis is reduced.</summary>
    public required int FirstKept { get; init; }

    /// <summary>Input elements.</summary>
    public required long Elements { get; init; }

    /// <summary>Output elements: the product of the kept axes.</summary>
    public required long Outputs { get; init; }

    /// <summary>The plan for reducing <paramref name="axes"/> of <paramref name="shape"/>, or an error naming the op.</summary>
    public static AxisReducePlan Create(string op, int[] shape, int[] axes, long length)
    {
        if (Shapes.Numel(shape) != length)
            throw new ArgumentException($"{op}: shape {Shapes.Format(shape)} does not describe a storage of {length} elements");
        var reducedAxis = new bool[shape.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            if (axes[i] < 0 || axes[i] >= shape.Length || (i > 0 && axes[i] <= axes[i - 1]))
                throw new ArgumentException($"{op}: axes [{string.Join(", ", axes)}] must be distinct, ascending and within rank {shape.Length}");
            reducedAxis[axes[i]] = true;
        }
        var sizes = new List<int>();
        var reduced = new List<bool>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (sizes.Count > 0 && reduced[^1] == reducedAxis[d]) sizes[^1] = checked(sizes[^1] * shape[d]);
            else
            {
                sizes.Add(shape[d]);
                reduced.Add(reducedAxis[d]);
            }
        }
        var inputStrides = new long[sizes.Count];
        var outputStrides = new long[sizes.Count];
        long inputStride = 1, outputStride = 1;
        for (int r = sizes.Count - 1; r >= 0; r--)
        {
            inputStrides[r] = inputStride;
            inputStride *= sizes[r];
            if (reduced[r]) continue;
            outputStrides[r] = outputStride;
            outputStride *= sizes[r];
        }
        return new AxisReducePlan
        {
            Sizes = [.. sizes],
            Reduced = [.. reduced],
            InputStrides = inputStrides,
            OutputStrides = outputStrides,
            FirstKept = reduced.IndexOf(false),
            Elements = length,
            Outputs = outputStride,
        };
    }
}
