using System.CommandLine;
using ScratchDetect.Cli.Commands;

namespace ScratchDetect.Cli;

/// <summary>The list of sub-commands, in the order `--help` shows them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return GradCheckCommand.Create();
        yield return VersionCommand.Create();
        yield return DatasetCommand.Create();
        yield return EvalCommand.Create();
        yield return MakeShapesCommand.Create();
    }
}
