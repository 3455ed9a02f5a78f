namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>A kernel that works on any element type: the dtype switch happens once, in <see cref="CpuBackend.ApplyToAnyType"/>.</summary>
internal interface IArrayKernel
{
    Array Run<T>(T[] x) where T : struct;
}

public sealed partial class CpuBackend
{
    internal static Storage ApplyToAnyType<TKernel>(Storage x, TKernel kernel) where TKernel : IArrayKernel => x.DType switch
    {
        DType.Float32 => new CpuStorage(kernel.Run(Data<float>(x)), DType.Float32),
        DType.Float64 => new CpuStorage(kernel.Run(Data<double>(x)), DType.Float64),
        DType.Int64 => new CpuStorage(kernel.Run(Data<long>(x)), DType.Int64),
        DType.Bool => new CpuStorage(kernel.Run(Data<bool>(x)), DType.Bool),
        _ => throw new ArgumentOutOfRangeException(nameof(x)),
    };

    internal static long[] ContiguousStrides(int[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }

    /// <inheritdoc />
    public Storage Permute(Storage x, int[] shape, int[] perm) => ApplyToAnyType(x, new PermuteKernel(shape, perm));

    private readonly record struct PermuteKernel(int[] Shape, int[] Perm) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            var shape = Shape;
            int rank = shape.Length;
            var inStrides = ContiguousStrides(shape);
            var outShape = Perm.Select(p => shape[p]).ToArray();
            // The input stride of one step along each output axis.
            var stepStrides = Perm.Select(p => inStrides[p]).ToArray();
            var result = NewArray<T>(x.LongLength);
            int rowLength = rank == 0 ? 1 : outShape[^1];
            long rowStride = rank == 0 ? 0 : stepStrides[^1];
            long rows = rowLength == 0 ? 0 : x.LongLength / rowLength;
            ParallelRange(rows, rowLength, (first, end) =>
            {
                for (long row = first; row < end; row++)
                {
                    long rest = row, source = 0;
                    for (int d = rank - 2; d >= 0; d--)
                    {
                        source += rest % outShape[d] * stepStrides[d];
                        rest /= outShape[d];
                    }
                    long target = row * rowLength;
                    for (int i = 0; i < rowLength; i++, source += rowStride)
                        result[target + i] = x[source];
                }
            });
            return result;
        }
    }

    /// <inheritdoc />
    public Storage Expand(Storage x, int[] xShape, int[] outShape) => ApplyToAnyType(x, new ExpandKernel(new BroadcastPlan(outShape, xShape)));

    private readonly record struct ExpandKernel(BroadcastPlan Plan) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            var plan = Plan;
            int rowLength = plan.RowLength;
            bool repeats = plan.IsBroadcastInRow(0);
            var result = NewArray<T>(plan.Rows * rowLength);
            ParallelRange(plan.Rows, rowLength, (first, end) =>
            {
                for (long row = first; row < end; row++)
                {
                    long source = plan.RowStart(0, row);
                    var target = result.AsSpan((int)(row * rowLength), rowLength);
                    if (repeats) target.Fill(x[source]);
                    else x.AsSpan((int)source, rowLength).CopyTo(target);
                }
            });
            return result;
        }
    }

    /// <inheritdoc />
    public Storage Slice(Storage x, int outer, int size, int inner, int start, int length) =>
        ApplyToAnyType(x, new SliceKernel(outer, size, inner, start, length));

    private readonly record struct SliceKernel(int Outer, int Size, int Inner, int Start, int Length) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            long block = (long)Length * Inner;
            var result = NewArray<T>(Outer * block);
            for (long o = 0; o < Outer; o++)
                Array.Copy(x, (o * Size + Start) * Inner, result, o * block, block);
            return result;
        }
    }

    /// <inheritdoc />
    public Storage Concat(IReadOnlyList<Storage> parts, int outer, int[] sizes, int inner)
    {
        var dtype = parts[0].DType;
        long total = (long)outer * sizes.Sum() * inner;
        var result = NewArrayOf(dtype, total);
        long offset = 0;
        for (int o = 0; o < outer; o++)
        {
            for (int p = 0; p < parts.Count; p++)
            {
                long block = (long)sizes[p] * inner;
                Array.Copy(((CpuStorage)parts[p]).Data, o * block, result, offset, block);
                offset += block;
            }
        }
        return new CpuStorage(result, dtype);
    }

    /// <summary>The int64 indices, checked against the axis length so a bad index names itself instead of corrupting memory.</summary>
    private static long[] CheckedIndex(Storage index, int size, string op)
    {
        var indices = Data<long>(index);
        foreach (var i in indices)
            if (i < 0 || i >= size)
                throw new IndexOutOfRangeException($"{op}: index {i} is out of bounds for an axis of size {size}");
        return indices;
    }

    /// <inheritdoc />
    public Storage IndexSelect(Storage x, int outer, int size, int inner, Storage index) =>
        ApplyToAnyType(x, new IndexSelectKernel(outer, size, inner, CheckedIndex(index, size, "index_select")));

    private readonly record struct IndexSelectKernel(int Outer, int Size, int Inner, long[] Index) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            var result = NewArray<T>((long)Outer * Index.Length * Inner);
            long target = 0;
            for (long o = 0; o < Outer; o++)
                foreach (long i in Index)
                {
                    Array.Copy(x, (o * Size + i) * Inner, result, target, Inner);
                    target += Inner;
                }
            return result;
        }
    }

    /// <inheritdoc />
    public Storage IndexAdd(Storage source, int outer, int size, int inner, Storage index)
    {
        var indices = CheckedIndex(index, size, "index_add");
        return source.DType switch
        {
            DType.Float32 => Wrap(IndexAddOf(Data<float>(source), outer, size, inner, indices)),
            DType.Float64 => Wrap(IndexAddOf(Data<double>(source), outer, size, inner, indices)),
            DType.Int64 => Wrap(IndexAddOf(Data<long>(source), outer, size, inner, indices)),
            _ => throw new ArgumentException($"index_add: not defined for {source.DType.Name()} tensors"),
        };
    }

    private static T[] IndexAddOf<T>(T[] source, int outer, int size, int inner, long[] index) where T : struct, System.Numerics.INumber<T>
    {
        var result = CpuBufferPool.RentZeroed<T>((long)outer * size * inner);
        for (long o = 0; o < outer; o++)
            for (int j = 0; j < index.Length; j++)
                AddInto<T>(result.AsSpan((int)((o * size + index[j]) * inner), inner), source.AsSpan((int)((o * index.Length + j) * inner), inner));
        return result;
    }

    /// <inheritdoc />
    public Storage IndexPut(Storage x, int outer, int size, int inner, Storage index, Storage source) =>
        ApplyToAnyType(x, new IndexPutKernel(outer, size, inner, CheckedIndex(index, size, "index_put"), ((CpuStorage)source).Data));

    private readonly record struct IndexPutKernel(int Outer, int Size, int Inner, long[] Index, Array Source) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            long length = (long)Outer * Size * Inner;
            var result = NewArray<T>(length);
            Array.Copy(x, result, length);
            // In index order, so that the last of repeated indices wins.
            for (long o = 0; o < Outer; o++)
                for (int j = 0; j < Index.Length; j++)
                    Array.Copy(Source, (o * Index.Length + j) * Inner, result, (o * Size + Index[j]) * Inner, Inner);
            return result;
        }
    }

    /// <summary>
    /// Maps each element of an index-shaped tensor to its position in a tensor of <paramref name="fullShape"/>
    /// with the <paramref name="dim"/> coordinate replaced by the index value. Shared by gather and scatter_add.
    /// </summary>
    private static void ForEachGatherPosition(int[] fullShape, int dim, long[] index, int[] indexShape, string op, Action<long, long> visit)
    {
        var fullStrides = ContiguousStrides(fullShape);
        int rank = indexShape.Length;
        for (long e = 0; e < index.LongLength; e++)
        {
            long rest = e, position = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                long coordinate = rest % indexShape[d];
                rest /= indexShape[d];
                if (d == dim)
                {
                    coordinate = index[e];
                    if (coordinate < 0 || coordinate >= fullShape[dim])
                        throw new IndexOutOfRangeException($"{op}: index {coordinate} is out of bounds for dimension {dim} of size {fullShape[dim]}");
                }
                position += coordinate * fullStrides[d];
            }
            visit(e, position);
        }
    }

    /// <inheritdoc />
    public Storage Gather(Storage x, int[] xShape, int dim, Storage index, int[] indexShape) =>
        ApplyToAnyType(x, new GatherKernel(xShape, dim, Data<long>(index), indexShape));

    private readonly record struct GatherKernel(int[] XShape, int Dim, long[] Index, int[] IndexShape) : IArrayKernel
    {
        public Array Run<T>(T[] x) where T : struct
        {
            var result = NewArray<T>(Index.LongLength);
            ForEachGatherPosition(XShape, Dim, Index, IndexShape, "gather", (e, position) => result[e] = x[position]);
            return result;
        }
    }

    /// <inheritdoc />
    public Storage ScatterAdd(Storage source, int[] indexShape, int dim, Storage index, int[] outShape) =>
        ScatterAdd(source, indexShape, dim, index, outShape, "scatter_add");

    /// <summary><see cref="ScatterAdd(Storage, int[], int, Storage, int[])"/> on behalf of <paramref name="op"/>, which its errors name.</summary>
    private static Storage ScatterAdd(Storage source, int[] indexShape, int dim, Storage index, int[] outShape, string op) => source.DType switch
    {
        DType.Float32 => Wrap(ScatterAddOf(Data<float>(source), indexShape, dim, Data<long>(index), outShape, op)),
        DType.Float64 => Wrap(ScatterAddOf(Data<double>(source), indexShape, dim, Data<long>(index), outShape, op)),
        DType.Int64 => Wrap(ScatterAddOf(Data<long>(source), indexShape, dim, Data<long>(index), outShape, op)),
        _ => throw new ArgumentException($"{op}: not defined for {source.DType.Name()} tensors"),
    };

    /// <summary>
    /// result[.., index[.., i, ..], ..] += source[.., i, ..] along <paramref name="dim"/>, adding in
    /// source order. When the index has the result's shape off <paramref name="dim"/> (a gather's
    /// backward, max-pooling's over [planes, outputs]), each slice before <paramref name="dim"/>
    /// writes only its own slice of the result, so the slices run in parallel.
    /// </summary>
    private static T[] ScatterAddOf<T>(T[] source, int[] indexShape, int dim, long[] index, int[] outShape, string op) where T : System.Numerics.INumber<T>
    {
        var result = CpuBufferPool.RentZeroed<T>(outShape.Aggregate(1L, (p, n) => p * n));
        if (!SameShapeOffAxis(indexShape, outShape, dim))
        {
            ForEachGatherPosition(outShape, dim, index, indexShape, op, (e, position) => result[position] += source[e]);
            return result;
        }
        long outer = indexShape[..dim].Aggregate(1L, (p, n) => p * n), inner = indexShape[(dim + 1)..].Aggregate(1L, (p, n) => p * n);
        int sourceSize = indexShape[dim], resultSize = outShape[dim];
        long badIndex = 0;
        int bad = 0;
        ParallelRange(outer, (sourceSize + resultSize) * inner, (first, end) =>
        {
            for (long slice = first; slice < end; slice++)
            {
                long from = slice * sourceSize * inner, to = slice * resultSize * inner;
                for (long row = from; row < from + sourceSize * inner; row += inner)
                    for (long k = 0; k < inner; k++)
                    {
                        long at = index[row + k];
                        if ((ulong)at >= (ulong)resultSize) { badIndex = at; Volatile.Write(ref bad, 1); return; }
                        result[to + at * inner + k] += source[row + k];
                    }
            }
        });
        if (Volatile.Read(ref bad) != 0)
            throw new IndexOutOfRangeException($"{op}: index {badIndex} is out of bounds for dimension {dim} of size {resultSize}");
        return result;
    }

    private static bool SameShapeOffAxis(int[] a, int[] b, int axis)
    {
        if (a.Length != b.Length) return false;
        for (int d = 0; d < a.Length; d++)
            if (d != axis && a[d] != b[d]) return false;
        return true;
    }

    /// <inheritdoc />
    public (Storage Positions, int Count) Nonzero(Storage mask, int[] shape)
    {
        if (mask.DType != DType.Bool) throw new ArgumentException($"nonzero: the mask must be bool, not {mask.DType.Name()}");
        var values = Data<bool>(mask);
        int count = 0;
        for (long e = 0; e < mask.Length; e++) if (values[e]) count++;
        var strides = ContiguousStrides(shape);
        var positions = NewArray<long>((long)count * shape.Length);
        long o = 0;
        for (long e = 0; e < mask.Length; e++)
        {
            if (!values[e]) continue;
            long rest = e;
            for (int d = 0; d < shape.Length; d++)
            {
                positions[o++] = rest / strides[d];
                rest %= strides[d];
            }
        }
        return (Wrap(positions), count);
    }

    /// <inheritdoc />
    public (Storage Values, Storage Indices) Sort(Storage x, int outer, int size, int inner, bool descending)
    {
        var order = x.DType switch
        {
            DType.Float32 => SortOrderByPackedKeys(Data<float>(x), outer, size, inner, descending),
            DType.Float64 => SortOrder(Data<double>(x), outer, size, inner, descending),
            DType.Int64 => SortOrder(Data<long>(x), outer, size, inner, descending),
            _ => throw new ArgumentException($"sort: not defined for {x.DType.Name()} tensors"),
        };
        var indexShape = new[] { outer, size, inner };
        var indices = Wrap(order);
        return (Gather(x, indexShape, 1, indices, indexShape), indices);
    }

    /// <summary>Stable sort positions along the axis; NaN sorts as the largest value, as in PyTorch.</summary>
    internal static long[] SortOrder<T>(T[] x, int outer, int size, int inner, bool descending) where T : System.Numerics.INumber<T>
    {
        var order = NewArray<long>((long)outer * size * inner);
        var keys = new T[size];
        var positions = new int[size];
        for (long o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long baseIndex = o * size * inner + i;
                for (int j = 0; j < size; j++)
                {
                    keys[j] = x[baseIndex + (long)j * inner];
                    positions[j] = j;
                }
                // A comparison sort with the position as tie-breaker is stable.
                Array.Sort(positions, (p, q) =>
                {
                    int c = CompareNanLargest(keys[p], keys[q]);
                    if (descending) c = -c;
                    return c != 0 ? c : p.CompareTo(q);
                });
                for (int j = 0; j < size; j++) order[baseIndex + (long)j * inner] = positions[j];
            }
        return order;
    }

    /// <summary>
    /// <see cref="SortOrder{T}"/> for float32 (the reference it is tested against), without a
    /// comparison delegate: each value becomes an order-preserving 32-bit key (its bits with the
    /// sign flipped for positives and all bits flipped for negatives; -0 as +0 and every NaN as
    /// one key above +inf, so that they tie as CompareTo ties them), inverted for a descending
    /// sort, and the key above the position forms one unique 64-bit number. Sorting those plain
    /// numbers gives the stable order at primitive-sort speed: the RPN's top-k over 160,000
    /// scores of an 800x1088 image took a comparison sort 70 ms.
    /// </summary>
    internal static long[] SortOrderByPackedKeys(float[] x, int outer, int size, int inner, bool descending)
    {
        var order = NewArray<long>((long)outer * size * inner);
        var packed = new ulong[size];
        for (long o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long baseIndex = o * size * inner + i;
                for (int j = 0; j < size; j++)
                {
                    uint key = OrderedKey(x[baseIndex + (long)j * inner]);
                    if (descending) key = ~key;
                    packed[j] = (ulong)key << 32 | (uint)j;
                }
                Array.Sort(packed);
                for (int j = 0; j < size; j++) order[baseIndex + (long)j * inner] = (uint)packed[j];
            }
        return order;
    }

    /// <summary>An unsigned key whose order is float32 order: -0 and +0 one key, every NaN one key above +inf.</summary>
    private static uint OrderedKey(float value)
    {
        if (float.IsNaN(value)) return uint.MaxValue;
        uint bits = BitConverter.SingleToUInt32Bits(value == 0f ? 0f : value);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    private static int CompareNanLargest<T>(T a, T b) where T : System.Numerics.INumber<T> =>
        T.IsNaN(a) ? (T.IsNaN(b) ? 0 : 1) : T.IsNaN(b) ? -1 : a.CompareTo(b);
}
