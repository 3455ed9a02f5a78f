using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Augmentation;

/// <summary>
/// ssd.pytorch's SSDAugmentation, step for step: ConvertFromInts, ToAbsoluteCoords, PhotometricDistort, Expand,
/// RandomSampleCrop, RandomMirror, ToPercentCoords, Resize, SubtractMeans. Each numpy draw
/// (random.randint(2), random.uniform, random.choice) is one draw from the <see cref="Random"/> passed in.
/// <para>
/// Input: a float HWC image with values 0..255 and absolute continuous-frame boxes (so ConvertFromInts and
/// ToAbsoluteCoords hold already). Output: a <c>size</c> x <c>size</c> image minus the mean, and boxes as
/// fractions of the image (ToPercentCoords), as ssd.pytorch hands them to the model.
/// </para>
/// <para>
/// Our images are RGB where ssd.pytorch's are BGR: the mean (104, 117, 123) BGR is (123, 117, 104) here, the
/// HSV conversion reads the channels accordingly, and the random channel swap is over all six orders either way.
/// </para>
/// <para>
/// Two deliberate departures. RandomSampleCrop: ssd.pytorch rejects a crop when
/// <c>overlap.min() &lt; min_iou and max_iou &lt; overlap.max()</c>, which never holds because max_iou is
/// always infinite, so its minimum-IoU modes constrain nothing; here a crop needs IoU ≥ min_iou with at least
/// one box, the original Caffe SSD's rule. And for an image without boxes (which ssd.pytorch never sees and would
/// loop on forever) any crop of valid aspect is accepted.
/// </para>
/// </summary>
/// <param name="size">The output side (300 for SSD300).</param>
public sealed class SsdAugmentation(int size = 300) : ISampleTransform
{
    /// <summary>ssd.pytorch's mean (104, 117, 123) in BGR, written in RGB order.</summary>
    public static IReadOnlyList<float> MeanRgb => Mean;

    static readonly float[] Mean = [123f, 117f, 104f];

    /// <inheritdoc />
    public DetectionSample Apply(DetectionSample sample, Random rng)
    {
        var image = PhotometricDistort(sample.Image, rng);
        var targets = sample.Targets;
        (image, targets) = Expand(image, targets, rng);
        (image, targets) = RandomSampleCrop(image, targets, rng);
        (image, targets) = RandomMirror(image, targets, rng);
        targets = ToPercentCoords(targets, image.Width, image.Height);
        image = ImageOps.ResizeBilinear(image, size, size);
        SubtractMeans(image);
        return sample with { Image = image, Targets = targets };
    }

    /// <summary>numpy's random.uniform(low, high): low + (high - low) * U[0, 1), also when low &gt; high.</summary>
    static double Uniform(Random rng, double low, double high) => low + (high - low) * rng.NextDouble();

    /// <summary>numpy's `if random.randint(2):`.</summary>
    static bool Coin(Random rng) => rng.Next(2) == 1;

    /// <summary>
    /// RandomBrightness (±32), then either RandomContrast, HSV, RandomSaturation, RandomHue, RGB or HSV,
    /// RandomSaturation, RandomHue, RGB, RandomContrast (a coin decides), then RandomLightingNoise. Returns a copy.
    /// </summary>
    public static FloatImage PhotometricDistort(FloatImage image, Random rng)
    {
        var data = (float[])image.Data.Clone();
        if (Coin(rng)) Add(data, (float)Uniform(rng, -32, 32));
        bool contrastFirst = Coin(rng);
        if (contrastFirst) RandomContrast(data, rng);
        RgbToHsv(data);
        if (Coin(rng)) Scale(data, 1, (float)Uniform(rng, 0.5, 1.5));
        if (Coin(rng)) ShiftHue(data, (float)Uniform(rng, -18, 18));
        HsvToRgb(data);
        if (!contrastFirst) RandomContrast(data, rng);
        if (Coin(rng)) SwapChannels(data, ChannelOrders[rng.Next(ChannelOrders.Length)]);
        return new FloatImage(image.Width, image.Height, data);
    }

    static readonly int[][] ChannelOrders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

    static void RandomContrast(float[] data, Random rng)
    {
        if (!Coin(rng)) return;
        float alpha = (float)Uniform(rng, 0.5, 1.5);
        for (int i = 0; i < data.Length; i++) data[i] *= alpha;
    }

    static void Add(float[] data, float delta)
    {
        for (int i = 0; i < data.Length; i++) data[i] += delta;
    }

    static void Scale(float[] data, int channel, float factor)
    {
        for (int i = channel; i < data.Length; i += 3) data[i] *= factor;
    }

