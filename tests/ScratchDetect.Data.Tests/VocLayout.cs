namespace ScratchDetect.Data.Tests;

/// <summary>Builds empty VOC folder layouts for tests.</summary>
internal static class VocLayout
{
    /// <summary>A temporary folder with empty Annotations, JPEGImages and ImageSets/Main.</summary>
    public static TempDir Create()
    {
        var dir = new TempDir();
        foreach (var sub in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
            Directory.CreateDirectory(Path.Combine(dir.Path, sub));
        return dir;
    }
}
