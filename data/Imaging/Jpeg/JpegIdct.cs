using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// Dequantisation and inverse DCT of one 8x8 block, bit-exact with libjpeg's accurate integer
/// IDCT (jidctint.c, "islow", the default of libjpeg-turbo's djpeg): the Loeffler-Ligtenberg-
/// Moschytz algorithm with 13-bit fixed-point constants, two extra bits of precision between the
/// column and the row pass, and the result level-shifted by 128 and clamped to 0..255.
/// <see cref="TransformScalar"/> is the readable reference; with AVX2, <see cref="TransformAvx2"/>
/// runs the same arithmetic on eight columns (then eight rows) at once.
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
    public static void Transform(ReadOnlySpan<short> coefficients, ReadOnlySpan<int> quant, Span<byte> output, int offset, int stride)
    {
        if (Avx2.IsSupported)
            TransformAvx2(coefficients, quant, output, offset, stride);
        else
            TransformScalar(coefficients, quant, output, offset, stride);
    }

    /// <summary>
    /// A block whose only non-zero coefficient is DC is flat: every pixel is what both passes make
    /// of DC alone, (DC * Q * 2^Pass1Bits) descaled by 2^(Pass1Bits + 3), plus 128.
    /// </summary>
    public static void TransformDcOnly(int dc, int quant, Span<byte> output, int offset, int stride)
    {
        int value = ((dc * quant << Pass1Bits) + (1 << (Pass1Bits + 2))) >> (Pass1Bits + 3);
        byte pixel = (byte)Math.Clamp(value + 128, 0, 255);
        for (int row = 0; row < 8; row++) output.Slice(offset + row * stride, 8).Fill(pixel);
    }

    /// <inheritdoc cref="Transform"/>
    internal static void TransformScalar(ReadOnlySpan<short> coefficients, ReadOnlySpan<int> quant, Span<byte> output, int offset, int stride)
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

    /// <inheritdoc cref="Transform"/>
    internal static void TransformAvx2(ReadOnlySpan<short> coefficients, ReadOnlySpan<int> quant, Span<byte> output, int offset, int stride)
    {
        if (coefficients.Length < JpegTables.BlockSize || quant.Length < JpegTables.BlockSize)
            throw new ArgumentException("a block has 64 coefficients and quantisers");
        ref short c = ref MemoryMarshal.GetReference(coefficients);
        ref int q = ref MemoryMarshal.GetReference(quant);

        // Pass 1: vector k holds coefficient row k, so each lane computes one column's IDCT.
        var v0 = DequantizeRow(ref c, ref q, 0);
        var v1 = DequantizeRow(ref c, ref q, 1);
        var v2 = DequantizeRow(ref c, ref q, 2);
        var v3 = DequantizeRow(ref c, ref q, 3);
        var v4 = DequantizeRow(ref c, ref q, 4);
        var v5 = DequantizeRow(ref c, ref q, 5);
        var v6 = DequantizeRow(ref c, ref q, 6);
        var v7 = DequantizeRow(ref c, ref q, 7);
        Butterfly(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ConstBits - Pass1Bits, 0);

        // Pass 2: after the transpose vector k holds column k, so each lane computes one row;
        // the level shift by 128 rides along in the rounding constant.
        Transpose(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
        Butterfly(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ConstBits + Pass1Bits + 3, 128);
        Transpose(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);

        // Clamp to 0..255, narrow to bytes (rows 0-3 and 4-7), store 8 bytes per row.
        var rows0123 = Vector256.Narrow(Vector256.Narrow(ClampToByte(v0), ClampToByte(v1)), Vector256.Narrow(ClampToByte(v2), ClampToByte(v3))).AsUInt64();
        var rows4567 = Vector256.Narrow(Vector256.Narrow(ClampToByte(v4), ClampToByte(v5)), Vector256.Narrow(ClampToByte(v6), ClampToByte(v7))).AsUInt64();
        for (int row = 0; row < 4; row++)
        {
            MemoryMarshal.Write(output.Slice(offset + row * stride, 8), rows0123.GetElement(row));
            MemoryMarshal.Write(output.Slice(offset + (row + 4) * stride, 8), rows4567.GetElement(row));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DequantizeRow(ref short coefficients, ref int quant, int row) =>
        Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref coefficients, (nuint)(row * 8))) *
        Vector256.LoadUnsafe(ref quant, (nuint)(row * 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ClampToByte(Vector256<int> value) =>
        Vector256.Min(Vector256.Max(value, Vector256<int>.Zero), Vector256.Create(255));

    /// <summary>The vector form of <see cref="Butterfly(long, long, long, long, long, long, long, long, int, Span{int}, int)"/>, in place; <paramref name="bias"/> is added to every output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(ref Vector256<int> v0, ref Vector256<int> v1, ref Vector256<int> v2, ref Vector256<int> v3,
        ref Vector256<int> v4, ref Vector256<int> v5, ref Vector256<int> v6, ref Vector256<int> v7, int shift, int bias)
    {
        var z1 = (v2 + v6) * Fix0_541196100;
        var tmp2 = z1 - v6 * Fix1_847759065;
        var tmp3 = z1 + v2 * Fix0_765366865;
        var tmp0 = (v0 + v4) << ConstBits;
        var tmp1 = (v0 - v4) << ConstBits;

        var tmp10 = tmp0 + tmp3;
        var tmp13 = tmp0 - tmp3;
        var tmp11 = tmp1 + tmp2;
        var tmp12 = tmp1 - tmp2;

        tmp0 = v7;
        tmp1 = v5;
        tmp2 = v3;
        tmp3 = v1;
        z1 = tmp0 + tmp3;
        var z2 = tmp1 + tmp2;
        var z3 = tmp0 + tmp2;
        var z4 = tmp1 + tmp3;
        var z5 = (z3 + z4) * Fix1_175875602;

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

        var round = Vector256.Create((1 << (shift - 1)) + (bias << shift));
        v0 = (tmp10 + tmp3 + round) >> shift;
        v7 = (tmp10 - tmp3 + round) >> shift;
        v1 = (tmp11 + tmp2 + round) >> shift;
        v6 = (tmp11 - tmp2 + round) >> shift;
        v2 = (tmp12 + tmp1 + round) >> shift;
        v5 = (tmp12 - tmp1 + round) >> shift;
        v3 = (tmp13 + tmp0 + round) >> shift;
        v4 = (tmp13 - tmp0 + round) >> shift;
    }

    /// <summary>Transposes the 8x8 matrix whose rows are r0..r7: interleave pairs of 32-bit, then 64-bit elements, then swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        var t0 = Avx2.UnpackLow(r0, r1).AsInt64();
        var t1 = Avx2.UnpackHigh(r0, r1).AsInt64();
        var t2 = Avx2.UnpackLow(r2, r3).AsInt64();
        var t3 = Avx2.UnpackHigh(r2, r3).AsInt64();
        var t4 = Avx2.UnpackLow(r4, r5).AsInt64();
        var t5 = Avx2.UnpackHigh(r4, r5).AsInt64();
        var t6 = Avx2.UnpackLow(r6, r7).AsInt64();
        var t7 = Avx2.UnpackHigh(r6, r7).AsInt64();

        var u0 = Avx2.UnpackLow(t0, t2).AsInt32();
        var u1 = Avx2.UnpackHigh(t0, t2).AsInt32();
        var u2 = Avx2.UnpackLow(t1, t3).AsInt32();
        var u3 = Avx2.UnpackHigh(t1, t3).AsInt32();
        var u4 = Avx2.UnpackLow(t4, t6).AsInt32();
        var u5 = Avx2.UnpackHigh(t4, t6).AsInt32();
        var u6 = Avx2.UnpackLow(t5, t7).AsInt32();
        var u7 = Avx2.UnpackHigh(t5, t7).AsInt32();

        r0 = Avx2.Permute2x128(u0, u4, 0x20);
        r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20);
        r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31);
        r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31);
        r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
