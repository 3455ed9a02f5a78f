using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>Per-channel differences between a decoded image and its reference.</summary>
internal sealed record ImageDifference(int[] MaxAbs, double[] MeanAbs)
{
    public static ImageDifference Between(RgbImage actual, RgbImage expected)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var max = new int[3];
        var sum = new long[3];
        for (int i = 0; i < expected.Pixels.Length; i++)
        {
            int difference = Math.Abs(actual.Pixels[i] - expected.Pixels[i]);
            max[i % 3] = Math.Max(max[i % 3], difference);
            sum[i % 3] += difference;
        }
        int pixels = expected.Width * expected.Height;
        return new ImageDifference(max, sum.Select(s => (double)s / pixels).ToArray());
    }

    /// <summary>Peak signal-to-noise ratio in dB over all channels (infinite when identical).</summary>
    public static double Psnr(RgbImage actual, RgbImage expected)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        double squared = 0;
        for (int i = 0; i < expected.Pixels.Length; i++)
        {
            double d = actual.Pixels[i] - expected.Pixels[i];
            squared += d * d;
        }
        double mse = squared / expected.Pixels.Length;
        return 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>
    /// The JPEG tolerance against libjpeg-turbo: at most 2 per sample and 0.5 on average per channel.
    /// Our IDCT, upsampling and colour tables are ports of libjpeg's integer arithmetic and match it
    /// exactly on every fixture; the slack admits only rounding-level differences (a clamp instead
    /// of libjpeg's wrap-around range table), while a wrong coefficient or filter shows up far above it.
    /// </summary>
    public void AssertWithinJpegTolerance(string what)
    {
        for (int c = 0; c < 3; c++)
        {
            Assert.True(MaxAbs[c] <= 2, $"{what}: channel {c} max abs diff {MaxAbs[c]} > 2");
            Assert.True(MeanAbs[c] <= 0.5, $"{what}: channel {c} mean abs diff {MeanAbs[c]:F3} > 0.5");
        }
    }

    public override string ToString() =>
        $"max [{string.Join(", ", MaxAbs)}] mean [{string.Join(", ", MeanAbs.Select(m => m.ToString("F4")))}]";
}
