using System.Globalization;
using SkiaSharp;
using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Cli.Training;

/// <summary>One box to draw: continuous-frame pixels, the class index and the score.</summary>
internal sealed record DrawnBox(float X1, float Y1, float X2, float Y2, long Label, float Score);

/// <summary>
/// Draws detections on an image with SkiaSharp: a coloured rectangle per box and a filled tag
/// above it with the class name and score in white, in the font the CLI ships (so the text does
/// not depend on the machine's fonts). The image is decoded by our own codecs and only drawn on here.
/// </summary>
internal static class DetectionDrawing
{
    /// <summary>Tag text size in pixels.</summary>
    public const float TextSize = 13;

    private static readonly Lazy<SKTypeface> Typeface = new(() =>
        SKTypeface.FromFile(ShippedFont.FilePath) ?? throw new InvalidOperationException($"the shipped font '{ShippedFont.FilePath}' cannot be loaded"));

    /// <summary>Distinct colours, one per class index (cycled).</summary>
    private static readonly SKColor[] Palette =
    [
        new(230, 25, 75), new(60, 180, 75), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 140, 140), new(240, 50, 230), new(128, 128, 0), new(170, 110, 40), new(0, 0, 128),
    ];

    /// <summary>The colour of class <paramref name="label"/>'s boxes and tags.</summary>
    public static SKColor ColorOf(long label) => Palette[(int)(Math.Abs(label) % Palette.Length)];

    /// <summary>The tag text: the class name (from <paramref name="classes"/>, label 1 = classes[0]) or "label N", and the score.</summary>
    public static string Caption(DrawnBox box, IReadOnlyList<string>? classes) =>
        (classes is not null && box.Label >= 1 && box.Label <= classes.Count ? classes[(int)box.Label - 1] : $"label {box.Label}") +
        " " + box.Score.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary><paramref name="image"/> with <paramref name="boxes"/> drawn on it (the input is not changed).</summary>
    public static RgbImage Draw(RgbImage image, IEnumerable<DrawnBox> boxes, IReadOnlyList<string>? classes)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            rgba[j] = image.Pixels[i];
            rgba[j + 1] = image.Pixels[i + 1];
            rgba[j + 2] = image.Pixels[i + 2];
            rgba[j + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);

        using (var canvas = new SKCanvas(bitmap))
        using (var font = new SKFont(Typeface.Value, TextSize))
        using (var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true })
        using (var fill = new SKPaint { Style = SKPaintStyle.Fill })
        using (var text = new SKPaint { Color = SKColors.White, IsAntialias = true })
        {
            foreach (var box in boxes)
            {
                var color = ColorOf(box.Label);
                stroke.Color = color;
                fill.Color = color;
                canvas.DrawRect(SKRect.Create(box.X1, box.Y1, box.X2 - box.X1, box.Y2 - box.Y1), stroke);
                string caption = Caption(box, classes);
                float width = font.MeasureText(caption);
                float height = TextSize + 4;
                // The tag sits above the box, or inside its top edge when the box touches the image's top.
                float top = box.Y1 - height >= 0 ? box.Y1 - height : box.Y1;
                canvas.DrawRect(SKRect.Create(box.X1, top, width + 6, height), fill);
                canvas.DrawText(caption, box.X1 + 3, top + TextSize, SKTextAlign.Left, font, text);
            }
        }

        System.Runtime.InteropServices.Marshal.Copy(bitmap.GetPixels(), rgba, 0, rgba.Length);
        var pixels = new byte[image.Pixels.Length];
        for (int i = 0, j = 0; i < pixels.Length; i += 3, j += 4)
        {
            pixels[i] = rgba[j];
            pixels[i + 1] = rgba[j + 1];
            pixels[i + 2] = rgba[j + 2];
        }
        return image with { Pixels = pixels };
    }
}
