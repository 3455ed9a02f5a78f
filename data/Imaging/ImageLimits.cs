namespace ScratchDetect.Data.Imaging;

/// <summary>Bounds every decoder checks before it allocates, so a forged header cannot exhaust memory.</summary>
internal static class ImageLimits
{
    /// <summary>Largest accepted width * height: 2^28 pixels (768 MiB of RGB), e.g. 16384 x 16384.</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>Throws <see cref="InvalidDataException"/> unless the size is positive and at most <see cref="MaxPixels"/>.</summary>
    public static void CheckPixelCount(long width, long height)
    {
        if (width <= 0 || height <= 0)
            throw new InvalidDataException($"image size {width}x{height} is empty");
        if (width * height > MaxPixels)
            throw new InvalidDataException($"image size {width}x{height} exceeds the limit of {MaxPixels} pixels");
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="image"/> is non-empty and its pixel array matches its size.</summary>
    public static void CheckEncodable(RgbImage image, int maxSide, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(image, parameterName);
        if (image.Width <= 0 || image.Height <= 0 || image.Width > maxSide || image.Height > maxSide)
            throw new ArgumentException($"image size {image.Width}x{image.Height} must be 1..{maxSide} on each side", parameterName);
        if (image.Pixels is null || image.Pixels.LongLength != 3L * image.Width * image.Height)
            throw new ArgumentException($"image has {image.Pixels?.Length ?? 0} pixel bytes, expected {3L * image.Width * image.Height} (width * height * 3)", parameterName);
    }
}
