namespace ScratchDetect.Testing;

/// <summary>Where the repository, its committed fixtures and the shared reference data are.</summary>
internal static class RepoPaths
{
    /// <summary>The folder holding ScratchDetect.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>tests/fixtures: small reference data committed with the code.</summary>
    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    /// <summary>The shared/ folder beside the checkout (override with SCRATCHDETECT_SHARED).</summary>
    public static string Shared => Environment.GetEnvironmentVariable("SCRATCHDETECT_SHARED") is { Length: > 0 } path
        ? path
        : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ScratchDetect.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"no ScratchDetect.sln above {AppContext.BaseDirectory}");
    }
}
