using ScratchDetect.Data.Imaging;
using Xunit.Abstractions;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>Our JPEG and PNG encoders, checked with the reference decoders (djpeg, PIL).</summary>
public sealed class EncoderTests(ITestOutputHelper output)
{
    /// <summary>A real photograph (the 444 fixture's reference decode) as encoder input.</summary>
    private static RgbImage Photo() => TestImages.ReadPnm(TestImages.Fixture("baseline_444.ref.pnm"));

    [RequiresToolsFact("djpeg")]
    public void JpegOutputDecodesWithDjpegCloseToTheInput()
    {
        using var temp = new TempFolder();
        var photo = Photo();
        // Minimum PSNR against the input, measured on djpeg's decode. cjpeg -quality 90 reaches
        // 45.96 dB on this photo with -sample 1x1 and 41.55 dB with 2x2 (measured with libjpeg-turbo
        // 2.1.5); we require no more than 1.5 dB below that, room for our float DCT and 2x2 averaging.
        foreach (var (subsample, minimumPsnr) in new[] { (false, 44.4), (true, 40.0) })
        {
            string path = temp.File($"ours_{(subsample ? "420" : "444")}.jpg");
            File.WriteAllBytes(path, JpegEncoder.Encode(photo, quality: 90, subsample420: subsample));
            var djpeg = TestImages.DjpegDecode(path, temp.Path);
            double psnr = ImageDifference.Psnr(djpeg, photo);
            output.WriteLine($"4:{(subsample ? "2:0" : "4:4")} q90: {new FileInfo(path).Length} bytes, PSNR {psnr:F2} dB");
            Assert.True(psnr >= minimumPsnr, $"PSNR {psnr:F2} dB < {minimumPsnr} dB");

            // Our decoder reads our file the way djpeg does.
            ImageDifference.Between(ImageIO.ReadRgb(path), djpeg).AssertWithinJpegTolerance(path);
        }
    }

    [RequiresToolsFact("djpeg")]
    public void JpegQualityTradesSizeForFidelity()
    {
        using var temp = new TempFolder();
        var photo = Photo();
        long previousSize = 0;
        double previousPsnr = 0;
        foreach (int quality in new[] { 1, 25, 50, 75, 100 })
        {
            string path = temp.File($"q{quality}.jpg");
            File.WriteAllBytes(path, JpegEncoder.Encode(photo, quality));
            long size = new FileInfo(path).Length;
            double psnr = ImageDifference.Psnr(TestImages.DjpegDecode(path, temp.Path), photo);
            output.WriteLine($"q{quality}: {size} bytes, PSNR {psnr:F2} dB");
            Assert.True(size > previousSize && psnr > previousPsnr, $"q{quality} is not larger and better than the quality before");
            (previousSize, previousPsnr) = (size, psnr);
        }
    }

    [Fact]
    public void QuantTablesMatchCjpegs()
    {
        // cjpeg -quality 90 wrote baseline_420_q90.jpg: its DQT holds libjpeg's scaled tables.
        var tables = ReadQuantTables(File.ReadAllBytes(TestImages.Fixture("baseline_420_q90.jpg")));
        Assert.Equal(tables[0], JpegEncoder.ScaleQuantTable(ScratchDetect.Data.Imaging.Jpeg.JpegTables.StandardLuminanceQuant, 90));
        Assert.Equal(tables[1], JpegEncoder.ScaleQuantTable(ScratchDetect.Data.Imaging.Jpeg.JpegTables.StandardChrominanceQuant, 90));
    }

    /// <summary>The 8-bit DQT tables of a JPEG file, converted from zig-zag to natural order.</summary>
    private static Dictionary<int, byte[]> ReadQuantTables(byte[] jpeg)
    {
        var tables = new Dictionary<int, byte[]>();
        for (int i = 2; jpeg[i + 1] != 0xDA; i += 2 + (jpeg[i + 2] << 8 | jpeg[i + 3]))
        {
            if (jpeg[i + 1] != 0xDB) continue;
            int end = i + 2 + (jpeg[i + 2] << 8 | jpeg[i + 3]);
            for (int t = i + 4; t < end; t += 65)
            {
                var natural = new byte[64];
                for (int k = 0; k < 64; k++) natural[ScratchDetect.Data.Imaging.Jpeg.JpegTables.ZigZagToNatural[k]] = jpeg[t + 1 + k];
                tables[jpeg[t] & 15] = natural;
            }
        }
        return tables;
    }

    [RequiresToolsFact("pil")]
    public void PngOutputDecodesWithPilExactly()
    {
        using var temp = new TempFolder();
        // An odd size so that the filters meet partial pixels at the row ends.
        var photo = Photo();
        var crop = new RgbImage(101, 37, new byte[101 * 37 * 3]);
        for (int y = 0; y < crop.Height; y++)
            photo.Pixels.AsSpan((y * photo.Width + 50) * 3, crop.Width * 3).CopyTo(crop.Pixels.AsSpan(y * crop.Width * 3));
        string png = temp.File("ours.png"), ppm = temp.File("pil.ppm");
        File.WriteAllBytes(png, PngEncoder.Encode(crop));
        TestImages.RunPython("import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])", png, ppm);
        Assert.Equal(crop.Pixels, TestImages.ReadPnm(ppm).Pixels); // lossless: exactly the input
        Assert.Equal(crop.Pixels, ImageIO.ReadRgb(png).Pixels);
    }

    [Fact]
    public void EncodersRejectInconsistentImages()
    {
        var wrongLength = new RgbImage(4, 4, new byte[10]);
        Assert.Throws<ArgumentException>(() => JpegEncoder.Encode(wrongLength));
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(wrongLength));
        Assert.Throws<ArgumentException>(() => JpegEncoder.Encode(new RgbImage(70000, 1, new byte[70000 * 3])));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(new RgbImage(1, 1, new byte[3]), quality: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(new RgbImage(1, 1, new byte[3]), quality: 101));
    }
}
