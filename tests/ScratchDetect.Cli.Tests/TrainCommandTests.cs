using System.Globalization;
using ScratchDetect.Cli.Commands;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Tests;

/// <summary>
/// `train` on small make-shapes sets with the lite ResNet-18 Faster R-CNN at 64..96 px, so each
/// iteration takes about a second on two cores.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class TrainCommandTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A make-shapes set of <paramref name="train"/> training and 4 test images, 64..96 px.</summary>
    private string Shapes(int train, int seed)
    {
        string root = temp.File($"shapes{train}_{seed}");
        ShapesDataset.Write(root, new ShapesOptions { Train = train, Test = 4, MinSize = 64, MaxSize = 96, Seed = seed });
        return root;
    }

    private static string[] Train(string data, string run, params string[] extra) =>
        ["train", "--model", "fasterrcnn_resnet18_fpn_lite", "--data", data, "--split", "train", "--batch-size", "4", "--min-size", "64", "--max-size", "96",
         "--workers", "2", "--warmup-iters", "2", "--out", run, .. extra];

    /// <summary>The "train" rows of metrics.csv without the timing columns: phase, iteration, epoch, batch, lr, loss and its terms.</summary>
    private static string[] LossRows(string run) =>
        File.ReadAllLines(Path.Combine(run, RunMetrics.FileName)).Where(l => l.StartsWith("train,", StringComparison.Ordinal))
            .Select(l => string.Join(",", l.Split(',')[..^4])).ToArray();

    /// <summary>
    /// A run stopped after 4 iterations (in the middle of epoch 1: 12 images, batches of 4) and resumed
    /// gives the same per-iteration learning rates and losses as an uninterrupted run, and the same
    /// final weights. Both runs do the same float32 operations in the same order, so the comparison is
    /// exact: any difference would be lost state (weights, momentum, sampler generator, loader position).
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void ResumedRunRepeatsTheUninterruptedOne()
    {
        string data = Shapes(12, seed: 4);
        string whole = temp.File("whole"), split = temp.File("split");
        Assert.Equal(0, CliRunner.Run(Train(data, whole, "--epochs", "2")).ExitCode);

        var (stopped, stopOutput, _) = CliRunner.Run(Train(data, split, "--epochs", "2", "--stop-after", "4"));
        Assert.Equal(0, stopped);
        Assert.Contains("next: epoch 1, batch 1", stopOutput);
        Assert.Equal(4, LossRows(split).Length);
        var (resumed, _, resumeError) = CliRunner.Run("train", "--resume", split);
        Assert.True(resumed == 0, resumeError);

        var expected = LossRows(whole);
        Assert.Equal(6, expected.Length);
        Assert.Equal(expected, LossRows(split));
        // Same tensors in the same order serialise to the same bytes: every weight, batch-norm statistic and counter agrees.
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, Checkpoint.WeightsFileName)), File.ReadAllBytes(Path.Combine(split, Checkpoint.WeightsFileName)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, Checkpoint.FileName)), File.ReadAllBytes(Path.Combine(split, Checkpoint.FileName)));
    }

    /// <summary>
    /// The first epoch evaluates on the test split and plots. Then a learning rate of 1e8 makes the losses overflow within a few iterations. Training stops
    /// before the bad step with exit 1 and a message naming the iteration, the loss term and the
    /// batch's images, and the checkpoint of the previous epoch is left byte for byte as it was.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void NonFiniteLossStopsAndKeepsTheLastCheckpoint()
    {
        string data = Shapes(8, seed: 5);
        string run = temp.File("nan");
        var (firstExit, firstOutput, _) = CliRunner.Run(Train(data, run, "--epochs", "1", "--val-split", "test"));
        Assert.Equal(0, firstExit);
        var checkpoint = File.ReadAllBytes(Path.Combine(run, Checkpoint.FileName));

        // The epoch's evaluation: an "eval" row with both mAPs, the per-class table, and the plots.
        var eval = File.ReadAllLines(Path.Combine(run, RunMetrics.FileName)).Single(l => l.StartsWith("eval,", StringComparison.Ordinal)).Split(',');
        Assert.Equal("2", eval[1]); // after the 2 iterations of the epoch
        Assert.InRange(double.Parse(eval[^2], CultureInfo.InvariantCulture), 0, 1);
        Assert.InRange(double.Parse(eval[^1], CultureInfo.InvariantCulture), 0, 1);
        Assert.Contains("AP07", firstOutput);
        foreach (var plot in new[] { "losses", "map" })
        {
            var png = Data.Imaging.ImageIO.ReadRgb(Path.Combine(run, plot + ".png"));
            Assert.Equal((900, 500), (png.Width, png.Height));
            Assert.Equal("svg", System.Xml.Linq.XDocument.Load(Path.Combine(run, plot + ".svg")).Root!.Name.LocalName);
        }

        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "30", "--lr", "1e8");

        Assert.Equal(TrainCommand.ExitDiverged, exit);
        var line = error.Split('\n').Single(l => l.StartsWith("error: training diverged at iteration ", StringComparison.Ordinal));
        Assert.Matches(@"iteration \d+ \(epoch \d+, batch \d\): loss_\w+ is (NaN|∞|-∞)", line);
        Assert.Matches(@"images \d{6}, \d{6}, \d{6}, \d{6}", line);
        Assert.Contains("last good checkpoint", line);
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(run, Checkpoint.FileName)));
    }

    /// <summary>
    /// Writing a checkpoint that dies halfway (here: the stream fails after half of the new bytes, as a
    /// kill or a full disk would leave it) leaves the previous checkpoint readable and unchanged, and no
    /// temporary file behind.
    /// </summary>
    [Fact]
    public void AnAbortedCheckpointWriteLeavesThePreviousOneIntact()
    {
        var weights = new Dictionary<string, Engine.Tensor> { ["backbone.body.conv1.weight"] = Engine.Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2) };
        var momentum = new Dictionary<string, Engine.Tensor> { ["state.0.momentum_buffer"] = Engine.Tensor.FromArray([0.5f, 0.25f, 0f, -1f], 2, 2) };
        var previous = new Checkpoint("fasterrcnn_resnet18_fpn_lite", new TrainingPosition(3, 7), [1, 2, 3, 4], weights, momentum);
        previous.Save(temp.Path);
        string path = temp.File(Checkpoint.FileName);
        var before = File.ReadAllBytes(path);

        var next = previous with { Position = new TrainingPosition(4, 0), GeneratorState = [5, 6, 7, 8] };
        var bytes = next.Serialize();
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(bytes, 0, bytes.Length / 2);
            throw new IOException("killed halfway");
        }));

        Assert.Equal(before, File.ReadAllBytes(path));
        var loaded = Checkpoint.Load(path);
        Assert.Equal(new TrainingPosition(3, 7), loaded.Position);
        Assert.Equal([1UL, 2, 3, 4], loaded.GeneratorState);
        Assert.Equal([0.5f, 0.25f, 0f, -1f], loaded.OptimizerState["state.0.momentum_buffer"].ToArray<float>());
        Assert.Equal([1f, 2f, 3f, 4f], loaded.ModelState["backbone.body.conv1.weight"].ToArray<float>());
        Assert.Equal([Checkpoint.FileName, Checkpoint.WeightsFileName], Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// Overfitting 8 images (two batches of 4, 12 epochs = 24 iterations, the recipe's learning rate
    /// for batch 4, 0.02 x 4 / 16 = 0.005): the mean loss of the last 8 iterations is below 70% of
    /// that of the first 4. The loss is noisy from batch to batch (the two batches differ by ~0.7), hence
    /// means. Measured when written (seed 3): 2.90 falling to 1.68, 58%; a model that does not learn stays near 100%.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void LossFallsOnASmallSet()
    {
        string data = Shapes(8, seed: 3);
        string run = temp.File("down");
        var (exit, _, error) = CliRunner.Run(Train(data, run, "--epochs", "12"));
        Assert.True(exit == 0, error);

        var losses = LossRows(run).Select(r => double.Parse(r.Split(',')[5], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(24, losses.Length);
        double first = losses.Take(4).Average(), last = losses.TakeLast(8).Average();
        Assert.True(last < 0.7 * first, $"loss went from {first:F3} (first 4 iterations) to {last:F3} (last 8): not below 70%");
    }

    /// <summary>
    /// torchvision's resnet18 (randomly initialised, saved by torch.save as a .pth) goes into the
    /// backbone through --backbone-weights; with backbone weights torchvision freezes the stem and
    /// layer1, so after an iteration conv1.weight is still exactly the file's. `convert` turns the
    /// same .pth into a safetensors file with the same tensors.
    /// </summary>
    [TorchFact]
    [Trait("Category", "Slow")]
    public void BackboneWeightsAndConvertTakeAPthFile()
    {
        string pth = temp.File("resnet18.pth");
        Reference.Run(Reference.Python, "-c", "import sys, torch, torchvision; torch.manual_seed(3); torch.save(torchvision.models.resnet18().state_dict(), sys.argv[1])", pth);
        string data = Shapes(4, seed: 6);
        string run = temp.File("pretrained");

        var (exit, _, error) = CliRunner.Run(Train(data, run, "--epochs", "1", "--backbone-weights", pth));

        Assert.True(exit == 0, error);
        var file = Engine.IO.PyTorchCheckpoint.Load(pth);
        var trained = SafeTensors.Load(Path.Combine(run, Checkpoint.WeightsFileName));
        Assert.Equal(file["conv1.weight"].ToArray<float>(), trained["backbone.body.conv1.weight"].ToArray<float>());
        Assert.NotEqual(file["layer4.1.conv2.weight"].ToArray<float>(), trained["backbone.body.layer4.1.conv2.weight"].ToArray<float>());

        string converted = temp.File("resnet18.safetensors");
        var (convertExit, _, convertError) = CliRunner.Run("convert", pth, converted);
        Assert.True(convertExit == 0, convertError);
        var safetensors = SafeTensors.Load(converted);
        Assert.Equal(file.Keys, safetensors.Keys);
        Assert.Equal(file["fc.weight"].ToArray<float>(), safetensors["fc.weight"].ToArray<float>());
    }

    /// <summary>
    /// SIGINT (what Ctrl-C sends) to a training process: it finishes the iteration it is in, writes a
    /// checkpoint short of the end of the run, says how to resume, and exits 130.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task CtrlCStopsAfterTheIterationWithACheckpoint()
    {
        string data = Shapes(8, seed: 7);
        string run = temp.File("interrupted");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scratchdetect.dll"));
        foreach (var argument in Train(data, run, "--epochs", "5", "--print-every", "1")) psi.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = new System.Text.StringBuilder();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            output.AppendLine(line);
            if (line.StartsWith("epoch 0 [1/2]", StringComparison.Ordinal))
            {
                using var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)])!;
                await kill.WaitForExitAsync();
                break;
            }
        }
        output.Append(await process.StandardOutput.ReadToEndAsync());
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == TrainCommand.ExitInterrupted, $"exit {process.ExitCode}\n{output}\n{await error}");
        Assert.Contains("stopped at epoch", output.ToString());
        Assert.Contains($"--resume {run}", output.ToString());
        var checkpoint = Checkpoint.Load(Path.Combine(run, Checkpoint.FileName));
        Assert.InRange(checkpoint.Position.Epoch * 2 + checkpoint.Position.Batch, 1, 9);
    }

    /// <summary>
    /// An undecodable image is reported by path and skipped (or, with --strict, stops the run with exit 2
    /// before any training); a box with xmax &lt; xmin is dropped and counted in a warning.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void BadSamplesAreReportedSkippedOrFatalWithStrict()
    {
        string data = Shapes(5, seed: 8);
        string broken = Path.Combine(data, "JPEGImages", "000002.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        // Images 000001 and 000003..000005 keep a usable batch of 4; give one of them a degenerate box.
        string annotation = Path.Combine(data, "Annotations", "000003.xml");
        string xml = File.ReadAllText(annotation);
        var xmax = System.Text.RegularExpressions.Regex.Match(xml, "<xmax>\\d+</xmax>");
        Assert.True(xmax.Success, "image 000003 has an object");
        File.WriteAllText(annotation, xml[..xmax.Index] + "<xmax>0</xmax>" + xml[(xmax.Index + xmax.Length)..]);

        // One batch of all 5 images, so that every sample is read.
        string[] Args(string run, params string[] extra) => ["train", "--model", "fasterrcnn_resnet18_fpn_lite", "--data", data, "--split", "train", "--batch-size", "5",
            "--min-size", "64", "--max-size", "96", "--workers", "2", "--epochs", "1", "--out", temp.File(run), .. extra];
        var strict = CliRunner.Run(Args("strict", "--strict"));
        Assert.Equal(2, strict.ExitCode);
        Assert.Contains("--strict", strict.Error);
        Assert.Contains(broken, strict.Error);

        var (exit, output, error) = CliRunner.Run(Args("lenient"));
        Assert.True(exit == 0, error);
        Assert.Contains($"warning: skipped unusable sample: {broken}", output);
        Assert.Contains("warning: 1 degenerate boxes dropped so far (1 in annotations", output);
        Assert.Contains("1 unusable samples skipped", output);
    }

    [Fact]
    public void UnknownModelIsAUserError()
    {
        var (exit, _, error) = CliRunner.Run("train", "--model", "yolo", "--data", temp.Path, "--out", temp.File("run"));
        Assert.Equal(2, exit);
        Assert.Contains("unknown model 'yolo'", error);
        Assert.Contains("fasterrcnn_resnet50_fpn", error);
    }

    [Fact]
    public void AnExistingRunIsNotOverwritten()
    {
        string run = temp.File("run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, Checkpoint.FileName), "keep me");
        var (exit, _, error) = CliRunner.Run(Train(temp.Path, run));
        Assert.Equal(2, exit);
        Assert.Contains("--resume", error);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(run, Checkpoint.FileName)));
    }
}
