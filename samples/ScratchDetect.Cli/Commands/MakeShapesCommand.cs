using System.CommandLine;
using System.Text.RegularExpressions;
using ScratchDetect.Data.Synthetic;

namespace ScratchDetect.Cli.Commands;

/// <summary>`scratchdetect make-shapes --out DIR [--train N --test M --size 128..512 --seed S]`.</summary>
internal static class MakeShapesCommand
{
    public static Command Create()
    {
        var defaults = new ShapesOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write (JPEGImages/, Annotations/, ImageSets/Main/, labels.txt)", Required = true };
        var train = new Option<int>("--train") { Description = "Images in train.txt", DefaultValueFactory = _ => defaults.Train };
        var test = new Option<int>("--test") { Description = "Images in test.txt", DefaultValueFactory = _ => defaults.Test };
        var size = new Option<string>("--size") { Description = "Image side range in pixels, MIN..MAX", DefaultValueFactory = _ => $"{defaults.MinSize}..{defaults.MaxSize}" };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed writes the same dataset", DefaultValueFactory = _ => defaults.Seed };

        var command = new Command("make-shapes", $"Write a synthetic VOC-format dataset of coloured shapes ({string.Join(", ", ShapesDataset.Classes)}).");
        foreach (var option in new Option[] { output, train, test, size, seed }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var range = Regex.Match(parseResult.GetValue(size)!, @"^(\d+)\.\.(\d+)$");
            if (!range.Success)
            {
                Console.Error.WriteLine($"error: --size '{parseResult.GetValue(size)}' is not MIN..MAX, such as 128..512");
                return 2;
            }
            var options = new ShapesOptions
            {
                Train = parseResult.GetValue(train),
                Test = parseResult.GetValue(test),
                MinSize = int.Parse(range.Groups[1].Value),
                MaxSize = int.Parse(range.Groups[2].Value),
                Seed = parseResult.GetValue(seed),
            };
            var directory = parseResult.GetValue(output)!.FullName;
            ShapesSummary summary;
            try
            {
                summary = ShapesDataset.Write(directory, options);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            Console.WriteLine($"wrote {summary.Images} images ({options.Train} train, {options.Test} test) to {directory}");
            Console.WriteLine($"objects: {string.Join(", ", ShapesDataset.Classes.Select((c, i) => $"{c} {summary.ObjectsPerClass[i]}"))}");
            Console.WriteLine($"{summary.Difficult} difficult, {summary.ImagesWithoutObjects} images without objects");
            return 0;
        });
        return command;
    }
}
