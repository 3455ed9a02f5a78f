namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// Walks several broadcast operands in lock-step with their output. Axes of size 1 are dropped and
/// neighbouring axes that are contiguous in every operand are merged, so a typical case such as a
/// per-channel bias added to N x C x H x W becomes N*C rows of H*W elements in which the bias is a
/// single repeated value. Every operand's innermost stride is then 0 (broadcast) or 1 (contiguous),
/// which is what the vectorised row kernels handle.
/// </summary>
internal sealed class BroadcastPlan
{
    /// <summary>Lengths of the merged output axes; the last one is the row length.</summary>
    public readonly int[] Shape;

    /// <summary>Per operand, the element stride along each merged axis (0 where broadcast).</summary>
    public readonly long[][] Strides;

    public BroadcastPlan(int[] outShape, params int[][] operandShapes)
    {
        int rank = outShape.Length;
        var strides = new long[operandShapes.Length][];
        for (int o = 0; o < operandShapes.Length; o++)
        {
            var shape = operandShapes[o];
            strides[o] = new long[rank];
            long stride = 1;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                int outAxis = rank - shape.Length + d;
                strides[o][outAxis] = shape[d] == 1 ? 0 : stride;
                stride *= shape[d];
            }
        }

        var keptShape = new List<int>();
        var keptStrides = new List<long[]>();
        for (int d = 0; d < rank; d++)
        {
            if (outShape[d] == 1) continue;
            var axisStrides = strides.Select(s => s[d]).ToArray();
            int last = keptShape.Count - 1;
            bool mergeable = last >= 0 && axisStrides.Select((s, o) => keptStrides[last][o] == s * outShape[d]).All(x => x);
            if (mergeable)
            {
                keptShape[last] *= outShape[d];
                keptStrides[last] = axisStrides;
            }
            else
            {
                keptShape.Add(outShape[d]);
                keptStrides.Add(axisStrides);
            }
        }
        if (keptShape.Count == 0)
        {
            keptShape.Add(1);
            keptStrides.Add(new long[operandShapes.Length]);
        }

        Shape = keptShape.ToArray();
        Strides = Enumerable.Range(0, operandShapes.Length).Select(o => keptStrides.Select(s => s[o]).ToArray()).ToArray();
        RowLength = Shape[^1];
        Rows = Shape.Take(Shape.Length - 1).Aggregate(1L, (p, n) => p * n);
    }

    /// <summary>Elements per row (the merged innermost axis).</summary>
    public int RowLength { get; }

    /// <summary>Number of rows.</summary>
    public long Rows { get; }

    /// <summary>True when operand <paramref name="operand"/> repeats one value along each row.</summary>
    public bool IsBroadcastInRow(int operand) => Strides[operand][^1] == 0;

    /// <summary>The starting element of row <paramref name="row"/> in operand <paramref name="operand"/>.</summary>
    public long RowStart(int operand, long row)
    {
        long offset = 0;
        var strides = Strides[operand];
        for (int d = Shape.Length - 2; d >= 0; d--)
        {
            long index = row % Shape[d];
            row /= Shape[d];
            offset += index * strides[d];
        }
        return offset;
    }
}
