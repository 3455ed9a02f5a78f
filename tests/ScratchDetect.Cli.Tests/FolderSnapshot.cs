namespace ScratchDetect.Cli.Tests;

/// <summary>Every file under a folder with its bytes, to show that a failed command left the user's files exactly as they were.</summary>
internal sealed record FolderSnapshot(IReadOnlyDictionary<string, byte[]> Files)
{
    public static FolderSnapshot Of(string folder) => new(
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes));

    /// <summary>Asserts that <paramref name="folder"/> holds the same files with the same bytes, and nothing more.</summary>
    public void AssertUnchanged(string folder)
    {
        var now = Of(folder);
        Assert.Equal(Files.Keys.Order(), now.Files.Keys.Order());
        foreach (var (name, bytes) in Files)
            Assert.True(bytes.AsSpan().SequenceEqual(now.Files[name]), $"{name} changed");
    }
}

/// <summary>What every user error must look like.</summary>
internal static class UserError
{
    /// <summary>Exit status 2, an `error:` line naming <paramref name="named"/>, and no stack trace.</summary>
    public static void Assert(int exitCode, string error, string named)
    {
        Xunit.Assert.True(exitCode == 2, $"exit {exitCode}: {error}");
        Xunit.Assert.StartsWith("error: ", error);
        Xunit.Assert.Contains(named, error);
        // Exception.ToString() prints frames as "   at Namespace.Type.Method(...)".
        Xunit.Assert.DoesNotContain("   at ", error);
    }
}
