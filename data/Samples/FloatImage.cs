using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Data.Samples;

/// <summary>A 3-channel float image stored row-major, height x width x 3 (HWC), as the augmentations work on it.</summary>
public sealed class FloatImage
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width * Height * 3 values: channel c of pixel (x, y) is at (y * Width + x) * 3 + c.</summary>
    public float[] Data { get; }

    /// <summary>Wraps <paramref name="data"/>, which must hold <paramref name="width"/> * <paramref name="height"/> * 3 values.</summary>
    public FloatImage(int width, int height, float[] data)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is empty");
        if (data.Length != width * height * 3)
            throw new ArgumentException($"expected {width * height * 3} values for {width}x{height}x3, got {data.Length}", nameof(data));
        Width = width;
        Height = height;
        Data = data;
    }

    /// <summary>An image of the given size filled with zeros.</summary>
    public FloatImage(int width, int height) : this(width, height, new float[width * height * 3]) { }

    /// <summary>Converts 8-bit RGB to float, multiplying every value by <paramref name="scale"/> (1 keeps 0..255).</summary>
    public static FloatImage FromRgb(RgbImage image, float scale = 1f)
    {
        var data = new float[image.Pixels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = image.Pixels[i] * scale;
        return new FloatImage(image.Width, image.Height, data);
    }
}
