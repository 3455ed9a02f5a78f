using System.Buffers.Binary;

namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// Decodes 8-bit baseline, extended-sequential and progressive Huffman JPEGs (ITU T.81) with one
/// (grayscale) or three (YCbCr or RGB) components, any sampling factors 1..4 with integer ratios,
/// and restart intervals, to output that matches libjpeg-turbo's djpeg with its defaults.
/// Malformed data throws <see cref="InvalidDataException"/>; valid but unsupported variants
/// (arithmetic coding, 12-bit, lossless, hierarchical, CMYK) throw <see cref="NotSupportedException"/>.
/// </summary>
internal sealed class JpegDecoder
{
    private enum ScanKind { Sequential, DcFirst, DcRefine, AcFirst, AcRefine }

    private readonly byte[] _data;
    private readonly int[]?[] _quantTables = new int[4][];
    private readonly JpegHuffmanTable?[] _dcTables = new JpegHuffmanTable?[4];
    private readonly JpegHuffmanTable?[] _acTables = new JpegHuffmanTable?[4];
    private readonly short[] _block = new short[JpegTables.BlockSize];

    // Frame (SOF).
    private JpegComponent[] _components = [];
    private bool _progressive;
    private int _width, _height, _maxH, _maxV, _mcusPerLine, _mcuRows;
    private bool _storageAllocated;

    // Markers that decide the colour space and orientation.
    private bool _sawJfif, _sawAdobe;
    private int _adobeTransform;
    private int _exifOrientation = ExifOrientation.Normal;

    // The running scan.
    private int _restartInterval;
    private ScanKind _scanKind;
    private int _spectralStart, _spectralEnd, _successiveLow;
    private int _eobRun;

    private JpegDecoder(byte[] data) => _data = data;

    /// <summary>Decodes <paramref name="data"/> and returns the image as stored (no EXIF rotation) and its EXIF orientation (1..8).</summary>
    public static (RgbImage Image, int ExifOrientation) Decode(byte[] data)
    {
        var decoder = new JpegDecoder(data);
        decoder.ReadSegments(stopAtFirstScan: false);
        return (decoder.ToRgb(), decoder._exifOrientation);
    }

    /// <summary>Reads only the headers in front of the first scan and returns the EXIF orientation (1..8; 1 when absent).</summary>
    public static int ReadExifOrientation(byte[] data)
    {
        var decoder = new JpegDecoder(data);
        decoder.ReadSegments(stopAtFirstScan: true);
        return decoder._exifOrientation;
    }

    /// <summary>True when <paramref name="data"/> starts with the SOI marker.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0xFF && data[1] == JpegMarkers.Soi;

