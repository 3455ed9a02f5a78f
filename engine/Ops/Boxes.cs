namespace ScratchDetect.Engine;

// Box utilities as torchvision.ops.boxes, for [K, 4] tensors of (x1, y1, x2, y2) in continuous
// coordinates (width = x2 - x1, no +1). IoU and NMS are backend kernels (a GPU backend runs them
// on the device); NMS results are indices, never differentiable. Area and clipping are tensor ops.
public sealed partial class Tensor
{
    private static void CheckBoxes(string op, Tensor boxes, string name = "boxes")
    {
        if (!boxes.DType.IsFloatingPoint() || boxes.Rank != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"{op}: {name} must be a floating-point [K, 4] tensor, not {boxes.DType.Name()} {Shapes.Format(boxes.shape)}");
    }

    /// <summary>(x2 - x1) · (y2 - y1) of each box of a [K, 4] tensor, as torchvision's box_area.</summary>
    public static Tensor BoxArea(Tensor boxes)
    {
        CheckBoxes("box_area", boxes);
        var corners = boxes.Reshape(-1, 2, 2); // [K, (min, max), (x, y)]
        var size = corners.Narrow(1, 1, 1) - corners.Narrow(1, 0, 1);
        return (size.Narrow(2, 0, 1) * size.Narrow(2, 1, 1)).Reshape(-1);
    }

    /// <summary>
    /// The [N, M] intersection-over-union matrix of two box sets, as torchvision's box_iou. Two
    /// empty boxes give 0/0 = NaN, as there. Not differentiable.
    /// </summary>
    public static Tensor BoxIou(Tensor boxes1, Tensor boxes2)
    {
        CheckBoxes("box_iou", boxes1, "boxes1");
        CheckBoxes("box_iou", boxes2, "boxes2");
        CheckCompatible("box_iou", boxes1, boxes2);
        int n = boxes1.shape[0], m = boxes2.shape[0];
        return new Tensor(boxes1.Backend.BoxIou(boxes1.Storage, n, boxes2.Storage, m), [n, m]);
    }

    /// <summary>
    /// Non-maximum suppression, as torchvision.ops.nms: returns the int64 indices of the kept boxes,
    /// by decreasing score. A box is dropped when a higher-scoring kept box overlaps it with
    /// IoU &gt; <paramref name="iouThreshold"/>. Equal scores are visited lower index first (a
    /// stable sort); torch.sort does not promise that order, though torchvision 0.14's CPU nms
    /// produced it in our tie test (see RoiParityTests).
    /// </summary>
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        CheckBoxes("nms", boxes);
        CheckScores("nms", boxes, scores);
        return KeptByNms(boxes, scores, null, iouThreshold);
    }

    private static void CheckScores(string op, Tensor boxes, Tensor scores)
    {
        CheckCompatible(op, boxes, scores);
        if (scores.Rank != 1 || scores.shape[0] != boxes.shape[0])
            throw new ArgumentException($"{op}: scores must be [{boxes.shape[0]}] for boxes {Shapes.Format(boxes.shape)}, not {Shapes.Format(scores.shape)}");
    }

    /// <summary>The backend's NMS (per category when <paramref name="categories"/> is given) as an int64 tensor of kept indices.</summary>
    private static Tensor KeptByNms(Tensor boxes, Tensor scores, Tensor? categories, double iouThreshold)
    {
        var kept = boxes.Backend.Nms(boxes.Storage, scores.Storage, categories?.Storage, boxes.shape[0], iouThreshold);
        return new Tensor(kept, [(int)kept.Length]);
    }

    /// <summary>
    /// NMS applied independently per category <paramref name="idxs"/> (int64 [K]), as
    /// torchvision.ops.batched_nms, with its two ways: up to <see cref="CoordinateTrickMaxBoxes"/>
    /// boxes, every box is shifted by idxs · (max coordinate + 1), so boxes of different
    /// categories cannot overlap, and one NMS runs over all of them; above that, each category's
    /// boxes are suppressed on their own (torchvision's _batched_nms_vanilla), which costs the sum
    /// of the categories' squares instead of the square of the total (SSD300 with a weak model
    /// sends 90 classes x 400 boxes here). The two agree except where the shift's float rounding
    /// moves an IoU across the threshold. Returns the kept indices by decreasing score.
    /// </summary>
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold)
    {
        CheckBoxes("batched_nms", boxes);
        if (idxs.DType != DType.Int64 || idxs.Rank != 1 || idxs.shape[0] != boxes.shape[0])
            throw new ArgumentException($"batched_nms: idxs must be int64 [{boxes.shape[0]}] for boxes {Shapes.Format(boxes.shape)}, not {idxs.DType.Name()} {Shapes.Format(idxs.shape)}");
        CheckSameDevice("batched_nms", ("boxes", boxes), ("scores", scores), ("idxs", idxs));
        CheckScores("batched_nms", boxes, scores);
        if (boxes.shape[0] == 0) return Zeros([0], DType.Int64, boxes.Device);
        if (boxes.shape[0] > CoordinateTrickMaxBoxes) return KeptByNms(boxes, scores, idxs, iouThreshold);
        var boxesDetached = boxes.Detach();
        var offsets = idxs.To(boxes.DType) * (boxesDetached.Max() + 1);
        return Nms(boxesDetached + offsets.Unsqueeze(1), scores.Detach(), iouThreshold);
    }

    /// <summary>
    /// The most boxes <see cref="BatchedNms"/> handles with the coordinate shift: torchvision 0.14
    /// switches to the per-category loop when boxes.numel() exceeds 4000 on the CPU.
    /// </summary>
    public const int CoordinateTrickMaxBoxes = 1000;

    /// <summary>Clamps x coordinates into [0, width] and y into [0, height], as torchvision's clip_boxes_to_image; works on [..., 4] and is differentiable like clamp.</summary>
    public static Tensor ClipBoxesToImage(Tensor boxes, int height, int width)
    {
        if (boxes.Rank == 0 || boxes.shape[^1] != 4)
            throw new ArgumentException($"clip_boxes_to_image: boxes must be [..., 4], not {Shapes.Format(boxes.shape)}");
        var points = boxes.Reshape([.. boxes.shape[..^1], 2, 2]); // [..., (min, max), (x, y)]
        var x = points.Narrow(-1, 0, 1).Clamp(0, width);
        var y = points.Narrow(-1, 1, 1).Clamp(0, height);
        return Cat([x, y], -1).Reshape(boxes.ShapeCopy());
    }

    /// <summary>The int64 indices of the boxes whose width and height are both at least <paramref name="minSize"/>, as torchvision's remove_small_boxes.</summary>
    public static Tensor RemoveSmallBoxes(Tensor boxes, double minSize)
    {
        CheckBoxes("remove_small_boxes", boxes);
        var corners = boxes.Detach().Reshape(-1, 2, 2);
        var size = (corners.Narrow(1, 1, 1) - corners.Narrow(1, 0, 1)).Reshape(-1, 2);
        var large = size.Ge(minSize);
        return large.Narrow(1, 0, 1).And(large.Narrow(1, 1, 1)).Reshape(-1).Nonzero().Reshape(-1);
    }
}
