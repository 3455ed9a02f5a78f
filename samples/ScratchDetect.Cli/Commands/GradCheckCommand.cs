using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Engine.Diagnostics;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect gradcheck [--op NAME]`: runs the float64 central-difference gradient checks of
/// every op and layer (or of one) and prints a row per configuration. Exit status 1 if any fails.
/// </summary>
internal static class GradCheckCommand
{
    public static Command Create()
    {
        var opOption = new Option<string?>("--op") { Description = "Check only this op or layer, such as conv2d or roi_align (default: all)" };
        var command = new Command("gradcheck", "Check every op's and layer's gradients against central differences in float64. Exit status 1 when any check fails.") { opOption };
        command.SetAction(parseResult => Run(parseResult.GetValue(opOption)));
        return command;
    }

    private static int Run(string? op)
    {
        var cases = GradCheckCatalog.All.Where(c => op is null || c.Op.Equals(op, StringComparison.OrdinalIgnoreCase)).ToList();
        if (cases.Count == 0)
            throw new UserErrorException($"gradcheck: no op named '{op}'. Known: {string.Join(", ", GradCheckCatalog.All.Select(c => c.Op).Distinct())}");

        int opWidth = Math.Max(2, cases.Max(c => c.Op.Length)), configWidth = Math.Max(13, cases.Max(c => c.Configuration.Length));
        Console.WriteLine($"{"op".PadRight(opWidth)}  {"configuration".PadRight(configWidth)}  {"max abs err",12}  {"max rel err",12}  result");
        int failures = 0;
        foreach (var check in cases)
        {
            GradCheckResult result;
            try
            {
                result = check.Run();
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{check.Op.PadRight(opWidth)}  {check.Configuration.PadRight(configWidth)}  {"-",12}  {"-",12}  ERROR {e.Message}");
                continue;
            }
            if (!result.Passed) failures++;
            Console.WriteLine($"{check.Op.PadRight(opWidth)}  {check.Configuration.PadRight(configWidth)}  {result.MaxAbsError,12:E2}  {result.MaxRelError,12:E2}  {(result.Passed ? "pass" : "FAIL " + result.Worst)}");
        }
        Console.WriteLine(failures == 0 ? $"all {cases.Count} checks passed" : $"{failures} of {cases.Count} checks failed");
        return failures == 0 ? 0 : 1;
    }
}
