using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage Softmax(Storage x, int outer, int size, int inner, bool log) => x.DType switch
    {
        DType.Float32 => Wrap(SoftmaxOf(Data<float>(x), outer, size, inner, log)),
        DType.Float64 => Wrap(SoftmaxOf(Data<double>(x), outer, size, inner, log)),
        _ => throw new ArgumentException($"{(log ? "log_softmax" : "softmax")}: not defined for {x.DType.Name()} tensors"),
    };

    private static T[] SoftmaxOf<T>(T[] x, int outer, int size, int inner, bool log) where T : struct, IFloatingPointIeee754<T>
    {
        var y = NewArray<T>(x.LongLength);
        // One lane per (outer, inner) pair: its elements lie `inner` apart. Lanes are independent.
        ParallelRange((long)outer * inner, 3L * size, (first, end) =>
        {
            for (long lane = first; lane < end; lane++)
            {
                long start = lane / inner * size * inner + lane % inner;
                T max = T.NegativeInfinity;
                // T.Max propagates NaN; a slice of all -inf gives NaN everywhere (-inf - -inf), as in PyTorch.
                for (int j = 0; j < size; j++) max = T.Max(max, x[start + j * inner]);
                T sum = T.Zero;
                for (int j = 0; j < size; j++)
                {
                    long at = start + j * inner;
                    T e = T.Exp(x[at] - max);
                    sum += e;
                    if (!log) y[at] = e;
                }
                T logSum = T.Log(sum);
                for (int j = 0; j < size; j++)
                {
                    long at = start + j * inner;
                    y[at] = log ? x[at] - max - logSum : y[at] / sum;
                }
            }
        });
        return y;
    }
}
