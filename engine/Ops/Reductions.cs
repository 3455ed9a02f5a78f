using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// Reductions over axes. The backend reduces one axis of an (outer, size, inner) view; several
// axes are reduced one after another.
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

    /// <summary>Sum over several axes.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        var reduced = NormalizeAxes("sum", axes);
        var storage = Storage;
        var current = ShapeCopy();
        foreach (var axis in reduced)
        {
            var (outer, size, inner) = Shapes.AroundAxis(current, axis);
            storage = Backend.Reduce(ReduceOp.Sum, storage, outer, size, inner);
            current[axis] = 1;
        }
        var inputShape = shape;
        var y = new Tensor(reduced.Length == 0 ? Backend.Cast(storage, DType) : storage, ReducedShape(shape, reduced, keepDim));
        // d(sum)/dx = 1: the gradient is the output gradient repeated over the reduced axes.
        return Record("sum", y, [this], g => [g.Reshape(current).Expand(inputShape)]);
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

    /// <summary>Largest value along an axis and its index (the first on ties); the gradient goes to that index.</summary>
    public (Tensor Values, Tensor Indices) Max(int axis, bool keepDim = false) => Extreme(ReduceOp.ArgMax, "max", axis, keepDim);

    /// <summary>Smallest value along an axis and its index (the first on ties); the gradient goes to that index.</summary>
    public (Tensor Values, Tensor Indices) Min(int axis, bool keepDim = false) => Extreme(ReduceOp.ArgMin, "min", axis, keepDim);

    /// <summary>Largest element.</summary>
    public Tensor Max() => Reshape(-1).Max(0).Values;

    /// <summary>Smallest element.</summary>
    public Tensor Min() => Reshape(-1).Min(0).Values;

    /// <summary>Index of the largest value along an axis.</summary>
    public Tensor Argmax(int axis, bool keepDim = false) => Max(axis, keepDim).Indices;

    /// <summary>Index of the smallest value along an axis.</summary>
    public Tensor Argmin(int axis, bool keepDim = false) => Min(axis, keepDim).Indices;

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
