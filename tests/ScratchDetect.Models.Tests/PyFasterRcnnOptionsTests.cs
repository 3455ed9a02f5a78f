using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// The py-faster-rcnn options (off by default): cross-boundary anchors ignored when assigning RPN
/// targets (anchor_target_layer.py), the RPN's proposal min size (proposal_layer.py's
/// _filter_boxes) and the background IoU floor of RoI sampling (minibatch.py's BG_THRESH_LO).
/// </summary>
public class PyFasterRcnnOptionsTests
{
    // One 4 x 4 feature map over a 64 x 64 batch (stride 16) with one anchor per cell, size 32,
    // ratio 1: the anchor of cell (x, y) is [16x - 16, 16y - 16, 16x + 16, 16y + 16], row 4y + x.
    private static RegionProposalNetwork Rpn(RpnOptions options) =>
        new(new AnchorGenerator([[32]], [[1.0]]), 4, options, new Generator(0));

    private static readonly Tensor Anchors = new AnchorGenerator([[32]], [[1.0]]).Generate(64, 64, [(4, 4)]);

    private static ImageList Batch(int height, int width) => new(Tensor.Zeros([1, 3, 64, 64]), [(height, width)]);

    private static float[] RpnLabels(bool dropCrossBoundary, float[] gtBoxes, (int, int) imageSize)
    {
        int count = gtBoxes.Length / 4;
        var target = new DetectionTarget(Tensor.FromArray(gtBoxes, count, 4), Tensor.FromArray(Enumerable.Repeat(1L, count).ToArray(), count));
        var (labels, _) = Rpn(new RpnOptions { DropCrossBoundaryAnchors = dropCrossBoundary }).AssignTargets(Anchors, [target], Batch(imageSize.Item1, imageSize.Item2));
        return labels[0].ToArray<float>();
    }

    [Fact]
    public void CrossBoundaryAnchorsAreIgnoredAndAnchorsTouchingTheBorderAreInside()
    {
        // gt [32, 32, 64, 64] in a 64 x 64 image. Overlap per axis with [32, 64]: cell 0 and 1: 0,
        // cell 2 ([16, 48]): 16, cell 3 ([32, 64]): 32. IoU = o_x·o_y / (2048 - o_x·o_y):
        // (3, 3) 1 → positive; (2, 3) and (3, 2) 512 / 1536 = 0.33 → between (-1); (2, 2)
        // 256 / 1792 = 0.14 and the rest 0 → background.
        float[] torchvision =
        [
            0, 0, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, -1,
            0, 0, -1, 1,
        ];
        Assert.Equal(torchvision, RpnLabels(false, [32, 32, 64, 64], (64, 64)));
        // Dropping cross-boundary anchors: cells x = 0 or y = 0 start at -16 and are ignored.
        // Cells x = 3 end at 64, on the border of the 64-pixel image: inside (py-faster-rcnn keeps
        // x2 < width in its inclusive pixel coordinates, i.e. x2 ≤ width in continuous ones).
        float[] pyFasterRcnn =
        [
            -1, -1, -1, -1,
            -1, 0, 0, 0,
            -1, 0, 0, -1,
            -1, 0, -1, 1,
        ];
        Assert.Equal(pyFasterRcnn, RpnLabels(true, [32, 32, 64, 64], (64, 64)));
    }

    [Fact]
    public void GroundTruthKeepsItsBestInsideAnchorWhenItsBestAnchorCrossesTheBorder()
    {
        // A 56 x 56 image (padded to 64), gt [40, 40, 56, 56]. Its best anchor overall is (3, 3)
        // ([32, 64]², IoU 256 / 1024 = 0.25), a low-quality match: torchvision's only positive.
        float[] torchvision = [.. Enumerable.Repeat(0f, 15), 1];
        Assert.Equal(torchvision, RpnLabels(false, [40, 40, 56, 56], (56, 56)));
        // py-faster-rcnn matches only the anchors inside the image (x1, y1 ≥ 0 and x2, y2 ≤ 56:
        // cells 1 and 2 per axis), so the gt's best among them, (2, 2) ([16, 48]², IoU
        // 64 / 1216 = 0.053), is its positive; every other inside anchor overlaps it not at all.
        float[] pyFasterRcnn =
        [
            -1, -1, -1, -1,
            -1, 0, 0, -1,
            -1, 0, 1, -1,
            -1, -1, -1, -1,
        ];
        Assert.Equal(pyFasterRcnn, RpnLabels(true, [40, 40, 56, 56], (56, 56)));
    }

