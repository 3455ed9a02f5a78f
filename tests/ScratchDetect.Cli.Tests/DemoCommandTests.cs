using System.Globalization;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Synthetic;

namespace ScratchDetect.Cli.Tests;

/// <summary>
/// `demo` end to end with a tiny budget (the real one takes ten minutes), `train` for the small SSDs,
/// and `summary`'s SSD stage pass.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class DemoCommandTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// 32 training and 4 test images, one epoch of one batch: the demo generates the data, trains,
    /// evaluates, draws and reports, and every file it names exists. The mAP of one iteration is
    /// meaningless, so only its presence and range are checked.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void DemoRunsEndToEndAndPrintsTheMap()
    {
        string folder = temp.File("demo");
        var (exitCode, output, error) = CliRunner.Run("demo", "--out", folder, "--train-images", "32", "--test-images", "4", "--epochs", "1");
        Assert.True(exitCode == 0, error + output);
        Assert.Contains("make-shapes --out", output);
        foreach (var file in new[] { "run/metrics.csv", "run/losses.png", "run/map.png", "run/model.safetensors", "run/config.json", "detections.json", "shapes/labels.txt" })
            Assert.True(File.Exists(Path.Combine(folder, file)), $"missing {file}");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "detections"), "*.png"));
        var map = System.Text.RegularExpressions.Regex.Match(output, @"VOC07 mAP@0\.5 on the 4 held-out images: ([0-9.]+)");
        Assert.True(map.Success, output);
        Assert.InRange(double.Parse(map.Groups[1].Value, CultureInfo.InvariantCulture), 0, 1);
    }

    /// <summary>A folder that holds anything is refused with exit 2 before anything is written, and left as it was.</summary>
    [Fact]
    public void DemoNeverWritesIntoAFolderThatHoldsSomething()
    {
        string folder = temp.File("mine");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "my notes");
        var before = FolderSnapshot.Of(folder);
        var (exitCode, _, error) = CliRunner.Run("demo", "--out", folder);
        UserError.Assert(exitCode, error, folder);
        before.AssertUnchanged(folder);
    }

    /// <summary>
    /// `train --model ssd_tiny` on 8 make-shapes images (64 px, ssd_tiny's photometric distortion and
    /// mirroring) for 24 iterations: the mean loss of the last 8 iterations is under 0.75 of the first
    /// iteration's. The margin: from scratch the loss starts near 30 (hard negatives at random logits);
    /// the run measured after batch norm was added to conv6, conv7 and the extras went from 27.4 to a
    /// last-8 mean of 13.6 (0.50), single iterations between 11.8 and 17.0 (the SSD crop, on before,
    /// gave 0.59 with iterations between 11 and 40). 0.75 leaves room for that noise and still fails
    /// when nothing is learnt (the ratio then stays near 1) or when training diverges (the PyTorch
    /// calibration of this model at lr 0.02 per 32 images had losses of 20..180).
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void TinySsdLossFalls()
    {
        string data = temp.File("shapes");
        ShapesDataset.Write(data, new ShapesOptions { Train = 8, Test = 2, MinSize = 64, MaxSize = 80, MaxObjects = 3, MinObjectScale = 0.15, MaxObjectScale = 0.4, Seed = 3 });
        string run = temp.File("run");
        var (exitCode, output, error) = CliRunner.Run("train", "--model", "ssd_tiny", "--data", data, "--split", "train", "--min-size", "64",
            "--batch-size", "8", "--epochs", "24", "--lr", "0.01", "--warmup-iters", "0", "--workers", "1", "--out", run);
        Assert.True(exitCode == 0, error + output);
        var losses = File.ReadAllLines(Path.Combine(run, RunMetrics.FileName)).Where(l => l.StartsWith("train,", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(',')[5], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(24, losses.Length);
        double first = losses[0], last = losses.TakeLast(8).Average();
        Assert.True(last < 0.75 * first, $"loss {first:F3} -> {last:F3}: {string.Join(" ", losses.Select(l => l.ToString("F2", CultureInfo.InvariantCulture)))}");
    }

    /// <summary>`summary` runs SSD's stages; the VGG, extras, head and postprocess rows are there.</summary>
    [Fact]
    public void SummaryShowsSsdStages()
    {
        var (exitCode, output, error) = CliRunner.Run("summary", "--model", "ssd_tiny", "--input", "3x96x96", "--num-classes", "3");
        Assert.True(exitCode == 0, error);
        foreach (var stage in new[] { "backbone VGG", "backbone extras (2 blocks)", "head (class logits and box codes)", "postprocess (" })
            Assert.Contains(stage, output);
    }
}
