using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>EXIF orientation: read from APP1 and applied like PIL's ImageOps.exif_transpose.</summary>
public sealed class ExifOrientationTests
{
    public static TheoryData<int, string> Orientations()
    {
        var data = new TheoryData<int, string>();
        for (int orientation = 1; orientation <= 8; orientation++)
        {
            data.Add(orientation, "II");
            data.Add(orientation, "MM");
        }
        return data;
    }

    [RequiresToolsTheory("pil", "djpeg")]
    [MemberData(nameof(Orientations))]
    public void TurnsTheImageUprightLikePil(int orientation, string byteOrder)
    {
        using var temp = new TempFolder();
        string source = temp.File("source.ppm"), jpeg = temp.File("exif.jpg"), upright = temp.File("upright.ppm");
        // Not square, so a rotation that swaps the axes shows in the size.
        var photo = TestImages.ReadPnm(TestImages.Fixture("baseline_444.ref.pnm"));
        TestImages.WritePpm(source, JpegVariantTests.Crop(photo, 40, 30, 61, 37));
        string script = Path.Combine(TestImages.RepositoryRoot, "tests", "ScratchDetect.Data.Tests", "Imaging", "Tools", "exif_jpeg.py");
        TestImages.Run(TestImages.Python, script, source, orientation.ToString(), byteOrder, jpeg, upright);

        var bytes = File.ReadAllBytes(jpeg);
        Assert.Equal(orientation, ImageIO.ReadExifOrientation(bytes));
        // Upright: PIL's exif_transpose of PIL's libjpeg-turbo decode, so the JPEG tolerance applies.
        ImageDifference.Between(ImageIO.ReadRgb(jpeg), TestImages.ReadPnm(upright)).AssertWithinJpegTolerance($"orientation {orientation}");
        // As stored: djpeg ignores EXIF.
        ImageDifference.Between(ImageIO.ReadRgb(jpeg, applyExifOrientation: false), TestImages.DjpegDecode(jpeg, temp.Path))
            .AssertWithinJpegTolerance("unrotated");
    }

    [Fact]
    public void FilesWithoutExifAreUpright()
    {
        Assert.Equal(1, ImageIO.ReadExifOrientation(File.ReadAllBytes(TestImages.Fixture("baseline_420_q90.jpg"))));
        Assert.Equal(1, ImageIO.ReadExifOrientation(File.ReadAllBytes(TestImages.Fixture("png_rgb8.png"))));
    }
}
