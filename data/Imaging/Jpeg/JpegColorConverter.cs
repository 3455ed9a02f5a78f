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
        var pixels = new byte[width * height * 3];
        // Upsampled rows can run past the image width by up to ratio - 1 pixels: ratio * ceil(width / ratio).
        var rows = new byte[components.Length][];
        for (int i = 0; i < rows.Length; i++) rows[i] = new byte[width + maxH];

        for (int y = 0; y < height; y++)
        {
            for (int i = 0; i < components.Length; i++)
                UpsampleRow(components[i], maxH / components[i].H, maxV / components[i].V, y, rows[i]);

            var output = pixels.AsSpan(y * width * 3, width * 3);
            if (components.Length == 1)
                GrayToRgb(rows[0].AsSpan(0, width), output);
            else if (isRgb)
                Interleave(rows[0].AsSpan(0, width), rows[1], rows[2], output);
            else
                YCbCrToRgb(rows[0].AsSpan(0, width), rows[1], rows[2], output);
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>
    /// Writes output row <paramref name="y"/> of component <paramref name="c"/>, whose samples cover
    /// ratioH x ratioV pixels each: ratioH * SampledWidth values, at least the image width.
    /// </summary>
    private static void UpsampleRow(JpegComponent c, int ratioH, int ratioV, int y, Span<byte> output)
    {
        var plane = c.Plane;
        int stride = c.Stride, sampledWidth = c.SampledWidth;
        int row = y / ratioV;
        // The row the vertical triangle filter blends in: the one above for the upper output row of
        // a pair, the one below for the lower; at the image edges the edge row repeats (jdmainct.c).
        int neighbour = (y & 1) == 0 ? Math.Max(row - 1, 0) : Math.Min(row + 1, c.SampledHeight - 1);
        var near = plane.AsSpan(row * stride, sampledWidth);
        var far = plane.AsSpan(neighbour * stride, sampledWidth);

        switch (ratioH, ratioV)
        {
            case (1, 1):
                near.CopyTo(output);
                break;
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
    }

    /// <summary>jdsample.c h2v1_fancy_upsample: each output is 3/4 of the nearer sample plus 1/4 of the farther, rounding alternately down and up.</summary>
    private static void H2V1Fancy(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int last = input.Length - 1;
        output[0] = input[0];
        output[1] = (byte)((input[0] * 3 + input[1] + 2) >> 2);
        for (int i = 1; i < last; i++)
        {
            int nearer = input[i] * 3;
            output[2 * i] = (byte)((nearer + input[i - 1] + 1) >> 2);
            output[2 * i + 1] = (byte)((nearer + input[i + 1] + 2) >> 2);
        }
        output[2 * last] = (byte)((input[last] * 3 + input[last - 1] + 1) >> 2);
        output[2 * last + 1] = input[last];
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
        int current = near[0] * 3 + far[0];
        int next = near[1] * 3 + far[1];
        output[0] = (byte)((current * 4 + 8) >> 4);
        output[1] = (byte)((current * 3 + next + 7) >> 4);
        int previous = current;
        current = next;
        for (int i = 1; i < last; i++)
        {
            next = near[i + 1] * 3 + far[i + 1];
            output[2 * i] = (byte)((current * 3 + previous + 8) >> 4);
            output[2 * i + 1] = (byte)((current * 3 + next + 7) >> 4);
            previous = current;
            current = next;
        }
        output[2 * last] = (byte)((current * 3 + previous + 8) >> 4);
        output[2 * last + 1] = (byte)((current * 4 + 7) >> 4);
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
        for (int x = 0; x < luma.Length; x++)
        {
            int y = luma[x], blue = cb[x], red = cr[x];
            output[3 * x] = ClampToByte(y + CrToR[red]);
            output[3 * x + 1] = ClampToByte(y + ((CbToG[blue] + CrToG[red]) >> ScaleBits));
            output[3 * x + 2] = ClampToByte(y + CbToB[blue]);
        }
    }

    private static byte ClampToByte(int value) => (byte)Math.Clamp(value, 0, 255);
}
