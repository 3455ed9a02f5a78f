using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Tests;

/// <summary>make-shapes never damages what is already there, and a failure leaves nothing half-made.</summary>
[Collection(CliCollection.Name)]
public class MakeShapesCommandTests
{
    private static (int ExitCode, string Output, string Error) MakeShapes(string output, params string[] more) =>
        CliRunner.Run(["make-shapes", "--out", output, "--train", "3", "--test", "2", "--size", "64..96", .. more]);

    /// <summary>The parent folder holds only what the test put there: no temporary folder is left behind.</summary>
    private static void AssertOnlyEntries(string folder, params string[] names) =>
        Assert.Equal(names.Order(), Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order());

    [Fact]
    public void ANonEmptyFolderIsRefusedAndLeftAsItWas()
    {
        using var dir = new TempDir();
        string output = dir.File("mine");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "notes.txt"), "my notes");
        var before = FolderSnapshot.Of(output);
        var (exitCode, _, error) = MakeShapes(output);
        UserError.Assert(exitCode, error, output);
        Assert.Contains("--force", error);
        before.AssertUnchanged(output);
        // Even --force does not replace a folder holding things that are not a dataset.
        (exitCode, _, error) = MakeShapes(output, "--force");
        UserError.Assert(exitCode, error, "notes.txt");
        before.AssertUnchanged(output);
        AssertOnlyEntries(dir.Path, "mine");
    }

    [Fact]
    public void ForceReplacesTheWholeDataset()
    {
        using var dir = new TempDir();
        string output = dir.File("shapes");
        Assert.Equal(0, CliRunner.Run("make-shapes", "--out", output, "--train", "5", "--test", "4", "--size", "64..96").ExitCode);
        var first = FolderSnapshot.Of(output);
        var (exitCode, output2, error) = MakeShapes(output, "--force", "--seed", "5");
        Assert.True(exitCode == 0, error);
        Assert.Contains("wrote 5 images", output2);
        // 5 images, not 9: the old dataset's images 6..9 are gone, not left stale beside the new ones.
        var voc = VocDataset.Open(output);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(output, "JPEGImages")).Length);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(output, "Annotations")).Length);
        Assert.Equal(["000001", "000002", "000003"], voc.ReadSplit("train"));
        Assert.Equal(["000004", "000005"], voc.ReadSplit("test"));
        Assert.NotEqual(first.Files["JPEGImages/000001.jpg"], File.ReadAllBytes(Path.Combine(output, "JPEGImages", "000001.jpg")));
        AssertOnlyEntries(dir.Path, "shapes");
    }

    [Theory]
    [InlineData("--test", "-1", "test images: -1")]
    [InlineData("--train", "-5", "train images: -5")]
    [InlineData("--train", "2000000", "train images: 2000000")]
    [InlineData("--size", "99999999999..99999999999", "--size '99999999999..99999999999'")]
    [InlineData("--size", "16..64", "image sizes 16..64")]
    [InlineData("--size", "600..500", "image sizes 600..500")]
    [InlineData("--size", "64..100000", "image sizes 64..100000")]
    [InlineData("--size", "big", "--size 'big'")]
    public void BadCountsAndSizesAreRefusedBeforeAnythingIsWritten(string option, string value, string named)
    {
        using var dir = new TempDir();
        string output = dir.File("shapes");
        string[] counts = [.. new[] { ("--train", "3"), ("--test", "2") }.Where(c => c.Item1 != option).SelectMany(c => new[] { c.Item1, c.Item2 })];
        // OPTION=VALUE, so that System.CommandLine reads a negative number as the value, not as an option.
        var (exitCode, _, error) = CliRunner.Run(["make-shapes", "--out", output, .. counts, $"{option}={value}"]);
        UserError.Assert(exitCode, error, named);
        AssertOnlyEntries(dir.Path);
    }

    [Fact]
    public void BothSplitsEmptyIsRefused()
    {
        using var dir = new TempDir();
        var (exitCode, _, error) = CliRunner.Run("make-shapes", "--out", dir.File("shapes"), "--train", "0", "--test", "0");
        UserError.Assert(exitCode, error, "at least one image");
        AssertOnlyEntries(dir.Path);
    }

    [Fact]
    public void AnOutputThatIsAFileIsRefusedAndKept()
    {
        using var dir = new TempDir();
        string file = dir.File("data.bin");
        File.WriteAllText(file, "precious");
        var (exitCode, _, error) = MakeShapes(file, "--force");
        UserError.Assert(exitCode, error, file);
        Assert.Contains("is a file", error);
        Assert.Equal("precious", File.ReadAllText(file));
        // A folder inside that file cannot be made either.
        (exitCode, _, error) = MakeShapes(Path.Combine(file, "shapes"));
        UserError.Assert(exitCode, error, $"'{file}' is a file, not a folder");
        Assert.Equal("precious", File.ReadAllText(file));
        AssertOnlyEntries(dir.Path, "data.bin");
    }

    [Fact]
    public void AnEmptyFolderIsFilled()
    {
        using var dir = new TempDir();
        var (exitCode, _, error) = MakeShapes(dir.Path);
        Assert.True(exitCode == 0, error);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(dir.Path, "JPEGImages")).Length);
    }

    /// <summary>A failure part-way through the writing: the target keeps its old content and no temporary folder is left.</summary>
    [Fact]
    public void AFailedFolderWriteLeavesTheTargetAsItWas()
    {
        using var dir = new TempDir();
        string target = dir.File("dataset");
        Directory.CreateDirectory(Path.Combine(target, "JPEGImages"));
        File.WriteAllText(Path.Combine(target, "labels.txt"), "old");
        var before = FolderSnapshot.Of(target);
        var failure = Assert.Throws<IOException>(() => AtomicFolder.Write<int>(target, replace: true, temporary =>
        {
            File.WriteAllText(Path.Combine(temporary, "labels.txt"), "new");
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", failure.Message);
        before.AssertUnchanged(target);
        AssertOnlyEntries(dir.Path, "dataset");

        // And when it succeeds, the old content is replaced as a whole.
        AtomicFolder.Write(target, replace: true, temporary => { File.WriteAllText(Path.Combine(temporary, "labels.txt"), "new"); return 0; });
        Assert.Equal(["labels.txt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal("new", File.ReadAllText(Path.Combine(target, "labels.txt")));
        AssertOnlyEntries(dir.Path, "dataset");
    }
}
