using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Commands;

/// <summary>`scratchdetect dataset check ROOT --split S [--json]`: validates a VOC-format dataset.</summary>
internal static class DatasetCommand
{
    public static Command Create()
    {
        var command = new Command("dataset", "Work with VOC-format datasets.");
        command.Subcommands.Add(CreateCheck());
        return command;
    }

    static Command CreateCheck()
    {
        var root = new Argument<string>("ROOT") { Description = "VOC-format dataset folder (Annotations/, JPEGImages/, ImageSets/Main/), or a VOCdevkit folder with --year" };
        var dataset = new DatasetArguments();
        var json = new Option<bool>("--json") { Description = "Print a machine-readable JSON report instead of tables" };
        var command = new Command("check",
            "Decode every image and parse every annotation of a split; report counts per class and every problem. " +
            "Exit status 1 when any sample is unusable, 2 when the dataset or split cannot be opened or the split is empty.");
        command.Arguments.Add(root);
        dataset.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var voc = dataset.Open(parseResult, parseResult.GetValue(root)!);
            // A missing or empty split cannot be checked: the IOException is a user error (exit 2).
            var report = DatasetCheck.Run(voc, parseResult.GetValue(dataset.Split)!);
            Console.WriteLine(parseResult.GetValue(json) ? JsonSerializer.Serialize(report, JsonOptions) : Table(report));
            return report.Errors > 0 ? 1 : 0;
        });
        return command;
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    static string Table(DatasetCheckReport report)
    {
        var lines = new List<string>
        {
            $"{report.Root} ({report.Split}): {report.Images} images, {report.UsableImages} usable, {report.ImagesWithoutObjects} without objects",
            "",
        };
        int width = Math.Max(5, report.Classes.Max(c => c.Name.Length));
        lines.Add($"{"class".PadRight(width)}  {"images",7}  {"objects",8}  {"difficult",9}");
        lines.Add(new string('-', width + 30));
        foreach (var c in report.Classes)
            lines.Add($"{c.Name.PadRight(width)}  {c.Images,7}  {c.Objects,8}  {c.Difficult,9}");
        lines.Add(new string('-', width + 30));
        lines.Add($"{"total".PadRight(width)}  {report.UsableImages - report.ImagesWithoutObjects,7}  {report.Classes.Sum(c => c.Objects),8}  {report.Classes.Sum(c => c.Difficult),9}");
        lines.Add("");
        lines.Add($"{report.Errors} errors (samples unusable), {report.Warnings} warnings (boxes clipped or dropped)");
        lines.AddRange(report.Problems.Select(p => "  " + p));
        return string.Join(Environment.NewLine, lines);
    }
}
