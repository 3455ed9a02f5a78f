using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect make-shapes --out DIR [--train N --test M --size 128..512 --objects 1..6 --object-scale 0..0.3 --seed S] [--force]`.
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
        var objects = new Option<string>("--objects") { Description = $"Objects drawn per image, MIN..MAX within 0..{ShapesOptions.MaxObjectsLimit} (every tenth image has none)", DefaultValueFactory = _ => $"{defaults.MinObjects}..{defaults.MaxObjects}" };
        var objectScale = new Option<string>("--object-scale") { Description = $"Object radius as a fraction of the image's shorter side, MIN..MAX within 0..0.5, log-uniform, at least {ShapesOptions.MinObjectRadius} px", DefaultValueFactory = _ => Invariant($"{defaults.MinObjectScale}..{defaults.MaxObjectScale}") };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed writes the same dataset", DefaultValueFactory = _ => defaults.Seed };
        var force = new Option<bool>("--force") { Description = "Replace the dataset already in --out (everything in it)" };

        var command = new Command("make-shapes", $"Write a synthetic VOC-format dataset of coloured shapes ({string.Join(", ", ShapesDataset.Classes)}).");
        foreach (var option in new Option[] { output, train, test, size, objects, objectScale, seed, force }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var (minSize, maxSize) = ParseSize(parseResult.GetValue(size)!);
            var (minObjects, maxObjects) = ParseRange(parseResult.GetValue(objects)!, "--objects", $"0..{ShapesOptions.MaxObjectsLimit}", int.Parse);
            var (minScale, maxScale) = ParseRange(parseResult.GetValue(objectScale)!, "--object-scale", "0..0.5", double.Parse);
            var options = new ShapesOptions
            {
                Train = parseResult.GetValue(train),
                Test = parseResult.GetValue(test),
                MinSize = minSize,
                MaxSize = maxSize,
                MinObjects = minObjects,
                MaxObjects = maxObjects,
                MinObjectScale = minScale,
                MaxObjectScale = maxScale,
                Seed = parseResult.GetValue(seed),
            };
            Write(parseResult.GetValue(output)!, options, parseResult.GetValue(force), Console.Out);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Checks <paramref name="options"/> and the folder, then writes the dataset atomically and prints
    /// what it holds (`make-shapes` and `demo` both write data this way). Throws <see cref="UserErrorException"/>
    /// for a bad setting or an unusable folder, before anything is written.
    /// </summary>
    public static ShapesSummary Write(string directory, ShapesOptions options, bool force, TextWriter output)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException($"make-shapes: {e.Message}", e);
        }
        CheckOutput(directory, force);

        var summary = AtomicFolder.Write(directory, replace: true, temporary => ShapesDataset.Write(temporary, options));
        output.WriteLine($"wrote {summary.Images} images ({options.Train} train, {options.Test} test) to {Path.GetFullPath(directory)}");
        output.WriteLine($"objects: {string.Join(", ", ShapesDataset.Classes.Select((c, i) => $"{c} {summary.ObjectsPerClass[i]}"))}");
        output.WriteLine($"{summary.Difficult} difficult, {summary.ImagesWithoutObjects} images without objects");
        return summary;
    }

    /// <summary>The make-shapes options that reproduce <paramref name="options"/>, for printing.</summary>
    public static string Describe(ShapesOptions options) => Invariant(
        $"--train {options.Train} --test {options.Test} --size {options.MinSize}..{options.MaxSize} --objects {options.MinObjects}..{options.MaxObjects} --object-scale {options.MinObjectScale}..{options.MaxObjectScale} --seed {options.Seed}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>MIN..MAX of numbers <paramref name="parse"/> reads (invariant culture); anything else is a user error naming <paramref name="option"/>.</summary>
    private static (T Min, T Max) ParseRange<T>(string text, string option, string allowed, Func<string, IFormatProvider, T> parse)
    {
        var range = Regex.Match(text, @"^(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)$");
        try
        {
            if (range.Success) return (parse(range.Groups[1].Value, CultureInfo.InvariantCulture), parse(range.Groups[2].Value, CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
        }
        throw new UserErrorException($"make-shapes: {option} '{text}' is not MIN..MAX with MIN and MAX in {allowed}");
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
