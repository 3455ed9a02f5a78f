using ScratchDetect.Data.Imaging;
using Xunit.Abstractions;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>
/// JPEG variants made at test time with libjpeg-turbo's cjpeg from a fixture photo and compared
/// with djpeg's decode of the same file: sampling factors, restart intervals, progressive and
/// sizes the fixtures do not cover.
/// </summary>
public sealed class JpegVariantTests(ITestOutputHelper output)
{
    /// <summary>A 451x300 photo; the crop below keeps sizes odd so edge handling is exercised.</summary>
    private static readonly Lazy<RgbImage> Photo = new(() => TestImages.ReadPnm(TestImages.Fixture("baseline_444.ref.pnm")));

    internal static RgbImage Crop(RgbImage image, int x, int y, int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int row = 0; row < height; row++)
            image.Pixels.AsSpan(((y + row) * image.Width + x) * 3, width * 3).CopyTo(pixels.AsSpan(row * width * 3));
        return new RgbImage(width, height, pixels);
    }

    public static TheoryData<string, int, int> Variants() => new()
    {
        // cjpeg options, crop width, crop height
        { "-sample 4x1", 203, 77 },                    // 4:1:1: chroma replicated 4x horizontally
        { "-sample 1x2", 203, 77 },                    // 4:4:0: h1v2 fancy upsampling
        { "-sample 4x2", 203, 77 },                    // 4:1:0 (10 blocks per MCU, the maximum)
        { "-sample 2x4", 131, 69 },                    // chroma replicated 2x4
        { "-sample 1x4", 131, 69 },
        { "-sample 3x1", 203, 77 },                    // factor 3: pixel replication
        { "-sample 3x2", 203, 77 },
        { "-sample 2x1,1x2,1x1", 203, 77 },            // each component its own ratio (h2v1, h2v2, ...)
        { "-sample 1x1,2x2,1x1", 203, 77 },            // chroma sampled finer than luma
        { "-sample 2x2", 3, 3 },                       // chroma 2 samples wide: plain replication, no triangle
        { "-sample 2x2", 1, 1 },
        { "-sample 2x1", 4, 9 },
        { "-sample 2x2", 17, 9 },
        { "-sample 1x1", 9, 17 },
        { "-progressive -restart 1", 203, 77 },        // restart every MCU row, progressive
        { "-progressive -restart 3B", 203, 77 },       // restart every 3 MCUs, progressive (EOB runs cut)
        { "-progressive -sample 1x2 -restart 2B", 131, 69 },
        { "-progressive -optimize -sample 4x1", 131, 69 },
        { "-restart 1B", 131, 69 },                    // baseline, a restart after every MCU
        { "-grayscale -restart 2B", 131, 69 },         // non-interleaved single component with restarts
        { "-grayscale -progressive -restart 1", 131, 69 },
        { "-optimize -quality 100", 131, 69 },         // large coefficients, long codes
        { "-quality 5", 131, 69 },
        { "-rgb", 131, 69 },                           // RGB components with an Adobe marker (transform 0)
        { "-rgb -progressive", 131, 69 },
        { "-sample 2x2 -smooth 50", 451, 300 },        // the full photo
    };

    [RequiresToolsTheory("cjpeg", "djpeg")]
    [MemberData(nameof(Variants))]
    public void DecodesLikeDjpeg(string options, int width, int height)
    {
        using var temp = new TempFolder();
        string ppm = temp.File("source.ppm"), jpeg = temp.File("variant.jpg");
        var photo = Photo.Value;
        TestImages.WritePpm(ppm, Crop(photo, Math.Min(101, photo.Width - width), Math.Min(87, photo.Height - height), width, height));
        TestImages.Run("cjpeg", [.. options.Split(' '), "-outfile", jpeg, ppm]);

        var expected = TestImages.DjpegDecode(jpeg, temp.Path);
        var difference = ImageDifference.Between(ImageIO.ReadRgb(jpeg), expected);
        output.WriteLine($"cjpeg {options} ({width}x{height}): {difference}");
        difference.AssertWithinJpegTolerance(options);
    }

    [RequiresToolsFact("cjpeg")]
    public void RefusesArithmeticCoding()
    {
        using var temp = new TempFolder();
        string ppm = temp.File("source.ppm"), jpeg = temp.File("arithmetic.jpg");
        TestImages.WritePpm(ppm, Crop(Photo.Value, 0, 0, 32, 32));
        TestImages.Run("cjpeg", "-arithmetic", "-outfile", jpeg, ppm);
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadRgb(jpeg));
        Assert.Contains("arithmetic", error.Message);
        Assert.Contains("not supported", error.Message);
        Assert.Equal(jpeg, error.FilePath);
    }

    [RequiresToolsFact("pil")]
    public void RefusesCmyk()
    {
        using var temp = new TempFolder();
        string jpeg = temp.File("cmyk.jpg");
        TestImages.RunPython("import sys; from PIL import Image; Image.new('RGB', (16, 16), (200, 30, 90)).convert('CMYK').save(sys.argv[1])", jpeg);
        var error = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadRgb(jpeg));
        Assert.Contains("CMYK", error.Message);
        Assert.Contains("not supported", error.Message);
    }
}
