using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// Turns decoded component planes into interleaved RGB the way libjpeg-turbo does by default:
/// "fancy" (triangle-filter) upsampling for 2:1 ratios (jdsample.c: h2v1, h1v2 and h2v2
/// fancy_upsample), pixel replication for other integer ratios (int_upsample), and the
/// fixed-point YCbCr to RGB tables of jdcolor.c.
/// </summary>
internal static class JpegColorConverter
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    // jdcolor.c build_ycc_rgb_table: the Cr/Cb contributions for each sample value, Cb/Cr - 128.
    private static readonly int[] CrToR = BuildTable(x => (Fix(1.40200) * x + OneHalf) >> ScaleBits);
    private static readonly int[] CbToB = BuildTable(x => (Fix(1.77200) * x + OneHalf) >> ScaleBits);
    private static readonly int[] CrToG = BuildTable(x => -Fix(0.71414) * x);
    private static readonly int[] CbToG = BuildTable(x => -Fix(0.34414) * x + OneHalf);

    // jdmaster.c's range-limit table: RangeLimit[RangeOffset + v] = clamp(v, 0, 255) for every v
    // the conversion can produce (-227 + 0 .. 255 + 225), without a branch.
    private const int RangeOffset = 384;
    private static readonly byte[] RangeLimit = BuildRangeLimit();

    private static byte[] BuildRangeLimit()
    {
        var table = new byte[1024];
        for (int i = 0; i < table.Length; i++) table[i] = (byte)Math.Clamp(i - RangeOffset, 0, 255);
        return table;
    }

    private static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);

    private static int[] BuildTable(Func<int, int> entry)
    {
        var table = new int[256];
        for (int i = 0; i < 256; i++) table[i] = entry(i - 128);
        return table;
    }

    /// <summary>Upsamples every component to the image size and converts the result to RGB.</summary>
    /// <param name="components">One (gray) or three (YCbCr or RGB) decoded components.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="maxH">Largest horizontal sampling factor.</param>
    /// <param name="maxV">Largest vertical sampling factor.</param>
    /// <param name="isRgb">Three components hold R, G, B already (Adobe transform 0).</param>
    public static RgbImage ToRgb(JpegComponent[] components, int width, int height, int maxH, int maxV, bool isRgb)
    {
        var pixels = GC.AllocateUninitializedArray<byte>(width * height * 3); // every byte is written below
        // Upsampled rows can run past the image width by up to ratio - 1 pixels: ratio * ceil(width / ratio).
        var rows = new byte[components.Length][];
        for (int i = 0; i < rows.Length; i++) rows[i] = new byte[width + maxH];

        for (int y = 0; y < height; y++)
        {
            var output = pixels.AsSpan(y * width * 3, width * 3);
            var first = UpsampleRow(components[0], maxH, maxV, y, rows[0])[..width];
            if (components.Length == 1)
            {
                GrayToRgb(first, output);
                continue;
            }
            var second = UpsampleRow(components[1], maxH, maxV, y, rows[1]);
            var third = UpsampleRow(components[2], maxH, maxV, y, rows[2]);
            if (isRgb)
                Interleave(first, second, third, output);
            else
                YCbCrToRgb(first, second, third, output);
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>
    /// Output row <paramref name="y"/> of component <paramref name="c"/> at full resolution, at least
    /// the image width: the plane row itself at full sampling, else upsampled into <paramref name="buffer"/>.
    /// </summary>
    private static ReadOnlySpan<byte> UpsampleRow(JpegComponent c, int maxH, int maxV, int y, byte[] buffer)
    {
        int ratioH = maxH / c.H, ratioV = maxV / c.V;
        var plane = c.Plane;
        int stride = c.Stride, sampledWidth = c.SampledWidth;
        int row = y / ratioV;
        // The row the vertical triangle filter blends in: the one above for the upper output row of
        // a pair, the one below for the lower; at the image edges the edge row repeats (jdmainct.c).
        int neighbour = (y & 1) == 0 ? Math.Max(row - 1, 0) : Math.Min(row + 1, c.SampledHeight - 1);
        var near = plane.AsSpan(row * stride, sampledWidth);
        var far = plane.AsSpan(neighbour * stride, sampledWidth);

        if (ratioH == 1 && ratioV == 1)
            return near;

        var output = buffer.AsSpan();
        switch (ratioH, ratioV)
        {
            case (2, 1) when sampledWidth > 2:
                H2V1Fancy(near, output);
                break;
            case (1, 2):
                H1V2Fancy(near, far, (y & 1) == 0 ? 1 : 2, output);
                break;
            case (2, 2) when sampledWidth > 2:
                H2V2Fancy(near, far, output);
                break;
            default:
                Replicate(near, ratioH, output);
                break;
        }
        return output;
    }

    /// <summary>jdsample.c h2v1_fancy_upsample: each output is 3/4 of the nearer sample plus 1/4 of the farther, rounding alternately down and up.</summary>
    private static void H2V1Fancy(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int last = input.Length - 1;
        if (output.Length < 2 * input.Length)
            throw new ArgumentException("output row shorter than twice the input");
        // Hot loop: references instead of indexing, the lengths were checked above.
        ref byte inRow = ref MemoryMarshal.GetReference(input);
        ref byte outRow = ref MemoryMarshal.GetReference(output);
        outRow = inRow;
        Unsafe.Add(ref outRow, 1) = (byte)((inRow * 3 + Unsafe.Add(ref inRow, 1) + 2) >> 2);
        for (int i = 1; i < last; i++)
        {
            int nearer = Unsafe.Add(ref inRow, i) * 3;
            Unsafe.Add(ref outRow, 2 * i) = (byte)((nearer + Unsafe.Add(ref inRow, i - 1) + 1) >> 2);
            Unsafe.Add(ref outRow, 2 * i + 1) = (byte)((nearer + Unsafe.Add(ref inRow, i + 1) + 2) >> 2);
        }
        Unsafe.Add(ref outRow, 2 * last) = (byte)((Unsafe.Add(ref inRow, last) * 3 + Unsafe.Add(ref inRow, last - 1) + 1) >> 2);
        Unsafe.Add(ref outRow, 2 * last + 1) = Unsafe.Add(ref inRow, last);
    }

    /// <summary>jdsample.c h1v2_fancy_upsample: 3/4 of the nearer row plus 1/4 of the farther; bias 1 for the upper output row, 2 for the lower.</summary>
    private static void H1V2Fancy(ReadOnlySpan<byte> near, ReadOnlySpan<byte> far, int bias, Span<byte> output)
    {
        for (int i = 0; i < near.Length; i++)
            output[i] = (byte)((near[i] * 3 + far[i] + bias) >> 2);
    }

    /// <summary>
    /// jdsample.c h2v2_fancy_upsample: column sums 3 * near + far (the vertical 3:1 blend), then
    /// the same 3:1 blend horizontally, the sum of 16 parts rounded by 8 and 7 alternately.
    /// </summary>
    private static void H2V2Fancy(ReadOnlySpan<byte> near, ReadOnlySpan<byte> far, Span<byte> output)
    {
        int last = near.Length - 1;
        if (far.Length < near.Length || output.Length < 2 * near.Length)
            throw new ArgumentException("rows shorter than the sampled width");
        // Hot loop: references instead of indexing, the lengths were checked above.
        ref byte nearRow = ref MemoryMarshal.GetReference(near);
        ref byte farRow = ref MemoryMarshal.GetReference(far);
        ref byte outRow = ref MemoryMarshal.GetReference(output);
        int current = nearRow * 3 + farRow;
        int next = Unsafe.Add(ref nearRow, 1) * 3 + Unsafe.Add(ref farRow, 1);
        outRow = (byte)((current * 4 + 8) >> 4);
        Unsafe.Add(ref outRow, 1) = (byte)((current * 3 + next + 7) >> 4);
        int previous = current;
        current = next;
        for (int i = 1; i < last; i++)
        {
            next = Unsafe.Add(ref nearRow, i + 1) * 3 + Unsafe.Add(ref farRow, i + 1);
            Unsafe.Add(ref outRow, 2 * i) = (byte)((current * 3 + previous + 8) >> 4);
            Unsafe.Add(ref outRow, 2 * i + 1) = (byte)((current * 3 + next + 7) >> 4);
            previous = current;
            current = next;
        }
        Unsafe.Add(ref outRow, 2 * last) = (byte)((current * 3 + previous + 8) >> 4);
        Unsafe.Add(ref outRow, 2 * last + 1) = (byte)((current * 4 + 7) >> 4);
    }

    /// <summary>jdsample.c int_upsample (horizontal part): each sample repeated <paramref name="ratio"/> times.</summary>
    private static void Replicate(ReadOnlySpan<byte> input, int ratio, Span<byte> output)
    {
        for (int x = 0; x < input.Length * ratio; x++)
            output[x] = input[x / ratio];
    }

    private static void GrayToRgb(ReadOnlySpan<byte> gray, Span<byte> output)
    {
        for (int x = 0; x < gray.Length; x++)
        {
            byte value = gray[x];
            output[3 * x] = value;
            output[3 * x + 1] = value;
            output[3 * x + 2] = value;
        }
    }

    private static void Interleave(ReadOnlySpan<byte> r, ReadOnlySpan<byte> g, ReadOnlySpan<byte> b, Span<byte> output)
    {
        for (int x = 0; x < r.Length; x++)
        {
            output[3 * x] = r[x];
            output[3 * x + 1] = g[x];
            output[3 * x + 2] = b[x];
        }
    }

    /// <summary>jdcolor.c ycc_rgb_convert: R = Y + 1.402 Cr', G = Y - 0.34414 Cb' - 0.71414 Cr', B = Y + 1.772 Cb'.</summary>
    private static void YCbCrToRgb(ReadOnlySpan<byte> luma, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> output)
    {
        if (cb.Length < luma.Length || cr.Length < luma.Length || output.Length < 3 * luma.Length)
            throw new ArgumentException("rows shorter than the luma row");
        // Hot loop: references instead of indexing, the lengths were checked above.
        ref byte y0 = ref MemoryMarshal.GetReference(luma);
        ref byte cb0 = ref MemoryMarshal.GetReference(cb);
        ref byte cr0 = ref MemoryMarshal.GetReference(cr);
        ref byte out0 = ref MemoryMarshal.GetReference(output);
        ref byte limit = ref RangeLimit[RangeOffset];
        int[] crToR = CrToR, cbToB = CbToB, crToG = CrToG, cbToG = CbToG;
        for (int x = 0; x < luma.Length; x++)
        {
            int y = Unsafe.Add(ref y0, x), blue = Unsafe.Add(ref cb0, x), red = Unsafe.Add(ref cr0, x);
            ref byte pixel = ref Unsafe.Add(ref out0, 3 * x);
            pixel = Unsafe.Add(ref limit, y + crToR[red]);
            Unsafe.Add(ref pixel, 1) = Unsafe.Add(ref limit, y + ((cbToG[blue] + crToG[red]) >> ScaleBits));
            Unsafe.Add(ref pixel, 2) = Unsafe.Add(ref limit, y + cbToB[blue]);
        }
    }
}
