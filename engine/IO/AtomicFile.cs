namespace ScratchDetect.Engine.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one, never a
/// half-written file: the bytes go to a temporary file beside the target, are flushed to disk,
/// and the temporary file is renamed over the target (a rename within one folder is atomic on
/// POSIX file systems). A failure or a kill mid-write leaves the previous file untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>Writes <paramref name="text"/> as UTF-8 to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
