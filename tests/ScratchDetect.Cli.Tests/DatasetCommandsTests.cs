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
}