    /// <summary>RandomHue: shifts H (degrees) and wraps it back into 0..360 once, as ssd.pytorch does.</summary>
    static void ShiftHue(float[] data, float delta)
    {
        for (int i = 0; i < data.Length; i += 3)
        {
            float h = data[i] + delta;
            if (h > 360f) h -= 360f;
            else if (h < 0f) h += 360f;
            data[i] = h;
        }
    }

    static void SwapChannels(float[] data, int[] order)
    {
        Span<float> pixel = stackalloc float[3];
        for (int i = 0; i < data.Length; i += 3)
        {
            pixel[0] = data[i]; pixel[1] = data[i + 1]; pixel[2] = data[i + 2];
            for (int c = 0; c < 3; c++) data[i + c] = pixel[order[c]];
        }
    }

    /// <summary>
    /// In place, RGB to HSV as OpenCV's cvtColor does for float images: H in degrees 0..360, S = (max - min) / max,
    /// V = max, without clamping (values outside 0..255 after brightness and contrast pass through).
    /// </summary>
    internal static void RgbToHsv(float[] data)
    {
        for (int i = 0; i < data.Length; i += 3)
        {
            float r = data[i], g = data[i + 1], b = data[i + 2];
            float v = Math.Max(r, Math.Max(g, b)), vmin = Math.Min(r, Math.Min(g, b));
            float diff = v - vmin;
            float s = diff / (Math.Abs(v) + FltEpsilon);
            float k = (float)(60.0 / (diff + FltEpsilon));
            float h = v == r ? (g - b) * k : v == g ? (b - r) * k + 120f : (r - g) * k + 240f;
            if (h < 0) h += 360f;
            data[i] = h; data[i + 1] = s; data[i + 2] = v;
        }
    }

    /// <summary>In place, HSV back to RGB as OpenCV's cvtColor does for float images.</summary>
    internal static void HsvToRgb(float[] data)
    {
        for (int i = 0; i < data.Length; i += 3)
        {
            float h = data[i], s = data[i + 1], v = data[i + 2];
            float r = v, g = v, b = v;
            if (s != 0)
            {
                h = h * (6f / 360f) % 6f;
                if (h < 0) h += 6;
                int sector = (int)Math.Floor(h);
                h -= sector;
                if ((uint)sector >= 6u) { sector = 0; h = 0; }
                Span<float> tab = [v, v * (1 - s), v * (1 - s * h), v * (1 - s * (1 - h))];
                // OpenCV's sector table gives (b, g, r) indices into tab.
                var (bi, gi, ri) = HsvSectors[sector];
                b = tab[bi]; g = tab[gi]; r = tab[ri];
            }
            data[i] = r; data[i + 1] = g; data[i + 2] = b;
        }
    }

    static readonly (int B, int G, int R)[] HsvSectors = [(1, 3, 0), (1, 0, 2), (3, 0, 1), (0, 2, 1), (0, 1, 3), (2, 1, 0)];

    /// <summary>C's FLT_EPSILON, which OpenCV adds to avoid dividing by zero.</summary>
    const float FltEpsilon = 1.1920929e-07f;

    /// <summary>
    /// Expand: with probability 1/2, places the image at a random offset on a canvas up to 4 times larger in each
    /// direction, filled with the mean, and shifts the boxes by the integer offset.
    /// </summary>
    public static (FloatImage Image, DetectionTargets Targets) Expand(FloatImage image, DetectionTargets targets, Random rng)
    {
        if (Coin(rng)) return (image, targets);
        double ratio = Uniform(rng, 1, 4);
        int left = (int)Uniform(rng, 0, image.Width * ratio - image.Width);
        int top = (int)Uniform(rng, 0, image.Height * ratio - image.Height);
        var canvas = new FloatImage((int)(image.Width * ratio), (int)(image.Height * ratio));
        // Fill one row with the mean, then copy it: the canvas can be 16 times the image.
        var meanRow = canvas.Data.AsSpan(0, canvas.Width * 3);
        for (int i = 0; i < meanRow.Length; i++) meanRow[i] = Mean[i % 3];
        for (int y = 1; y < canvas.Height; y++) meanRow.CopyTo(canvas.Data.AsSpan(y * meanRow.Length));
        int rowLength = image.Width * 3;
        for (int y = 0; y < image.Height; y++)
            Array.Copy(image.Data, y * rowLength, canvas.Data, ((top + y) * canvas.Width + left) * 3, rowLength);
        var boxes = (float[])targets.Boxes.Clone();
        for (int i = 0; i < boxes.Length; i += 4)
        {
            boxes[i] += left; boxes[i + 1] += top; boxes[i + 2] += left; boxes[i + 3] += top;
        }
        return (canvas, targets with { Boxes = boxes });
    }

