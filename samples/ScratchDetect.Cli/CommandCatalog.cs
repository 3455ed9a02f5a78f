using System.CommandLine;
using ScratchDetect.Cli.Commands;

namespace ScratchDetect.Cli;

/// <summary>Assembles the `scratchdetect` command from its sub-commands.</summary>
internal static class CommandCatalog
{
    /// <summary>The sub-commands, in the order `--help` shows them.</summary>
    public static IEnumerable<Command> All()
    {
        yield return GradCheckCommand.Create();
        yield return DatasetCommand.Create();
        yield return DetectCommand.Create();
        yield return EvalCommand.Create();
        yield return MakeShapesCommand.Create();
        yield return SelftestCommand.Create();
        yield return VersionCommand.Create();
    }

    /// <summary>The root command with every sub-command; Program and the CLI tests both run this.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("ScratchDetect: a from-scratch object-detection engine (Faster R-CNN, SSD300) in C#.");
        foreach (var command in All())
            root.Subcommands.Add(command);
        return root;
    }
}
