using ScratchDetect.Data.Imaging.Jpeg;
using ScratchDetect.Data.Imaging.Png;

namespace ScratchDetect.Data.Imaging;

/// <summary>
/// Reads JPEG and PNG files into 8-bit RGB, recognising the format by its signature rather than
/// the file name. JPEG: 8-bit baseline, extended-sequential and progressive Huffman, grayscale,
/// YCbCr or RGB, any integer sampling ratio, restart markers; decoded like libjpeg-turbo's djpeg
/// (accurate integer IDCT, fancy upsampling). PNG: every colour type and bit depth, interlaced or
/// not; 16-bit samples keep their high byte; alpha is dropped, not composited.
/// </summary>
public static class ImageIO
{
    /// <summary>Reads and decodes the image file at <paramref name="path"/>.</summary>
    /// <param name="path">A JPEG or PNG file.</param>
    /// <param name="applyExifOrientation">Turn JPEGs upright by their EXIF orientation tag, as image viewers do.</param>
    /// <exception cref="ImageDecodeException">The file is not a JPEG or PNG, is malformed or truncated, or uses an unsupported variant.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static RgbImage ReadRgb(string path, bool applyExifOrientation = true) =>
        Decode(File.ReadAllBytes(path), path, applyExifOrientation);

    /// <summary>Decodes an image held in memory.</summary>
    /// <param name="data">The bytes of a JPEG or PNG file.</param>
    /// <param name="name">A name for the data (such as its file name) used in error messages, or null.</param>
    /// <param name="applyExifOrientation">Turn JPEGs upright by their EXIF orientation tag, as image viewers do.</param>
    /// <exception cref="ImageDecodeException">The data is not a JPEG or PNG, is malformed or truncated, or uses an unsupported variant.</exception>
    public static RgbImage ReadRgb(ReadOnlySpan<byte> data, string? name = null, bool applyExifOrientation = true) =>
        Decode(data.ToArray(), name, applyExifOrientation);

    /// <summary>
    /// The EXIF orientation of a JPEG (1..8, see the EXIF specification; 6 means the stored image
    /// must be rotated 90 degrees clockwise to show upright), or 1 when it has none or is a PNG.
    /// Reads only the headers.
    /// </summary>
    /// <exception cref="ImageDecodeException">The data is not a JPEG or PNG, or its headers are malformed.</exception>
    public static int ReadExifOrientation(ReadOnlySpan<byte> data, string? name = null)
    {
        var bytes = data.ToArray();
        return Guard(name, () => JpegDecoder.HasSignature(bytes) ? JpegDecoder.ReadExifOrientation(bytes)
            : PngDecoder.HasSignature(bytes) ? ExifOrientation.Normal
            : throw UnknownFormat());
    }

    private static RgbImage Decode(byte[] data, string? name, bool applyExifOrientation) => Guard(name, () =>
    {
        if (JpegDecoder.HasSignature(data))
        {
            var (image, orientation) = JpegDecoder.Decode(data);
            return applyExifOrientation ? ExifOrientation.Apply(image, orientation) : image;
        }
        if (PngDecoder.HasSignature(data))
            return PngDecoder.Decode(data);
        throw UnknownFormat();
    });

    private static InvalidDataException UnknownFormat() => new("neither a JPEG nor a PNG file (unknown signature)");

    /// <summary>Runs a decoder and reports its InvalidData and NotSupported errors as <see cref="ImageDecodeException"/> naming the file.</summary>
    private static T Guard<T>(string? name, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new ImageDecodeException(name, e.Message, e);
        }
    }
}
