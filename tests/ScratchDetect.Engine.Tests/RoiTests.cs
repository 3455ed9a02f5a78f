namespace ScratchDetect.Engine.Tests;

/// <summary>RoI pooling and box ops: hand-computed values, edge cases and misuse errors, on every device.</summary>
public class RoiTests
{
    private static Tensor Boxes(Device device, params double[] coordinates) => Tensor.FromArray(coordinates, [coordinates.Length / 4, 4], device);

    [Theory, OnCpu, OnCuda]
    public void IouOfUnitSquaresOffsetByHalfIsOneThird(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Intersection 0.5 x 1, union 1 + 1 - 0.5: 1/3. A square with itself: 1; disjoint: 0.
        var iou = Tensor.BoxIou(Boxes(device, 0, 0, 1, 1), Boxes(device, 0.5, 0, 1.5, 1, 0, 0, 1, 1, 2, 2, 3, 3)).ToArray<double>();
        Assert.Equal(1.0 / 3, iou[0], 15);
        Assert.Equal([1.0, 0.0], iou[1..]);
    }

    [Theory, OnCpu, OnCuda]
    public void BoxAreaUsesContinuousCoordinates(DeviceKind kind) =>
        Assert.Equal([6.0, 0.0], Tensor.BoxArea(Boxes(TestDevices.Of(kind), 1, 1, 3, 4, 5, 5, 5, 9)).ToArray<double>());

    [Theory, OnCpu, OnCuda]
    public void NmsKeepsTheBestOfEachOverlappingGroupByDecreasingScore(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Boxes 0 and 1 overlap with IoU 81/119 = 0.68; box 2 is apart.
        var boxes = Boxes(device, 0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30);
        var scores = Tensor.FromArray(new[] { 0.6, 0.9, 0.7 }, [3], device);
        Assert.Equal([1L, 2L], Tensor.Nms(boxes, scores, 0.5).ToArray<long>());
        // IoU must exceed the threshold strictly: at 0.7 nothing is suppressed.
        Assert.Equal([1L, 2L, 0L], Tensor.Nms(boxes, scores, 0.7).ToArray<long>());
        Assert.Empty(Tensor.Nms(Tensor.Zeros([0, 4], device: device), Tensor.Zeros([0], device: device), 0.5).ToArray<long>());
    }

    [Theory, OnCpu, OnCuda]
    public void BatchedNmsSuppressesOnlyWithinACategory(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var boxes = Boxes(device, 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10);
        var scores = Tensor.FromArray(new[] { 0.5, 0.9, 0.8 }, [3], device);
        var categories = Tensor.FromArray(new long[] { 0, 1, 0 }, [3], device);
        Assert.Equal([1L, 2L], Tensor.BatchedNms(boxes, scores, categories, 0.5).ToArray<long>());
        Assert.Empty(Tensor.BatchedNms(Tensor.Zeros([0, 4], device: device), Tensor.Zeros([0], device: device), Tensor.Zeros([0], DType.Int64, device: device), 0.5).ToArray<long>());
    }

    [Theory, OnCpu, OnCuda]
    public void ClipAndRemoveSmallBoxes(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var clipped = Tensor.ClipBoxesToImage(Boxes(device, -5, -2, 70, 30, 10, 50, 20, 60), height: 40, width: 60);
        Assert.Equal([0, 0, 60, 30, 10, 40, 20, 40], clipped.ToArray<double>());
        // Sizes: 60x30, 10x0 (after clipping), 2x5.
        var kept = Tensor.RemoveSmallBoxes(Tensor.Cat([clipped, Boxes(device, 1, 1, 3, 6)], 0), 2.0);
        Assert.Equal([0L, 2L], kept.ToArray<long>());
    }

    [Theory, OnCpu, OnCuda]
    public void RoiAlignIsExactOnALinearRamp(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Bilinear interpolation reproduces a linear function, so with map value = x each bin's
        // average is the x of its centre. aligned: box x 1..5 becomes 0.5..4.5 in cell coordinates;
        // two bins of width 2 centred at 1.5 and 3.5; likewise for y with map value = 10·y.
        var ramp = Tensor.Arange(8, DType.Float64, device).Reshape(1, 8).Expand(8, 8) + Tensor.Arange(8, DType.Float64, device).Reshape(8, 1) * 10;
        var input = ramp.Reshape(1, 1, 8, 8);
        var rois = Tensor.FromArray(new[] { 0.0, 1, 1, 5, 5 }, [1, 5], device);
        var pooled = Tensor.RoiAlign(input, rois, 2, 2, samplingRatio: 2, aligned: true).ToArray<double>();
        var expected = new[] { 16.5, 18.5, 36.5, 38.5 };
        TensorAssert.Close(expected, pooled, 1e-12, 0, "roi_align on a ramp");
        // The per-image box list form gives the same RoI.
        var fromList = Tensor.RoiAlign(input, [Boxes(device, 1, 1, 5, 5)], 2, 2, samplingRatio: 2, aligned: true).ToArray<double>();
        Assert.Equal(pooled, fromList);
    }

    [Theory, OnCpu, OnCuda]
    public void RoiPoolTakesTheMaximumOfEachBinAndRoutesTheGradientThere(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // 4x4 map holding 0..15; the RoI covers all of it (corners inclusive): 2x2 bins of 2x2 cells.
        var input = Tensor.Arange(16, DType.Float64, device).Reshape(1, 1, 4, 4).Detach().RequireGrad();
        var pooled = Tensor.RoiPool(input, Tensor.FromArray(new[] { 0.0, 0, 0, 3, 3 }, [1, 5], device), 2, 2);
        Assert.Equal([5.0, 7.0, 13.0, 15.0], pooled.ToArray<double>());
        pooled.Sum().Backward();
        var grad = input.Grad!.ToArray<double>();
        Assert.Equal(4, grad.Count(v => v == 1));
        Assert.Equal([1.0, 1.0, 1.0, 1.0], new[] { grad[5], grad[7], grad[13], grad[15] });
    }

    [Theory, OnCpu, OnCuda]
    public void RoiOpsRejectBadRoisNamingTheOp(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var input = Tensor.Zeros([2, 3, 4, 4], device: device);
        var badBatch = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.RoiAlign(input, Tensor.FromArray(new[] { 2f, 0, 0, 1, 1 }, [1, 5], device), 2, 2));
        Assert.Contains("roi_align", badBatch.Message);
        Assert.Contains("batch index 2", badBatch.Message);
        Assert.Contains("roi_pool", Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.RoiPool(input, Tensor.FromArray(new[] { -1f, 0, 0, 1, 1 }, [1, 5], device), 2, 2)).Message);
        var shape = Assert.Throws<ArgumentException>(() => Tensor.RoiAlign(input, Tensor.Zeros([3, 4], device: device), 2, 2));
        Assert.Contains("roi_align", shape.Message);
        Assert.Contains("[3, 4]", shape.Message);
        Assert.Contains("float64", Assert.Throws<ArgumentException>(() => Tensor.RoiPool(input, Tensor.Zeros([1, 5], DType.Float64, device: device), 2, 2)).Message);
        Assert.Contains("nms", Assert.Throws<ArgumentException>(() => Tensor.Nms(Tensor.Zeros([3, 4], device: device), Tensor.Zeros([2], device: device), 0.5)).Message);
    }
}
