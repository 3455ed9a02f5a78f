namespace ScratchDetect.Data.Imaging.Png;

/// <summary>
/// The five PNG scanline filters (PNG specification section 9): each predicts a byte from its left
/// neighbour a, the byte above b and the one above-left c, and stores the difference modulo 256.
/// </summary>
internal static class PngFilters
{
    /// <summary>Number of filter types: None, Sub, Up, Average, Paeth.</summary>
    public const int Count = 5;

    private const int None = 0, Sub = 1, Up = 2, Average = 3, Paeth = 4;

    /// <summary>The Paeth predictor: whichever of a, b, c is closest to a + b - c (ties prefer a, then b).</summary>
    private static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    private static int Predict(int type, int a, int b, int c) => type switch
    {
        Sub => a,
        Up => b,
        Average => (a + b) >> 1,
        Paeth => PaethPredictor(a, b, c),
        _ => 0,
    };

    /// <summary>
    /// Reverses filter <paramref name="type"/> on <paramref name="row"/> in place, given the already
    /// reconstructed <paramref name="prior"/> row (zeros for the first row of a pass).
    /// </summary>
    /// <exception cref="InvalidDataException">The filter type is not 0..4.</exception>
    public static void Unfilter(int type, Span<byte> row, ReadOnlySpan<byte> prior, int bytesPerPixel)
    {
        switch (type)
        {
            case None:
                return;
            case Up:
                for (int i = 0; i < row.Length; i++) row[i] += prior[i];
                return;
            case Sub or Average or Paeth:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bytesPerPixel ? row[i - bytesPerPixel] : 0;
                    int c = i >= bytesPerPixel ? prior[i - bytesPerPixel] : 0;
                    row[i] += (byte)Predict(type, a, prior[i], c);
                }
                return;
            default:
                throw new InvalidDataException($"unknown PNG filter type {type}");
        }
    }

    /// <summary>Writes <paramref name="row"/> filtered with <paramref name="type"/> against <paramref name="prior"/> to <paramref name="output"/>.</summary>
    public static void Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bytesPerPixel, Span<byte> output)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bytesPerPixel ? row[i - bytesPerPixel] : 0;
            int c = i >= bytesPerPixel ? prior[i - bytesPerPixel] : 0;
            output[i] = (byte)(row[i] - Predict(type, a, prior[i], c));
        }
    }
}