    private void ReadSegments(bool stopAtFirstScan)
    {
        if (!HasSignature(_data))
            throw new InvalidDataException("not a JPEG file (no SOI marker)");
        int position = 2;
        bool sawScan = false;
        while (true)
        {
            int markerAt = JpegMarkers.FindNext(_data, position);
            if (markerAt < 0)
                throw new InvalidDataException("file ends before the EOI marker (truncated)");
            byte marker = _data[markerAt + 1];
            position = markerAt + 2;
            if (marker == JpegMarkers.Eoi)
                break;
            if (marker is >= JpegMarkers.Rst0 and <= JpegMarkers.Rst7 or 0x01)
                continue; // stray RSTn or TEM: markers without a segment

            if (position + 2 > _data.Length)
                throw new InvalidDataException($"segment of marker 0x{marker:X2} is truncated");
            int length = BinaryPrimitives.ReadUInt16BigEndian(_data.AsSpan(position));
            if (length < 2 || position + length > _data.Length)
                throw new InvalidDataException($"segment of marker 0x{marker:X2} has length {length}, beyond the end of the file (truncated)");
            var segment = new ReadOnlySpan<byte>(_data, position + 2, length - 2);
            position += length;

            switch (marker)
            {
                case JpegMarkers.Sof0Baseline or JpegMarkers.Sof1ExtendedSequential or JpegMarkers.Sof2Progressive:
                    ReadFrame(segment, marker == JpegMarkers.Sof2Progressive);
                    break;
                case JpegMarkers.Sof3Lossless:
                    throw new NotSupportedException("lossless JPEG is not supported");
                case 0xC5 or 0xC6 or 0xC7:
                    throw new NotSupportedException("hierarchical (differential) JPEG is not supported");
                case 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF:
                    throw new NotSupportedException("arithmetic-coded JPEG is not supported");
                case JpegMarkers.Dht:
                    ReadHuffmanTables(segment);
                    break;
                case JpegMarkers.Dqt:
                    ReadQuantTables(segment);
                    break;
                case JpegMarkers.Dri:
                    if (segment.Length < 2) throw new InvalidDataException("DRI segment is too short");
                    _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case JpegMarkers.App0:
                    _sawJfif |= segment.StartsWith("JFIF\0"u8);
                    break;
                case JpegMarkers.App1 when segment.StartsWith(ExifOrientation.App1Header):
                    _exifOrientation = ExifOrientation.Parse(segment[ExifOrientation.App1Header.Length..]);
                    break;
                case JpegMarkers.App14 when segment.Length >= 12 && segment.StartsWith("Adobe"u8):
                    _sawAdobe = true;
                    _adobeTransform = segment[11];
                    break;
                case JpegMarkers.Sos:
                    if (stopAtFirstScan) return;
                    position = ReadScan(segment, position);
                    sawScan = true;
                    break;
                // Everything else (other APPn, COM, DNL, DAC, JPGn) carries nothing we use.
            }
        }
        if (!sawScan && !stopAtFirstScan)
            throw new InvalidDataException("no image data: EOI before any scan");
    }

    private void ReadQuantTables(ReadOnlySpan<byte> segment)
    {
        while (segment.Length > 0)
        {
            int precision = segment[0] >> 4, index = segment[0] & 15;
            int size = 1 + JpegTables.BlockSize * (precision + 1);
            if (precision > 1 || index > 3 || segment.Length < size)
                throw new InvalidDataException("malformed DQT segment");
            var table = new int[JpegTables.BlockSize];
            for (int k = 0; k < JpegTables.BlockSize; k++)
            {
                table[JpegTables.ZigZagToNatural[k]] = precision == 0
                    ? segment[1 + k]
                    : BinaryPrimitives.ReadUInt16BigEndian(segment[(1 + 2 * k)..]);
            }
            _quantTables[index] = table;
            segment = segment[size..];
        }
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> segment)
    {
        while (segment.Length > 0)
        {
            if (segment.Length < 17)
                throw new InvalidDataException("malformed DHT segment");
            int tableClass = segment[0] >> 4, index = segment[0] & 15;
            var counts = segment.Slice(1, 16);
            int total = 0;
            foreach (byte count in counts) total += count;
            if (tableClass > 1 || index > 3 || total > 256 || segment.Length < 17 + total)
                throw new InvalidDataException("malformed DHT segment");
            var table = new JpegHuffmanTable(counts, segment.Slice(17, total));
            (tableClass == 0 ? _dcTables : _acTables)[index] = table;
            segment = segment[(17 + total)..];
        }
    }

