using ScratchDetect.Data.Imaging;
using Xunit.Abstractions;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>Every fixture of the shared manifest against its reference decode (djpeg for JPEG, PIL for PNG).</summary>
public sealed class FixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (var (file, reference) in TestImages.Manifest()) data.Add(file, reference);
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DecodesLikeTheReferenceDecoder(string file, string reference)
    {
        var actual = ImageIO.ReadRgb(TestImages.Fixture(file));
        var expected = TestImages.ReadPnm(TestImages.Fixture(reference));
        var difference = ImageDifference.Between(actual, expected);
        output.WriteLine($"{file}: {difference}");
        if (file.EndsWith(".png", StringComparison.Ordinal))
            Assert.Equal(expected.Pixels, actual.Pixels); // PNG is lossless: PIL's pixels exactly
        else
            difference.AssertWithinJpegTolerance(file);
    }
}
