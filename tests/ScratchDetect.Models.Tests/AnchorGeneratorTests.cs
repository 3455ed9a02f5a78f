using System.Globalization;
using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>AnchorGenerator against hand calculations of torchvision 0.14's generate_anchors and grid_anchors.</summary>
public class AnchorGeneratorTests
{
    // Size 32, ratios (0.5, 1, 2): h_ratios = √r = (0.70711, 1, 1.41421), w_ratios = 1 / h_ratios,
    // ws = w_ratios · 32 = (45.255, 32, 22.627), hs = (22.627, 32, 45.255); round([-ws, -hs, ws, hs] / 2):
    // 22.627 → 23, 11.314 → 11, 16 → 16.
    private static readonly float[] Base32 =
    [
        -23, -11, 23, 11, // ratio 0.5 (wide)
        -16, -16, 16, 16, // ratio 1
        -11, -23, 11, 23, // ratio 2 (tall)
    ];

    [Fact]
    public void BaseAnchorsAreRoundedAsTorchvision()
    {
        // One 1x1 feature map: the anchors are the base anchors at cell (0, 0).
        var anchors = new AnchorGenerator([[32]], [[0.5, 1.0, 2.0]]).Generate(32, 32, [(1, 1)]);
        Assert.Equal(Base32, anchors.ToArray<float>());
    }

    [Fact]
    public void CellsAreShiftedByTheStrideFromThePaddedSize()
    {
        // Padded batch 64 x 96, feature map 4 x 4: strides 64 / 4 = 16 (y) and 96 / 4 = 24 (x).
        var anchors = new AnchorGenerator([[32]], [[0.5, 1.0, 2.0]]).Generate(64, 96, [(4, 4)]);
        Assert.Equal([4 * 4 * 3, 4], anchors.Shape);
        // Cell (y = 1, x = 2), anchor ratio 1: row (1 · 4 + 2) · 3 + 1 = 19, shift (x 48, y 16).
        Assert.Equal([48 - 16, 16 - 16, 48 + 16, 16 + 16], anchors.Narrow(0, 19, 1).ToArray<float>());
        // Last cell (3, 3), ratio 2: shift (72, 48) on [-11, -23, 11, 23].
        Assert.Equal([72 - 11, 48 - 23, 72 + 11, 48 + 23], anchors.Narrow(0, 47, 1).ToArray<float>());
    }

    [Fact]
    public void StrideUsesIntegerDivisionOfThePaddedSize()
    {
        // 100 / 3 = 33 (torchvision: image_size // g, int64): cell x = 2 is shifted by 66, not 66.67.
        var anchors = new AnchorGenerator([[32]], [[1.0]]).Generate(100, 100, [(3, 3)]);
        Assert.Equal([66 - 16, -16, 66 + 16, 16], anchors.Narrow(0, 2, 1).ToArray<float>());
    }

    [Fact]
    public void FpnDefaultHasThreeAnchorsPerCellAndLevelsConcatenated()
    {
        var generator = AnchorGenerator.FpnDefault();
        Assert.Equal([3, 3, 3, 3, 3], generator.NumAnchorsPerLocation());
        // An 800 x 1216 batch: levels 200x304, 100x152, 50x76, 25x38, 13x19 → Σ H·W·3.
        (int, int)[] features = [(200, 304), (100, 152), (50, 76), (25, 38), (13, 19)];
        var anchors = generator.Generate(800, 1216, features);
        Assert.Equal(3 * (200 * 304 + 100 * 152 + 50 * 76 + 25 * 38 + 13 * 19), anchors.Size(0));
        // The first anchor of level 1 (size 64, ratio 0.5): round([-90.51, -45.25, 90.51, 45.25] / 2) = [-45, -23, 45, 23].
        Assert.Equal([-45, -23, 45, 23], anchors.Narrow(0, 3 * 200 * 304, 1).ToArray<float>());
    }

    [Fact]
    public void SeveralSizesPerLevelGoRatioMajor()
    {
        // torchvision: ws = (w_ratios[:, None] * scales[None, :]).view(-1): for each ratio, each size.
        var anchors = new AnchorGenerator([[16, 32]], [[1.0, 2.0]]).Generate(16, 16, [(1, 1)]);
        // Ratio 2 with size 16: w = 16 / √2 = 11.31, h = 22.63 → round(±5.66, ±11.31) = ±6, ±11.
        Assert.Equal([-8, -8, 8, 8, -16, -16, 16, 16, -6, -11, 6, 11, -11, -23, 11, 23], anchors.ToArray<float>());
    }

    [Fact]
    public void MismatchedConfigurationIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([[32], [64]], [[1.0]]));
        Assert.Throws<ArgumentException>(() => AnchorGenerator.FpnDefault().Generate(64, 64, [(16, 16)]));
    }

    [TorchFact]
    public void FpnDefaultMatchesTorchvision()
    {
        // A 96 x 160 batch with feature maps 24x40 .. 2x3: torchvision's anchors, printed as integers
        // (every coordinate is an integer: rounded base anchors plus integer shifts).
        (int H, int W)[] features = [(24, 40), (12, 20), (6, 10), (3, 5), (2, 3)];
        string shapes = string.Join(",", features.Select(f => $"({f.H},{f.W})"));
        string output = Reference.Run(Reference.Python, "-c", $$"""
            import torch
            from torchvision.models.detection.anchor_utils import AnchorGenerator
            from torchvision.models.detection.image_list import ImageList
            g = AnchorGenerator(((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5)
            feats = [torch.zeros(1, 1, h, w) for h, w in [{{shapes}}]]
            a = g(ImageList(torch.zeros(1, 3, 96, 160), [(96, 160)]), feats)[0]
            print(" ".join(str(int(v)) for v in a.flatten().tolist()))
            """);
        var expected = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected, AnchorGenerator.FpnDefault().Generate(96, 160, features).ToArray<float>());
    }
}
