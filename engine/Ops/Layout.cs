namespace ScratchDetect.Engine;

// Ops that move elements without doing arithmetic on them: reshape, permute, slicing,
// concatenation, indexing and sorting. Each gradient is the adjoint move.
public sealed partial class Tensor
{
    /// <summary>The same elements in a new shape (one axis may be -1 and is inferred). Shares the storage.</summary>
    public Tensor Reshape(params int[] newShape)
    {
        var resolved = (int[])newShape.Clone();
        int inferred = Array.IndexOf(resolved, -1);
        long known = resolved.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
        if (inferred >= 0)
        {
            if (Array.LastIndexOf(resolved, -1) != inferred || known == 0 || Numel % known != 0)
                throw new ArgumentException($"reshape: cannot reshape {Shapes.Format(shape)} ({Numel} elements) to {Shapes.Format(newShape)}");
            resolved[inferred] = (int)(Numel / known);
        }
        if (resolved.Any(d => d < 0) || Shapes.Numel(resolved) != Numel)
            throw new ArgumentException($"reshape: cannot reshape {Shapes.Format(shape)} ({Numel} elements) to {Shapes.Format(newShape)}");
        if (resolved.SequenceEqual(shape)) return this;
        var inputShape = shape;
        return Record("reshape", Sharing(Storage, resolved), [this], saves: [], g => [g.Reshape(inputShape)]);
    }

