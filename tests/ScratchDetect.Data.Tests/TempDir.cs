namespace ScratchDetect.Data.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("scratchdetect-test-").FullName;

    /// <summary>An empty VOC layout (Annotations, JPEGImages, ImageSets/Main) inside <see cref="Path"/>.</summary>
    public static TempDir WithVocLayout()
    {
        var dir = new TempDir();
        foreach (var sub in new[] { "Annotations", "JPEGImages", System.IO.Path.Combine("ImageSets", "Main") })
            Directory.CreateDirectory(System.IO.Path.Combine(dir.Path, sub));
        return dir;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
