using System.Runtime.Intrinsics.X86;
using ScratchDetect.Data.Imaging.Jpeg;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>A fact skipped, with the reason shown, on machines without AVX2.</summary>
public sealed class RequiresAvx2FactAttribute : FactAttribute
{
    public RequiresAvx2FactAttribute()
    {
        if (!Avx2.IsSupported) Skip = "no AVX2 on this machine: only the scalar IDCT runs";
    }
}

/// <summary>
/// The fast IDCT paths against the scalar port of jidctint.c. The fixtures check the path this
/// machine runs against djpeg; these keep the paths identical so the check covers them all.
/// </summary>
public sealed class JpegIdctTests
{
    /// <summary>Random blocks with the value ranges of 8-bit JPEG: dequantised DC within +-1024*8, sparse AC.</summary>
    private static IEnumerable<(short[] Coefficients, int[] Quant)> RandomBlocks(int count, bool dcOnly)
    {
        var random = new Random(7);
        for (int b = 0; b < count; b++)
        {
            var quant = new int[64];
            var coefficients = new short[64];
            for (int i = 0; i < 64; i++)
            {
                quant[i] = random.Next(1, b % 4 == 0 ? 4 : 100);
                bool set = i == 0 || (!dcOnly && random.NextDouble() < 0.3);
                if (set) coefficients[i] = (short)random.Next(-1024 / quant[i], 1024 / quant[i] + 1);
            }
            yield return (coefficients, quant);
        }
    }

    [RequiresAvx2Fact]
    public void Avx2EqualsScalarBitForBit()
    {
        const int stride = 13; // rows of the output further apart than the block is wide
        foreach (var (coefficients, quant) in RandomBlocks(5000, dcOnly: false))
        {
            var scalar = new byte[8 * stride + 5];
            var vector = new byte[8 * stride + 5];
            JpegIdct.TransformScalar(coefficients, quant, scalar, 5, stride);
            JpegIdct.TransformAvx2(coefficients, quant, vector, 5, stride);
            Assert.Equal(scalar, vector);
        }
    }

    [Fact]
    public void DcOnlyShortcutEqualsFullTransform()
    {
        foreach (var (coefficients, quant) in RandomBlocks(2000, dcOnly: true))
        {
            var full = new byte[64];
            var shortcut = new byte[64];
            JpegIdct.TransformScalar(coefficients, quant, full, 0, 8);
            JpegIdct.TransformDcOnly(coefficients[0], quant[0], shortcut, 0, 8);
            Assert.Equal(full, shortcut);
        }
    }
}
