using ScratchDetect.Data.Augmentation;
using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Tests;

public class AugmentationTests
{
    static FloatImage RandomImage(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var data = new float[width * height * 3];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(256);
        return new FloatImage(width, height, data);
    }

    static DetectionSample SampleWithBoxes(int seed)
    {
        // 120x90 image with two boxes in the continuous frame.
        var targets = new DetectionTargets([10, 20, 60, 70, 70, 5, 115, 40], [3, 7], [false, true]);
        return new DetectionSample("s", RandomImage(120, 90, seed), targets);
    }

    [Fact]
    public void FlipMirrorsPixelsAndBoxes()
    {
        // One row, three pixels with R = 1, 2, 3: mirrored R = 3, 2, 1.
        var image = new FloatImage(3, 1, [1, 0, 0, 2, 0, 0, 3, 0, 0]);
        Assert.Equal(new float[] { 3, 0, 0, 2, 0, 0, 1, 0, 0 }, ImageOps.FlipHorizontal(image).Data);
        // Box over the first pixel (0..1) in a 3-wide image covers 2..3 after the flip: x1' = 3 - 1, x2' = 3 - 0.
        Assert.Equal(new float[] { 2, 5, 3, 6 }, ImageOps.FlipBoxesHorizontal([0, 5, 1, 6], 3));
    }

    [Fact]
    public void ResizeIsOpenCvBilinear()
    {
        // Source row R = 0, 10 widened to 4: source x = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
        // clamped at the ends: 0, 0.25 * 10, 0.75 * 10, 10.
        var image = new FloatImage(2, 1, [0, 0, 0, 10, 0, 0]);
        var wide = ImageOps.ResizeBilinear(image, 4, 1);
        Assert.Equal(new float[] { 0, 2.5f, 7.5f, 10 }, Enumerable.Range(0, 4).Select(x => wide.Data[x * 3]).ToArray());
        // Halving 4 -> 2 samples source x = (x + 0.5) * 2 - 0.5 = 0.5, 2.5: means of pairs, no wider filter.
        var row = new FloatImage(4, 1, [0, 0, 0, 10, 0, 0, 20, 0, 0, 40, 0, 0]);
        var half = ImageOps.ResizeBilinear(row, 2, 1);
        Assert.Equal(new float[] { 5, 30 }, new[] { half.Data[0], half.Data[3] });
    }

    [Fact]
    public void HsvMatchesOpenCvFloatConvention()
    {
        // Pure red, green, blue: H = 0, 120, 240 degrees; S = 1 (less FLT_EPSILON / 255); V = 255. Grey: S = 0.
        float[] data = [255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100];
        SsdAugmentation.RgbToHsv(data);
        float[] expected = [0, 1, 255, 120, 1, 255, 240, 1, 255, 0, 0, 100];
        for (int i = 0; i < data.Length; i++) Assert.Equal(expected[i], data[i], 1e-4f);
    }

    [Fact]
    public void HsvRoundTripRestoresColours()
    {
        var image = RandomImage(16, 16, 3);
        var data = (float[])image.Data.Clone();
        SsdAugmentation.RgbToHsv(data);
        SsdAugmentation.HsvToRgb(data);
        // Float round trip: within 1e-3 of 0..255 values.
        for (int i = 0; i < data.Length; i++) Assert.Equal(image.Data[i], data[i], 1e-3f);
    }

    [Fact]
    public void FasterRcnnTransformFlipsAndScales()
    {
        var sample = new DetectionSample("s", new FloatImage(4, 1, [255, 0, 0, 0, 0, 0, 0, 0, 0, 51, 0, 0]),
            new DetectionTargets([0, 0, 1, 1], [1], [false]));
        var flipped = new FasterRcnnTransform(train: true, flipProbability: 1).Apply(sample, new Random(0));
        // R of the pixels was 255, 0, 0, 51: mirrored and divided by 255 -> 0.2, 0, 0, 1. Box 0..1 -> 3..4.
        Assert.Equal(new[] { 0.2f, 0, 0, 1 }, Enumerable.Range(0, 4).Select(x => flipped.Image.Data[x * 3]).ToArray());
        Assert.Equal(new float[] { 3, 0, 4, 1 }, flipped.Targets.Boxes);
        var evaluation = new FasterRcnnTransform(train: false).Apply(sample, new Random(0));
        Assert.Equal(new float[] { 0, 0, 1, 1 }, evaluation.Targets.Boxes);
        Assert.Equal(1f, evaluation.Image.Data[0]);
    }

