using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage Unary(UnaryOp op, Storage x) => (op, x.DType) switch
    {
        (UnaryOp.Not, DType.Bool) => Wrap(Array.ConvertAll(Data<bool>(x), v => !v)),
        (_, DType.Float32) => Wrap(UnaryFloat(op, Data<float>(x))),
        (_, DType.Float64) => Wrap(UnaryFloat(op, Data<double>(x))),
        (UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Relu or UnaryOp.Sign, DType.Int64) => Wrap(UnaryInteger(op, Data<long>(x))),
        _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {x.DType.Name()} tensors"),
    };

    private static T[] UnaryFloat<T>(UnaryOp op, T[] x) where T : struct, IFloatingPointIeee754<T>
    {
        var y = NewArray<T>(x.Length);
        ParallelRange(x.Length, 4, (start, end) =>
        {
            var src = x.AsSpan((int)start, (int)(end - start));
            var dst = y.AsSpan((int)start, (int)(end - start));
            switch (op)
            {
                case UnaryOp.Neg: for (int i = 0; i < src.Length; i++) dst[i] = -src[i]; break;
                case UnaryOp.Exp: for (int i = 0; i < src.Length; i++) dst[i] = T.Exp(src[i]); break;
                case UnaryOp.Log: for (int i = 0; i < src.Length; i++) dst[i] = T.Log(src[i]); break;
                case UnaryOp.Log2: for (int i = 0; i < src.Length; i++) dst[i] = T.Log2(src[i]); break;
                case UnaryOp.Sqrt: for (int i = 0; i < src.Length; i++) dst[i] = T.Sqrt(src[i]); break;
                case UnaryOp.Abs: for (int i = 0; i < src.Length; i++) dst[i] = T.Abs(src[i]); break;
                // NaN stays NaN, as in PyTorch: (NaN > 0) is false but we must not turn it into 0.
                case UnaryOp.Relu: ReluInto<T>(src, dst); break;
                case UnaryOp.Sigmoid: for (int i = 0; i < src.Length; i++) dst[i] = Sigmoid(src[i]); break;
                case UnaryOp.Tanh: for (int i = 0; i < src.Length; i++) dst[i] = T.Tanh(src[i]); break;
                case UnaryOp.Sign: for (int i = 0; i < src.Length; i++) dst[i] = T.IsNaN(src[i]) ? src[i] : T.CreateTruncating(T.Sign(src[i])); break;
                case UnaryOp.Floor: for (int i = 0; i < src.Length; i++) dst[i] = T.Floor(src[i]); break;
                default: throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for floating-point tensors");
            }
        });
        return y;
    }

    /// <inheritdoc />
    public Storage ActivationBackward(UnaryOp activation, Storage gradOutput, Storage output) => (activation, gradOutput.DType) switch
    {
        (UnaryOp.Relu or UnaryOp.Sigmoid or UnaryOp.Tanh, DType.Float32) => Wrap(ActivationBackwardOf(activation, Data<float>(gradOutput), Data<float>(output))),
        (UnaryOp.Relu or UnaryOp.Sigmoid or UnaryOp.Tanh, DType.Float64) => Wrap(ActivationBackwardOf(activation, Data<double>(gradOutput), Data<double>(output))),
        _ => throw new ArgumentException($"{activation.ToString().ToLowerInvariant()} backward: not defined for {gradOutput.DType.Name()} tensors"),
    };

    private static T[] ActivationBackwardOf<T>(UnaryOp activation, T[] g, T[] y) where T : struct, IFloatingPointIeee754<T>
    {
        var dx = NewArray<T>(g.Length);
        ParallelRange(g.Length, 2, (start, end) =>
        {
            // The products in the order the composed tensor ops used, so results are unchanged.
            switch (activation)
            {
                case UnaryOp.Relu: ReluBackwardInto<T>(g.AsSpan((int)start, (int)(end - start)), y.AsSpan((int)start, (int)(end - start)), dx.AsSpan((int)start, (int)(end - start))); break;
                case UnaryOp.Sigmoid: for (long i = start; i < end; i++) dx[i] = g[i] * y[i] * (T.One - y[i]); break;
                default: for (long i = start; i < end; i++) dx[i] = g[i] * (T.One - y[i] * y[i]); break;
            }
        });
        return dx;
    }

    /// <summary>dx = g where y &gt; 0, else 0 (a NaN y gives 0), vectorised.</summary>
    private static void ReluBackwardInto<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> dx) where T : struct, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            int width = Vector<T>.Count;
            for (; i <= g.Length - width; i += width)
                Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(y.Slice(i, width)), Vector<T>.Zero), new Vector<T>(g.Slice(i, width)), Vector<T>.Zero)
                    .CopyTo(dx.Slice(i, width));
        }
        for (; i < g.Length; i++) dx[i] = y[i] > T.Zero ? g[i] : T.Zero;
    }

    // Written so that neither branch overflows: e^-|x| is at most 1.
    private static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T e = T.Exp(-T.Abs(x));
        return x >= T.Zero ? T.One / (T.One + e) : e / (T.One + e);
    }

    private static long[] UnaryInteger(UnaryOp op, long[] x) => op switch
    {
        UnaryOp.Neg => Array.ConvertAll(x, v => -v),
        UnaryOp.Abs => Array.ConvertAll(x, Math.Abs),
        UnaryOp.Relu => Array.ConvertAll(x, v => Math.Max(v, 0L)),
        UnaryOp.Sign => Array.ConvertAll(x, v => (long)Math.Sign(v)),
        _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for int64 tensors"),
    };

    /// <inheritdoc />
    public Storage Clamp(Storage x, double min, double max) => x.DType switch
    {
        DType.Float32 => Wrap(ClampOf(Data<float>(x), (float)min, (float)max)),
        DType.Float64 => Wrap(ClampOf(Data<double>(x), min, max)),
        DType.Int64 => Wrap(ClampOf(Data<long>(x), double.IsNegativeInfinity(min) ? long.MinValue : (long)Math.Ceiling(min), double.IsPositiveInfinity(max) ? long.MaxValue : (long)Math.Floor(max))),
        _ => throw new ArgumentException($"clamp: not defined for {x.DType.Name()} tensors"),
    };

    // Comparisons written so that NaN passes through unchanged, as torch.clamp does.
    private static T[] ClampOf<T>(T[] x, T min, T max) where T : INumber<T> =>
        Array.ConvertAll(x, v => v < min ? min : v > max ? max : v);

    /// <inheritdoc />
    public Storage Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape)
    {
        var plan = new BroadcastPlan(outShape, aShape, bShape);
        return (op, a.DType) switch
        {
            (BinaryOp.And, DType.Bool) => Wrap(BinaryScalarPath(plan, Data<bool>(a), Data<bool>(b), (x, y) => x && y)),
            (BinaryOp.Or, DType.Bool) => Wrap(BinaryScalarPath(plan, Data<bool>(a), Data<bool>(b), (x, y) => x || y)),
            (_, DType.Float32) => Wrap(BinaryNumeric(op, plan, Data<float>(a), Data<float>(b), true)),
            (_, DType.Float64) => Wrap(BinaryNumeric(op, plan, Data<double>(a), Data<double>(b), true)),
            (not BinaryOp.Pow, DType.Int64) => Wrap(BinaryNumeric(op, plan, Data<long>(a), Data<long>(b), false)),
            _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {a.DType.Name()} tensors"),
        };
    }

    /// <inheritdoc />
    public Storage BinaryScalar(BinaryOp op, Storage x, double scalar, bool scalarFirst)
    {
        // The scalar is the repeated operand of the same broadcast row kernels: a one-element
        // array, no storage and no tensor, and the results are those of a broadcast scalar tensor.
        int[] shape = [checked((int)x.Length)];
        var plan = scalarFirst ? new BroadcastPlan(shape, [], shape) : new BroadcastPlan(shape, shape, []);
        return (op, x.DType) switch
        {
            (_, DType.Float32) => Wrap(WithScalar(op, Data<float>(x), (float)scalar, scalarFirst, plan, true)),
            (_, DType.Float64) => Wrap(WithScalar(op, Data<double>(x), scalar, scalarFirst, plan, true)),
            (not BinaryOp.Pow, DType.Int64) => Wrap(WithScalar(op, Data<long>(x), (long)scalar, scalarFirst, plan, false)),
            _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {x.DType.Name()} tensors and a scalar"),
        };
    }

    private static T[] WithScalar<T>(BinaryOp op, T[] x, T scalar, bool scalarFirst, BroadcastPlan plan, bool floating) where T : struct, INumber<T> =>
        scalarFirst ? BinaryNumeric(op, plan, [scalar], x, floating) : BinaryNumeric(op, plan, x, [scalar], floating);

    private static T[] BinaryNumeric<T>(BinaryOp op, BroadcastPlan plan, T[] a, T[] b, bool floating) where T : struct, INumber<T> => op switch
    {
        BinaryOp.Add => BinaryBroadcast<T, AddOperator<T>>(plan, a, b),
        BinaryOp.Sub => BinaryBroadcast<T, SubOperator<T>>(plan, a, b),
        BinaryOp.Mul => BinaryBroadcast<T, MulOperator<T>>(plan, a, b),
        BinaryOp.Div => BinaryBroadcast<T, DivOperator<T>>(plan, a, b),
        BinaryOp.Maximum => BinaryBroadcast<T, MaximumOperator<T>>(plan, a, b),
        BinaryOp.Minimum => BinaryBroadcast<T, MinimumOperator<T>>(plan, a, b),
        BinaryOp.Pow when floating && typeof(T) == typeof(float) => (T[])(object)BinaryBroadcast<float, PowOperator<float>>(plan, (float[])(object)a, (float[])(object)b),
        BinaryOp.Pow when floating => (T[])(object)BinaryBroadcast<double, PowOperator<double>>(plan, (double[])(object)a, (double[])(object)b),
        _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {DTypeInfo.Of<T>().Name()} tensors"),
    };

    /// <summary>The one driver for broadcast binary operators: rows in parallel, each row vectorised by its stride pattern.</summary>
    private static T[] BinaryBroadcast<T, TOp>(BroadcastPlan plan, T[] a, T[] b)
        where T : struct, INumber<T> where TOp : IBinaryOperator<T>
    {
        int rowLength = plan.RowLength;
        var result = NewArray<T>(plan.Rows * rowLength);
        bool aRepeats = plan.IsBroadcastInRow(0), bRepeats = plan.IsBroadcastInRow(1);
        ParallelRange(plan.Rows, rowLength, (first, end) =>
        {
            for (long row = first; row < end; row++)
            {
                var outRow = result.AsSpan((int)(row * rowLength), rowLength);
                long aStart = plan.RowStart(0, row), bStart = plan.RowStart(1, row);
                BinaryRow<T, TOp>(a.AsSpan((int)aStart, aRepeats ? 1 : rowLength), aRepeats,
                                  b.AsSpan((int)bStart, bRepeats ? 1 : rowLength), bRepeats, outRow);
            }
        });
        return result;
    }

    private static void BinaryRow<T, TOp>(ReadOnlySpan<T> a, bool aRepeats, ReadOnlySpan<T> b, bool bRepeats, Span<T> result)
        where T : struct, INumber<T> where TOp : IBinaryOperator<T>
    {
        int i = 0;
        if (TOp.Vectorizable && IsVectorizable<T>())
        {
            int width = Vector<T>.Count;
            var aSplat = aRepeats ? new Vector<T>(a[0]) : default;
            var bSplat = bRepeats ? new Vector<T>(b[0]) : default;
            for (; i <= result.Length - width; i += width)
            {
                var va = aRepeats ? aSplat : new Vector<T>(a.Slice(i, width));
                var vb = bRepeats ? bSplat : new Vector<T>(b.Slice(i, width));
                TOp.Invoke(va, vb).CopyTo(result.Slice(i, width));
            }
        }
        for (; i < result.Length; i++)
            result[i] = TOp.Invoke(aRepeats ? a[0] : a[i], bRepeats ? b[0] : b[i]);
    }

    /// <summary>The scalar driver for element types without vector arithmetic (bool) and for comparisons.</summary>
    private static TOut[] BinaryScalarPath<TIn, TOut>(BroadcastPlan plan, TIn[] a, TIn[] b, Func<TIn, TIn, TOut> apply)
    {
        int rowLength = plan.RowLength;
        var result = NewArray<TOut>(plan.Rows * rowLength);
        long aStep = plan.IsBroadcastInRow(0) ? 0 : 1, bStep = plan.IsBroadcastInRow(1) ? 0 : 1;
        ParallelRange(plan.Rows, rowLength, (first, end) =>
        {
            for (long row = first; row < end; row++)
            {
                long ai = plan.RowStart(0, row), bi = plan.RowStart(1, row), o = row * rowLength;
                for (int i = 0; i < rowLength; i++, ai += aStep, bi += bStep)
                    result[o + i] = apply(a[ai], b[bi]);
            }
        });
        return result;
    }

    /// <inheritdoc />
    public Storage Compare(CompareOp op, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape)
    {
        var plan = new BroadcastPlan(outShape, aShape, bShape);
        return a.DType switch
        {
            DType.Float32 => Wrap(CompareOf(op, plan, Data<float>(a), Data<float>(b))),
            DType.Float64 => Wrap(CompareOf(op, plan, Data<double>(a), Data<double>(b))),
            DType.Int64 => Wrap(CompareOf(op, plan, Data<long>(a), Data<long>(b))),
            DType.Bool when op is CompareOp.Eq => Wrap(BinaryScalarPath(plan, Data<bool>(a), Data<bool>(b), (x, y) => x == y)),
            DType.Bool when op is CompareOp.Ne => Wrap(BinaryScalarPath(plan, Data<bool>(a), Data<bool>(b), (x, y) => x != y)),
            _ => throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: not defined for {a.DType.Name()} tensors"),
        };
    }

    private static bool[] CompareOf<T>(CompareOp op, BroadcastPlan plan, T[] a, T[] b) where T : INumber<T> => op switch
    {
        CompareOp.Eq => BinaryScalarPath(plan, a, b, (x, y) => x == y),
        CompareOp.Ne => BinaryScalarPath(plan, a, b, (x, y) => x != y),
        CompareOp.Lt => BinaryScalarPath(plan, a, b, (x, y) => x < y),
        CompareOp.Le => BinaryScalarPath(plan, a, b, (x, y) => x <= y),
        CompareOp.Gt => BinaryScalarPath(plan, a, b, (x, y) => x > y),
        CompareOp.Ge => BinaryScalarPath(plan, a, b, (x, y) => x >= y),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <inheritdoc />
    public Storage Where(Storage cond, int[] condShape, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape)
    {
        if (cond.DType != DType.Bool) throw new ArgumentException($"where: the condition must be bool, not {cond.DType.Name()}");
        var plan = new BroadcastPlan(outShape, condShape, aShape, bShape);
        return a.DType switch
        {
            DType.Float32 => Wrap(WhereOf(plan, Data<bool>(cond), Data<float>(a), Data<float>(b))),
            DType.Float64 => Wrap(WhereOf(plan, Data<bool>(cond), Data<double>(a), Data<double>(b))),
            DType.Int64 => Wrap(WhereOf(plan, Data<bool>(cond), Data<long>(a), Data<long>(b))),
            DType.Bool => Wrap(WhereOf(plan, Data<bool>(cond), Data<bool>(a), Data<bool>(b))),
            _ => throw new ArgumentOutOfRangeException(nameof(a)),
        };
    }

    private static T[] WhereOf<T>(BroadcastPlan plan, bool[] cond, T[] a, T[] b)
    {
        int rowLength = plan.RowLength;
        var result = NewArray<T>(plan.Rows * rowLength);
        long cStep = plan.IsBroadcastInRow(0) ? 0 : 1, aStep = plan.IsBroadcastInRow(1) ? 0 : 1, bStep = plan.IsBroadcastInRow(2) ? 0 : 1;
        ParallelRange(plan.Rows, rowLength, (first, end) =>
        {
            for (long row = first; row < end; row++)
            {
                long ci = plan.RowStart(0, row), ai = plan.RowStart(1, row), bi = plan.RowStart(2, row), o = row * rowLength;
                for (int i = 0; i < rowLength; i++, ci += cStep, ai += aStep, bi += bStep)
                    result[o + i] = cond[ci] ? a[ai] : b[bi];
            }
        });
        return result;
    }
}
