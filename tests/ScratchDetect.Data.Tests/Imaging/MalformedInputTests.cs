using System.Buffers.Binary;
using System.Diagnostics;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Imaging.Png;
using Xunit.Abstractions;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>Broken, truncated, forged and unsupported files: each must end in an ImageDecodeException naming the file and the problem.</summary>
public sealed class MalformedInputTests(ITestOutputHelper output)
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(TestImages.Fixture(name));

    private static ImageDecodeException Refuses(byte[] data, string expectedProblem)
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadRgb(data, "broken.img"));
        Assert.Equal("broken.img", error.FilePath);
        Assert.StartsWith("broken.img: ", error.Message);
        Assert.Contains(expectedProblem, error.Message);
        return error;
    }

    /// <summary>Index of the first occurrence of marker 0xFF <paramref name="marker"/> in a JPEG.</summary>
    private static int MarkerAt(byte[] jpeg, byte marker)
    {
        for (int i = 0; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
        throw new InvalidOperationException($"no marker {marker:X2}");
    }

    [Fact]
    public void EmptyAndUnknownData()
    {
        Refuses([], "neither a JPEG nor a PNG");
        Refuses("GIF89a"u8.ToArray(), "neither a JPEG nor a PNG");
        Refuses([0xFF, 0xD8], "truncated");
    }

    [Fact]
    public void FileErrorsNameThePath()
    {
        using var folder = new TempDir();
        string path = folder.File("truncated.jpg");
        File.WriteAllBytes(path, Fixture("baseline_420_q90.jpg")[..5000]);
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadRgb(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains("truncated", error.Message);
    }

    [Theory]
    [InlineData("baseline_420_q90.jpg")]
    [InlineData("progressive_420.jpg")]
    [InlineData("restart_markers.jpg")]
    [InlineData("png_rgb8.png")]
    public void TruncatedFiles(string name)
    {
        var data = Fixture(name);
        // In the headers, just after them, in the middle of the data, and just before the end.
        foreach (int length in new[] { 10, 40, 700, data.Length / 2, data.Length - 2 })
            Refuses(data[..length], "truncated");
    }

    [Fact]
    public void CorruptHuffmanData()
    {
        var jpeg = Fixture("baseline_420_q90.jpg");
        int sos = MarkerAt(jpeg, 0xDA);
        int dataStart = sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(sos + 2));
        // 0xFF 0x00 is a stuffed 0xFF: a run of 1-bits, which no Huffman code is (T.81 C reserves all-ones).
        for (int i = dataStart + 100; i + 1 < dataStart + 300; i += 2)
            (jpeg[i], jpeg[i + 1]) = (0xFF, 0x00);
        Refuses(jpeg, "corrupt Huffman");
    }

    [Fact]
    public void WrongAndMissingMarkers()
    {
        var jpeg = Fixture("baseline_420_q90.jpg");
        var noFrame = (byte[])jpeg.Clone();
        noFrame[MarkerAt(jpeg, 0xC0) + 1] = 0xE5; // SOF0 turned into an APP5 segment
        Refuses(noFrame, "before the frame header");

        var noRestart = Fixture("restart_markers.jpg");
        int rst = MarkerAt(noRestart, 0xD0);
        noRestart[rst + 1] = 0xFE; // RST0 turned into a COM marker
        Refuses(noRestart, "restart marker");
    }

    [Theory]
    [InlineData(0xC3, "lossless JPEG is not supported")]
    [InlineData(0xC9, "arithmetic-coded JPEG is not supported")]
    [InlineData(0xC5, "hierarchical (differential) JPEG is not supported")]
    public void UnsupportedProcesses(byte sof, string problem)
    {
        var jpeg = Fixture("baseline_420_q90.jpg");
        jpeg[MarkerAt(jpeg, 0xC0) + 1] = sof;
        Refuses(jpeg, problem);
    }

    [Fact]
    public void TwelveBitIsRefused()
    {
        var jpeg = Fixture("baseline_420_q90.jpg");
        jpeg[MarkerAt(jpeg, 0xC0) + 4] = 12; // the precision byte of SOF0
        Refuses(jpeg, "12-bit JPEG is not supported");
    }

    [Fact]
    public void AbsurdJpegDimensionsAllocateNothingLarge()
    {
        var jpeg = Fixture("baseline_420_q90.jpg");
        int sof = MarkerAt(jpeg, 0xC0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        // 65535 x 65535 (4.3 Gpixel) is beyond the pixel limit; 16000 x 16000 is within it but far
        // more blocks than 35 KB of data can code.
        foreach (var (width, height, problem) in new[] { (65535, 65535, "exceeds the limit"), (16000, 16000, "more than a 35042-byte file can encode") })
        {
            BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
            BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
            Refuses(jpeg, problem);
        }
        // Bound: a few copies of the 35 KB input and exception objects, nothing image-sized. This
        // bounds the work too (decoding even one MCU row of a 16000-wide image would allocate more),
        // without a wall-clock limit that a loaded machine breaks.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4_000_000, "refusing the header allocated megabytes");
    }

    /// <summary>Rewrites the CRC of every chunk, so a test can change a PNG's content without tripping the CRC check.</summary>
    private static void FixPngCrcs(byte[] png)
    {
        for (int position = 8; position + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            if (position + 12 + length > png.Length) return;
            var crc = Crc32.Compute(png.AsSpan(position + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(position + 8 + (int)length), crc);
            position += 12 + (int)length;
        }
    }

    [Fact]
    public void AbsurdPngDimensionsAllocateNothingLarge()
    {
        var png = Fixture("png_palette.png");
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var (width, height, problem) in new[] { (100000, 100000, "exceeds the limit"), (16384, 16384, "more than") })
        {
            BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width); // IHDR data starts at byte 16
            BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
            FixPngCrcs(png);
            Refuses(png, problem);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4_000_000, "refusing the header allocated megabytes");
    }

    [Fact]
    public void PngCrcMismatch()
    {
        var png = Fixture("png_gray8.png");
        png[40] ^= 0x10; // inside the first IDAT
        Refuses(png, "CRC mismatch");
    }

    [Fact]
    public void PngBadZlibData()
    {
        var png = Fixture("png_rgb8.png");
        int idat = png.AsSpan().IndexOf("IDAT"u8);
        png.AsSpan(idat + 10, 64).Fill(0xAB); // garbage in the deflate stream
        FixPngCrcs(png);
        Assert.Throws<ImageDecodeException>(() => ImageIO.ReadRgb(png, "broken.img"));
    }

    /// <summary>
    /// Seeded random damage to small images: bit flips, truncation, inserted and deleted bytes,
    /// and (for PNG) content changes with repaired CRCs so the damage reaches the inflater and the
    /// filters. Every case must decode or throw ImageDecodeException; nothing else may escape.
    /// </summary>
    [Fact]
    public void RandomDamageOnlyEverThrowsImageDecodeException()
    {
        var photo = TestImages.ReadPnm(TestImages.Fixture("baseline_444.ref.pnm"));
        var crop = JpegVariantTests.Crop(photo, 200, 100, 61, 45);
        var sources = new List<(string Name, byte[] Data)>
        {
            ("grayscale.jpg", Fixture("grayscale.jpg")),
            ("progressive_420.jpg", Fixture("progressive_420.jpg")),
            ("gray_progressive.jpg", Fixture("gray_progressive.jpg")),
            ("restart_markers.jpg", Fixture("restart_markers.jpg")),
            ("optimized_q75.jpg", Fixture("optimized_q75.jpg")),
            ("png_gray8.png", Fixture("png_gray8.png")),
            ("png_palette.png", Fixture("png_palette.png")),
            ("png_palette_tiny.png", Fixture("png_palette_tiny.png")),
            // Small crops, encoded by our encoders: inputs only, quick to decode.
            ("crop_420.jpg", JpegEncoder.Encode(crop, 80)),
            ("crop_444.jpg", JpegEncoder.Encode(crop, 95, subsample420: false)),
            ("crop.png", PngEncoder.Encode(crop)),
        };

        var random = new Random(20240601);
        const int casesPerSource = 400;
        int decoded = 0, refused = 0;
        var watch = Stopwatch.StartNew();
        foreach (var (name, original) in sources)
        {
            for (int i = 0; i < casesPerSource; i++)
            {
                var (damaged, damage) = Damage(original, name.EndsWith(".png", StringComparison.Ordinal), random);
                string label = $"{name} #{i} ({damage})";
                try
                {
                    var image = ImageIO.ReadRgb(damaged, label);
                    Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
                    decoded++;
                }
                catch (ImageDecodeException e)
                {
                    Assert.Equal(label, e.FilePath);
                    refused++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{label}: {e.GetType().Name} escaped: {e}");
                }
            }
        }
        output.WriteLine($"{sources.Count * casesPerSource} damaged files: {decoded} decoded, {refused} refused, {watch.Elapsed.TotalSeconds:F1} s");
    }

    private static (byte[] Data, string Damage) Damage(byte[] original, bool isPng, Random random)
    {
        // Half of the damage lands in the first 600 bytes, where the headers are.
        int Position(int length) => random.Next(2) == 0 ? random.Next(Math.Min(length, 600)) : random.Next(length);
        var data = (byte[])original.Clone();
        int kind = random.Next(isPng ? ByteDamage.Kinds + 1 : ByteDamage.Kinds);
        if (kind < ByteDamage.Kinds) return ByteDamage.Apply(kind, data, random, Position, maxFlips: 4);
        // PNG only: changed bytes behind repaired CRCs, so the damage reaches the decoder past its checksums.
        int changes = random.Next(1, 4);
        for (int c = 0; c < changes; c++) data[8 + random.Next(data.Length - 8)] = (byte)random.Next(256);
        FixPngCrcs(data);
        return (data, $"{changes} bytes changed, CRCs repaired");
    }
}
