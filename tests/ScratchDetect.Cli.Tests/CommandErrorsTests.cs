namespace ScratchDetect.Cli.Tests;

/// <summary>
/// `train`, `convert` and `summary` report unusable input as every command does (the one top-level
/// handler: exit 2, one `error:` line naming the option and path, no stack trace), and check their
/// paths before any long work, so the user's files stay as they were.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class CommandErrorsTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// A missing --weights file is named before the dataset is read: --data here is an empty
    /// folder, so an error about the dataset would mean the weights were checked too late.
    /// </summary>
    [Fact]
    public void TrainNamesAMissingWeightsFileBeforeReadingTheData()
    {
        string run = temp.File("run");
        var (exit, _, error) = CliRunner.Run("train", "--model", "fasterrcnn_resnet18_fpn_lite", "--data", temp.Path, "--out", run, "--weights", temp.File("missing.safetensors"));
        UserError.Assert(exit, error, "--weights");
        Assert.Contains("missing.safetensors", error);
        Assert.False(Directory.Exists(run), "the run folder was created for a run that never started");
    }

    [Fact]
    public void TrainNamesAMissingConfigFile()
    {
        var (exit, _, error) = CliRunner.Run("train", "--config", temp.File("run.json"), "--out", temp.File("run"));
        UserError.Assert(exit, error, "--config");
        Assert.Contains("run.json", error);
    }

    [Fact]
    public void TrainRefusesAnOutThatIsAFile()
    {
        string file = temp.File("notes.txt");
        File.WriteAllText(file, "keep me");
        var before = FolderSnapshot.Of(temp.Path);
        var (exit, _, error) = CliRunner.Run("train", "--model", "fasterrcnn_resnet18_fpn_lite", "--data", temp.Path, "--out", file);
        UserError.Assert(exit, error, "notes.txt");
        before.AssertUnchanged(temp.Path);
    }

    [Fact]
    public void ConvertNamesAMissingInput()
    {
        var (exit, _, error) = CliRunner.Run("convert", temp.File("missing.pth"), temp.File("out.safetensors"));
        UserError.Assert(exit, error, "missing.pth");
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    /// <summary>The output is checked before the input is read: the input here is not a checkpoint at all, so only the output check can name OUT.safetensors.</summary>
    [Fact]
    public void ConvertChecksItsOutputBeforeReadingTheInput()
    {
        string input = temp.File("model.pth");
        File.WriteAllText(input, "not a checkpoint");
        Directory.CreateDirectory(temp.File("out"));
        var (exit, _, error) = CliRunner.Run("convert", input, temp.File("out"));
        UserError.Assert(exit, error, "OUT.safetensors");
        Assert.Contains("is a folder", error);
    }

    [Fact]
    public void ConvertRefusesADamagedCheckpointAndWritesNothing()
    {
        string input = temp.File("model.pth");
        File.WriteAllText(input, "not a checkpoint");
        var (exit, _, error) = CliRunner.Run("convert", input, temp.File("out.safetensors"));
        UserError.Assert(exit, error, "model.pth");
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    [Fact]
    public void SummaryNamesAnUnknownModel()
    {
        var (exit, _, error) = CliRunner.Run("summary", "--model", "yolo");
        UserError.Assert(exit, error, "unknown model 'yolo'");
    }
}
