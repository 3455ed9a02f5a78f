using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ScratchDetect.Data.Imaging.Png;

/// <summary>
/// Decodes PNG (ISO/IEC 15948) to 8-bit RGB: all colour types and bit depths, Adam7 interlacing,
/// every chunk's CRC checked. Like PIL's convert("RGB"): samples of 1, 2 and 4 bits are scaled to
/// 0..255, 16-bit samples keep their high byte, alpha and tRNS transparency are dropped (not
/// composited), and palette indices map through PLTE.
/// </summary>
internal static class PngDecoder
{
    private enum ColorType { Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6 }

    private sealed record Header(int Width, int Height, int BitDepth, ColorType ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch { ColorType.Rgb => 3, ColorType.GrayAlpha => 2, ColorType.Rgba => 4, _ => 1 };
        public int BitsPerPixel => Channels * BitDepth;

        /// <summary>The "bpp" of the filters: bytes per complete pixel, at least 1.</summary>
        public int FilterStep => Math.Max(1, BitsPerPixel / 8);

        public int RowBytes(int width) => (int)(((long)width * BitsPerPixel + 7) / 8);
    }

    /// <summary>One Adam7 pass (or the whole image when not interlaced): its first pixel and spacing.</summary>
    private readonly record struct Pass(int X0, int Y0, int DX, int DY);

    private static readonly Pass[] Adam7 =
        [new(0, 0, 8, 8), new(4, 0, 8, 8), new(0, 4, 4, 8), new(2, 0, 4, 4), new(0, 2, 2, 4), new(1, 0, 2, 2), new(0, 1, 1, 2)];

    private static readonly Pass[] Sequential = [new(0, 0, 1, 1)];