    private void ReadFrame(ReadOnlySpan<byte> segment, bool progressive)
    {
        if (_components.Length != 0)
            throw new InvalidDataException("more than one frame header (SOF)");
        if (segment.Length < 6)
            throw new InvalidDataException("SOF segment is too short");
        int precision = segment[0];
        if (precision != 8)
            throw new NotSupportedException($"{precision}-bit JPEG is not supported (only 8-bit samples)");
        _height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
        _width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
        int count = segment[5];
        if (_width == 0)
            throw new InvalidDataException("frame width is zero");
        if (_height == 0)
            throw new NotSupportedException("a height defined later by a DNL marker is not supported");
        if (count == 4)
            throw new NotSupportedException("4-component (CMYK or YCCK) JPEG is not supported");
        if (count is not (1 or 3))
            throw new NotSupportedException($"{count}-component JPEG is not supported (only grayscale and 3-component colour)");
        if (segment.Length < 6 + 3 * count)
            throw new InvalidDataException("SOF segment is too short");
        ImageLimits.CheckPixelCount(_width, _height);

        var components = new JpegComponent[count];
        for (int i = 0; i < count; i++)
        {
            var entry = segment.Slice(6 + 3 * i, 3);
            int h = entry[1] >> 4, v = entry[1] & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4 || entry[2] > 3)
                throw new InvalidDataException($"component {entry[0]} has invalid sampling factors {h}x{v} or table {entry[2]}");
            components[i] = new JpegComponent { Id = entry[0], H = h, V = v, QuantTableIndex = entry[2] };
        }
        _maxH = components.Max(c => c.H);
        _maxV = components.Max(c => c.V);
        _mcusPerLine = DivideRoundingUp(_width, 8 * _maxH);
        _mcuRows = DivideRoundingUp(_height, 8 * _maxV);

