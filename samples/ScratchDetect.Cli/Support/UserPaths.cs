namespace ScratchDetect.Cli.Support;

/// <summary>
/// Checks of the paths a user gives, made before any long work so that a typo fails in
/// milliseconds, with a message naming the option and the path.
/// </summary>
internal static class UserPaths
{
    /// <summary>The full path of an existing file given as <paramref name="what"/> (such as "--weights"); a folder or a missing file is a user error.</summary>
    public static string InputFile(string path, string what)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UserErrorException($"{what} '{path}' is a folder, not a file");
        if (!File.Exists(full))
            throw new UserErrorException($"{what} '{path}' does not exist");
        return full;
    }

    /// <summary>
    /// The full path of a file given as <paramref name="what"/> (such as "--json") that the command
    /// will create or replace at the end: it must not be a folder or one of <paramref name="inputs"/>,
    /// its folder must exist, and a file must be creatable there (checked by creating and deleting one).
    /// </summary>
    public static string OutputFile(string path, string what, IEnumerable<string> inputs)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UserErrorException($"{what} '{path}' is a folder; give a file name inside it");
        if (inputs.Select(Path.GetFullPath).Contains(full))
            throw new UserErrorException($"{what} '{path}' is also an input of this command; writing it would destroy the input");
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new UserErrorException($"{what} '{path}': the folder '{folder}' does not exist");
        if (File.Exists(full) && File.GetAttributes(full).HasFlag(FileAttributes.ReadOnly))
            throw new UserErrorException($"{what} '{path}' is read-only");
        try
        {
            string probe = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.probe");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"{what} '{path}' cannot be written: {e.Message}", e);
        }
        return full;
    }
}
