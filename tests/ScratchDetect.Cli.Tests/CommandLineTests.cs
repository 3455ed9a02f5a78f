using ScratchDetect.Cli.Support;
using ScratchDetect.Engine.IO;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Tests;

/// <summary>The parser, the top-level error handler, help and version, for every command alike.</summary>
[Collection(CliCollection.Name)]
public class CommandLineTests
{
    [Theory]
    [InlineData("'--bogus'", "detect", "--bogus")]
    [InlineData("'many'", "make-shapes", "--out", "x", "--train", "many")]
    [InlineData("'--data' is required", "eval", "--detections", "d.json")]
    [InlineData("'no-such-command'", "no-such-command")]
    [InlineData("'check'", "dataset", "check")]
    public void ParserErrorsExitWithTwoAndNameTheProblem(string named, params string[] args)
    {
        var (exitCode, output, error) = CliRunner.Run(args);
        UserError.Assert(exitCode, error, named);
        Assert.Contains("--help' for the options", error);
        Assert.Empty(output);
    }

    [Fact]
    public void VersionCommandAndOptionAgree()
    {
        var (commandExit, command, _) = CliRunner.Run("version");
        var (optionExit, option, _) = CliRunner.Run("--version");
        Assert.Equal((0, 0), (commandExit, optionExit));
        Assert.StartsWith("scratchdetect ", command);
        Assert.Equal(command, option);
    }

    /// <summary>The help lists the detectors `detect` accepts, and no detector it does not.</summary>
    [Fact]
    public void RootHelpListsTheRegisteredDetectorsOnly()
    {
        var (exitCode, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, exitCode);
        foreach (var name in DetectorRegistry.Names) Assert.Contains(name, output);
        if (!DetectorRegistry.Names.Any(n => n.StartsWith("ssd", StringComparison.Ordinal)))
            Assert.DoesNotContain("SSD", output, StringComparison.OrdinalIgnoreCase);
        // Without a command, the same help.
        Assert.Equal(output, CliRunner.Run().Output);
    }

    [Fact]
    public void VerboseAddsTheStackTraceToAUserError()
    {
        using var dir = new TempDir();
        string labels = dir.File("absent.txt");
        var quiet = CliRunner.Run("dataset", "check", dir.Path, "--split", "train", "--labels", labels);
        UserError.Assert(quiet.ExitCode, quiet.Error, labels);
        Assert.Single(quiet.Error.TrimEnd().Split('\n'));
        var verbose = CliRunner.Run("dataset", "check", dir.Path, "--split", "train", "--labels", labels, "--verbose");
        Assert.Equal(2, verbose.ExitCode);
        Assert.StartsWith(quiet.Error.TrimEnd(), verbose.Error);
        Assert.Contains("   at ScratchDetect.Cli.", verbose.Error);
    }

    [Fact]
    public void TheHandlerTellsUserErrorsFromBugs()
    {
        var error = new StringWriter();
        Assert.Equal(2, ErrorHandler.Report(new SafeTensorsFormatException("w.safetensors", "fc.weight", "dtype F16 is not supported"), verbose: false, error));
        Assert.Equal("error: w.safetensors: tensor 'fc.weight': dtype F16 is not supported" + Environment.NewLine, error.ToString());

        error = new StringWriter();
        var sample = new ScratchDetect.Data.Voc.DatasetProblem(ScratchDetect.Data.Voc.ProblemSeverity.Error, ScratchDetect.Data.Voc.ProblemKind.MissingFile, "a.jpg", null, "image file does not exist");
        Assert.Equal(2, ErrorHandler.Report(new ScratchDetect.Data.Voc.DatasetException(sample), verbose: false, error));
        Assert.StartsWith("error: a.jpg: ", error.ToString());

        // A bug is not the user's fault: it says so and always shows where it happened.
        error = new StringWriter();
        Exception bug;
        try { throw new InvalidOperationException("index 3 out of range"); } catch (Exception e) { bug = e; }
        Assert.Equal(3, ErrorHandler.Report(bug, verbose: false, error));
        Assert.StartsWith("error: unexpected InvalidOperationException: index 3 out of range", error.ToString());
        Assert.Contains("   at ", error.ToString());
    }

    [Fact]
    public void UnknownGradCheckOpIsAUserError()
    {
        var (exitCode, _, error) = CliRunner.Run("gradcheck", "--op", "no_such_op");
        UserError.Assert(exitCode, error, "no_such_op");
        Assert.Contains("matmul", error);
    }

    /// <summary>Off a terminal (as under the test runner) progress is plain lines on the chosen writer, in order.</summary>
    [Fact]
    public void ProgressOffATerminalIsPlainLines()
    {
        Assert.False(ConsoleProgress.IsLive);
        var writer = new StringWriter();
        int result = ConsoleProgress.Run(writer, progress =>
        {
            var load = progress.Step("loading weights");
            load.Complete();
            var images = progress.Step("detecting", 2);
            images.Begin("a.jpg");
            progress.WriteLine("a.jpg: 3 detections");
            images.Advance();
            images.Begin("b.jpg");
            images.Advance("loss 0.5");
            images.Complete();
            return 7;
        });
        Assert.Equal(7, result);
        var lines = writer.ToString().TrimEnd().Split(Environment.NewLine);
        Assert.Equal("loading weights ...", lines[0]);
        Assert.Matches(@"^loading weights: done in \d+\.\d s$", lines[1]);
        Assert.Equal(["detecting ...", "detecting 1/2: a.jpg", "a.jpg: 3 detections", "detecting 2/2: b.jpg", "detecting 2/2: loss 0.5"], lines[2..7]);
        Assert.Matches(@"^detecting: done in \d+\.\d s$", lines[7]);
        Assert.Equal(8, lines.Length);
    }
}