    /// <summary>ssd.pytorch's sample_options: no crop, minimum IoU 0.1, 0.3, 0.7, 0.9, or any crop.</summary>
    static readonly double?[] MinIouOptions = [null, 0.1, 0.3, 0.7, 0.9, double.NegativeInfinity];

    /// <summary>
    /// RandomSampleCrop: picks a mode; for a cropping mode, tries 50 crops of 0.3..1 of each side with aspect
    /// h/w in 0.5..2, accepting the first whose IoU with some box reaches the mode's minimum and that holds at
    /// least one box centre strictly inside; kept boxes are clipped to the crop. When all 50 fail, a new mode is drawn.
    /// </summary>
    public static (FloatImage Image, DetectionTargets Targets) RandomSampleCrop(FloatImage image, DetectionTargets targets, Random rng)
    {
        int width = image.Width, height = image.Height;
        var boxes = targets.Boxes;
        while (true)
        {
            if (MinIouOptions[rng.Next(MinIouOptions.Length)] is not { } minIou) return (image, targets);
            for (int trial = 0; trial < 50; trial++)
            {
                double w = Uniform(rng, 0.3 * width, width);
                double h = Uniform(rng, 0.3 * height, height);
                if (h / w < 0.5 || h / w > 2) continue;
                // ssd.pytorch calls random.uniform(width - w), numpy's uniform(low=width - w, high=1.0).
                double left = Uniform(rng, width - w, 1.0);
                double top = Uniform(rng, height - h, 1.0);
                int x1 = (int)left, y1 = (int)top, x2 = (int)(left + w), y2 = (int)(top + h);

                var kept = new List<int>();
                double bestIou = double.NegativeInfinity;
                for (int b = 0; b < targets.Count; b++)
                {
                    bestIou = Math.Max(bestIou, Iou(boxes.AsSpan(4 * b, 4), x1, y1, x2, y2));
                    float cx = (boxes[4 * b] + boxes[4 * b + 2]) / 2f, cy = (boxes[4 * b + 1] + boxes[4 * b + 3]) / 2f;
                    if (x1 < cx && y1 < cy && x2 > cx && y2 > cy) kept.Add(b);
                }
                if (targets.Count > 0 && (bestIou < minIou || kept.Count == 0)) continue;

                var cropped = new float[kept.Count * 4];
                for (int k = 0; k < kept.Count; k++)
                {
                    int b = kept[k];
                    cropped[4 * k] = Math.Max(boxes[4 * b], x1) - x1;
                    cropped[4 * k + 1] = Math.Max(boxes[4 * b + 1], y1) - y1;
                    cropped[4 * k + 2] = Math.Min(boxes[4 * b + 2], x2) - x1;
                    cropped[4 * k + 3] = Math.Min(boxes[4 * b + 3], y2) - y1;
                }
                return (ImageOps.Crop(image, x1, y1, x2, y2), targets.Select(kept, cropped));
            }
        }
    }

    /// <summary>ssd.pytorch's jaccard_numpy for one box against the crop rectangle (continuous areas, no +1).</summary>
    static double Iou(ReadOnlySpan<float> box, int x1, int y1, int x2, int y2)
    {
        double iw = Math.Max(Math.Min(box[2], x2) - Math.Max(box[0], x1), 0.0);
        double ih = Math.Max(Math.Min(box[3], y2) - Math.Max(box[1], y1), 0.0);
        double inter = iw * ih;
        double union = (double)(box[2] - box[0]) * (box[3] - box[1]) + (double)(x2 - x1) * (y2 - y1) - inter;
        return inter / union;
    }

    /// <summary>RandomMirror: with probability 1/2, flips the image and boxes left-right.</summary>
    public static (FloatImage Image, DetectionTargets Targets) RandomMirror(FloatImage image, DetectionTargets targets, Random rng)
    {
        if (!Coin(rng)) return (image, targets);
        return (ImageOps.FlipHorizontal(image), targets with { Boxes = ImageOps.FlipBoxesHorizontal(targets.Boxes, image.Width) });
    }

    /// <summary>ToPercentCoords: boxes as fractions of the image size.</summary>
    static DetectionTargets ToPercentCoords(DetectionTargets targets, int width, int height)
    {
        var boxes = (float[])targets.Boxes.Clone();
        for (int i = 0; i < boxes.Length; i += 4)
        {
            boxes[i] /= width; boxes[i + 1] /= height; boxes[i + 2] /= width; boxes[i + 3] /= height;
        }
        return targets with { Boxes = boxes };
    }

    /// <summary>SubtractMeans, in place.</summary>
    static void SubtractMeans(FloatImage image)
    {
        var data = image.Data;
        for (int i = 0; i < data.Length; i += 3)
        {
            data[i] -= Mean[0]; data[i + 1] -= Mean[1]; data[i + 2] -= Mean[2];
        }
    }
}
