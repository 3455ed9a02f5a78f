using System.Diagnostics;

namespace ScratchDetect.Testing;

/// <summary>
/// The PyTorch reference (Debian's python3-torch and python3-torchvision, run by /usr/bin/python3).
/// Tests that need it at run time skip with a visible reason where it is absent, unless
/// SCRATCHDETECT_REQUIRE_REFERENCE=1 (set by .ci/run), where they run and fail instead.
/// </summary>
internal static class Reference
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<bool> torchAvailable = new(() => Succeeds(Python, "-c \"import torch, torchvision\""));

    /// <summary>Null when PyTorch can be used (or is required); otherwise why the test is skipped.</summary>
    public static string? SkipReasonWithoutTorch =>
        torchAvailable.Value || Environment.GetEnvironmentVariable("SCRATCHDETECT_REQUIRE_REFERENCE") == "1"
            ? null
            : "PyTorch reference absent: apt-get install python3-torch python3-torchvision (CI installs it)";

    /// <summary>Runs a program and returns its standard output, failing the test with its standard error.</summary>
    public static string Run(string fileName, string arguments, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {arguments} exited with {process.ExitCode}:\n{stderr.Result}");
        return stdout;
    }

    private static bool Succeeds(string fileName, string arguments)
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

/// <summary>A fact that needs PyTorch at run time (see <see cref="Reference"/>).</summary>
internal sealed class TorchFactAttribute : FactAttribute
{
    public TorchFactAttribute() => Skip = Reference.SkipReasonWithoutTorch;
}

/// <summary>A theory that needs PyTorch at run time (see <see cref="Reference"/>).</summary>
internal sealed class TorchTheoryAttribute : TheoryAttribute
{
    public TorchTheoryAttribute() => Skip = Reference.SkipReasonWithoutTorch;
}
