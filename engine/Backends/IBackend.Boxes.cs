namespace ScratchDetect.Engine.Backends;

public partial interface IBackend
{
    // ---- boxes --------------------------------------------------------------------------------
    // Boxes are [count, 4] storages of (x1, y1, x2, y2) in continuous coordinates: the width of a
    // box is x2 - x1, with no +1.

    /// <summary>The [n, m] matrix of intersection over union between every box of <paramref name="a"/> ([n, 4]) and every box of <paramref name="b"/> ([m, 4]); 0/0 = NaN for two empty boxes, as torchvision.</summary>
    Storage BoxIou(Storage a, int n, Storage b, int m);

    /// <summary>
    /// Greedy non-maximum suppression as torchvision's nms: visiting boxes by decreasing score
    /// (ties: lower index first), keeps a box unless an already kept box overlaps it with
    /// IoU &gt; <paramref name="iouThreshold"/>. With <paramref name="categories"/> (int64
    /// [count]), only boxes of the same category suppress each other, as torchvision's per-class
    /// batched_nms; each category's boxes are then visited on their own, so the work is the sum
    /// of the categories' squares, not the square of the total. Returns the kept indices (int64)
    /// in visiting order.
    /// </summary>
    Storage Nms(Storage boxes, Storage scores, Storage? categories, int count, double iouThreshold);
}
