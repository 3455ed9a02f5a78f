using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Synthetic;

/// <summary>Settings for <see cref="ShapesDataset.Write"/>.</summary>
public sealed record ShapesOptions
{
    /// <summary>Images in the train split (0 writes no train.txt).</summary>
    public int Train { get; init; } = 200;

    /// <summary>Images in the test split (0 writes no test.txt).</summary>
    public int Test { get; init; } = 50;

    /// <summary>Smallest image side in pixels.</summary>
    public int MinSize { get; init; } = 128;

    /// <summary>Largest image side in pixels.</summary>
    public int MaxSize { get; init; } = 512;

    /// <summary>Everything written depends on this seed alone.</summary>
    public int Seed { get; init; }

    /// <summary>Fewest objects drawn in an image (every tenth image still has none).</summary>
    public int MinObjects { get; init; } = 1;

    /// <summary>Most objects drawn in an image (before occlusion hides any).</summary>
    public int MaxObjects { get; init; } = 6;

    /// <summary>
    /// Smallest object radius as a fraction of the image's shorter side; radii are log-uniform
    /// between this and <see cref="MaxObjectScale"/>, and never under <see cref="MinObjectRadius"/> pixels.
    /// </summary>
    public double MinObjectScale { get; init; }

    /// <summary>Largest object radius as a fraction of the image's shorter side (0.3).</summary>
    public double MaxObjectScale { get; init; } = 0.3;

    /// <summary>Smallest object radius in pixels, whatever the scale.</summary>
    public const double MinObjectRadius = 6;

    /// <summary>Most objects per image.</summary>
    public const int MaxObjectsLimit = 50;

    /// <summary>Most images one split may hold.</summary>
    public const int MaxImagesPerSplit = 1_000_000;

    /// <summary>Smallest and largest allowed image side in pixels.</summary>
    public const int MinSide = 32, MaxSide = 4096;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting unless every count and size is usable.</summary>
    public void Validate()
    {
        foreach (var (name, count) in new[] { ("train", Train), ("test", Test) })
            if (count < 0 || count > MaxImagesPerSplit)
                throw new ArgumentException($"{name} images: {count}; need 0..{MaxImagesPerSplit}");
        if (Train + Test == 0)
            throw new ArgumentException("train and test images are both 0; a dataset needs at least one image");
        if (MinSize < MinSide || MaxSize > MaxSide || MaxSize < MinSize)
            throw new ArgumentException($"image sizes {MinSize}..{MaxSize}: need {MinSide} <= min <= max <= {MaxSide}");
        if (MinObjects < 0 || MaxObjects < MinObjects || MaxObjects > MaxObjectsLimit)
            throw new ArgumentException($"objects per image {MinObjects}..{MaxObjects}: need 0 <= min <= max <= {MaxObjectsLimit}");
        if (!(MinObjectScale >= 0 && MinObjectScale <= MaxObjectScale && MaxObjectScale <= 0.5))
            throw new ArgumentException($"object scale {MinObjectScale}..{MaxObjectScale}: need 0 <= min <= max <= 0.5 (radius as a fraction of the shorter side)");
        if (MaxObjectScale * MinSize < MinObjectRadius)
            throw new ArgumentException($"object scale up to {MaxObjectScale} of {MinSize} px is under the {MinObjectRadius} px smallest radius; raise the scale or the image size");
    }
}

/// <summary>What <see cref="ShapesDataset.Write"/> produced.</summary>
/// <param name="Images">Images written (train + test).</param>
/// <param name="ObjectsPerClass">Annotated objects per class, in label order.</param>
/// <param name="Difficult">Objects marked difficult.</param>
/// <param name="ImagesWithoutObjects">Images with no annotated object.</param>
public sealed record ShapesSummary(int Images, IReadOnlyList<int> ObjectsPerClass, int Difficult, int ImagesWithoutObjects);

/// <summary>
/// A synthetic dataset in the VOCdevkit layout: coloured shapes on textured backgrounds, with a labels file so
/// the reader uses its class list. Objects overlap (later shapes occlude earlier ones), vary in scale from about
/// 12 pixels to most of the image, and may be cut by the image border (truncated). Each box is the tight box of
/// the object's visible pixels; an object with under 40% of its in-image pixels visible, or under 10 pixels on a side, is marked
/// difficult, and one hidden almost entirely is not annotated. Every tenth image has no objects.
/// </summary>
public static class ShapesDataset
{
    /// <summary>The class list written to labels.txt.</summary>
    public static IReadOnlyList<string> Classes { get; } = ["circle", "square", "triangle", "diamond", "star", "ring"];

