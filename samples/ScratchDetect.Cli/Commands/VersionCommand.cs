using System.CommandLine;
using System.Reflection;

namespace ScratchDetect.Cli.Commands;

/// <summary>`scratchdetect version` (and `scratchdetect --version`): prints the tool and runtime versions.</summary>
internal static class VersionCommand
{
    /// <summary>The one version line both `version` and `--version` print.</summary>
    public static string Text
    {
        get
        {
            var assembly = typeof(VersionCommand).Assembly;
            string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? assembly.GetName().Version?.ToString() ?? "unknown";
            return $"scratchdetect {version} on .NET {Environment.Version}";
        }
    }

    public static Command Create()
    {
        var command = new Command("version", "Print the ScratchDetect and .NET runtime versions.");
        command.SetAction(_ =>
        {
            Console.WriteLine(Text);
            return 0;
        });
        return command;
    }
}
