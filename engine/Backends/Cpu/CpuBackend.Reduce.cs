using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage Reduce(ReduceOp op, Storage x, int outer, int size, int inner)
    {
        if (size == 0 && op != ReduceOp.Sum)
            throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: cannot reduce an empty axis");
        if (op is not (ReduceOp.ArgMax or ReduceOp.ArgMin)) return ReduceAxes(op, x, [outer, size, inner], [1]);
        bool max = op == ReduceOp.ArgMax;
        return x.DType switch
        {
            DType.Float32 => Wrap(ArgExtremeAxis(Data<float>(x), outer, size, inner, max)),
            DType.Float64 => Wrap(ArgExtremeAxis(Data<double>(x), outer, size, inner, max)),
            DType.Int64 => Wrap(ArgExtremeAxis(Data<long>(x), outer, size, inner, max)),
            _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {x.DType.Name()} tensors"),
        };
    }

    /// <inheritdoc />
    public Storage ReduceAxes(ReduceOp op, Storage x, int[] shape, int[] axes)
    {
        string name = op.ToString().ToLowerInvariant();
        if (op is ReduceOp.ArgMax or ReduceOp.ArgMin)
            throw new ArgumentException($"{name}: an index reduction takes one axis (Reduce), not several");
        var plan = AxisReducePlan.Create(name, shape, axes, x.Length);
        if (plan.Elements == 0 && plan.Outputs > 0 && op != ReduceOp.Sum)
            throw new ArgumentException($"{name}: cannot reduce an empty axis (shape {Shapes.Format(shape)}, axes [{string.Join(", ", axes)}])");
        return (x.DType, op) switch
        {
            // float32 sums accumulate in double, as PyTorch's CPU batch norm does for its statistics:
            // batch-norm gradients subtract nearly equal sums, and float32 accumulation would
            // leave too few correct digits in the difference.
            (DType.Float32, ReduceOp.Sum) => Wrap(ReduceAxesOf<float, double, WidenedSumReducer>(Data<float>(x), plan)),
            (DType.Float32, ReduceOp.Max) => Wrap(ReduceAxesOf<float, float, MaxReducer<float>>(Data<float>(x), plan)),
            (DType.Float32, ReduceOp.Min) => Wrap(ReduceAxesOf<float, float, MinReducer<float>>(Data<float>(x), plan)),
            (DType.Float64, ReduceOp.Sum) => Wrap(ReduceAxesOf<double, double, SumReducer<double>>(Data<double>(x), plan)),
            (DType.Float64, ReduceOp.Max) => Wrap(ReduceAxesOf<double, double, MaxReducer<double>>(Data<double>(x), plan)),
            (DType.Float64, ReduceOp.Min) => Wrap(ReduceAxesOf<double, double, MinReducer<double>>(Data<double>(x), plan)),
            (DType.Int64, ReduceOp.Sum) => Wrap(ReduceAxesOf<long, long, SumReducer<long>>(Data<long>(x), plan)),
            (DType.Int64, ReduceOp.Max) => Wrap(ReduceAxesOf<long, long, MaxReducer<long>>(Data<long>(x), plan)),
            (DType.Int64, ReduceOp.Min) => Wrap(ReduceAxesOf<long, long, MinReducer<long>>(Data<long>(x), plan)),
            _ => throw new ArgumentException($"{name}: not defined for {x.DType.Name()} tensors"),
        };
    }

    /// <summary>
    /// One pass over x for any set of reduced axes. The coalesced shape alternates kept and reduced
    /// runs; the innermost run is either a kept row (added element-wise into a row of accumulators,
    /// vectorised) or a reduced run (folded into one accumulator, vectorised). Threads split the
    /// outermost kept run, so each owns a disjoint block of outputs and the order of every sum is
    /// fixed: results do not depend on the thread count.
    /// </summary>
    private static T[] ReduceAxesOf<T, TAcc, TReducer>(T[] x, AxisReducePlan plan)
        where T : struct where TAcc : struct where TReducer : IAxisReducer<T, TAcc>
    {
        var result = NewArray<T>(plan.Outputs);
        if (plan.Outputs == 0) return result;
        int split = plan.FirstKept;
        if (split < 0)
        {
            // Everything is reduced: one accumulator, one thread.
            result[0] = TReducer.Result(TReducer.AccumulateRun(TReducer.Identity, x.AsSpan(0, (int)plan.Elements)));
            return result;
        }
        ParallelRange(plan.Sizes[split], plan.Elements / Math.Max(1, plan.Sizes[split]), (first, end) =>
        {
            long outputStart = first * plan.OutputStrides[split], outputCount = (end - first) * plan.OutputStrides[split];
            var accumulators = CpuBufferPool.Rent<TAcc>(outputCount);
            var block = accumulators.AsSpan(0, (int)outputCount);
            block.Fill(TReducer.Identity);
            // Only the first run can lie outside the split one, and it is reduced.
            int outside = split == 0 ? 1 : plan.Sizes[0];
            for (int r = 0; r < outside; r++)
            {
                long offset = split == 0 ? 0 : r * plan.InputStrides[0];
                if (split == plan.Sizes.Length - 1)
                {
                    TReducer.AccumulateRow(block, x.AsSpan((int)(offset + first), (int)(end - first)));
                    continue;
                }
                for (long k = first; k < end; k++)
                    Walk<T, TAcc, TReducer>(x, plan, split + 1, offset + k * plan.InputStrides[split], block, (k - first) * plan.OutputStrides[split]);
            }
            for (long i = 0; i < outputCount; i++) result[outputStart + i] = TReducer.Result(block[(int)i]);
            CpuBufferPool.Return(accumulators);
        });
        return result;
    }

    /// <summary>Accumulates the runs from <paramref name="level"/> inwards of the block at x[inputOffset..] into accumulators[outputOffset..].</summary>
    private static void Walk<T, TAcc, TReducer>(T[] x, AxisReducePlan plan, int level, long inputOffset, Span<TAcc> accumulators, long outputOffset)
        where T : struct where TAcc : struct where TReducer : IAxisReducer<T, TAcc>
    {
        int size = plan.Sizes[level];
        bool reduced = plan.Reduced[level];
        if (level == plan.Sizes.Length - 1)
        {
            var run = x.AsSpan((int)inputOffset, size);
            if (reduced) accumulators[(int)outputOffset] = TReducer.AccumulateRun(accumulators[(int)outputOffset], run);
            else TReducer.AccumulateRow(accumulators.Slice((int)outputOffset, size), run);
            return;
        }
        for (int i = 0; i < size; i++)
            Walk<T, TAcc, TReducer>(x, plan, level + 1, inputOffset + i * plan.InputStrides[level], accumulators,
                reduced ? outputOffset : outputOffset + i * plan.OutputStrides[level]);
    }

    /// <summary>The sum of float32 values accumulated in float64, vectorised.</summary>
    internal static double SumWidened(ReadOnlySpan<float> values)
    {
        int i = 0;
        double total = 0;
        if (IsVectorizable<float>() && values.Length >= Vector<float>.Count)
        {
            Vector<double> low = Vector<double>.Zero, high = Vector<double>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(values.Slice(i, Vector<float>.Count)), out var l, out var h);
                low += l;
                high += h;
            }
            total = Vector.Sum(low + high);
        }
        for (; i < values.Length; i++) total += values[i];
        return total;
    }

    /// <summary>accumulator[i] += values[i], widening float32 to float64, vectorised.</summary>
    internal static void AddWidened(Span<double> accumulator, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (IsVectorizable<float>())
        {
            int width = Vector<float>.Count, half = Vector<double>.Count;
            for (; i <= values.Length - width; i += width)
            {
                Vector.Widen(new Vector<float>(values.Slice(i, width)), out var low, out var high);
                (new Vector<double>(accumulator.Slice(i, half)) + low).CopyTo(accumulator.Slice(i, half));
                (new Vector<double>(accumulator.Slice(i + half, half)) + high).CopyTo(accumulator.Slice(i + half, half));
            }
        }
        for (; i < values.Length; i++) accumulator[i] += values[i];
    }

    /// <summary>Sum with several vector lanes as independent partial sums, which also keeps float32 rounding error small.</summary>
    internal static T SumContiguous<T>(ReadOnlySpan<T> values) where T : struct, INumber<T>
    {
        int i = 0;
        T total = T.Zero;
        if (IsVectorizable<T>() && values.Length >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= values.Length - Vector<T>.Count; i += Vector<T>.Count)
                acc += new Vector<T>(values.Slice(i, Vector<T>.Count));
            total = Vector.Sum(acc);
        }
        for (; i < values.Length; i++) total += values[i];
        return total;
    }

    /// <summary>accumulator[i] += values[i], vectorised.</summary>
    internal static void AddInto<T>(Span<T> accumulator, ReadOnlySpan<T> values) where T : struct, INumber<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            for (; i <= accumulator.Length - Vector<T>.Count; i += Vector<T>.Count)
                (new Vector<T>(accumulator.Slice(i, Vector<T>.Count)) + new Vector<T>(values.Slice(i, Vector<T>.Count))).CopyTo(accumulator.Slice(i, Vector<T>.Count));
        }
        for (; i < accumulator.Length; i++) accumulator[i] += values[i];
    }

    /// <summary>Index of the max/min along the axis; the first extreme wins ties and a NaN beats everything, as in PyTorch.</summary>
    private static long[] ArgExtremeAxis<T>(T[] x, int outer, int size, int inner, bool max) where T : INumber<T>
    {
        var result = NewArray<long>((long)outer * inner);
        ParallelRange(outer, (long)size * inner, (first, end) =>
        {
            for (long o = first; o < end; o++)
            {
                for (int i = 0; i < inner; i++)
                {
                    long baseIndex = o * size * inner + i;
                    T best = x[baseIndex];
                    long bestIndex = 0;
                    for (int j = 1; j < size && !T.IsNaN(best); j++)
                    {
                        T v = x[baseIndex + (long)j * inner];
                        if (T.IsNaN(v) || (max ? v > best : v < best))
                        {
                            best = v;
                            bestIndex = j;
                        }
                    }
                    result[o * inner + i] = bestIndex;
                }
            }
        });
        return result;
    }
}