    [Fact]
    public void ExpandPutsTheImageUnderItsShiftedBoxes()
    {
        var sample = SampleWithBoxes(1);
        int expanded = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var (canvas, targets) = SsdAugmentation.Expand(sample.Image, sample.Targets, new Random(seed));
            int dx = (int)(targets.Boxes[0] - sample.Targets.Boxes[0]), dy = (int)(targets.Boxes[1] - sample.Targets.Boxes[1]);
            // Every box moves by the same integer offset, and the pixel at the offset is the original top-left pixel.
            for (int i = 0; i < 8; i += 2)
            {
                Assert.Equal(sample.Targets.Boxes[i] + dx, targets.Boxes[i]);
                Assert.Equal(sample.Targets.Boxes[i + 1] + dy, targets.Boxes[i + 1]);
            }
            for (int c = 0; c < 3; c++) Assert.Equal(sample.Image.Data[c], canvas.Data[(dy * canvas.Width + dx) * 3 + c]);
            if (canvas.Width > sample.Image.Width)
            {
                expanded++;
                // Outside the pasted image the canvas holds the mean: the last pixel unless the image reaches it.
                if (dx + sample.Image.Width < canvas.Width)
                    Assert.Equal(SsdAugmentation.MeanRgb, canvas.Data.Skip(canvas.Data.Length - 3).ToArray());
            }
        }
        // Half the draws should expand: 20 seeds giving none or all would mean a broken coin.
        Assert.InRange(expanded, 3, 17);
    }

    [Fact]
    public void CropKeepsBoxesWhoseCentresFallInside()
    {
        var sample = SampleWithBoxes(2);
        for (int seed = 0; seed < 50; seed++)
        {
            var (image, targets) = SsdAugmentation.RandomSampleCrop(sample.Image, sample.Targets, new Random(seed));
            Assert.InRange(targets.Count, 1, 2);
            for (int b = 0; b < targets.Count; b++)
            {
                float x1 = targets.Boxes[4 * b], y1 = targets.Boxes[4 * b + 1], x2 = targets.Boxes[4 * b + 2], y2 = targets.Boxes[4 * b + 3];
                Assert.True(0 <= x1 && x1 < x2 && x2 <= image.Width, $"seed {seed}: x {x1}..{x2} in width {image.Width}");
                Assert.True(0 <= y1 && y1 < y2 && y2 <= image.Height, $"seed {seed}: y {y1}..{y2} in height {image.Height}");
            }
            Assert.All(targets.Labels, label => Assert.Contains(label, new[] { 3, 7 }));
        }
    }

    [Fact]
    public void CropOfAnImageWithoutBoxesTerminates()
    {
        var sample = new DetectionSample("e", RandomImage(50, 40, 4), new DetectionTargets([], [], []));
        for (int seed = 0; seed < 20; seed++)
        {
            var (image, targets) = SsdAugmentation.RandomSampleCrop(sample.Image, sample.Targets, new Random(seed));
            Assert.Equal(0, targets.Count);
            Assert.InRange(image.Width, 15, 50);
        }
    }

    [Fact]
    public void SsdAugmentationIsDeterministicAndWellFormed()
    {
        var augmentation = new SsdAugmentation();
        var sample = SampleWithBoxes(5);
        var outputs = new List<DetectionSample>();
        for (int seed = 0; seed < 30; seed++)
        {
            var a = augmentation.Apply(sample, new Random(seed));
            var b = augmentation.Apply(sample, new Random(seed));
            Assert.Equal(a.Image.Data, b.Image.Data);
            Assert.Equal(a.Targets.Labels, b.Targets.Labels);
            Assert.Equal(a.Targets.Boxes, b.Targets.Boxes);
            Assert.Equal((300, 300), (a.Image.Width, a.Image.Height));
            Assert.All(a.Image.Data, v => Assert.True(float.IsFinite(v)));
            Assert.All(a.Targets.Boxes, v => Assert.InRange(v, 0f, 1f));
            Assert.Equal(a.Targets.Labels.Length * 4, a.Targets.Boxes.Length);
            outputs.Add(a);
        }
        Assert.True(outputs.Select(o => o.Image.Data[0]).Distinct().Count() > 10, "different seeds should give different images");
        // The input is untouched.
        Assert.Equal(SampleWithBoxes(5).Image.Data, sample.Image.Data);
    }
}
