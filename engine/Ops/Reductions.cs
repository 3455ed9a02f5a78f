using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// Reductions over axes. Sums and value max/min over any set of axes are one backend pass
// (IBackend.ReduceAxes); max/min along one axis with their indices are an index reduction plus a gather.
public sealed partial class Tensor
{
    private int[] NormalizeAxes(string op, int[] axes) =>
        axes.Select(a => Shapes.NormalizeAxis(op, a, Rank)).Distinct().OrderBy(a => a).ToArray();

    private static int[] ReducedShape(int[] shape, int[] axes, bool keepDim) => keepDim
        ? shape.Select((n, d) => axes.Contains(d) ? 1 : n).ToArray()
        : shape.Where((_, d) => !axes.Contains(d)).ToArray();

    /// <summary>Sum of all elements, as a 0-dimensional tensor.</summary>
    public Tensor Sum() => Sum(Enumerable.Range(0, Rank).ToArray());

    /// <summary>Sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Sum([axis], keepDim);

    /// <summary>Sum over several axes, in one backend pass.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        var reduced = NormalizeAxes("sum", axes);
        var inputShape = shape;
        var keptShape = ReducedShape(shape, reduced, keepDim: true);
        var sum = reduced.Length == 0 ? Backend.Cast(Storage, DType) : Backend.ReduceAxes(ReduceOp.Sum, Storage, shape, reduced);
        var y = new Tensor(sum, ReducedShape(shape, reduced, keepDim));
        // d(sum)/dx = 1: the gradient is the output gradient repeated over the reduced axes.
        return Record("sum", y, [this], saves: [], g => [g.Reshape(keptShape).Expand(inputShape)]);
    }

    /// <summary>Mean of all elements.</summary>
    public Tensor Mean() => Sum() / Numel;

    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);

    /// <summary>Mean over several axes.</summary>
    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        long count = NormalizeAxes("mean", axes).Aggregate(1L, (p, a) => p * shape[a]);
        return Sum(axes, keepDim) / count;
    }

    /// <summary>Largest value along an axis and its index (the first on ties); the gradient goes to that index, as torch.max(dim).</summary>
    public (Tensor Values, Tensor Indices) Max(int axis, bool keepDim = false) => Extreme(ReduceOp.ArgMax, "max", axis, keepDim);

    /// <summary>Smallest value along an axis and its index (the first on ties); the gradient goes to that index, as torch.min(dim).</summary>
    public (Tensor Values, Tensor Indices) Min(int axis, bool keepDim = false) => Extreme(ReduceOp.ArgMin, "min", axis, keepDim);

    /// <summary>Largest element (NaN if any is NaN); as torch.max(), ties share the gradient evenly.</summary>
    public Tensor Max() => ValueExtreme(ReduceOp.Max, "max", Enumerable.Range(0, Rank).ToArray(), keepDim: false);

    /// <summary>Smallest element (NaN if any is NaN); as torch.min(), ties share the gradient evenly.</summary>
    public Tensor Min() => ValueExtreme(ReduceOp.Min, "min", Enumerable.Range(0, Rank).ToArray(), keepDim: false);

    /// <summary>Largest value over one axis, without its index (torch.amax); see <see cref="Amax(int[], bool)"/>.</summary>
    public Tensor Amax(int axis, bool keepDim = false) => Amax([axis], keepDim);

    /// <summary>
    /// Largest value over several axes (torch.amax), NaN-propagating, in one backend pass. Where several
    /// elements equal the maximum, they share its gradient evenly, as torch.amax does; use
    /// <see cref="Max(int, bool)"/> for the index and a gradient routed to that index alone.
    /// </summary>
    public Tensor Amax(int[] axes, bool keepDim = false) => ValueExtreme(ReduceOp.Max, "amax", axes, keepDim);

    /// <summary>Smallest value over one axis, without its index (torch.amin); see <see cref="Amin(int[], bool)"/>.</summary>
    public Tensor Amin(int axis, bool keepDim = false) => Amin([axis], keepDim);

    /// <summary>Smallest value over several axes (torch.amin), NaN-propagating, in one backend pass; ties share the gradient evenly.</summary>
    public Tensor Amin(int[] axes, bool keepDim = false) => ValueExtreme(ReduceOp.Min, "amin", axes, keepDim);

    /// <summary>Index of the largest value along an axis (the first on ties, a NaN before any number).</summary>
    public Tensor Argmax(int axis, bool keepDim = false) => ArgExtreme(ReduceOp.ArgMax, "argmax", axis, keepDim);

    /// <summary>Index of the smallest value along an axis (the first on ties, a NaN before any number).</summary>
    public Tensor Argmin(int axis, bool keepDim = false) => ArgExtreme(ReduceOp.ArgMin, "argmin", axis, keepDim);

    private Tensor ArgExtreme(ReduceOp argOp, string op, int axis, bool keepDim)
    {
        int a = Shapes.NormalizeAxis(op, axis, Rank);
        if (shape[a] == 0) throw new ArgumentException($"{op}: axis {axis} of {Shapes.Format(shape)} is empty");
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        return new Tensor(Backend.Reduce(argOp, Storage, outer, size, inner), ReducedShape(shape, [a], keepDim));
    }

    private Tensor ValueExtreme(ReduceOp kind, string op, int[] axes, bool keepDim)
    {
        var reduced = NormalizeAxes(op, axes);
        if (reduced.FirstOrDefault(a => shape[a] == 0, -1) is int empty and >= 0)
            throw new ArgumentException($"{op}: axis {empty} of {Shapes.Format(shape)} is empty, and an empty axis has no {(kind == ReduceOp.Max ? "maximum" : "minimum")}");
        var keptShape = ReducedShape(shape, reduced, keepDim: true);
        var y = new Tensor(Backend.ReduceAxes(kind, Storage, shape, reduced), ReducedShape(shape, reduced, keepDim));
        var input = this;
        return Record(op, y, [this], saves: [input, y], g =>
        {
            // torch's evenly_distribute_backward: the elements equal to the result share its gradient
            // (a NaN result: the NaN elements). The ops are small next to the forward's and run only in backward.
            // (Reshapes share their source's storage, and may be the source itself: they are not disposed here.)
            var extreme = y.Reshape(keptShape);
            using var nanResult = extreme.Ne(extreme);
            using var nanInput = input.Ne(input);
            using var nanWinners = nanInput.And(nanResult);
            using var equal = input.Eq(extreme);
            using var winners = equal.Or(nanWinners);
            using var mask = winners.To(input.DType);
            using var count = mask.Sum(reduced, keepDim: true);
            using var share = g.Reshape(keptShape) / count;
            return [mask * share];
        });
    }

    private (Tensor Values, Tensor Indices) Extreme(ReduceOp argOp, string op, int axis, bool keepDim)
    {
        int a = Shapes.NormalizeAxis(op, axis, Rank);
        if (shape[a] == 0) throw new ArgumentException($"{op}: axis {axis} of {Shapes.Format(shape)} is empty");
        var (outer, size, inner) = Shapes.AroundAxis(shape, a);
        var keptShape = ReducedShape(shape, [a], keepDim: true);
        var indices = new Tensor(Backend.Reduce(argOp, Storage, outer, size, inner), keptShape);
        // Values are a gather at the indices, so their gradient is gather's: scattered back to the winners.
        var values = Gather(a, indices);
        var outShape = ReducedShape(shape, [a], keepDim);
        return (values.Reshape(outShape), indices.Reshape(outShape));
    }
}
