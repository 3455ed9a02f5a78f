namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// Dequantisation and inverse DCT of one 8x8 block, bit-exact with libjpeg's accurate integer
/// IDCT (jidctint.c, "islow", the default of libjpeg-turbo's djpeg): the Loeffler-Ligtenberg-
/// Moschytz algorithm with 13-bit fixed-point constants, two extra bits of precision between the
/// column and the row pass, and the result level-shifted by 128 and clamped to 0..255.
/// </summary>
internal static class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    // FIX(x) = round(x * 2^13), as jidctint.c spells them out.
    private const int Fix0_298631336 = 2446;
    private const int Fix0_390180644 = 3196;
    private const int Fix0_541196100 = 4433;
    private const int Fix0_765366865 = 6270;
    private const int Fix0_899976223 = 7373;
    private const int Fix1_175875602 = 9633;
    private const int Fix1_501321110 = 12299;
    private const int Fix1_847759065 = 15137;
    private const int Fix1_961570560 = 16069;
    private const int Fix2_053119869 = 16819;
    private const int Fix2_562915447 = 20995;
    private const int Fix3_072711026 = 25172;

    /// <summary>
    /// Writes the 8x8 pixels of <paramref name="coefficients"/> (quantised, natural order) to
    /// <paramref name="output"/> starting at <paramref name="offset"/>, rows <paramref name="stride"/> apart.
    /// </summary>
    public static void Transform(ReadOnlySpan<short> coefficients, ReadOnlySpan<ushort> quant, Span<byte> output, int offset, int stride)
    {
        Span<int> workspace = stackalloc int[JpegTables.BlockSize];

        // Pass 1: columns, from the coefficients into the workspace, scaled up by 2^Pass1Bits.
        for (int column = 0; column < 8; column++)
        {
            if (coefficients[8 + column] == 0 && coefficients[16 + column] == 0 && coefficients[24 + column] == 0 &&
                coefficients[32 + column] == 0 && coefficients[40 + column] == 0 && coefficients[48 + column] == 0 &&
                coefficients[56 + column] == 0)
            {
                // Only the DC term: the column is constant (the common case, and the same result).
                int dc = coefficients[column] * quant[column] << Pass1Bits;
                for (int row = 0; row < 8; row++) workspace[row * 8 + column] = dc;
                continue;
            }
            Butterfly(
                coefficients[column] * quant[column], coefficients[8 + column] * quant[8 + column],
                coefficients[16 + column] * quant[16 + column], coefficients[24 + column] * quant[24 + column],
                coefficients[32 + column] * quant[32 + column], coefficients[40 + column] * quant[40 + column],
                coefficients[48 + column] * quant[48 + column], coefficients[56 + column] * quant[56 + column],
                ConstBits - Pass1Bits, workspace.Slice(column), 8);
        }

        // Pass 2: rows, from the workspace into a temporary of pixel values before the level shift.
        Span<int> pixels = stackalloc int[JpegTables.BlockSize];
        for (int row = 0; row < 8; row++)
        {
            var w = workspace.Slice(row * 8, 8);
            Butterfly(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], ConstBits + Pass1Bits + 3, pixels.Slice(row * 8), 1);
        }

        for (int row = 0; row < 8; row++)
        {
            var target = output.Slice(offset + row * stride, 8);
            for (int column = 0; column < 8; column++)
                target[column] = (byte)Math.Clamp(pixels[row * 8 + column] + 128, 0, 255);
        }
    }

    /// <summary>
    /// The 1-D 8-point IDCT of (in0..in7), each output descaled by 2^<paramref name="shift"/> with
    /// rounding and stored at <paramref name="output"/>[i * <paramref name="step"/>].
    /// </summary>
    private static void Butterfly(long in0, long in1, long in2, long in3, long in4, long in5, long in6, long in7,
        int shift, Span<int> output, int step)
    {
        // Even part: rotation of in2/in6, then the sums with in0 +- in4.
        long z1 = (in2 + in6) * Fix0_541196100;
        long tmp2 = z1 - in6 * Fix1_847759065;
        long tmp3 = z1 + in2 * Fix0_765366865;
        long tmp0 = (in0 + in4) << ConstBits;
        long tmp1 = (in0 - in4) << ConstBits;

        long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
        long tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        // Odd part (the figure in jidctint.c): in7, in5, in3, in1.
        tmp0 = in7;
        tmp1 = in5;
        tmp2 = in3;
        tmp3 = in1;
        z1 = tmp0 + tmp3;
        long z2 = tmp1 + tmp2;
        long z3 = tmp0 + tmp2;
        long z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * Fix1_175875602;

        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 = z3 * -Fix1_961570560 + z5;
        z4 = z4 * -Fix0_390180644 + z5;

        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        long round = 1L << (shift - 1);
        output[0] = (int)((tmp10 + tmp3 + round) >> shift);
        output[7 * step] = (int)((tmp10 - tmp3 + round) >> shift);
        output[1 * step] = (int)((tmp11 + tmp2 + round) >> shift);
        output[6 * step] = (int)((tmp11 - tmp2 + round) >> shift);
        output[2 * step] = (int)((tmp12 + tmp1 + round) >> shift);
        output[5 * step] = (int)((tmp12 - tmp1 + round) >> shift);
        output[3 * step] = (int)((tmp13 + tmp0 + round) >> shift);
        output[4 * step] = (int)((tmp13 - tmp0 + round) >> shift);
    }
}
