using System.Buffers.Binary;
using System.IO.Compression;
using ScratchDetect.Data.Imaging.Png;

namespace ScratchDetect.Data.Imaging;

/// <summary>Writes 8-bit RGB PNG files (colour type 2, not interlaced), for visualisations and test data.</summary>
public static class PngEncoder
{
    /// <summary>Encodes <paramref name="image"/> as a PNG file.</summary>
    /// <param name="image">The pixels to write; width and height 1..2^31-1.</param>
    /// <returns>The bytes of the PNG file.</returns>
    /// <exception cref="ArgumentException">The image is empty or its pixel array does not match its size.</exception>
    public static byte[] Encode(RgbImage image)
    {
        ImageLimits.CheckEncodable(image, int.MaxValue, nameof(image));
        var output = new MemoryStream();
        output.Write([137, 80, 78, 71, 13, 10, 26, 10]);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: RGB
        // Compression, filter and interlace methods 0: deflate, adaptive filtering, none.
        WriteChunk(output, "IHDR"u8, header);
        WriteChunk(output, "IDAT"u8, CompressRows(image));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>
    /// Filters each row with the filter that minimises the sum of absolute (signed) differences,
    /// the heuristic the PNG specification recommends (section 12.8), and deflates the result.
    /// </summary>
    private static byte[] CompressRows(RgbImage image)
    {
        const int bytesPerPixel = 3;
        int rowBytes = image.Width * bytesPerPixel;
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var candidates = new byte[PngFilters.Count][];
            for (int type = 0; type < PngFilters.Count; type++) candidates[type] = new byte[rowBytes];
            ReadOnlySpan<byte> prior = new byte[rowBytes];
            for (int y = 0; y < image.Height; y++)
            {
                var row = image.Pixels.AsSpan(y * rowBytes, rowBytes);
                int best = 0;
                long bestCost = long.MaxValue;
                for (int type = 0; type < PngFilters.Count; type++)
                {
                    PngFilters.Filter(type, row, prior, bytesPerPixel, candidates[type]);
                    long cost = 0;
                    foreach (byte b in candidates[type]) cost += Math.Abs((int)(sbyte)b);
                    if (cost < bestCost) (best, bestCost) = (type, cost);
                }
                zlib.WriteByte((byte)best);
                zlib.Write(candidates[best]);
                prior = row;
            }
        }
        return compressed.ToArray();
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var typeAndBody = new byte[4 + body.Length];
        type.CopyTo(typeAndBody);
        body.CopyTo(typeAndBody.AsSpan(4));
        output.Write(typeAndBody);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typeAndBody));
        output.Write(word);
    }
}
