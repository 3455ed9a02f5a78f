using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage Reduce(ReduceOp op, Storage x, int outer, int size, int inner)
    {
        if (size == 0 && op != ReduceOp.Sum)
            throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: cannot reduce an empty axis");
        return x.DType switch
        {
            // float32 sums accumulate in double, as PyTorch's CPU batch norm does for its statistics:
            // batch-norm gradients subtract nearly equal sums, and float32 accumulation would
            // leave too few correct digits in the difference.
            DType.Float32 when op == ReduceOp.Sum => Wrap(SumAxisInDouble(Data<float>(x), outer, size, inner)),
            DType.Float32 => ReduceOf(op, Data<float>(x), outer, size, inner),
            DType.Float64 => ReduceOf(op, Data<double>(x), outer, size, inner),
            DType.Int64 => ReduceOf(op, Data<long>(x), outer, size, inner),
            _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {x.DType.Name()} tensors"),
        };
    }

    private static Storage ReduceOf<T>(ReduceOp op, T[] x, int outer, int size, int inner) where T : struct, INumber<T> => op switch
    {
        ReduceOp.Sum => Wrap(SumAxis(x, outer, size, inner)),
        ReduceOp.Max => Wrap(ExtremeAxis<T, T>(x, outer, size, inner, max: true, (value, _) => value)),
        ReduceOp.Min => Wrap(ExtremeAxis<T, T>(x, outer, size, inner, max: false, (value, _) => value)),
        ReduceOp.ArgMax => Wrap(ExtremeAxis<T, long>(x, outer, size, inner, max: true, (_, index) => index)),
        ReduceOp.ArgMin => Wrap(ExtremeAxis<T, long>(x, outer, size, inner, max: false, (_, index) => index)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static T[] SumAxis<T>(T[] x, int outer, int size, int inner) where T : struct, INumber<T>
    {
        var result = CpuBufferPool.RentZeroed<T>((long)outer * inner);
        ParallelRange(outer, (long)size * inner, (first, end) =>
        {
            for (long o = first; o < end; o++)
            {
                if (inner == 1)
                {
                    result[o] = SumContiguous<T>(x.AsSpan((int)(o * size), size));
                    continue;
                }
                // Accumulate whole rows: the inner axis is contiguous and vectorises.
                var acc = result.AsSpan((int)(o * inner), inner);
                for (int j = 0; j < size; j++)
                    AddInto<T>(acc, x.AsSpan((int)((o * size + j) * inner), inner));
            }
        });
        return result;
    }

    private static float[] SumAxisInDouble(float[] x, int outer, int size, int inner)
    {
        var result = CpuBufferPool.RentZeroed<float>((long)outer * inner);
        ParallelRange(outer, (long)size * inner, (first, end) =>
        {
            var accumulator = new double[inner];
            for (long o = first; o < end; o++)
            {
                if (inner == 1)
                {
                    result[o] = (float)SumWidened(x.AsSpan((int)(o * size), size));
                    continue;
                }
                Array.Clear(accumulator);
                for (int j = 0; j < size; j++)
                    AddWidened(accumulator, x.AsSpan((int)((o * size + j) * inner), inner));
                for (int i = 0; i < inner; i++) result[o * inner + i] = (float)accumulator[i];
            }
        });
        return result;
    }

    /// <summary>The sum of float32 values accumulated in float64, vectorised.</summary>
    private static double SumWidened(ReadOnlySpan<float> values)
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
    private static void AddWidened(Span<double> accumulator, ReadOnlySpan<float> values)
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

    /// <summary>Max/min along the axis; the first extreme wins ties and a NaN beats everything, as in PyTorch.</summary>
    private static TOut[] ExtremeAxis<T, TOut>(T[] x, int outer, int size, int inner, bool max, Func<T, long, TOut> select) where T : INumber<T>
    {
        var result = NewArray<TOut>((long)outer * inner);
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
                    result[o * inner + i] = select(best, bestIndex);
                }
            }
        });
        return result;
    }
}
