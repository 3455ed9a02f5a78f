using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>
/// PNG variants written at test time by Tools/png_variant.py (every colour type and bit depth,
/// Adam7, tRNS, all five filters, split IDAT) and compared exactly with PIL's decode of the file.
/// </summary>
public sealed class PngVariantTests
{
    public static TheoryData<int, int, bool, bool, int, int> Variants()
    {
        var data = new TheoryData<int, int, bool, bool, int, int>();
        var depths = new Dictionary<int, int[]>
        {
            [0] = [1, 2, 4, 8, 16], // gray
            [2] = [8, 16],          // RGB
            [3] = [1, 2, 4, 8],     // palette
            [4] = [8, 16],          // gray + alpha
            [6] = [8, 16],          // RGBA
        };
        foreach (var (colorType, allowed) in depths)
            foreach (int depth in allowed)
                foreach (bool interlaced in new[] { false, true })
                {
                    data.Add(colorType, depth, interlaced, false, 37, 23);
                    if (colorType is 0 or 2 or 3) data.Add(colorType, depth, interlaced, true, 37, 23);
                }
        // Images smaller than an Adam7 tile leave passes empty.
        data.Add(2, 8, true, false, 1, 1);
        data.Add(3, 2, true, false, 3, 2);
        data.Add(0, 1, true, false, 5, 9);
        return data;
    }

    [RequiresToolsTheory("pil")]
    [MemberData(nameof(Variants))]
    public void DecodesLikePil(int colorType, int depth, bool interlaced, bool transparency, int width, int height)
    {
        using var temp = new TempFolder();
        string source = temp.File("source.ppm"), png = temp.File("variant.png"), reference = temp.File("pil.ppm");
        var photo = TestImages.ReadPnm(TestImages.Fixture("baseline_444.ref.pnm"));
        TestImages.WritePpm(source, JpegVariantTests.Crop(photo, 120, 90, width, height));
        string script = Path.Combine(TestImages.RepositoryRoot, "tests", "ScratchDetect.Data.Tests", "Imaging", "Tools", "png_variant.py");
        TestImages.Run(TestImages.Python, script, source, colorType.ToString(), depth.ToString(),
            interlaced ? "1" : "0", transparency ? "1" : "0", png, reference);

        var expected = TestImages.ReadPnm(reference);
        var actual = ImageIO.ReadRgb(png);
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        Assert.Equal(expected.Pixels, actual.Pixels); // lossless: exactly PIL's pixels
    }
}
