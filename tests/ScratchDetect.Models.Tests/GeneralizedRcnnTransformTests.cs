using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// GeneralizedRcnnTransform's sizes and box mapping against hand calculations of torchvision
/// 0.14's transform.py (each size below was also confirmed once with its GeneralizedRCNNTransform).
/// </summary>
public class GeneralizedRcnnTransformTests
{
    private static GeneralizedRcnnTransform Transform(int[] minSizes, int maxSize) =>
        new(minSizes, maxSize, GeneralizedRcnnTransform.ImageNetMean, GeneralizedRcnnTransform.ImageNetStd);

    private static Tensor Image(int height, int width) => Tensor.Zeros([3, height, width]);

    /// <summary>
    /// scale = min(min_size · (1 / short side), max_size · (1 / long side)) in float32 (torch
    /// evaluates `int / tensor` as int · reciprocal), output side = floor(side · scale).
    /// </summary>
    [Theory]
    // 375 x 500 at 800 / 1333: 800 / 375 = 2.1333 < 1333 / 500; in float32 800 · (1/375) =
    // 2.1333332, so 375 → floor(799.99995) = 799 (not 800) and 500 → floor(1066.6666) = 1066.
    [InlineData(375, 500, 800, 1333, 799, 1066, 800, 1088)]
    // 500 x 2000: 800 / 500 = 1.6 would make the long side 3200 > 1333, so the max size decides:
    // 1333 · (1/2000) = 0.66650003 → 333 x 1333 (floor(333.25), floor(1333.00006)).
    [InlineData(500, 2000, 800, 1333, 333, 1333, 352, 1344)]
    // The rounding quirk (see GeneralizedRcnnTransform.Resize): 160 · (1/200) is 0.79999995 in
    // float32, so a 200 x 300 image at min size 160 becomes 159 x 239 (160 / 200 exactly would give 160 x 240).
    [InlineData(200, 300, 160, 1333, 159, 239, 160, 256)]
    // Portrait: the short side is the width. 100 · (1/40) = 2.5 exactly in float32 → 150 x 100.
    [InlineData(60, 40, 100, 1000, 150, 100, 160, 128)]
    public void ResizesShortSideToMinSizeUnlessLongSideExceedsMaxSize(int height, int width, int minSize, int maxSize,
        int expectedHeight, int expectedWidth, int paddedHeight, int paddedWidth)
    {
        var (images, _) = Transform([minSize], maxSize).Apply([Image(height, width)], null, training: false);
        Assert.Equal([(expectedHeight, expectedWidth)], images.ImageSizes);
        // Padded up to multiples of 32.
        Assert.Equal([1, 3, paddedHeight, paddedWidth], images.Tensors.Shape);
    }

    [Fact]
    public void BatchIsPaddedWithZerosToMultiplesOf32()
    {
        // Images whose pixels are mean + std normalise to 1. 50 x 70 at min size 100 scales by
        // 2 → 100 x 140; 60 x 40 by 2.5 → 150 x 100. The batch is 160 x 160 (multiples of 32 of
        // the largest height 150 and width 140).
        Tensor MeanPlusStd(int height, int width)
        {
            var value = GeneralizedRcnnTransform.ImageNetMean.Zip(GeneralizedRcnnTransform.ImageNetStd, (m, s) => m + s).ToArray();
            return Tensor.FromArray(value, 3, 1, 1).Expand(3, height, width).Clone();
        }
        var (images, _) = Transform([100], 1000).Apply([MeanPlusStd(50, 70), MeanPlusStd(60, 40)], null, training: false);
        Assert.Equal([(100, 140), (150, 100)], images.ImageSizes);
        Assert.Equal([2, 3, 160, 160], images.Tensors.Shape);
        for (int i = 0; i < 2; i++)
        {
            var (h, w) = images.ImageSizes[i];
            var image = images.Tensors.Narrow(0, i, 1);
            // (mean + std - mean) / std in float32: 1 to within a few ulps.
            TensorAssert.Close(Tensor.Ones([1, 3, h, w]), image.Narrow(2, 0, h).Narrow(3, 0, w), 1e-6, 0, $"image {i} content");
            Assert.All(image.Narrow(2, h, 160 - h).ToArray<float>(), v => Assert.Equal(0f, v));
            Assert.All(image.Narrow(3, w, 160 - w).ToArray<float>(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void TargetBoxesAreScaledWithTheImage()
    {
        // 50 x 70 → 100 x 140: both ratios 2 (100 / 50 and 140 / 70 in float32).
        var target = new DetectionTarget(Tensor.FromArray(new[] { 10f, 20f, 30f, 40f, 0f, 0f, 70f, 50f }, 2, 4), Tensor.FromArray(new[] { 1L, 2L }, 2));
        var (_, targets) = Transform([100], 1000).Apply([Image(50, 70)], [target], training: false);
        Assert.Equal([20f, 40f, 60f, 80f, 0f, 0f, 140f, 100f], targets![0].Boxes.ToArray<float>());
        Assert.Equal([1L, 2L], targets[0].Labels.ToArray<long>());
    }

    [Fact]
    public void PostprocessMapsBoxesBackToTheOriginalImage()
    {
        // A 375 x 500 image was resized to 799 x 1066: ratios 500 / 1066 (x) and 375 / 799 (y) map
        // the resized image's corners back to the original's: [0, 0, 1066, 799] → [0, 0, 500, 375],
        // and its centre (533, 399.5) → (250, 187.5).
        var boxes = Tensor.FromArray(new[] { 0f, 0f, 1066f, 799f, 533f, 399.5f, 533f, 399.5f }, 2, 4);
        var mapped = GeneralizedRcnnTransform.ResizeBoxes(boxes, (799, 1066), (375, 500));
        // float32 ratio times coordinate: a few ulps of 500.
        TensorAssert.Close(Tensor.FromArray(new[] { 0f, 0f, 500f, 375f, 250f, 187.5f, 250f, 187.5f }, 2, 4), mapped, 1e-4, 0, "mapped back");
    }

    [Fact]
    public void TrainingDrawsEachListedMinSizeReproducibly()
    {
        // Square 4 x 4 images: the short side becomes the drawn min size exactly (s · 0.25 is exact).
        int[] sizes = [8, 12, 16];
        var transform = Transform(sizes, 1000);
        int[] Draws(ulong seed)
        {
            var generator = new Generator(seed);
            return Enumerable.Range(0, 60).Select(_ => transform.Apply([Image(4, 4)], null, training: true, generator).Images.ImageSizes[0].Height).ToArray();
        }
        var first = Draws(5);
        Assert.All(first, size => Assert.Contains(size, sizes));
        // Each of 3 sizes is missing from 60 uniform draws with probability (2/3)^60 ≈ 3e-11.
        Assert.Equal(sizes, first.Distinct().Order());
        Assert.Equal(first, Draws(5));
        Assert.NotEqual(first, Draws(6));
    }

    [Fact]
    public void EvaluationUsesTheLastMinSize()
    {
        // torchvision: size = self.min_size[-1] outside training.
        var (images, _) = Transform([8, 12, 16], 1000).Apply([Image(4, 4)], null, training: false);
        Assert.Equal([(16, 16)], images.ImageSizes);
    }

    [Fact]
    public void TrainingWithSeveralMinSizesNeedsAGenerator()
    {
        Assert.Throws<ArgumentException>(() => Transform([8, 12], 1000).Apply([Image(4, 4)], null, training: true));
        // One min size needs no draw.
        Assert.Equal([(8, 8)], Transform([8], 1000).Apply([Image(4, 4)], null, training: true).Images.ImageSizes);
    }
}
