using System.Buffers.Binary;
using ScratchDetect.Data.Imaging.Jpeg;

namespace ScratchDetect.Data.Imaging;

/// <summary>
/// Writes baseline JFIF JPEG files from RGB images: YCbCr with 4:2:0 or 4:4:4 sampling, the IJG
/// quality scaling of the Annex K quantisation tables (what cjpeg -quality does) and the Annex K
/// standard Huffman tables. Meant for generated test and training data, not for the smallest files.
/// </summary>
public static class JpegEncoder
{
    private const int MaxSide = 65535; // the SOF header stores width and height in 16 bits

    /// <summary>Encodes <paramref name="image"/> as a baseline JPEG file.</summary>
    /// <param name="image">The pixels to write; width and height 1..65535.</param>
    /// <param name="quality">1 (smallest, worst) .. 100 (largest, best), scaled as libjpeg's cjpeg -quality.</param>
    /// <param name="subsample420">Store chroma at half resolution in both directions (4:2:0, cjpeg's default); false keeps it full (4:4:4).</param>
    /// <returns>The bytes of the JPEG file.</returns>
    /// <exception cref="ArgumentException">The image is empty, larger than 65535 on a side, or its pixel array does not match its size.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is outside 1..100.</exception>
    public static byte[] Encode(RgbImage image, int quality = 90, bool subsample420 = true)
    {
        ImageLimits.CheckEncodable(image, MaxSide, nameof(image));
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);

        var lumaQuant = ScaleQuantTable(JpegTables.StandardLuminanceQuant, quality);
        var chromaQuant = ScaleQuantTable(JpegTables.StandardChrominanceQuant, quality);
        var lumaDc = new HuffmanCode(JpegTables.LuminanceDcCounts, JpegTables.DcSymbols);
        var lumaAc = new HuffmanCode(JpegTables.LuminanceAcCounts, JpegTables.LuminanceAcSymbols);
        var chromaDc = new HuffmanCode(JpegTables.ChrominanceDcCounts, JpegTables.DcSymbols);
        var chromaAc = new HuffmanCode(JpegTables.ChrominanceAcCounts, JpegTables.ChrominanceAcSymbols);

        var output = new MemoryStream();
        WriteHeaders(output, image, lumaQuant, chromaQuant, subsample420);

        int mcuSize = subsample420 ? 16 : 8;
        var planes = ToYCbCrPlanes(image, mcuSize);
        int paddedWidth = planes.Width, paddedHeight = planes.Height;
        var (cb, cr, chromaWidth) = subsample420
            ? (Downsample2x2(planes.Cb, paddedWidth, paddedHeight), Downsample2x2(planes.Cr, paddedWidth, paddedHeight), paddedWidth / 2)
            : (planes.Cb, planes.Cr, paddedWidth);

