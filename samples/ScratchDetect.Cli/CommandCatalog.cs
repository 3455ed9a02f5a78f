using System.CommandLine;
using System.CommandLine.Invocation;
using ScratchDetect.Cli.Commands;
using ScratchDetect.Cli.Support;
using ScratchDetect.Models;

namespace ScratchDetect.Cli;

/// <summary>Assembles the `scratchdetect` command from its sub-commands and runs it.</summary>
internal static class CommandCatalog
{
    /// <summary>The sub-commands, in the order `--help` shows them.</summary>
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return GradCheckCommand.Create();
        yield return DatasetCommand.Create();
        yield return DetectCommand.Create();
        yield return EvalCommand.Create();
        yield return MakeShapesCommand.Create();
        yield return TrainCommand.Create();
        yield return ConvertCommand.Create();
        yield return SummaryCommand.Create();
        yield return SelftestCommand.Create();
        yield return VersionCommand.Create();
    }

    /// <summary>On an error, also print the stack trace; accepted by every command.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On an error, also print the stack trace (for a bug report)",
        Recursive = true,
    };

    /// <summary>The root command with every sub-command.</summary>
    public static RootCommand CreateRoot()
    {
        // The detectors come from the registry, so the help lists exactly what `detect` accepts.
        var root = new RootCommand($"ScratchDetect: a from-scratch object-detection engine in C#. Detectors: {string.Join(", ", DetectorRegistry.Names)}. " +
            "Exit status 2 for bad input (one line, error: ...), 3 for a bug.");
        foreach (var command in All())
            root.Subcommands.Add(command);
        root.Options.Add(Verbose);
        // `--version` prints what `version` prints.
        foreach (var version in root.Options.OfType<VersionOption>())
            version.Action = new PrintVersion();
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>; Program and the CLI tests both call this. Parser
    /// errors and the project's own exceptions (see <see cref="ErrorHandler"/>) print one line each
    /// and exit with status 2.
    /// </summary>
    public static int Run(string[] args)
    {
        // Without a command, the help is more use than "Required command was not provided".
        var parseResult = CreateRoot().Parse(args.Length == 0 ? ["--help"] : args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine($"Run '{CommandPath(parseResult)} --help' for the options.");
            return ErrorHandler.UserError;
        }
        try
        {
            return parseResult.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ErrorHandler.Report(e, parseResult.GetValue(Verbose), Console.Error);
        }
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var symbol = parseResult.CommandResult; symbol is not null; symbol = symbol.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, symbol.Command is RootCommand ? "scratchdetect" : symbol.Command.Name);
        return string.Join(' ', names);
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            Console.WriteLine(VersionCommand.Text);
            return 0;
        }
    }
}
