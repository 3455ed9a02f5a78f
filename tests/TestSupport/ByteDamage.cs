namespace ScratchDetect.Testing;

/// <summary>
/// The byte-level damages the seeded mutation tests apply to a file (the image codecs' and the
/// safetensors reader's): bit flips, truncation, insertion and deletion. Each test adds damages of
/// its own format (CRC-repaired edits, rewritten header lengths) as further kinds.
/// </summary>
internal static class ByteDamage
{
    /// <summary>How many kinds <see cref="Apply"/> knows: kinds 0 to Kinds - 1.</summary>
    public const int Kinds = 4;

    /// <summary>
    /// Damage of <paramref name="kind"/> applied to <paramref name="data"/> (a copy the caller may
    /// lose: bit flips change it in place), with a description. <paramref name="position"/> picks a
    /// byte offset below the length it is given, so a test can aim at its format's header.
    /// </summary>
    public static (byte[] Data, string Damage) Apply(int kind, byte[] data, Random random, Func<int, int> position, int maxFlips)
    {
        switch (kind)
        {
            case 0:
                int flips = random.Next(1, maxFlips + 1);
                for (int f = 0; f < flips; f++) data[position(data.Length)] ^= (byte)(1 << random.Next(8));
                return (data, $"{flips} bit flips");
            case 1:
                int keep = position(data.Length);
                return (data[..keep], $"truncated to {keep}");
            case 2:
                int at = position(data.Length), count = random.Next(1, 9);
                var inserted = new byte[count];
                random.NextBytes(inserted);
                return ([.. data[..at], .. inserted, .. data[at..]], $"{count} bytes inserted at {at}");
            case 3:
                int from = position(data.Length), removed = Math.Min(random.Next(1, 17), data.Length - from);
                return ([.. data[..from], .. data[(from + removed)..]], $"{removed} bytes deleted at {from}");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, $"byte damages are kinds 0..{Kinds - 1}");
        }
    }
}
