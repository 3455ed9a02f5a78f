namespace ScratchDetect.Engine;

/// <summary>Shape arithmetic shared by every op: element counts, broadcasting, axis normalisation, formatting.</summary>
public static class Shapes
{
    /// <summary>Number of elements of a tensor of this shape (1 for a scalar).</summary>
    public static long Numel(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    /// <summary>"[2, 3, 4]", the way error messages show shapes.</summary>
    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The NumPy broadcast of two shapes, or an error naming the op and both shapes.</summary>
    public static int[] Broadcast(string op, IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int rank = Math.Max(a.Count, b.Count);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Count ? 1 : a[i - (rank - a.Count)];
            int db = i < rank - b.Count ? 1 : b[i - (rank - b.Count)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (axis {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1, or throws naming the op.</summary>
    public static int NormalizeAxis(string op, int axis, int rank)
    {
        int normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for a tensor of rank {rank}");
        return normalized;
    }

    /// <summary>Splits a shape around <paramref name="axis"/> into (outer, size, inner) for the axis-wise backend kernels.</summary>
    public static (int Outer, int Size, int Inner) AroundAxis(IReadOnlyList<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Count; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }
}
