using System.CommandLine;

namespace ScratchDetect.Cli.Commands;

/// <summary>`scratchdetect version`: prints the tool and runtime versions.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the ScratchDetect and .NET runtime versions.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"scratchdetect {typeof(VersionCommand).Assembly.GetName().Version} on .NET {Environment.Version}");
            return 0;
        });
        return command;
    }
}
