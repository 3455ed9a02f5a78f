using ScratchDetect.Cli.Support;

namespace ScratchDetect.Cli.Tests;

/// <summary>
/// The plain side of <see cref="ConsoleProgress"/>, which every long command (detect, eval --model,
/// train) shows its progress through off a terminal, as in these tests.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class ConsoleProgressTests
{
    /// <summary>
    /// A reported unit prints its full line only when asked (train prints every --print-every-th
    /// iteration), never the brief live text; lines through <see cref="ConsoleProgress.Writer"/> come in
    /// order; a step cut short says so.
    /// </summary>
    [Fact]
    public void PlainOutputPrintsOnlyTheReportsAskedFor()
    {
        Assert.False(ConsoleProgress.IsLive, "the test host's standard output is expected to be redirected");
        var plain = new StringWriter();
        ConsoleProgress.Run(plain, progress =>
        {
            var step = progress.Step("training", 3);
            step.Report(1, "iteration 1, full line", print: false, brief: "it 1");
            step.Report(2, "iteration 2, full line", print: true, brief: "it 2");
            progress.Writer.WriteLine("a table row");
            step.Complete("stopped");
        });
        var lines = plain.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("training ...", lines[0]);
        Assert.Equal("iteration 2, full line", lines[1]);
        Assert.Equal("a table row", lines[2]);
        Assert.Matches(@"^training: stopped in \d+\.\d s$", lines[3]);
    }
}