    /// <summary>Deflate cannot expand data by more than about 1032:1, which bounds what the IDAT chunks can hold.</summary>
    private const long MaxDeflateRatio = 1032;

    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>True when <paramref name="data"/> starts with the PNG signature.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>Decodes a whole PNG file.</summary>
    public static RgbImage Decode(byte[] data)
    {
        if (!HasSignature(data))
            throw new InvalidDataException("not a PNG file (bad signature)");
        Header? header = null;
        byte[]? palette = null;
        var compressed = new MemoryStream();
        bool idatDone = false;
        int position = Signature.Length;
        while (true)
        {
            if (position + 12 > data.Length)
                throw new InvalidDataException("file ends before the IEND chunk (truncated)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            if (length > int.MaxValue || position + 12L + length > data.Length)
                throw new InvalidDataException($"chunk at byte {position} claims {length} bytes, beyond the end of the file (truncated)");
            var typeAndBody = data.AsSpan(position + 4, 4 + (int)length);
            string type = Encoding.ASCII.GetString(typeAndBody[..4]);
            var body = typeAndBody[4..];
            if (Crc32.Compute(typeAndBody) != BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position + 8 + (int)length)))
                throw new InvalidDataException($"CRC mismatch in the {type} chunk at byte {position} (corrupt)");
            position += 12 + (int)length;

            if (header is null && type != "IHDR")
                throw new InvalidDataException("the first chunk is not IHDR");
            if (compressed.Length > 0 && type != "IDAT")
                idatDone = true;
            switch (type)
            {
                case "IHDR":
                    if (header is not null) throw new InvalidDataException("more than one IHDR chunk");
                    header = ReadHeader(body);
                    break;
                case "PLTE":
                    if (body.Length % 3 != 0 || body.Length > 256 * 3)
                        throw new InvalidDataException($"PLTE chunk of {body.Length} bytes is not 1..256 RGB entries");
                    palette = body.ToArray();
                    break;
                case "IDAT":
                    if (idatDone) throw new InvalidDataException("IDAT chunks are not consecutive");
                    compressed.Write(body);
                    break;
                case "IEND":
                    if (compressed.Length == 0) throw new InvalidDataException("no IDAT chunk (no image data)");
                    if (header!.ColorType == ColorType.Palette && palette is null)
                        throw new InvalidDataException("palette image without a PLTE chunk");
                    return DecodeImage(header, palette, compressed);
                default:
                    // Bit 5 of the first letter marks ancillary chunks (tRNS, gAMA, text, ...), safe to skip.
                    if ((typeAndBody[0] & 0x20) == 0)
                        throw new NotSupportedException($"unknown critical PNG chunk '{type}' is not supported");
                    break;
            }
        }
    }

    private static Header ReadHeader(ReadOnlySpan<byte> body)
    {
        if (body.Length != 13)
            throw new InvalidDataException("IHDR chunk is not 13 bytes");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(body), height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        ImageLimits.CheckPixelCount(width, height);
        int bitDepth = body[8];
        var colorType = (ColorType)body[9];
        bool depthAllowed = colorType switch
        {
            ColorType.Gray => bitDepth is 1 or 2 or 4 or 8 or 16,
            ColorType.Palette => bitDepth is 1 or 2 or 4 or 8,
            ColorType.Rgb or ColorType.GrayAlpha or ColorType.Rgba => bitDepth is 8 or 16,
            _ => false,
        };
        if (!depthAllowed)
            throw new InvalidDataException($"invalid colour type {body[9]} with bit depth {bitDepth}");
        if (body[10] != 0 || body[11] != 0 || body[12] > 1)
            throw new InvalidDataException("unknown compression, filter or interlace method");
        return new Header((int)width, (int)height, bitDepth, colorType, body[12] == 1);
    }

    private static RgbImage DecodeImage(Header header, byte[]? palette, MemoryStream compressed)
    {
        var passes = header.Interlaced ? Adam7 : Sequential;
        long rawSize = 0;
        foreach (var pass in passes)
        {
            var (width, height) = PassSize(header, pass);
            if (width > 0 && height > 0)
                rawSize += (long)height * (1 + header.RowBytes(width));
        }
        if (rawSize > compressed.Length * MaxDeflateRatio + 1024 || rawSize > int.MaxValue)
            throw new InvalidDataException($"header claims {header.Width}x{header.Height} pixels, more than {compressed.Length} bytes of compressed data can hold");

        var raw = new byte[rawSize];
        compressed.Position = 0;
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress))
        {
            // Read exactly the bytes the image needs: this is also the decompression size limit.
            if (zlib.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) < raw.Length)
                throw new InvalidDataException("compressed image data ends early (truncated)");
        }

        var pixels = new byte[header.Width * header.Height * 3];
        int offset = 0;
        foreach (var pass in passes)
        {
            var (width, height) = PassSize(header, pass);
            if (width == 0 || height == 0) continue;
            int rowBytes = header.RowBytes(width);
            ReadOnlySpan<byte> prior = new byte[rowBytes]; // the row above the first is all zeros
            for (int y = 0; y < height; y++)
            {
                var row = raw.AsSpan(offset + 1, rowBytes);
                PngFilters.Unfilter(raw[offset], row, prior, header.FilterStep);
                int firstPixel = ((pass.Y0 + y * pass.DY) * header.Width + pass.X0) * 3;
                ExpandRow(header, palette, row, width, pixels.AsSpan(firstPixel), pass.DX * 3);
                prior = row;
                offset += 1 + rowBytes;
            }
        }
        return new RgbImage(header.Width, header.Height, pixels);
    }

    private static (int Width, int Height) PassSize(Header header, Pass pass) =>
        ((header.Width - pass.X0 + pass.DX - 1) / pass.DX, (header.Height - pass.Y0 + pass.DY - 1) / pass.DY);

    /// <summary>
    /// Converts the <paramref name="count"/> pixels of an unfiltered row to RGB, writing pixel i at
    /// <paramref name="output"/>[i * <paramref name="step"/>].
    /// </summary>
    private static void ExpandRow(Header header, byte[]? palette, ReadOnlySpan<byte> row, int count, Span<byte> output, int step)
    {
        int depth = header.BitDepth;
        // Scales a 1, 2 or 4-bit gray sample to 0..255: 255, 85 and 17 per step, as PIL does.
        int grayScale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
        for (int i = 0; i < count; i++)
        {
            var target = output.Slice(i * step, 3);
            switch (header.ColorType)
            {
                case ColorType.Gray or ColorType.GrayAlpha:
                    target.Fill((byte)(Sample(row, i * header.Channels, depth) * grayScale));
                    break;
                case ColorType.Rgb or ColorType.Rgba:
                    for (int channel = 0; channel < 3; channel++)
                        target[channel] = (byte)Sample(row, i * header.Channels + channel, depth);
                    break;
                default:
                    // Indices past the end of PLTE are invalid; they come out black instead of failing.
                    int index = Sample(row, i, depth) * 3;
                    if (index + 3 <= palette!.Length) palette.AsSpan(index, 3).CopyTo(target);
                    else target.Clear();
                    break;
            }
        }
    }

    /// <summary>Sample <paramref name="index"/> of a row: packed big-endian bits below 8-bit depth, the high byte at 16 bits.</summary>
    private static int Sample(ReadOnlySpan<byte> row, int index, int depth)
    {
        switch (depth)
        {
            case 8: return row[index];
            case 16: return row[2 * index];
            default:
                int bit = index * depth;
                return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
        }
    }
}