    /// <summary>Merges axes start..end (inclusive) into one, as torch.flatten.</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shapes.NormalizeAxis("flatten", startAxis, Rank), e = Shapes.NormalizeAxis("flatten", endAxis, Rank);
        if (s > e) throw new ArgumentException($"flatten: start axis {startAxis} comes after end axis {endAxis}");
        var merged = shape.Take(s).Append(shape.Skip(s).Take(e - s + 1).Aggregate(1, (p, d) => p * d)).Concat(shape.Skip(e + 1));
        return Reshape(merged.ToArray());
    }

    /// <summary>Inserts an axis of length 1 at <paramref name="axis"/>.</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = Shapes.NormalizeAxis("unsqueeze", axis, Rank + 1);
        var list = shape.ToList();
        list.Insert(a, 1);
        return Reshape(list.ToArray());
    }

    /// <summary>Removes axis <paramref name="axis"/>, which must have length 1.</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Shapes.NormalizeAxis("squeeze", axis, Rank);
        if (shape[a] != 1) throw new ArgumentException($"squeeze: axis {axis} of {Shapes.Format(shape)} has length {shape[a]}, not 1");
        return Reshape(shape.Where((_, d) => d != a).ToArray());
    }

    /// <summary>Reorders the axes: output axis i is input axis <paramref name="order"/>[i].</summary>
    public Tensor Permute(params int[] order)
    {
        var perm = order.Select(a => Shapes.NormalizeAxis("permute", a, Rank)).ToArray();
        if (perm.Length != Rank || perm.Distinct().Count() != Rank)
            throw new ArgumentException($"permute: {Shapes.Format(order)} is not a permutation of the {Rank} axes of {Shapes.Format(shape)}");
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[perm[i]] = i;
        var y = new Tensor(Backend.Permute(Storage, shape, perm), perm.Select(p => shape[p]).ToArray());
        return Record("permute", y, [this], saves: [], g => [g.Permute(inverse)]);
    }

    /// <summary>Swaps two axes.</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var perm = Enumerable.Range(0, Rank).ToArray();
        int a = Shapes.NormalizeAxis("transpose", axis0, Rank), b = Shapes.NormalizeAxis("transpose", axis1, Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Repeats axes of length 1 (and prepends axes) to reach <paramref name="target"/>, as torch.expand followed by a copy.</summary>
    public Tensor Expand(params int[] target)
    {
        var outShape = Shapes.Broadcast("expand", shape, target);
        if (!outShape.SequenceEqual(target))
            throw new ArgumentException($"expand: {Shapes.Format(shape)} cannot be expanded to {Shapes.Format(target)}");
        if (outShape.SequenceEqual(shape)) return this;
        // The gradient is the output gradient summed over the repeats, which Record does for every op.
        return Record("expand", new Tensor(Backend.Expand(Storage, shape, outShape), outShape), [this], saves: [], g => [g]);
    }

    /// <summary>Elements start..start+length-1 along <paramref name="axis"/>.</summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = Shapes.NormalizeAxis("narrow", axis, Rank);
        if (start < 0 || length < 0 || start + length > shape[a])
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow: [{start}, {start + length}) is outside axis {axis} of {Shapes.Format(shape)}");
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var outShape = ShapeCopy();
        outShape[a] = length;
        var x = this;
        return Record("narrow", new Tensor(Backend.Slice(Storage, outer, size, inner, start, length), outShape), [x], saves: [], g =>
        {
            // The adjoint of a slice: the gradient placed between zeros.
            var before = ZerosWithAxis(g, a, start);
            var after = ZerosWithAxis(g, a, size - start - length);
            return [Cat([before, g, after], a)];
        });
    }

    private static Tensor ZerosWithAxis(Tensor like, int axis, int length)
    {
        var s = like.ShapeCopy();
        s[axis] = length;
        return new Tensor(like.Backend.Zeros(like.DType, Shapes.Numel(s)), s);
    }

    /// <summary>Splits into pieces of the given lengths along <paramref name="axis"/>.</summary>
    public Tensor[] Split(int[] lengths, int axis = 0)
    {
        int a = Shapes.NormalizeAxis("split", axis, Rank);
        if (lengths.Sum() != shape[a])
            throw new ArgumentException($"split: lengths {Shapes.Format(lengths)} do not add up to axis {axis} of {Shapes.Format(shape)}");
        var parts = new Tensor[lengths.Length];
        for (int i = 0, start = 0; i < lengths.Length; start += lengths[i], i++)
            parts[i] = Narrow(a, start, lengths[i]);
        return parts;
    }

    /// <summary>Joins tensors along an existing axis; all other axes must agree.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("cat: no tensors given");
        var first = tensors[0];
        int a = Shapes.NormalizeAxis("cat", axis, first.Rank);
        foreach (var t in tensors)
        {
            CheckCompatible("cat", first, t);
            if (t.Rank != first.Rank || Enumerable.Range(0, t.Rank).Any(d => d != a && t.shape[d] != first.shape[d]))
                throw new ArgumentException($"cat: shapes {string.Join(", ", tensors.Select(x => Shapes.Format(x.shape)))} differ outside axis {axis}");
        }
        var sizes = tensors.Select(t => t.shape[a]).ToArray();
        var (outer, _, inner) = Shapes.AroundAxis(first.shape, a);
        var outShape = first.ShapeCopy();
        outShape[a] = sizes.Sum();
        var y = new Tensor(first.Backend.Concat(tensors.Select(t => t.Storage).ToList(), outer, sizes, inner), outShape);
        return Record("cat", y, tensors.ToArray(), saves: [], g => g.Split(sizes, a));
    }

    /// <summary>Joins tensors of equal shape along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("stack: no tensors given");
        int a = Shapes.NormalizeAxis("stack", axis, tensors[0].Rank + 1);
        var views = tensors.Select(t => t.Unsqueeze(a)).ToList();
        var stacked = Cat(views, a);
        // The views would otherwise keep the inputs' storages referenced (and out of the pool) until collected.
        foreach (var view in views) view.Dispose();
        return stacked;
    }

    private void CheckIndex(string op, Tensor index)
    {
        CheckSameDevice(op, ("input", this), ("index", index));
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: indices must be int64, not {index.DType.Name()}");
    }

    /// <summary>Picks entries along <paramref name="axis"/> by a 1-D int64 index (repeats allowed).</summary>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        CheckIndex("index_select", index);
        if (index.Rank != 1) throw new ArgumentException($"index_select: the index must be 1-D, not {Shapes.Format(index.shape)}");
        int a = Shapes.NormalizeAxis("index_select", axis, Rank);
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var outShape = ShapeCopy();
        outShape[a] = index.shape[0];
        var inputShape = shape;
        var y = new Tensor(Backend.IndexSelect(Storage, outer, size, inner, index.Storage), outShape);
        return Record("index_select", y, [this], saves: [index], g => [new Tensor(g.Backend.IndexAdd(g.Storage, outer, size, inner, index.Storage), inputShape)]);
    }

    /// <summary>
    /// This tensor plus <paramref name="source"/>'s entries added at the positions
    /// <paramref name="index"/> (1-D int64) along <paramref name="axis"/>, repeats adding up, as
    /// torch.index_add (out of place). The adjoint of <see cref="IndexSelect"/>; differentiable in both.
    /// </summary>
    public Tensor IndexAdd(int axis, Tensor index, Tensor source)
    {
        CheckIndex("index_add", index);
        CheckCompatible("index_add", this, source);
        int a = Shapes.NormalizeAxis("index_add", axis, Rank);
        var expected = ShapeCopy();
        if (index.Rank != 1) throw new ArgumentException($"index_add: the index must be 1-D, not {Shapes.Format(index.shape)}");
        expected[a] = index.shape[0];
        if (!source.shape.SequenceEqual(expected))
            throw new ArgumentException($"index_add: source {Shapes.Format(source.shape)} must be {Shapes.Format(expected)} to add {index.shape[0]} entries along axis {axis} of {Shapes.Format(shape)}");
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var scattered = new Tensor(Backend.IndexAdd(source.Storage, outer, size, inner, index.Storage), ShapeCopy());
        var y = new Tensor(Backend.Binary(Backends.BinaryOp.Add, Storage, shape, scattered.Storage, shape, shape), ShapeCopy());
        return Record("index_add", y, [this, source], saves: [index], g => [g, source.requiresGrad ? g.IndexSelect(a, index) : null]);
    }

    /// <summary>
    /// This tensor with its entries at <paramref name="index"/> (1-D int64) along <paramref name="axis"/>
    /// replaced by <paramref name="source"/>'s, as torch's index_put_ (x[index] = source, out of place);
    /// where an index repeats, the last one wins, as torch on CPU. Not differentiable: it assigns
    /// labels and matches, which carry no gradient.
    /// </summary>
    public Tensor IndexPut(int axis, Tensor index, Tensor source)
    {
        CheckIndex("index_put", index);
        CheckCompatible("index_put", this, source);
        if (Autograd.GradMode.IsEnabled && (requiresGrad || source.requiresGrad))
            throw new ArgumentException("index_put: not differentiable; detach the tensor and the source (or run under no-grad)");
        if (index.Rank != 1) throw new ArgumentException($"index_put: the index must be 1-D, not {Shapes.Format(index.shape)}");
        int a = Shapes.NormalizeAxis("index_put", axis, Rank);
        var expected = ShapeCopy();
        expected[a] = index.shape[0];
        if (!source.shape.SequenceEqual(expected))
            throw new ArgumentException($"index_put: source {Shapes.Format(source.shape)} must be {Shapes.Format(expected)} to put {index.shape[0]} entries along axis {axis} of {Shapes.Format(shape)}");
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        return new Tensor(Backend.IndexPut(Storage, outer, size, inner, index.Storage, source.Storage), ShapeCopy());
    }

    /// <summary>out[i][j] = x[i][index[i][j]] along <paramref name="axis"/>, as torch.gather.</summary>
    public Tensor Gather(int axis, Tensor index)
    {
        CheckIndex("gather", index);
        int a = Shapes.NormalizeAxis("gather", axis, Rank);
        if (index.Rank != Rank || Enumerable.Range(0, Rank).Any(d => d != a && index.shape[d] > shape[d]))
            throw new ArgumentException($"gather: index {Shapes.Format(index.shape)} does not fit input {Shapes.Format(shape)} along axis {axis}");
        var inputShape = shape;
        var y = new Tensor(Backend.Gather(Storage, shape, a, index.Storage, index.shape), index.ShapeCopy());
        return Record("gather", y, [this], saves: [index], g => [new Tensor(g.Backend.ScatterAdd(g.Storage, index.shape, a, index.Storage, inputShape), inputShape)]);
    }

    /// <summary>Positions of the true (non-zero) elements as an int64 (count, rank) tensor, as torch.nonzero. Not differentiable.</summary>
    public Tensor Nonzero()
    {
        var mask = DType == DType.Bool ? this : Ne(0);
        var (positions, count) = Backend.Nonzero(mask.Storage, shape);
        return new Tensor(positions, [count, Rank]);
    }

    /// <summary>The elements where <paramref name="mask"/> (bool, same shape) is true, as a 1-D tensor; differentiable.</summary>
    public Tensor MaskedSelect(Tensor mask)
    {
        if (mask.DType != DType.Bool || !mask.shape.SequenceEqual(shape))
            throw new ArgumentException($"masked_select: the mask must be bool with shape {Shapes.Format(shape)}, not {mask.DType.Name()} {Shapes.Format(mask.shape)}");
        return Reshape(-1).IndexSelect(0, mask.Reshape(-1).Nonzero().Reshape(-1));
    }

    /// <summary>The rows (entries of axis 0) where a 1-D bool <paramref name="mask"/> is true, as x[mask] in PyTorch; differentiable.</summary>
    public Tensor SelectRows(Tensor mask)
    {
        if (mask.DType != DType.Bool || mask.Rank != 1 || Rank == 0 || mask.shape[0] != shape[0])
            throw new ArgumentException($"select_rows: the mask must be 1-D bool of length {(Rank == 0 ? 0 : shape[0])}, not {mask.DType.Name()} {Shapes.Format(mask.shape)}");
        return IndexSelect(0, mask.Nonzero().Reshape(-1));
    }

    /// <summary>Sorts along an axis, stably (NaN counts as largest); values are differentiable through the returned order.</summary>
    public (Tensor Values, Tensor Indices) Sort(int axis = -1, bool descending = false)
    {
        int a = Shapes.NormalizeAxis("sort", axis, Rank);
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var (sorted, order) = Backend.Sort(Storage, outer, size, inner, descending);
        sorted.Release(); // the values are gathered below, so that they carry the gradient
        var indices = new Tensor(order, ShapeCopy());
        return (Gather(a, indices), indices);
    }

    /// <summary>The k largest (or smallest) entries along an axis, sorted, with their indices; ties keep the earlier index first.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int axis = -1, bool largest = true)
    {
        int a = Shapes.NormalizeAxis("topk", axis, Rank);
        if (k < 0 || k > shape[a]) throw new ArgumentOutOfRangeException(nameof(k), $"topk: k={k} is outside 0..{shape[a]} for {Shapes.Format(shape)}");
        // One gather: the sort's order is cut to k before the values are picked.
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var (sorted, order) = Backend.Sort(Storage, outer, size, inner, largest);
        sorted.Release();
        var indices = new Tensor(order, ShapeCopy()).Then(all => all.Narrow(a, 0, k));
        return (Gather(a, indices), indices);
    }
}
