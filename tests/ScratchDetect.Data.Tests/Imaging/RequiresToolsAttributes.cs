using System.Diagnostics;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>
/// A fact that is skipped, with the reason shown, when a reference tool it needs is missing:
/// "djpeg", "cjpeg" (libjpeg-turbo-progs) or "pil" (python3-pil for /usr/bin/python3).
/// </summary>
public sealed class RequiresToolsFactAttribute : FactAttribute
{
    public RequiresToolsFactAttribute(params string[] tools) => Skip = ToolAvailability.SkipReason(tools);
}

/// <summary>The theory counterpart of <see cref="RequiresToolsFactAttribute"/>.</summary>
public sealed class RequiresToolsTheoryAttribute : TheoryAttribute
{
    public RequiresToolsTheoryAttribute(params string[] tools) => Skip = ToolAvailability.SkipReason(tools);
}

/// <summary>Finds the reference tools once per test run.</summary>
internal static class ToolAvailability
{
    private static readonly Dictionary<string, bool> Known = new();

    /// <summary>Null when every tool is there, else a reason naming the missing ones.</summary>
    public static string? SkipReason(string[] tools)
    {
        var missing = tools.Where(tool => !IsAvailable(tool)).ToArray();
        return missing.Length == 0
            ? null
            : $"reference tool(s) not installed: {string.Join(", ", missing)} (apt-get install libjpeg-turbo-progs python3-pil)";
    }

    public static bool IsAvailable(string tool)
    {
        lock (Known)
        {
            if (!Known.TryGetValue(tool, out bool available))
                Known[tool] = available = tool == "pil" ? Succeeds(TestImages.Python, "-c", "import PIL") : Succeeds(tool, "-version");
            return available;
        }
    }

    private static bool Succeeds(string fileName, params string[] arguments)
    {
        try
        {
            var psi = new ProcessStartInfo(fileName) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments) psi.ArgumentList.Add(argument);
            using var process = Process.Start(psi)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
