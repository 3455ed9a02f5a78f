namespace ScratchDetect.Data.Imaging;

/// <summary>
/// Thrown for every malformed, truncated or unsupported image. The message names the file (when
/// known) and the problem; decoders never let an IndexOutOfRange, OutOfMemory or hang escape.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>The file being decoded, or null for in-memory data.</summary>
    public string? FilePath { get; }

    /// <summary>Creates the exception for <paramref name="problem"/> in <paramref name="filePath"/>.</summary>
    public ImageDecodeException(string? filePath, string problem, Exception? inner = null)
        : base(filePath is null ? problem : $"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
    }
}
