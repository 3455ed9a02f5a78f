using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// Default boxes against hand calculations from torchvision's DefaultBoxGenerator and ssd.pytorch's
/// PriorBox formulas (the parity tests compare every box with both at run time). A box is
/// (cx ∓ w/2, cy ∓ h/2) · 300 with cx = (j + 0.5) / (300 / step).
/// </summary>
public class DefaultBoxGeneratorTests
{
    private static readonly (int, int)[] Ssd300Grids = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)];

    private static float[] Box(Tensor boxes, int index) => boxes.Narrow(0, index, 1).Reshape(-1).ToArray<float>();

    [Fact]
    public void Ssd300Has8732BoxesInBothConfigurations()
    {
        foreach (var generator in new[] { DefaultBoxGenerator.Ssd300(), DefaultBoxGenerator.Ssd300Voc() })
        {
            Assert.Equal([4, 6, 6, 6, 4, 4], generator.BoxesPerLocation);
            // 38²·4 + 19²·6 + 10²·6 + 5²·6 + 3²·4 + 1·4 = 5776 + 2166 + 600 + 150 + 36 + 4.
            Assert.Equal(8732, generator.Count(Ssd300Grids));
            Assert.Equal([8732, 4], generator.Generate(Ssd300Grids, (300, 300)).Shape);
        }
    }

    [Fact]
    public void Ssd512Has24564Boxes()
    {
        // 64²·4 + 32²·6 + 16²·6 + 8²·6 + 4²·6 + 2²·4 + 1·4 = 16384 + 6144 + 1536 + 384 + 96 + 16 + 4.
        (int, int)[] grids = [(64, 64), (32, 32), (16, 16), (8, 8), (4, 4), (2, 2), (1, 1)];
        Assert.Equal(24564, DefaultBoxGenerator.Ssd512().Count(grids));
        Assert.Equal(24564, SsdConfig.Ssd512.DefaultBoxes.Generate(grids, (512, 512)).Size(0));
    }

    /// <summary>
    /// torchvision: the first box is source 0's cell (0, 0) at scale 0.07: centre 0.5 / 37.5 =
    /// 0.01333, so x1 = (0.01333 - 0.035) · 300 = -6.5 and x2 = 14.5 (not clipped to the image). The
    /// second is the √(0.07 · 0.15) = 0.10247 square: ±15.37 px. The last is the 1x1 source's second
    /// aspect-ratio-2 box: w = 0.87 / √2 = 0.61518, h = 0.87 · √2 = 1.2304 clipped to 1: x 0.5 ∓ 0.30759
    /// → 57.7226, 242.2774 and y 0, 300.
    /// </summary>
    [Fact]
    public void TorchvisionFirstAndLastBoxes()
    {
        var boxes = DefaultBoxGenerator.Ssd300().Generate(Ssd300Grids, (300, 300));
        // float32 arithmetic on values up to 300: 1e-4 px.
        TensorAssert.Close([-6.5, -6.5, 14.5, 14.5], Box(boxes, 0).Select(v => (double)v).ToArray(), 1e-4, 0, "first box");
        double half = Math.Sqrt(0.07 * 0.15) / 2 * 300, centre = 0.5 / 37.5 * 300;
        TensorAssert.Close([centre - half, centre - half, centre + half, centre + half], Box(boxes, 1).Select(v => (double)v).ToArray(), 1e-4, 0, "second box");
        double halfWidth = 0.87 / Math.Sqrt(2) / 2;
        TensorAssert.Close([(0.5 - halfWidth) * 300, 0, (0.5 + halfWidth) * 300, 300], Box(boxes, 8731).Select(v => (double)v).ToArray(), 1e-4, 0, "last box");
    }

    /// <summary>
    /// PriorBox VOC: the first box has min size 30 (s = 0.1): (0.01333 ∓ 0.05) · 300 = -11, 19. The
    /// last is the 1x1 source's second ratio-2 box at s = 264/300 = 0.88: w = 0.88/√2 = 0.62225, h
    /// clipped to 1. PriorBox also clips centres: source 2 (10x10, step 32: 9.375 cells) at row 0,
    /// column 9 (box 38²·4 + 19²·6 + 9·6 = 7996) has cx 9.5 / 9.375 = 1.0133 → 1, so with s = 0.37
    /// its x span is (1 ∓ 0.185) · 300 = 244.5 .. 355.5, y (0.05333 ∓ 0.185) · 300 = -39.5 .. 71.5;
    /// torchvision keeps cx 1.0133 there (x 248.5 .. 359.5 at its scale 0.33: ∓ 49.5).
    /// </summary>
    [Fact]
    public void PriorBoxFirstAndLastBoxesAndItsCentreClipping()
    {
        var boxes = DefaultBoxGenerator.Ssd300Voc().Generate(Ssd300Grids, (300, 300));
        TensorAssert.Close([-11, -11, 19, 19], Box(boxes, 0).Select(v => (double)v).ToArray(), 1e-4, 0, "first prior");
        double halfWidth = 0.88 / Math.Sqrt(2) / 2;
        TensorAssert.Close([(0.5 - halfWidth) * 300, 0, (0.5 + halfWidth) * 300, 300], Box(boxes, 8731).Select(v => (double)v).ToArray(), 1e-4, 0, "last prior");
        TensorAssert.Close([244.5, -39.5, 355.5, 71.5], Box(boxes, 7996).Select(v => (double)v).ToArray(), 1e-4, 0, "prior with a clipped centre");
        var torchvision = DefaultBoxGenerator.Ssd300().Generate(Ssd300Grids, (300, 300));
        TensorAssert.Close([9.5 / 9.375 * 300 - 49.5, 0.5 / 9.375 * 300 - 49.5, 9.5 / 9.375 * 300 + 49.5, 0.5 / 9.375 * 300 + 49.5],
            Box(torchvision, 7996).Select(v => (double)v).ToArray(), 1e-4, 0, "torchvision's box there");
    }

    [Fact]
    public void WrongSourceCountIsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => DefaultBoxGenerator.Ssd300().Generate([(38, 38), (19, 19)], (300, 300)));
        Assert.Contains("2 feature maps", error.Message);
        Assert.Throws<ArgumentException>(() => DefaultBoxGenerator.FromScales([[2]], [0.1, 0.2, 0.3]));
        Assert.Throws<ArgumentException>(() => DefaultBoxGenerator.FromScales([[2]], [0.1, -0.2]));
    }
}
