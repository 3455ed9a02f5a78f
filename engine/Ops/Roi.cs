using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// RoI pooling, as torchvision.ops.roi_align and roi_pool. Both are backend primitives with their
// own backward kernels (scatter-adds into the feature map). No gradient flows into the RoIs, as
// in torchvision: detectors compute them from detached proposals.
public sealed partial class Tensor
{
    private static RoiGeometry CheckRoiOperands(string op, Tensor input, Tensor rois, int outputHeight, int outputWidth, double spatialScale)
    {
        if (!input.DType.IsFloatingPoint() || input.Rank != 4)
            throw new ArgumentException($"{op}: the input must be a floating-point [N, C, H, W] tensor, not {input.DType.Name()} {Shapes.Format(input.shape)}");
        if (rois.DType != input.DType || rois.Rank != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"{op}: RoIs must be {input.DType.Name()} [K, 5] (batch index, x1, y1, x2, y2), not {rois.DType.Name()} {Shapes.Format(rois.shape)}");
        if (input.Device != rois.Device)
            throw new ArgumentException($"{op}: input and RoIs are on different devices ({input.Device} and {rois.Device})");
        if (outputHeight <= 0 || outputWidth <= 0 || !(spatialScale > 0))
            throw new ArgumentOutOfRangeException(nameof(outputHeight), $"{op}: output size {outputHeight}x{outputWidth} and spatial scale {spatialScale} must be positive");
        return new RoiGeometry(input.shape[0], input.shape[1], input.shape[2], input.shape[3], outputHeight, outputWidth, spatialScale);
    }

    /// <summary>
    /// RoIAlign (Mask R-CNN), exactly as torchvision 0.14's roi_align: pools every RoI of
    /// <paramref name="rois"/> ([K, 5]: batch index, x1, y1, x2, y2 in image pixels) from the
    /// [N, C, H, W] <paramref name="input"/> into a [K, C, outputHeight, outputWidth] tensor. Each
    /// bin averages bilinear samples on a grid of <paramref name="samplingRatio"/>² points (when
    /// &lt;= 0: ceil(roi size / output size) per side, chosen per RoI). <paramref name="spatialScale"/>
    /// maps image pixels to map cells (1/stride). <paramref name="aligned"/> = false is the
    /// original (and torchvision detection models') behaviour: no half-pixel shift, RoIs at least
    /// one cell wide; true shifts by -0.5 so a box's corners land on cell centres correctly.
    /// </summary>
    public static Tensor RoiAlign(Tensor input, Tensor rois, int outputHeight, int outputWidth, double spatialScale = 1, int samplingRatio = -1, bool aligned = false)
    {
        var geometry = CheckRoiOperands("roi_align", input, rois, outputHeight, outputWidth, spatialScale);
        int count = rois.shape[0];
        var output = new Tensor(input.Backend.RoiAlign(input.Storage, rois.Storage, count, geometry, samplingRatio, aligned), [count, geometry.Channels, outputHeight, outputWidth]);
        return Record("roi_align", output, [input], saves: [rois], g =>
            [new Tensor(g.Backend.RoiAlignBackward(g.Storage, rois.Storage, count, geometry, samplingRatio, aligned), input.ShapeCopy())]);
    }

    /// <summary>RoIAlign with the RoIs given as one [K_i, 4] box tensor per image (image i's boxes pool from input[i]), as torchvision accepts them.</summary>
    public static Tensor RoiAlign(Tensor input, IReadOnlyList<Tensor> boxes, int outputHeight, int outputWidth, double spatialScale = 1, int samplingRatio = -1, bool aligned = false) =>
        RoiAlign(input, BoxesToRois(boxes), outputHeight, outputWidth, spatialScale, samplingRatio, aligned);

    /// <summary>
    /// Turns per-image [K_i, 4] box tensors into one [ΣK_i, 5] RoI tensor whose first column is the
    /// image index, as torchvision's convert_boxes_to_roi_format.
    /// </summary>
    public static Tensor BoxesToRois(IReadOnlyList<Tensor> boxes)
    {
        if (boxes.Count == 0) throw new ArgumentException("boxes_to_rois: no box tensors given");
        var rows = new List<Tensor>(boxes.Count);
        for (int image = 0; image < boxes.Count; image++)
        {
            var b = boxes[image];
            if (b.Rank != 2 || b.shape[1] != 4)
                throw new ArgumentException($"boxes_to_rois: the boxes of image {image} must be [K, 4], not {Shapes.Format(b.shape)}");
            rows.Add(Cat([b.FullLike(image).Narrow(1, 0, 1), b], 1));
        }
        return Cat(rows, 0);
    }

    /// <summary>
    /// RoIPool (Fast R-CNN), exactly as torchvision 0.14's roi_pool: RoI corners are scaled by
    /// <paramref name="spatialScale"/> and rounded to cells (inclusive), each of the
    /// outputHeight x outputWidth bins takes the maximum of its cells, and a bin with no cells is 0.
    /// The gradient goes to the cell that held the maximum.
    /// </summary>
    public static Tensor RoiPool(Tensor input, Tensor rois, int outputHeight, int outputWidth, double spatialScale = 1)
    {
        var geometry = CheckRoiOperands("roi_pool", input, rois, outputHeight, outputWidth, spatialScale);
        int count = rois.shape[0];
        var (values, argmaxes) = input.Backend.RoiPool(input.Storage, rois.Storage, count, geometry);
        int[] outShape = [count, geometry.Channels, outputHeight, outputWidth];
        var argmax = new Tensor(argmaxes, outShape);
        var output = Record("roi_pool", new Tensor(values, outShape), [input], saves: [argmax, rois], g =>
            [new Tensor(g.Backend.RoiPoolBackward(g.Storage, argmax.Storage, rois.Storage, count, geometry), input.ShapeCopy())]);
        argmax.Dispose(); // kept by autograd when the backward pass needs it
        return output;
    }
}
