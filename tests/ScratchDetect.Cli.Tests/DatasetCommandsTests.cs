using System.Globalization;
using System.Text.Json;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Tests;

/// <summary>make-shapes, dataset check and eval end to end, as a user runs them.</summary>
[Collection(CliCollection.Name)]
public class DatasetCommandsTests
{
    private static TempDir MakeShapes()
    {
        var dir = new TempDir();
        var (exitCode, output, error) = CliRunner.Run("make-shapes", "--out", dir.Path, "--train", "6", "--test", "6", "--seed", "3");
        Assert.True(exitCode == 0, error);
        Assert.Contains("wrote 12 images", output);
        return dir;
    }

    [Fact]
    public void GeneratedDatasetChecksClean()
    {
        using var dir = MakeShapes();
        var (exitCode, output, error) = CliRunner.Run("dataset", "check", dir.Path, "--split", "train");
        Assert.True(exitCode == 0, output + error);
        Assert.Contains("6 images, 6 usable", output);
    }

    [Fact]
    public void DatasetCheckFailsOnAnUnusableSampleAndNamesIt()
    {
        using var dir = MakeShapes();
        var voc = VocDataset.Open(dir.Path);
        string broken = voc.AnnotationPath(voc.ReadSplit("test")[0]);
        File.WriteAllText(broken, "<annotation><size>");
        var (exitCode, output, error) = CliRunner.Run("dataset", "check", dir.Path, "--split", "test");
        Assert.Equal(1, exitCode);
        Assert.Contains(Path.GetFileName(broken), output + error);
    }

    [Fact]
    public void PerfectDetectionsScoreAnApOfOne()
    {
        using var dir = MakeShapes();
        var voc = VocDataset.Open(dir.Path);
        // Every ground-truth box reported back with score 1: each is matched at IoU 1 before any
        // false positive, so precision is 1 at every recall level and AP is 1 for every class.
        var entries = voc.ReadSplit("test").Select(id => new
        {
            image = id,
            detections = VocAnnotationParser.Parse(voc.AnnotationPath(id)).Objects.Select(o => new
            {
                box = new[] { o.XMin, o.YMin, o.XMax, o.YMax },
                label = o.Name,
                score = 1.0,
            }).ToArray(),
        });
        string detections = Path.Combine(dir.Path, "dets.json");
        File.WriteAllText(detections, JsonSerializer.Serialize(entries));

        foreach (var metric in new[] { "voc07", "voc12", "coco" })
        {
            var (exitCode, output, error) = CliRunner.Run("eval", "--detections", detections, "--data", dir.Path, "--split", "test", "--metric", metric);
            Assert.True(exitCode == 0, error);
            var meanLine = output.Split('\n').Single(line => line.StartsWith("mean"));
            var numbers = meanLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(3).Select(v => double.Parse(v, CultureInfo.InvariantCulture));
            Assert.All(numbers, ap => Assert.Equal(1.0, ap, 4));
        }
    }

    [Fact]
    public void AnEmptySplitIsAnError()
    {
        using var dir = MakeShapes();
        string split = Path.Combine(dir.Path, "ImageSets", "Main", "val.txt");
        File.WriteAllText(split, "");
        var (exitCode, _, error) = CliRunner.Run("dataset", "check", dir.Path, "--split", "val");
        UserError.Assert(exitCode, error, split);
        Assert.Contains("lists no images", error);
    }

    [Fact]
    public void AMissingDatasetFolderIsAnError()
    {
        using var dir = new TempDir();
        var (exitCode, _, error) = CliRunner.Run("dataset", "check", dir.File("nothing"), "--split", "train");
        UserError.Assert(exitCode, error, dir.File("nothing"));
    }

    [Fact]
    public void EvalRejectsAReversedBoxNamingTheEntry()
    {
        using var dir = MakeShapes();
        var id = VocDataset.Open(dir.Path).ReadSplit("test")[0];
        string detections = Path.Combine(dir.Path, "dets.json");
        File.WriteAllText(detections, $$"""[{"image": "{{id}}", "detections": [{"box": [40, 10, 20, 30], "label": 1, "score": 0.9}]}]""");
        var before = FolderSnapshot.Of(dir.Path);
        var (exitCode, _, error) = CliRunner.Run("eval", "--detections", detections, "--data", dir.Path, "--split", "test");
        UserError.Assert(exitCode, error, $"{detections}: entry 0 (image '{id}') detection 0: box [40, 10, 20, 30] has x2 < x1");
        before.AssertUnchanged(dir.Path);
    }

    /// <summary>An annotation with a DTD (here an entity bomb): refused as malformed, named by dataset check (a sample error, exit 1) and by eval (exit 2).</summary>
    [Fact]
    public void AnnotationsWithADtdAreRefusedAsMalformed()
    {
        using var dir = MakeShapes();
        var voc = VocDataset.Open(dir.Path);
        string bomb = voc.AnnotationPath(voc.ReadSplit("test")[0]);
        File.WriteAllText(bomb, """
            <?xml version="1.0"?>
            <!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
            <annotation><filename>&c;</filename></annotation>
            """);
        var (exitCode, output, error) = CliRunner.Run("dataset", "check", dir.Path, "--split", "test");
        Assert.Equal(1, exitCode);
        Assert.Contains($"{bomb}:2: error: a <!DOCTYPE> (DTD) is not allowed", output);
        string detections = Path.Combine(dir.Path, "dets.json");
        File.WriteAllText(detections, "[]");
        (exitCode, _, error) = CliRunner.Run("eval", "--detections", detections, "--data", dir.Path, "--split", "test");
        UserError.Assert(exitCode, error, $"{bomb}:2: a <!DOCTYPE> (DTD) is not allowed");
    }
}