    [Fact]
    public void ImageWithoutBoxesHasOnlyBackgroundAnchors()
    {
        // torchvision's assign_targets_to_anchors: no gt → every anchor background (0); with
        // cross-boundary anchors dropped the outside ones (column 0 and row 0 here) are ignored.
        Assert.Equal(Enumerable.Repeat(0f, 16), RpnLabels(false, [], (64, 64)));
        float[] pyFasterRcnn =
        [
            -1, -1, -1, -1,
            -1, 0, 0, 0,
            -1, 0, 0, 0,
            -1, 0, 0, 0,
        ];
        Assert.Equal(pyFasterRcnn, RpnLabels(true, [], (64, 64)));
    }

    [Theory]
    // Zero features give zero logits and codes: the proposals are the 16 anchors clipped to the
    // 64 x 64 image. Those of column 0 or row 0 become 16 wide or high ([-16, 16] → [0, 16]),
    // all others are 32 x 32. remove_small_boxes keeps sides ≥ min size, so 16 keeps all 16 and
    // 16.5 keeps the 3 x 3 others. (No pair overlaps ≥ 0.7, so NMS keeps everything.)
    [InlineData(1e-3, 16)]
    [InlineData(16, 16)]
    [InlineData(16.5, 9)]
    public void RpnMinSizeDropsSmallProposals(double minSize, int expected)
    {
        var rpn = Rpn(new RpnOptions { MinSize = minSize }).Eval();
        var (proposals, _) = rpn.Forward(Batch(64, 64), [Tensor.Zeros([1, 4, 4, 4])], null, null);
        Assert.Equal(expected, proposals[0].Size(0));
        var p = proposals[0].ToArray<float>();
        for (int i = 0; i < expected; i++)
            Assert.True(p[4 * i + 2] - p[4 * i] >= minSize && p[4 * i + 3] - p[4 * i + 1] >= minSize, $"proposal {i} is smaller than {minSize}");
    }

    [Fact]
    public void RoiSamplingBackgroundFloorSkipsProposalsBelowIt()
    {
        // gt [0, 0, 10, 10] (area 100, label 2); proposals [0, 0, w, 10] have IoU w / 10:
        // 0.1, 0.05, 0.3, 0.6, and [20, 20, 30, 30] has 0. The gt itself is appended (IoU 1).
        var proposals = Tensor.FromArray(new float[] { 0, 0, 1, 10, 0, 0, 0.5f, 10, 0, 0, 3, 10, 0, 0, 6, 10, 20, 20, 30, 30 }, 5, 4);
        var target = new DetectionTarget(Tensor.FromArray(new float[] { 0, 0, 10, 10 }, 1, 4), Tensor.FromArray(new[] { 2L }, 1));
        (Tensor Proposals, Tensor Labels, Tensor Targets) Sample(double bgIouLow) =>
            new RoiHeads(1, 3, new RoiHeadsOptions { BgIouLow = bgIouLow, BatchSizePerImage = 1000 }, new Generator(0)).SelectTrainingSamples(proposals, target, new Generator(1));

        // torchvision (floor 0): everything below 0.5 is background, all six are sampled.
        var all = Sample(0);
        Assert.Equal([0L, 0, 0, 2, 0, 2], all.Labels.ToArray<long>());

        // bg_thresh_lo 0.1: IoU 0.05 and 0 are not sampled; exactly 0.1 is background (>= lo).
        var floored = Sample(0.1);
        Assert.Equal([0f, 0, 1, 10, 0, 0, 3, 10, 0, 0, 6, 10, 0, 0, 10, 10], floored.Proposals.ToArray<float>());
        Assert.Equal([0L, 0, 2, 2], floored.Labels.ToArray<long>());
        // The positive [0, 0, 6, 10] (centre 3, 5) to the gt (centre 5, 5, 10 x 10) with weights
        // (10, 10, 5, 5): (10 · 2 / 6, 0, 5 ln(10 / 6), 0); the gt to itself: zeros.
        var positives = floored.Targets.Narrow(0, 2, 2);
        TensorAssert.Close(Tensor.FromArray(new[] { 3.3333333f, 0, 2.5541281f, 0, 0, 0, 0, 0 }, 2, 4), positives, 1e-5, 1e-6, "regression targets"); // float32 ulps
    }
}