        var writer = new BitWriter(output);
        int lumaPrediction = 0, cbPrediction = 0, crPrediction = 0;
        Span<float> samples = stackalloc float[JpegTables.BlockSize];
        Span<short> coefficients = stackalloc short[JpegTables.BlockSize];
        for (int mcuY = 0; mcuY < paddedHeight; mcuY += mcuSize)
        {
            for (int mcuX = 0; mcuX < paddedWidth; mcuX += mcuSize)
            {
                for (int y = 0; y < mcuSize; y += 8)
                {
                    for (int x = 0; x < mcuSize; x += 8)
                    {
                        ExtractBlock(planes.Y, paddedWidth, mcuX + x, mcuY + y, samples);
                        ForwardDctAndQuantise(samples, lumaQuant, coefficients);
                        EncodeBlock(writer, coefficients, ref lumaPrediction, lumaDc, lumaAc);
                    }
                }
                int chromaX = mcuX * 8 / mcuSize, chromaY = mcuY * 8 / mcuSize;
                ExtractBlock(cb, chromaWidth, chromaX, chromaY, samples);
                ForwardDctAndQuantise(samples, chromaQuant, coefficients);
                EncodeBlock(writer, coefficients, ref cbPrediction, chromaDc, chromaAc);
                ExtractBlock(cr, chromaWidth, chromaX, chromaY, samples);
                ForwardDctAndQuantise(samples, chromaQuant, coefficients);
                EncodeBlock(writer, coefficients, ref crPrediction, chromaDc, chromaAc);
            }
        }
        writer.PadToByte();
        output.Write([0xFF, JpegMarkers.Eoi]);
        return output.ToArray();
    }

    /// <summary>
    /// libjpeg's jpeg_quality_scaling and jpeg_add_quant_table: quality q scales the table by
    /// 5000/q percent below 50 and by 200 - 2q percent from 50 up; entries are clamped to 1..255.
    /// </summary>
    internal static byte[] ScaleQuantTable(ReadOnlySpan<byte> basicTable, int quality)
    {
        int percent = quality < 50 ? 5000 / quality : 200 - quality * 2;
        var table = new byte[JpegTables.BlockSize];
        for (int i = 0; i < table.Length; i++)
            table[i] = (byte)Math.Clamp((basicTable[i] * percent + 50) / 100, 1, 255);
        return table;
    }

    private static void WriteHeaders(Stream output, RgbImage image, byte[] lumaQuant, byte[] chromaQuant, bool subsample420)
    {
        output.Write([0xFF, JpegMarkers.Soi]);
        // JFIF 1.01, no density unit, 1:1 pixel aspect, no thumbnail.
        WriteSegment(output, JpegMarkers.App0, [.. "JFIF\0"u8, 1, 1, 0, 0, 1, 0, 1, 0, 0]);

        var quantTables = new List<byte>();
        foreach (var (table, index) in new[] { (lumaQuant, 0), (chromaQuant, 1) })
        {
            quantTables.Add((byte)index); // 8-bit precision, table index
            for (int k = 0; k < JpegTables.BlockSize; k++) quantTables.Add(table[JpegTables.ZigZagToNatural[k]]);
        }
        WriteSegment(output, JpegMarkers.Dqt, quantTables.ToArray());

        var frame = new byte[15];
        frame[0] = 8; // bits per sample
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)image.Height);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(3), (ushort)image.Width);
        frame[5] = 3;
        // Component id, sampling factors (H << 4 | V), quantisation table: Y, Cb, Cr.
        byte lumaSampling = subsample420 ? (byte)0x22 : (byte)0x11;
        new byte[] { 1, lumaSampling, 0, 2, 0x11, 1, 3, 0x11, 1 }.CopyTo(frame, 6);
        WriteSegment(output, JpegMarkers.Sof0Baseline, frame);

        var huffman = new List<byte>();
        AddHuffmanTable(huffman, 0x00, JpegTables.LuminanceDcCounts, JpegTables.DcSymbols);
        AddHuffmanTable(huffman, 0x10, JpegTables.LuminanceAcCounts, JpegTables.LuminanceAcSymbols);
        AddHuffmanTable(huffman, 0x01, JpegTables.ChrominanceDcCounts, JpegTables.DcSymbols);
        AddHuffmanTable(huffman, 0x11, JpegTables.ChrominanceAcCounts, JpegTables.ChrominanceAcSymbols);
        WriteSegment(output, JpegMarkers.Dht, huffman.ToArray());

        // Three components with their (DC << 4 | AC) tables, then Ss = 0, Se = 63, Ah = Al = 0.
        WriteSegment(output, JpegMarkers.Sos, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    }

    private static void AddHuffmanTable(List<byte> segment, byte classAndIndex, ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols)
    {
        segment.Add(classAndIndex);
        segment.AddRange(counts);
        segment.AddRange(symbols);
    }

    private static void WriteSegment(Stream output, byte marker, ReadOnlySpan<byte> body)
    {
        Span<byte> header = [0xFF, marker, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(body.Length + 2));
        output.Write(header);
        output.Write(body);
    }

    /// <summary>Full-resolution Y, Cb, Cr planes, level-shifted to centre on 0 and padded to whole MCUs by repeating the edge pixels.</summary>
    private static (float[] Y, float[] Cb, float[] Cr, int Width, int Height) ToYCbCrPlanes(RgbImage image, int mcuSize)
    {
        int width = (image.Width + mcuSize - 1) / mcuSize * mcuSize;
        int height = (image.Height + mcuSize - 1) / mcuSize * mcuSize;
        var y = new float[width * height];
        var cb = new float[width * height];
        var cr = new float[width * height];
        for (int row = 0; row < height; row++)
        {
            int sourceRow = Math.Min(row, image.Height - 1);
            for (int column = 0; column < width; column++)
            {
                int source = (sourceRow * image.Width + Math.Min(column, image.Width - 1)) * 3;
                float r = image.Pixels[source], g = image.Pixels[source + 1], b = image.Pixels[source + 2];
                int target = row * width + column;
                // JFIF's RGB to YCbCr (ITU-R BT.601 with full-range 0..255), minus 128 for Y.
                y[target] = 0.299f * r + 0.587f * g + 0.114f * b - 128f;
                cb[target] = -0.168736f * r - 0.331264f * g + 0.5f * b;
                cr[target] = 0.5f * r - 0.418688f * g - 0.081312f * b;
            }
        }
        return (y, cb, cr, width, height);
    }

    /// <summary>Halves a plane in both directions by averaging each 2x2 group.</summary>
    private static float[] Downsample2x2(float[] plane, int width, int height)
    {
        int halfWidth = width / 2;
        var result = new float[halfWidth * (height / 2)];
        for (int y = 0; y < height / 2; y++)
        {
            for (int x = 0; x < halfWidth; x++)
            {
                int topLeft = 2 * y * width + 2 * x;
                result[y * halfWidth + x] = 0.25f * (plane[topLeft] + plane[topLeft + 1] + plane[topLeft + width] + plane[topLeft + width + 1]);
            }
        }
        return result;
    }

    private static void ExtractBlock(float[] plane, int width, int x, int y, Span<float> block)
    {
        for (int row = 0; row < 8; row++)
            plane.AsSpan((y + row) * width + x, 8).CopyTo(block.Slice(row * 8, 8));
    }

    /// <summary>DctBasis[u * 8 + x] = C(u) / 2 * cos((2x + 1) u pi / 16), C(0) = 1/sqrt(2): one row of the separable 2-D DCT of T.81 A.3.3.</summary>
    private static readonly float[] DctBasis = BuildDctBasis();

    private static float[] BuildDctBasis()
    {
        var basis = new float[JpegTables.BlockSize];
        for (int u = 0; u < 8; u++)
        {
            double scale = u == 0 ? 0.5 / Math.Sqrt(2) : 0.5;
            for (int x = 0; x < 8; x++)
                basis[u * 8 + x] = (float)(scale * Math.Cos((2 * x + 1) * u * Math.PI / 16));
        }
        return basis;
    }

    /// <summary>The forward DCT as two matrix products (rows, then columns), then division by the quantiser with rounding.</summary>
    private static void ForwardDctAndQuantise(ReadOnlySpan<float> samples, byte[] quant, Span<short> coefficients)
    {
        Span<float> rows = stackalloc float[JpegTables.BlockSize];
        for (int y = 0; y < 8; y++)
            for (int u = 0; u < 8; u++)
            {
                float sum = 0;
                for (int x = 0; x < 8; x++) sum += DctBasis[u * 8 + x] * samples[y * 8 + x];
                rows[y * 8 + u] = sum;
            }
        for (int v = 0; v < 8; v++)
            for (int u = 0; u < 8; u++)
            {
                float sum = 0;
                for (int y = 0; y < 8; y++) sum += DctBasis[v * 8 + y] * rows[y * 8 + u];
                coefficients[v * 8 + u] = (short)MathF.Round(sum / quant[v * 8 + u], MidpointRounding.AwayFromZero);
            }
    }

    /// <summary>Huffman-codes one block (T.81 F.1.2): the DC difference, then run/size pairs of the AC coefficients in zig-zag order.</summary>
    private static void EncodeBlock(BitWriter writer, ReadOnlySpan<short> coefficients, ref int dcPrediction, HuffmanCode dc, HuffmanCode ac)
    {
        int difference = coefficients[0] - dcPrediction;
        dcPrediction = coefficients[0];
        int category = MagnitudeCategory(difference);
        dc.Write(writer, category);
        writer.WriteMagnitude(difference, category);

        int zeroRun = 0;
        for (int k = 1; k < JpegTables.BlockSize; k++)
        {
            int value = coefficients[JpegTables.ZigZagToNatural[k]];
            if (value == 0)
            {
                zeroRun++;
                continue;
            }
            for (; zeroRun >= 16; zeroRun -= 16) ac.Write(writer, 0xF0); // ZRL: sixteen zeros
            category = MagnitudeCategory(value);
            ac.Write(writer, (zeroRun << 4) | category);
            writer.WriteMagnitude(value, category);
            zeroRun = 0;
        }
        if (zeroRun > 0) ac.Write(writer, 0x00); // EOB
    }

    /// <summary>The number of bits of |value|: T.81's SSSS category.</summary>
    private static int MagnitudeCategory(int value) => 32 - int.LeadingZeroCount(Math.Abs(value));

    /// <summary>Code and length of every symbol of a Huffman table given as DHT counts and symbols (T.81 Annex C).</summary>
    private sealed class HuffmanCode
    {
        private readonly ushort[] _codes = new ushort[256];
        private readonly byte[] _lengths = new byte[256];

        public HuffmanCode(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols)
        {
            int code = 0, index = 0;
            for (int length = 1; length <= 16; length++, code <<= 1)
            {
                for (int i = 0; i < counts[length - 1]; i++, code++, index++)
                {
                    _codes[symbols[index]] = (ushort)code;
                    _lengths[symbols[index]] = (byte)length;
                }
            }
        }

        public void Write(BitWriter writer, int symbol) => writer.Write(_codes[symbol], _lengths[symbol]);
    }

    /// <summary>Packs codes most significant bit first, stuffing a zero byte after every 0xFF (T.81 F.1.2.3).</summary>
    private sealed class BitWriter(Stream output)
    {
        private ulong _bits; // the pending bits are the low _count bits
        private int _count;

        public void Write(int code, int length)
        {
            _bits = (_bits << length) | (uint)code;
            _count += length;
            while (_count >= 8)
            {
                _count -= 8;
                byte b = (byte)(_bits >> _count);
                output.WriteByte(b);
                if (b == 0xFF) output.WriteByte(0);
            }
        }

        /// <summary>Writes the low <paramref name="category"/> bits of a value; negative values as value - 1 (one's complement), T.81 F.1.2.1.</summary>
        public void WriteMagnitude(int value, int category)
        {
            if (category > 0) Write((value < 0 ? value - 1 : value) & ((1 << category) - 1), category);
        }

        /// <summary>Fills the last byte with 1-bits, as T.81 F.1.2.3 asks.</summary>
        public void PadToByte()
        {
            if (_count > 0) Write((1 << (8 - _count)) - 1, 8 - _count);
        }
    }
}
