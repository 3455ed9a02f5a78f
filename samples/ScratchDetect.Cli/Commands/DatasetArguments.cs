using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Commands;

/// <summary>The options that locate a VOC dataset, shared by the commands that read one.</summary>
internal sealed class DatasetArguments
{
    public Option<string> Split { get; } = new("--split") { Description = "ImageSets/Main split to read (train, val, trainval, test, ...)", Required = true };

    public Option<string?> Year { get; } = new("--year") { Description = "When the dataset folder is a VOCdevkit folder: the VOC{year} sub-folder to use, such as 2007 or 2012" };

    public Option<FileInfo?> Labels { get; } = new("--labels") { Description = "Class list, one name per line (default: labels.txt in the dataset, else the 20 VOC classes)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Split);
        command.Options.Add(Year);
        command.Options.Add(Labels);
    }

    /// <summary>Opens the dataset at <paramref name="root"/>; a missing folder or a bad labels file is a user error.</summary>
    public VocDataset Open(ParseResult parseResult, string root) => Open(root, parseResult.GetValue(Year), parseResult.GetValue(Labels)?.FullName);

    /// <summary>Opens the dataset at <paramref name="root"/> with the class list in <paramref name="labelsPath"/> (given as --labels) when set; a missing folder or a bad labels file is a user error.</summary>
    public static VocDataset Open(string root, string? year, string? labelsPath) =>
        VocDataset.Open(root, year, labelsPath is null ? null : ReadLabels(labelsPath));

    /// <summary>The class list in <paramref name="path"/> (given as --labels); a missing or malformed file is a user error naming it.</summary>
    public static IReadOnlyList<string> ReadLabels(string path)
    {
        try
        {
            return VocClasses.ReadLabelsFile(UserPaths.InputFile(path, "--labels"));
        }
        catch (FormatException e)
        {
            throw new UserErrorException(e.Message, e);
        }
    }
}
