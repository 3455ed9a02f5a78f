namespace ScratchDetect.Cli.Support;

/// <summary>
/// Writes a whole folder so that a failure leaves nothing half-made: the content goes into a
/// hidden temporary folder beside the target, which is renamed into place only once complete (the
/// folder counterpart of Engine.IO.AtomicFile). Replacing an existing folder moves it aside first
/// and deletes it after the rename, so at every moment the target is the old or the new whole.
/// </summary>
internal static class AtomicFolder
{
    /// <summary>
    /// Writes <paramref name="target"/> through <paramref name="write"/>, which receives the
    /// temporary folder to fill. An existing empty target is replaced; a non-empty one only when
    /// <paramref name="replace"/> is set (the caller checks that it may be). On any exception the
    /// temporary folder is deleted and the target is as before.
    /// </summary>
    public static T Write<T>(string target, bool replace, Func<string, T> write)
    {
        string full = Path.GetFullPath(target);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(full);
        string temporary = Path.Combine(parent, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string? aside = null;
        try
        {
            Directory.CreateDirectory(temporary);
            var result = write(temporary);
            if (Directory.Exists(full))
            {
                if (Directory.EnumerateFileSystemEntries(full).Any() && !replace)
                    throw new UserErrorException($"'{target}' is not empty");
                aside = Path.Combine(parent, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.old");
                Directory.Move(full, aside);
            }
            try
            {
                Directory.Move(temporary, full);
            }
            catch when (aside is not null)
            {
                Directory.Move(aside, full); // put the old folder back
                aside = null;
                throw;
            }
            return result;
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            if (aside is not null && Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
        }
    }
}