    /// <summary>Writes the dataset into <paramref name="directory"/> (created if needed), images in parallel.</summary>
    /// <exception cref="ArgumentException">A count or size in <paramref name="options"/> is out of range (see <see cref="ShapesOptions.Validate"/>).</exception>
    public static ShapesSummary Write(string directory, ShapesOptions options)
    {
        options.Validate();
        foreach (var sub in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
            Directory.CreateDirectory(Path.Combine(directory, sub));
        VocClasses.WriteLabelsFile(Path.Combine(directory, VocClasses.LabelsFileName), Classes);

        int total = options.Train + options.Test;
        var ids = Enumerable.Range(1, total).Select(i => i.ToString("D6")).ToArray();
        // A split of 0 images gets no file: an empty split is unusable (dataset check refuses one).
        if (options.Train > 0) File.WriteAllLines(Path.Combine(directory, "ImageSets", "Main", "train.txt"), ids.Take(options.Train));
        if (options.Test > 0) File.WriteAllLines(Path.Combine(directory, "ImageSets", "Main", "test.txt"), ids.Skip(options.Train));

        var objects = new IReadOnlyList<VocObject>[total];
        Parallel.For(0, total, i =>
        {
            var (image, annotated) = Render(i, options);
            objects[i] = annotated;
            File.WriteAllBytes(Path.Combine(directory, "JPEGImages", ids[i] + ".jpg"), JpegEncoder.Encode(image, quality: 90));
            VocAnnotationWriter.Write(Path.Combine(directory, "Annotations", ids[i] + ".xml"), ids[i] + ".jpg", image.Width, image.Height, annotated);
        });

        var all = objects.SelectMany(o => o).ToArray();
        return new ShapesSummary(total,
            Classes.Select(c => all.Count(o => o.Name == c)).ToArray(),
            all.Count(o => o.Difficult),
            objects.Count(o => o.Count == 0));
    }

    /// <summary>Draws image <paramref name="index"/> and returns it with its annotated objects.</summary>
    static (RgbImage Image, IReadOnlyList<VocObject> Objects) Render(int index, ShapesOptions options)
    {
        var rng = new Random(SeedMix.Of(options.Seed, index, 0));
        int width = rng.Next(options.MinSize, options.MaxSize + 1), height = rng.Next(options.MinSize, options.MaxSize + 1);
        var pixels = Background(width, height, rng);
        int count = index % 10 == 9 ? 0 : rng.Next(options.MinObjects, options.MaxObjects + 1);
        var owner = new int[width * height]; // 1 + index of the shape on top at each pixel, 0 for background
        var shapes = new List<(int Class, int Drawn, bool Truncated)>();
        for (int s = 0; s < count; s++)
        {
            int cls = rng.Next(Classes.Count);
            double minSide = Math.Min(width, height);
            // Log-uniform between the smallest and largest radius (by default 6 px .. 0.3 of the side).
            double smallest = Math.Max(ShapesOptions.MinObjectRadius, options.MinObjectScale * minSide), largest = Math.Max(smallest, options.MaxObjectScale * minSide);
            double radius = Math.Exp(rng.NextDouble() * Math.Log(largest / smallest)) * smallest;
            double cx = rng.NextDouble() * width, cy = rng.NextDouble() * height, angle = rng.NextDouble() * 2 * Math.PI;
            var colour = new[] { (byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256) };
            var (drawn, truncated) = Draw(pixels, owner, width, height, s + 1, cls, cx, cy, radius, angle, colour);
            shapes.Add((cls, drawn, truncated));
        }
        return (new RgbImage(width, height, pixels), Annotate(owner, width, height, shapes));
    }

    /// <summary>A smooth two-colour gradient with stripes or checks and per-pixel noise.</summary>
    static byte[] Background(int width, int height, Random rng)
    {
        var a = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
        var b = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
        int pattern = rng.Next(3), period = rng.Next(6, 40);
        double gx = rng.NextDouble() - 0.5, gy = rng.NextDouble() - 0.5;
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double t = Math.Clamp(0.5 + gx * x / width + gy * y / height, 0, 1);
                double texture = pattern switch
                {
                    0 => (x + y) / period % 2 == 0 ? 18 : -18,            // diagonal stripes
                    1 => (x / period + y / period) % 2 == 0 ? 14 : -14,  // checks
                    _ => 10 * Math.Sin(x * 0.3) * Math.Cos(y * 0.2),      // ripples
                };
                for (int c = 0; c < 3; c++)
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp(a[c] * (1 - t) + b[c] * t + texture + rng.Next(-12, 13), 0, 255);
            }
        }
        return pixels;
    }

    /// <summary>Paints one shape; returns how many of its pixels fell inside the image and whether it crossed the border.</summary>
    static (int Drawn, bool Truncated) Draw(byte[] pixels, int[] owner, int width, int height, int id, int cls,
        double cx, double cy, double radius, double angle, byte[] colour)
    {
        int x0 = (int)Math.Floor(cx - radius), x1 = (int)Math.Ceiling(cx + radius);
        int y0 = (int)Math.Floor(cy - radius), y1 = (int)Math.Ceiling(cy + radius);
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        int drawn = 0;
        bool truncated = false;
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                double dx = (x + 0.5 - cx) / radius, dy = (y + 0.5 - cy) / radius;
                if (!Inside(cls, cos * dx + sin * dy, -sin * dx + cos * dy)) continue;
                if (x < 0 || y < 0 || x >= width || y >= height) { truncated = true; continue; }
                int p = y * width + x;
                owner[p] = id;
                pixels[3 * p] = colour[0]; pixels[3 * p + 1] = colour[1]; pixels[3 * p + 2] = colour[2];
                drawn++;
            }
        }
        return (drawn, truncated);
    }

    /// <summary>Whether the point (u, v), in units of the shape's radius around its centre, is inside shape class <paramref name="cls"/>.</summary>
    static bool Inside(int cls, double u, double v)
    {
        double r2 = u * u + v * v;
        switch (cls)
        {
            case 0: return r2 <= 1;                                        // circle
            case 1: return Math.Abs(u) <= 0.75 && Math.Abs(v) <= 0.75;     // square
            case 2:                                                        // equilateral triangle, vertices on the unit circle
                return v >= -0.5 && Math.Sqrt(3) * u + v <= 1 && -Math.Sqrt(3) * u + v <= 1;
            case 3: return Math.Abs(u) / 0.6 + Math.Abs(v) <= 1;           // diamond, taller than wide
            case 4:                                                        // five-pointed star: radius between 0.45 and 1
                double t = (Math.Atan2(v, u) / (2 * Math.PI) * 5 % 1 + 1) % 1;
                return Math.Sqrt(r2) <= 0.45 + 0.55 * Math.Abs(1 - 2 * t);
            default: return r2 <= 1 && r2 >= 0.5;                         // ring
        }
    }

    /// <summary>Tight VOC boxes of each shape's visible pixels, with the difficult rule applied.</summary>
    static IReadOnlyList<VocObject> Annotate(int[] owner, int width, int height, List<(int Class, int Drawn, bool Truncated)> shapes)
    {
        int n = shapes.Count;
        var minX = Enumerable.Repeat(int.MaxValue, n).ToArray();
        var minY = Enumerable.Repeat(int.MaxValue, n).ToArray();
        var maxX = new int[n];
        var maxY = new int[n];
        var visible = new int[n];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int s = owner[y * width + x] - 1;
                if (s < 0) continue;
                visible[s]++;
                minX[s] = Math.Min(minX[s], x); maxX[s] = Math.Max(maxX[s], x);
                minY[s] = Math.Min(minY[s], y); maxY[s] = Math.Max(maxY[s], y);
            }
        }
        var objects = new List<VocObject>();
        for (int s = 0; s < n; s++)
        {
            if (visible[s] < 20) continue; // hidden or off-image: nothing to annotate
            int w = maxX[s] - minX[s] + 1, h = maxY[s] - minY[s] + 1;
            bool difficult = visible[s] < 0.4 * shapes[s].Drawn || w < 10 || h < 10;
            // Pixel indices are 0-based; VOC boxes are 1-based inclusive.
            objects.Add(new VocObject(Classes[shapes[s].Class], minX[s] + 1, minY[s] + 1, maxX[s] + 1, maxY[s] + 1,
                difficult, shapes[s].Truncated, 0));
        }
        return objects;
    }
}
