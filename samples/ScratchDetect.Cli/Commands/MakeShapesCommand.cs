using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect make-shapes --out DIR [--train N --test M --size 128..512 --seed S] [--force]`.
/// Every setting is checked before anything is written; the dataset is written into a temporary
/// folder and renamed into place, so a failure leaves no half-made dataset and the user's folder
/// as it was. A non-empty --out is refused unless --force, which replaces the whole dataset.
/// </summary>
internal static class MakeShapesCommand
{
    /// <summary>What a dataset folder holds; --force replaces a folder holding nothing else.</summary>
    private static readonly string[] DatasetEntries = ["Annotations", "JPEGImages", "ImageSets", VocClasses.LabelsFileName];

    public static Command Create()
    {
        var defaults = new ShapesOptions();
        var output = new Option<string>("--out") { Description = "Folder to write (JPEGImages/, Annotations/, ImageSets/Main/, labels.txt); new or empty unless --force", Required = true };
        var train = new Option<int>("--train") { Description = $"Images in train.txt (0..{ShapesOptions.MaxImagesPerSplit}; 0 writes no train split)", DefaultValueFactory = _ => defaults.Train };
        var test = new Option<int>("--test") { Description = $"Images in test.txt (0..{ShapesOptions.MaxImagesPerSplit}; 0 writes no test split)", DefaultValueFactory = _ => defaults.Test };
        var size = new Option<string>("--size") { Description = $"Image side range in pixels, MIN..MAX within {ShapesOptions.MinSide}..{ShapesOptions.MaxSide}", DefaultValueFactory = _ => $"{defaults.MinSize}..{defaults.MaxSize}" };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed writes the same dataset", DefaultValueFactory = _ => defaults.Seed };
        var force = new Option<bool>("--force") { Description = "Replace the dataset already in --out (everything in it)" };

        var command = new Command("make-shapes", $"Write a synthetic VOC-format dataset of coloured shapes ({string.Join(", ", ShapesDataset.Classes)}).");
        foreach (var option in new Option[] { output, train, test, size, seed, force }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var (minSize, maxSize) = ParseSize(parseResult.GetValue(size)!);
            var options = new ShapesOptions
            {
                Train = parseResult.GetValue(train),
                Test = parseResult.GetValue(test),
                MinSize = minSize,
                MaxSize = maxSize,
                Seed = parseResult.GetValue(seed),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException($"make-shapes: {e.Message}", e);
            }
            string directory = parseResult.GetValue(output)!;
            CheckOutput(directory, parseResult.GetValue(force));

            var summary = AtomicFolder.Write(directory, replace: true, temporary => ShapesDataset.Write(temporary, options));
            Console.WriteLine($"wrote {summary.Images} images ({options.Train} train, {options.Test} test) to {Path.GetFullPath(directory)}");
            Console.WriteLine($"objects: {string.Join(", ", ShapesDataset.Classes.Select((c, i) => $"{c} {summary.ObjectsPerClass[i]}"))}");
            Console.WriteLine($"{summary.Difficult} difficult, {summary.ImagesWithoutObjects} images without objects");
            return 0;
        });
        return command;
    }

    /// <summary>MIN..MAX as two integers; anything else (including values beyond int) is a user error.</summary>
    private static (int Min, int Max) ParseSize(string text)
    {
        var range = Regex.Match(text, @"^(\d+)\.\.(\d+)$");
        if (range.Success
            && int.TryParse(range.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int min)
            && int.TryParse(range.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int max))
            return (min, max);
        throw new UserErrorException($"make-shapes: --size '{text}' is not MIN..MAX with MIN and MAX in {ShapesOptions.MinSide}..{ShapesOptions.MaxSide}, such as 128..512");
    }

    /// <summary>
    /// --out must be a new or empty folder, or with --force one that holds only a dataset: a folder
    /// with other files is never replaced, so a mistyped --out cannot wipe unrelated work.
    /// </summary>
    private static void CheckOutput(string directory, bool force)
    {
        if (File.Exists(directory))
            throw new UserErrorException($"--out '{directory}' is a file; give a folder for the dataset");
        for (var parent = Path.GetDirectoryName(Path.GetFullPath(directory)); parent is not null; parent = Path.GetDirectoryName(parent))
            if (File.Exists(parent))
                throw new UserErrorException($"--out '{directory}': '{parent}' is a file, not a folder");
        if (!Directory.Exists(directory)) return;
        var entries = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).ToArray();
        if (entries.Length == 0) return;
        if (!force)
            throw new UserErrorException($"--out '{directory}' is not empty ({entries.Length} entries); give a new or empty folder, or --force to replace the dataset in it");
        if (entries.FirstOrDefault(e => !DatasetEntries.Contains(e)) is { } foreign)
            throw new UserErrorException($"--out '{directory}' holds '{foreign}', which is not part of a dataset; --force replaces only a folder holding {string.Join(", ", DatasetEntries)}");
    }
}
