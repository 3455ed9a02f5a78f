using System.Runtime.CompilerServices;

namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// Reads the entropy-coded segment of a scan bit by bit, most significant bit first (T.81 F.2.2.5).
/// Removes the 0x00 stuffed after every 0xFF data byte and stops in front of a marker; past it, it
/// supplies zero bits and counts them, so a caller can tell when a scan needed more data than the
/// file holds (an encoder pads the last byte with 1-bits, so a complete scan never reads past it).
/// </summary>
internal struct JpegBitReader
{
    private readonly byte[] _data;
    private int _position;
    private ulong _bits;       // unread bits, left-aligned
    private int _count;        // number of unread bits in _bits
    private int _paddingBits;  // zero bits appended after the data ran out; always the last ones in _bits

    /// <summary>Starts reading entropy-coded data at <paramref name="position"/>.</summary>
    public JpegBitReader(byte[] data, int position)
    {
        _data = data;
        _position = position;
    }

    /// <summary>Index of the first byte not yet loaded: the marker that ended the segment once the scan is done.</summary>
    public readonly int Position => _position;

    /// <summary>True once a read went past the end of the entropy-coded data, i.e. the data is truncated or corrupt.</summary>
    public readonly bool IsPastEnd => _paddingBits > _count;

    /// <summary>Tops the buffer up to at least 57 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Fill()
    {
        while (_count <= 56)
        {
            int b = 0;
            if (_position < _data.Length)
            {
                b = _data[_position];
                if (b != 0xFF)
                    _position++;
                else if (_position + 1 < _data.Length && _data[_position + 1] == 0)
                    _position += 2; // stuffed zero byte
                else
                {
                    b = 0; // a marker: stay in front of it
                    _paddingBits += 8;
                }
            }
            else
            {
                _paddingBits += 8;
            }
            _bits |= (ulong)b << (56 - _count);
            _count += 8;
        }
    }

    /// <summary>Decodes one Huffman-coded symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DecodeSymbol(JpegHuffmanTable table)
    {
        if (_count < 16) Fill();
        int entry = table.Lookup[(int)(_bits >> (64 - JpegHuffmanTable.LookupBits))];
        if (entry != 0)
        {
            int length = entry >> 8;
            _bits <<= length;
            _count -= length;
            return entry & 0xFF;
        }
        return DecodeLongSymbol(table);
    }

    private int DecodeLongSymbol(JpegHuffmanTable table)
    {
        for (int length = JpegHuffmanTable.LookupBits + 1; length <= 16; length++)
        {
            int code = (int)(_bits >> (64 - length));
            if (code <= table.MaxCode[length])
            {
                _bits <<= length;
                _count -= length;
                return table.Symbols[table.ValueOffset[length] + code];
            }
        }
        throw new InvalidDataException("corrupt Huffman-coded data (no code matches)");
    }

    /// <summary>Reads <paramref name="n"/> (1..16) bits as an unsigned number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBits(int n)
    {
        if (_count < n) Fill();
        int value = (int)(_bits >> (64 - n));
        _bits <<= n;
        _count -= n;
        return value;
    }

    /// <summary>Reads one bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBit() => ReadBits(1);

    /// <summary>
    /// Reads an <paramref name="n"/>-bit (1..15) magnitude and extends its sign (T.81 F.2.2.1,
    /// EXTEND): values below 2^(n-1) stand for the negative numbers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadSigned(int n)
    {
        int value = ReadBits(n);
        return value < 1 << (n - 1) ? value - (1 << n) + 1 : value;
    }

    /// <summary>
    /// Ends a restart interval: drops the unread bits and consumes the RSTn marker that must follow
    /// (skipping any garbage in front of it, as libjpeg does).
    /// </summary>
    public void ReadRestartMarker()
    {
        _bits = 0;
        _count = 0;
        _paddingBits = 0;
        int position = JpegMarkers.FindNext(_data, _position);
        if (position < 0 || _data[position + 1] is < 0xD0 or > 0xD7)
            throw new InvalidDataException("expected a restart marker (RSTn) in the entropy-coded data; the data is truncated or corrupt");
        _position = position + 2;
    }
}
