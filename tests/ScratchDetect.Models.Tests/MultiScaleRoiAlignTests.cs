using System.Globalization;
using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// The FPN level mapper of MultiScaleRoIAlign: k = floor(4 + log2(√area / 224) + 1e-6) clamped to
/// [2, 5] (torchvision 0.14's LevelMapper, levels 2..5 for FPN outputs "0".."3").
/// </summary>
public class MultiScaleRoiAlignTests
{
    private static Tensor Squares(params float[] sides) =>
        Tensor.FromArray(sides.SelectMany(s => new[] { 0f, 0f, s, s }).ToArray(), sides.Length, 4);

    private static int[] Levels(Tensor boxes) => new MultiScaleRoiAlign().MapLevels(boxes, 2, 5).ToArray<long>().Select(l => (int)l).ToArray();

    [Fact]
    public void LevelsFollowTheFpnHeuristic()
    {
        // side 112: 4 + log2(0.5) = 3; 224: 4; 448: 5; 896: 6 → clamped to 5; 1 px: 4 + log2(1/224) = -3.8 →
        // clamped to 2; 1e5 px: 12.8 → 5. Returned as indices from k_min = 2.
        var levels = Levels(Squares(112, 224, 448, 896, 1, 1e5f));
        Assert.Equal([3 - 2, 4 - 2, 5 - 2, 5 - 2, 2 - 2, 5 - 2], levels);
    }

    [Fact]
    public void EpsilonLiftsSidesJustBelowACanonicalSize()
    {
        // 223.9999: log2(223.9999 / 224) = -6.4e-7, and + 1e-6 makes it positive: level 4, not 3.
        // 223.99: log2 = -6.4e-5, far beyond the epsilon: level 3.
        Assert.Equal([4 - 2, 3 - 2], Levels(Squares(223.9999f, 223.99f)));
    }

    [Fact]
    public void LevelArithmeticIsFloat32AsTorchvision()
    {
        // torchvision computes floor(lvl0 + log2(s / s0) + eps) on float32 tensors. For side
        // 111.999916 (float32) log2(s / 224) = -1.0000011, and 4 + that rounds in float32 so that
        // adding 1e-6 reaches 3.0: level 3 (torchvision 0.14's LevelMapper returns 3); the same sum
        // in float64 is 2.9999999 → level 2. Likewise 447.99966 → 5 in torchvision (4 in float64).
        Assert.Equal([3 - 2, 5 - 2], Levels(Squares(111.999916f, 447.99966f)));
    }

    [TorchFact]
    public void LevelsMatchTorchvisionNearEveryBoundary()
    {
        // The 40 float32 values just below (and at) each canonical side 112, 224, 448, 896.
        var sides = new[] { 112f, 224f, 448f, 896f }.SelectMany(side =>
            Enumerable.Range(0, 41).Select(step => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(side) - step))).ToArray();
        string list = string.Join(",", sides.Select(s => s.ToString("R", CultureInfo.InvariantCulture)));
        string output = Reference.Run(Reference.Python, "-c", $$"""
            import torch
            from torchvision.ops.poolers import LevelMapper
            s = torch.tensor([{{list}}], dtype=torch.float32)
            b = torch.stack([torch.zeros_like(s), torch.zeros_like(s), s, s], 1)
            print(" ".join(str(int(v)) for v in LevelMapper(2, 5)([b]).tolist()))
            """);
        var expected = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Equal(expected, Levels(Squares(sides)));
    }

    [Fact]
    public void ForwardPoolsEachBoxFromItsLevel()
    {
        // A 2048 x 2048 image with pyramid levels 2..5 (strides 4..32), each a constant map whose
        // value is its level number: every pooled value is the level the box was routed to.
        var features = Enumerable.Range(2, 4).Select(k => Tensor.Full([1, 1, 2048 >> k, 2048 >> k], k)).ToList();
        var boxes = Tensor.FromArray(new float[]
        {
            100, 100, 212, 212,   // side 112 → 3
            0, 0, 1, 1,           // side 1 → 2
            500, 500, 1396, 1396, // side 896 → 5
            10, 20, 234, 244,     // side 224 → 4
            0, 0, 2000, 2000,     // side 2000 → 5
            1000, 900, 1448, 1348, // side 448 → 5
        }, 6, 4);
        var pooled = new MultiScaleRoiAlign().Forward(features, [boxes], [(2048, 2048)]);
        Assert.Equal([6, 1, 7, 7], pooled.Shape);
        float[] expectedLevels = [3, 2, 5, 4, 5, 5];
        for (int i = 0; i < expectedLevels.Length; i++)
            Assert.All(pooled.Narrow(0, i, 1).ToArray<float>(), v => Assert.Equal(expectedLevels[i], v));
    }

    [Fact]
    public void NoBoxesGiveAnEmptyBatch()
    {
        // torchvision's roi_align returns [0, C, 7, 7] for no boxes (an image whose proposals were all removed).
        var features = Enumerable.Range(2, 4).Select(k => Tensor.Zeros([1, 8, 256 >> k, 256 >> k])).ToList();
        var pooled = new MultiScaleRoiAlign().Forward(features, [Tensor.Zeros([0, 4])], [(256, 256)]);
        Assert.Equal([0, 8, 7, 7], pooled.Shape);
    }
}