        long blocksToCode = 0;
        foreach (var c in components)
        {
            if (_maxH % c.H != 0 || _maxV % c.V != 0)
                throw new NotSupportedException($"sampling factors {c.H}x{c.V} against {_maxH}x{_maxV} (a fractional ratio) are not supported");
            c.SampledWidth = DivideRoundingUp(_width * c.H, _maxH);
            c.SampledHeight = DivideRoundingUp(_height * c.V, _maxV);
            c.BlocksPerLine = _mcusPerLine * c.H;
            c.BlockRows = _mcuRows * c.V;
            blocksToCode += (long)DivideRoundingUp(c.SampledWidth, 8) * DivideRoundingUp(c.SampledHeight, 8);
        }
        // Every block costs at least one bit (its DC code), so the file bounds the image size
        // before anything large is allocated.
        if (blocksToCode > 8L * _data.Length)
            throw new InvalidDataException($"header claims {_width}x{_height} pixels, more than a {_data.Length}-byte file can encode");
        _components = components;
        _progressive = progressive;
    }

    private void AllocateStorage()
    {
        foreach (var c in _components)
        {
            c.Plane = new byte[c.Stride * c.BlockRows * 8];
            if (_progressive)
                c.Coefficients = new short[c.BlocksPerLine * c.BlockRows * JpegTables.BlockSize];
        }
        _storageAllocated = true;
    }

    /// <summary>Reads an SOS header and decodes its entropy-coded data; returns the position after it.</summary>
    private int ReadScan(ReadOnlySpan<byte> segment, int dataStart)
    {
        if (_components.Length == 0)
            throw new InvalidDataException("scan (SOS) before the frame header (SOF)");
        int count = segment.Length > 0 ? segment[0] : 0;
        if (count is < 1 or > 4 || segment.Length < 4 + 2 * count)
            throw new InvalidDataException("malformed SOS segment");

        _spectralStart = segment[1 + 2 * count];
        _spectralEnd = segment[2 + 2 * count];
        int successiveHigh = segment[3 + 2 * count] >> 4;
        _successiveLow = segment[3 + 2 * count] & 15;
        if (!_progressive)
            _scanKind = ScanKind.Sequential; // libjpeg ignores Ss/Se/Ah/Al of sequential scans, so do we
        else if (_spectralStart > _spectralEnd || _spectralEnd > 63 || (_spectralStart == 0) != (_spectralEnd == 0) ||
                 (_spectralStart != 0 && count != 1) || successiveHigh > 13 || _successiveLow > 13)
            throw new InvalidDataException("invalid progressive scan parameters");
        else if (_spectralStart == 0)
            _scanKind = successiveHigh == 0 ? ScanKind.DcFirst : ScanKind.DcRefine;
        else
            _scanKind = successiveHigh == 0 ? ScanKind.AcFirst : ScanKind.AcRefine;

        var scanComponents = new JpegComponent[count];
        int blocksPerMcu = 0;
        for (int i = 0; i < count; i++)
        {
            int id = segment[1 + 2 * i], tables = segment[2 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id)
                ?? throw new InvalidDataException($"scan refers to component {id}, which the frame does not have");
            scanComponents[i] = c;
            blocksPerMcu += c.H * c.V;
            bool needsDc = _scanKind is ScanKind.Sequential or ScanKind.DcFirst;
            bool needsAc = _scanKind is ScanKind.Sequential or ScanKind.AcFirst or ScanKind.AcRefine;
            c.DcTable = needsDc ? LookUpTable(_dcTables, tables >> 4) : null;
            c.AcTable = needsAc ? LookUpTable(_acTables, tables & 15) : null;
            c.Quant ??= (c.QuantTableIndex < 4 ? _quantTables[c.QuantTableIndex] : null)?.ToArray()
                ?? throw new InvalidDataException($"component {id} uses quantisation table {c.QuantTableIndex}, which is not defined");
        }
        if (count > 1 && blocksPerMcu > 10)
            throw new InvalidDataException($"an interleaved MCU of {blocksPerMcu} blocks exceeds the limit of 10");

        if (!_storageAllocated) AllocateStorage();
        return DecodeScanData(scanComponents, dataStart);
    }

    private static JpegHuffmanTable LookUpTable(JpegHuffmanTable?[] tables, int index) =>
        (index < 4 ? tables[index] : null) ?? throw new InvalidDataException($"scan uses Huffman table {index}, which is not defined");

    private int DecodeScanData(JpegComponent[] scanComponents, int dataStart)
    {
        var reader = new JpegBitReader(_data, dataStart);
        ResetPredictions(scanComponents);

        // A single-component scan is not interleaved: each block is an MCU, and only the blocks
        // that hold image samples are coded (T.81 A.2.2); otherwise MCUs cover the padded frame.
        bool interleaved = scanComponents.Length > 1;
        var only = scanComponents[0];
        int mcuColumns = interleaved ? _mcusPerLine : DivideRoundingUp(only.SampledWidth, 8);
        int mcuRows = interleaved ? _mcuRows : DivideRoundingUp(only.SampledHeight, 8);
        int restartsLeft = _restartInterval;

        for (int mcuRow = 0; mcuRow < mcuRows; mcuRow++)
        {
            for (int mcuColumn = 0; mcuColumn < mcuColumns; mcuColumn++)
            {
                if (_restartInterval != 0)
                {
                    if (restartsLeft == 0)
                    {
                        reader.ReadRestartMarker();
                        ResetPredictions(scanComponents);
                        restartsLeft = _restartInterval;
                    }
                    restartsLeft--;
                }

                if (!interleaved)
                {
                    DecodeBlock(ref reader, only, mcuRow, mcuColumn);
                }
                else
                {
                    foreach (var c in scanComponents)
                    {
                        for (int v = 0; v < c.V; v++)
                            for (int h = 0; h < c.H; h++)
                                DecodeBlock(ref reader, c, mcuRow * c.V + v, mcuColumn * c.H + h);
                    }
                }
                if (reader.IsPastEnd)
                    throw new InvalidDataException("entropy-coded data ends before the scan is complete (truncated or corrupt)");
            }
        }
        return reader.Position;
    }

    private void ResetPredictions(JpegComponent[] scanComponents)
    {
        foreach (var c in scanComponents) c.DcPredictor = 0;
        _eobRun = 0;
    }

    private void DecodeBlock(ref JpegBitReader reader, JpegComponent c, int blockRow, int blockColumn)
    {
        if (_scanKind == ScanKind.Sequential)
        {
            var block = _block.AsSpan();
            block.Clear();
            int offset = blockRow * 8 * c.Stride + blockColumn * 8;
            if (DecodeSequentialBlock(ref reader, c, block))
                JpegIdct.Transform(block, c.Quant!, c.Plane, offset, c.Stride);
            else
                JpegIdct.TransformDcOnly(block[0], c.Quant![0], c.Plane, offset, c.Stride);
            return;
        }

        var coefficients = c.Coefficients.AsSpan((blockRow * c.BlocksPerLine + blockColumn) * JpegTables.BlockSize, JpegTables.BlockSize);
        switch (_scanKind)
        {
            case ScanKind.DcFirst: DecodeDcFirst(ref reader, c, coefficients); break;
            case ScanKind.DcRefine: DecodeDcRefine(ref reader, coefficients); break;
            case ScanKind.AcFirst: DecodeAcFirst(ref reader, c.AcTable!, coefficients); break;
            default: DecodeAcRefine(ref reader, c.AcTable!, coefficients); break;
        }
    }

    /// <summary>Reads a DC difference (T.81 F.2.2.1): a magnitude category, then that many bits.</summary>
    private static int DecodeDcDifference(ref JpegBitReader reader, JpegHuffmanTable table)
    {
        int category = reader.DecodeSymbol(table);
        if (category > 11)
            throw new InvalidDataException($"corrupt Huffman-coded data (DC magnitude category {category})");
        return category == 0 ? 0 : reader.ReadSigned(category);
    }

    /// <summary>Baseline and extended-sequential: all 64 coefficients of a block (T.81 F.2.2). Returns whether any AC coefficient is non-zero.</summary>
    private static bool DecodeSequentialBlock(ref JpegBitReader reader, JpegComponent c, Span<short> block)
    {
        c.DcPredictor += DecodeDcDifference(ref reader, c.DcTable!);
        block[0] = (short)c.DcPredictor;

        var acTable = c.AcTable!;
        var zigZag = JpegTables.ZigZagToNatural;
        bool hasAc = false;
        for (int k = 1; k < 64; k++)
        {
            int symbol = reader.DecodeSymbol(acTable);
            int run = symbol >> 4, size = symbol & 15;
            if (size == 0)
            {
                if (run != 15) break; // EOB: the rest of the block is zero
                k += 15;              // ZRL: sixteen zeros
                continue;
            }
            k += run;
            if (k > 63)
                throw new InvalidDataException("corrupt Huffman-coded data (coefficient run past the end of the block)");
            block[zigZag[k]] = (short)reader.ReadSigned(size);
            hasAc = true;
        }
        return hasAc;
    }

    // The four progressive scan kinds follow T.81 G.1.2 (and libjpeg's jdphuff.c).

    private void DecodeDcFirst(ref JpegBitReader reader, JpegComponent c, Span<short> coefficients)
    {
        c.DcPredictor += DecodeDcDifference(ref reader, c.DcTable!);
        coefficients[0] = (short)(c.DcPredictor << _successiveLow);
    }

    private void DecodeDcRefine(ref JpegBitReader reader, Span<short> coefficients)
    {
        if (reader.ReadBit() != 0)
            coefficients[0] |= (short)(1 << _successiveLow);
    }

    private void DecodeAcFirst(ref JpegBitReader reader, JpegHuffmanTable table, Span<short> coefficients)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        var zigZag = JpegTables.ZigZagToNatural;
        for (int k = _spectralStart; k <= _spectralEnd; k++)
        {
            int symbol = reader.DecodeSymbol(table);
            int run = symbol >> 4, size = symbol & 15;
            if (size == 0)
            {
                if (run != 15)
                {
                    // EOBRUN: this block and the next 2^run - 1 + (run extra bits) end here.
                    _eobRun = (1 << run) - 1;
                    if (run > 0) _eobRun += reader.ReadBits(run);
                    break;
                }
                k += 15;
                continue;
            }
            k += run;
            if (k > 63)
                throw new InvalidDataException("corrupt Huffman-coded data (coefficient run past the end of the block)");
            coefficients[zigZag[k]] = (short)(reader.ReadSigned(size) * (1 << _successiveLow));
        }
    }

    private void DecodeAcRefine(ref JpegBitReader reader, JpegHuffmanTable table, Span<short> coefficients)
    {
        var zigZag = JpegTables.ZigZagToNatural;
        int plusOne = 1 << _successiveLow, minusOne = -1 << _successiveLow;
        int k = _spectralStart;
        if (_eobRun == 0)
        {
            for (; k <= _spectralEnd; k++)
            {
                int symbol = reader.DecodeSymbol(table);
                int run = symbol >> 4, size = symbol & 15;
                int newValue = 0;
                if (size != 0)
                {
                    // A newly non-zero coefficient: size must be 1, one bit gives its sign.
                    newValue = reader.ReadBit() != 0 ? plusOne : minusOne;
                }
                else if (run != 15)
                {
                    _eobRun = 1 << run;
                    if (run > 0) _eobRun += reader.ReadBits(run);
                    break; // the rest of the block is refined by the EOB run below
                }

                // Skip `run` zero coefficients, refining every non-zero one passed on the way;
                // the new value lands on the next zero coefficient.
                for (; k <= _spectralEnd; k++)
                {
                    ref short coefficient = ref coefficients[zigZag[k]];
                    if (coefficient != 0)
                        RefineNonZero(ref reader, ref coefficient, plusOne, minusOne);
                    else if (run-- == 0)
                        break;
                }
                if (newValue != 0)
                {
                    if (k > _spectralEnd)
                        throw new InvalidDataException("corrupt Huffman-coded data (refinement past the end of the band)");
                    coefficients[zigZag[k]] = (short)newValue;
                }
            }
        }
        if (_eobRun > 0)
        {
            // Inside an EOB run only the already non-zero coefficients get a correction bit.
            for (; k <= _spectralEnd; k++)
            {
                ref short coefficient = ref coefficients[zigZag[k]];
                if (coefficient != 0)
                    RefineNonZero(ref reader, ref coefficient, plusOne, minusOne);
            }
            _eobRun--;
        }
    }

    /// <summary>Applies a correction bit to a coefficient that is already non-zero: it moves away from zero.</summary>
    private static void RefineNonZero(ref JpegBitReader reader, ref short coefficient, int plusOne, int minusOne)
    {
        if (reader.ReadBit() != 0 && (coefficient & plusOne) == 0)
            coefficient += (short)(coefficient >= 0 ? plusOne : minusOne);
    }

    /// <summary>Runs the IDCT of progressive images, then upsamples and converts the colour.</summary>
    private RgbImage ToRgb()
    {
        foreach (var c in _components)
        {
            if (c.Quant is null)
                throw new InvalidDataException($"component {c.Id} has no scan (incomplete image)");
            if (c.Coefficients is null) continue;
            int blocksWide = DivideRoundingUp(c.SampledWidth, 8), blocksHigh = DivideRoundingUp(c.SampledHeight, 8);
            for (int row = 0; row < blocksHigh; row++)
            {
                for (int column = 0; column < blocksWide; column++)
                {
                    var block = c.Coefficients.AsSpan((row * c.BlocksPerLine + column) * JpegTables.BlockSize, JpegTables.BlockSize);
                    JpegIdct.Transform(block, c.Quant!, c.Plane, row * 8 * c.Stride + column * 8, c.Stride);
                }
            }
        }
        return JpegColorConverter.ToRgb(_components, _width, _height, _maxH, _maxV, IsRgbColorSpace());
    }

    /// <summary>Whether three components are R, G, B rather than Y, Cb, Cr: libjpeg's rules (jdapimin.c).</summary>
    private bool IsRgbColorSpace()
    {
        if (_components.Length != 3 || _sawJfif) return false;
        if (_sawAdobe) return _adobeTransform == 0;
        return _components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B';
    }

    private static int DivideRoundingUp(int value, int divisor) => (value + divisor - 1) / divisor;
}
