using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// Encodes boxes as offsets from reference boxes and back, as torchvision 0.14's
/// <c>_utils.BoxCoder</c>: for a reference box with centre (cx, cy) and size (w, h) and a target
/// box (cx', cy', w', h'), the code is (wx·(cx'-cx)/w, wy·(cy'-cy)/h, ww·log(w'/w), wh·log(h'/h)).
/// The RPN uses weights (1, 1, 1, 1); the RoI heads and SSD (10, 10, 5, 5). Decoding clamps the
/// size codes at <see cref="BboxXformClip"/> = log(1000/16) so exp cannot overflow. Operations are
/// written in torchvision's order so float32 rounding matches.
/// </summary>
public sealed class BoxCoder(double wx, double wy, double ww, double wh, double bboxXformClip = BoxCoder.DefaultXformClip)
{
    /// <summary>log(1000 / 16): no box grows more than 1000/16 times its reference in one step.</summary>
    public const double DefaultXformClip = 4.135166556742356;

    /// <summary>The weights (wx, wy, ww, wh) that scale the four codes.</summary>
    public (double X, double Y, double W, double H) Weights { get; } = (wx, wy, ww, wh);

    /// <summary>The largest size code accepted by <see cref="Decode"/>.</summary>
    public double BboxXformClip { get; } = bboxXformClip;

    /// <summary>
    /// The codes [K, 4] that turn <paramref name="references"/> [K, 4] into <paramref name="targets"/>
    /// [K, 4] (torchvision's encode_single(reference_boxes=targets, proposals=references)).
    /// </summary>
    public Tensor Encode(Tensor targets, Tensor references)
    {
        var (refX, refY, refW, refH) = CentreSize(references);
        var (gtX, gtY, gtW, gtH) = CentreSize(targets);
        var dx = Weights.X * (gtX - refX) / refW;
        var dy = Weights.Y * (gtY - refY) / refH;
        var dw = Weights.W * (gtW / refW).Log();
        var dh = Weights.H * (gtH / refH).Log();
        return Tensor.Cat([dx, dy, dw, dh], 1);
    }

    /// <summary>
    /// Applies codes [K, 4·C] (C boxes per reference, e.g. one per class) to
    /// <paramref name="references"/> [K, 4]: the boxes [K, C, 4].
    /// </summary>
    public Tensor Decode(Tensor codes, Tensor references)
    {
        // C from the codes' width rather than inferred (-1), which is ambiguous when K is 0.
        var perBox = codes.Reshape(references.Size(0), codes.Size(1) / 4, 4); // [K, C, (dx, dy, dw, dh)]
        var (ctrX, ctrY, widths, heights) = CentreSize(references);
        var dx = perBox.Narrow(2, 0, 1) / Weights.X;
        var dy = perBox.Narrow(2, 1, 1) / Weights.Y;
        var dw = (perBox.Narrow(2, 2, 1) / Weights.W).Clamp(max: BboxXformClip);
        var dh = (perBox.Narrow(2, 3, 1) / Weights.H).Clamp(max: BboxXformClip);
        // [K, 1] reference columns broadcast against [K, C, 1] codes once given a middle axis.
        var predCtrX = dx * widths.Unsqueeze(1) + ctrX.Unsqueeze(1);
        var predCtrY = dy * heights.Unsqueeze(1) + ctrY.Unsqueeze(1);
        var halfW = 0.5 * (dw.Exp() * widths.Unsqueeze(1));
        var halfH = 0.5 * (dh.Exp() * heights.Unsqueeze(1));
        return Tensor.Cat([predCtrX - halfW, predCtrY - halfH, predCtrX + halfW, predCtrY + halfH], 2);
    }

    /// <summary>Centre x, centre y, width and height of [K, 4] boxes, each [K, 1].</summary>
    private static (Tensor X, Tensor Y, Tensor W, Tensor H) CentreSize(Tensor boxes)
    {
        var x1 = boxes.Narrow(1, 0, 1);
        var y1 = boxes.Narrow(1, 1, 1);
        var widths = boxes.Narrow(1, 2, 1) - x1;
        var heights = boxes.Narrow(1, 3, 1) - y1;
        return (x1 + 0.5 * widths, y1 + 0.5 * heights, widths, heights);
    }
}
