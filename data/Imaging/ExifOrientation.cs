using System.Buffers.Binary;

namespace ScratchDetect.Data.Imaging;

/// <summary>
/// The EXIF Orientation tag (0x0112): which way a camera held the sensor. Values 1..8 as in the
/// EXIF 2.3 specification: 1 stored upright, 2 mirrored, 3 rotated 180 degrees, 4 flipped
/// vertically, 5 transposed, 6 to be rotated 90 degrees clockwise, 7 transversed, 8 to be
/// rotated 90 degrees counter-clockwise. Applying it gives what viewers (and PIL's
/// ImageOps.exif_transpose) show.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>The value meaning "stored upright", also used when the tag is absent or unreadable.</summary>
    public const int Normal = 1;

    private const ushort OrientationTag = 0x0112;
    private const ushort ShortType = 3;

    /// <summary>What an APP1 segment holding EXIF starts with.</summary>
    public static ReadOnlySpan<byte> App1Header => "Exif\0\0"u8;

    /// <summary>
    /// Reads the orientation from a TIFF structure (the APP1 payload after <see cref="App1Header"/>).
    /// A malformed structure is not an error for the image: it yields <see cref="Normal"/>.
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return Normal;
        bool littleEndian;
        if (tiff.StartsWith("II"u8)) littleEndian = true;
        else if (tiff.StartsWith("MM"u8)) littleEndian = false;
        else return Normal;

        uint ifdOffset = ReadUInt32(tiff[4..], littleEndian);
        if (ifdOffset > tiff.Length - 2) return Normal;
        var ifd = tiff[(int)ifdOffset..];
        int entries = ReadUInt16(ifd, littleEndian);
        for (int i = 0; i < entries && 2 + 12 * (i + 1) <= ifd.Length; i++)
        {
            var entry = ifd.Slice(2 + 12 * i, 12);
            if (ReadUInt16(entry, littleEndian) != OrientationTag) continue;
            if (ReadUInt16(entry[2..], littleEndian) != ShortType) return Normal;
            int value = ReadUInt16(entry[8..], littleEndian); // a single SHORT sits at the start of the value field
            return value is >= 1 and <= 8 ? value : Normal;
        }
        return Normal;
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> bytes, bool littleEndian) =>
        littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool littleEndian) =>
        littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    /// <summary>Returns <paramref name="image"/> turned upright according to <paramref name="orientation"/>.</summary>
    public static RgbImage Apply(RgbImage image, int orientation)
    {
        if (orientation is < 2 or > 8) return image;
        int width = image.Width, height = image.Height;
        bool swapsAxes = orientation >= 5;
        int outWidth = swapsAxes ? height : width, outHeight = swapsAxes ? width : height;
        var source = image.Pixels;
        var pixels = new byte[source.Length];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // The source pixel that lands at (x, y).
                (int sx, int sy) = orientation switch
                {
                    2 => (width - 1 - x, y),              // mirror left-right
                    3 => (width - 1 - x, height - 1 - y), // rotate 180
                    4 => (x, height - 1 - y),             // mirror top-bottom
                    5 => (y, x),                          // transpose
                    6 => (y, height - 1 - x),             // rotate 90 clockwise
                    7 => (width - 1 - y, height - 1 - x), // transverse
                    _ => (width - 1 - y, x),              // 8: rotate 90 counter-clockwise
                };
                int from = (sy * width + sx) * 3, to = (y * outWidth + x) * 3;
                pixels[to] = source[from];
                pixels[to + 1] = source[from + 1];
                pixels[to + 2] = source[from + 2];
            }
        }
        return new RgbImage(outWidth, outHeight, pixels);
    }
}
