using System.Diagnostics;

namespace ScratchDetect.Testing;

/// <summary>
/// The reference tools tests compare against: PyTorch ("torch": Debian's python3-torch and
/// python3-torchvision, run by /usr/bin/python3), PIL ("pil": python3-pil) and libjpeg-turbo's
/// "djpeg" and "cjpeg" (libjpeg-turbo-progs). Tests that need one skip with a visible reason where
/// it is absent, unless SCRATCHDETECT_REQUIRE_REFERENCE=1 (set by .ci/run): then they run and fail.
/// </summary>
internal static class Reference
{
    /// <summary>The system interpreter that has torch and PIL (the python3 on PATH may be another one).</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Dictionary<string, bool> Known = new();

    /// <summary>Null when every tool is there (or references are required); otherwise why the test is skipped.</summary>
    public static string? SkipReason(params string[] tools)
    {
        if (Environment.GetEnvironmentVariable("SCRATCHDETECT_REQUIRE_REFERENCE") == "1") return null;
        var missing = tools.Where(tool => !IsAvailable(tool)).ToArray();
        return missing.Length == 0
            ? null
            : $"reference tool(s) absent: {string.Join(", ", missing)} (apt-get install python3-torch python3-torchvision python3-pil libjpeg-turbo-progs; CI installs them)";
    }

    /// <summary>Whether a reference tool can be run here; probed once per test run.</summary>
    public static bool IsAvailable(string tool)
    {
        lock (Known)
        {
            if (!Known.TryGetValue(tool, out bool available))
                Known[tool] = available = tool switch
                {
                    "torch" => Succeeds(Python, "-c", "import torch, torchvision"),
                    "pil" => Succeeds(Python, "-c", "import PIL"),
                    _ => Succeeds(tool, "-version"),
                };
            return available;
        }
    }

    /// <summary>Runs a program and returns its standard output; a non-zero exit fails with its standard error.</summary>
    public static string Run(string fileName, params string[] arguments)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments) psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stderr = process.StandardError.ReadToEndAsync(); // read both pipes at once so neither fills up
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stderr.Result}");
        return stdout;
    }

    private static bool Succeeds(string fileName, params string[] arguments)
    {
        try
        {
            Run(fileName, arguments);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs reference tools at run time (see <see cref="Reference"/>).</summary>
internal sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute(params string[] tools) => Skip = Reference.SkipReason(tools);
}

/// <summary>A theory that needs reference tools at run time (see <see cref="Reference"/>).</summary>
internal sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    public ReferenceTheoryAttribute(params string[] tools) => Skip = Reference.SkipReason(tools);
}

/// <summary>A fact that needs PyTorch at run time.</summary>
internal sealed class TorchFactAttribute : FactAttribute
{
    public TorchFactAttribute() => Skip = Reference.SkipReason("torch");
}

/// <summary>A theory that needs PyTorch at run time.</summary>
internal sealed class TorchTheoryAttribute : TheoryAttribute
{
    public TorchTheoryAttribute() => Skip = Reference.SkipReason("torch");
}
