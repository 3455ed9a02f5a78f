namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>
/// A decoding Huffman table built from a DHT segment (T.81 Annex C): a direct lookup for codes of
/// up to <see cref="LookupBits"/> bits, which covers almost every symbol in practice, and the
/// canonical MAXCODE/VALPTR arrays (Figure F.16) for the longer codes.
/// </summary>
internal sealed class JpegHuffmanTable
{
    /// <summary>Bits peeked for the direct lookup.</summary>
    public const int LookupBits = 9;

    /// <summary>Indexed by the next <see cref="LookupBits"/> bits: (code length &lt;&lt; 8) | symbol, or 0 when the code is longer.</summary>
    public readonly ushort[] Lookup = new ushort[1 << LookupBits];

    /// <summary>MaxCode[length] is the largest code of that length, or -1 when there is none.</summary>
    public readonly int[] MaxCode = new int[17];

    /// <summary>ValueOffset[length] + code is the index in <see cref="Symbols"/> of a code of that length.</summary>
    public readonly int[] ValueOffset = new int[17];

    /// <summary>The symbols in order of increasing code.</summary>
    public readonly byte[] Symbols;

    /// <summary>Builds the table; <paramref name="counts"/> holds the number of codes of each length 1..16.</summary>
    /// <exception cref="InvalidDataException">The counts describe more codes than fit in their lengths.</exception>
    public JpegHuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols)
    {
        Symbols = symbols.ToArray();
        int code = 0, index = 0;
        for (int length = 1; length <= 16; length++)
        {
            int n = counts[length - 1];
            if (code + n > 1 << length)
                throw new InvalidDataException("Huffman table has more codes than its code lengths allow");
            ValueOffset[length] = index - code;
            for (int i = 0; i < n; i++, code++, index++)
            {
                if (length <= LookupBits)
                {
                    // Every lookup index that starts with this code decodes to it.
                    int shift = LookupBits - length;
                    Lookup.AsSpan(code << shift, 1 << shift).Fill((ushort)((length << 8) | symbols[index]));
                }
            }
            MaxCode[length] = n == 0 ? -1 : code - 1;
            code <<= 1;
        }
    }
}
