using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage BoxIou(Storage a, int n, Storage b, int m) => a.DType switch
    {
        DType.Float32 => Wrap(BoxIouOf(Data<float>(a), n, Data<float>(b), m)),
        DType.Float64 => Wrap(BoxIouOf(Data<double>(a), n, Data<double>(b), m)),
        _ => throw new ArgumentException($"box_iou: not defined for {a.DType.Name()} boxes"),
    };

    private static T[] BoxIouOf<T>(T[] a, int n, T[] b, int m) where T : struct, IFloatingPointIeee754<T>
    {
        var iou = NewArray<T>((long)n * m);
        ParallelRange(n, m * 8L, (first, end) =>
        {
            for (long i = first; i < end; i++)
                for (int j = 0; j < m; j++)
                    iou[i * m + j] = Iou(a, (int)i, Area(a, (int)i), b, j, Area(b, j));
        });
        return iou;
    }

    private static T Area<T>(T[] boxes, int i) where T : struct, IFloatingPointIeee754<T> =>
        (boxes[i * 4 + 2] - boxes[i * 4]) * (boxes[i * 4 + 3] - boxes[i * 4 + 1]);

    /// <summary>IoU of box i of <paramref name="a"/> and box j of <paramref name="b"/>, in torchvision's order of operations (area_i + area_j - intersection).</summary>
    private static T Iou<T>(T[] a, int i, T areaA, T[] b, int j, T areaB) where T : struct, IFloatingPointIeee754<T>
    {
        T width = T.Max(T.Zero, T.Min(a[i * 4 + 2], b[j * 4 + 2]) - T.Max(a[i * 4], b[j * 4]));
        T height = T.Max(T.Zero, T.Min(a[i * 4 + 3], b[j * 4 + 3]) - T.Max(a[i * 4 + 1], b[j * 4 + 1]));
        T intersection = width * height;
        return intersection / (areaA + areaB - intersection);
    }

    /// <inheritdoc />
    public Storage Nms(Storage boxes, Storage scores, Storage? categories, int count, double iouThreshold)
    {
        var categoryOf = categories is null ? null : Data<long>(categories);
        return boxes.DType switch
        {
            DType.Float32 => Wrap(NmsOf(Data<float>(boxes), Data<float>(scores), categoryOf, count, iouThreshold)),
            DType.Float64 => Wrap(NmsOf(Data<double>(boxes), Data<double>(scores), categoryOf, count, iouThreshold)),
            _ => throw new ArgumentException($"nms: not defined for {boxes.DType.Name()} boxes"),
        };
    }

    private static long[] NmsOf<T>(T[] boxes, T[] scores, long[]? categories, int count, double iouThreshold) where T : struct, IFloatingPointIeee754<T>
    {
        var order = SortOrder(scores, 1, count, 1, descending: true);
        var areas = new T[count];
        for (int i = 0; i < count; i++) areas[i] = Area(boxes, i);
        var kept = new bool[count];
        // Each category's boxes in visiting order (one list of all of them without categories);
        // the categories are independent, so they run in parallel.
        var visits = categories is null
            ? [order]
            : order.GroupBy(i => categories[i]).Select(category => category.ToArray()).ToArray();
        ParallelRange(visits.Length, count, (first, end) =>
        {
            for (long v = first; v < end; v++) SuppressGreedily(boxes, areas, visits[v], iouThreshold, kept);
        });
        var keptInOrder = new List<long>();
        foreach (long i in order)
            if (kept[i]) keptInOrder.Add(i);
        return keptInOrder.ToArray();
    }

    /// <summary>Greedy NMS over the boxes <paramref name="visit"/> lists, in that order; marks the survivors in <paramref name="kept"/>.</summary>
    private static void SuppressGreedily<T>(T[] boxes, T[] areas, long[] visit, double iouThreshold, bool[] kept) where T : struct, IFloatingPointIeee754<T>
    {
        var suppressed = new bool[visit.Length];
        for (int rank = 0; rank < visit.Length; rank++)
        {
            if (suppressed[rank]) continue;
            int i = (int)visit[rank];
            kept[i] = true;
            for (int later = rank + 1; later < visit.Length; later++)
            {
                int j = (int)visit[later];
                // Strictly greater, compared in double as torchvision does; a NaN IoU (two empty boxes) suppresses nothing.
                if (!suppressed[later] && double.CreateChecked(Iou(boxes, i, areas[i], boxes, j, areas[j])) > iouThreshold)
                    suppressed[later] = true;
            }
        }
    }
}
