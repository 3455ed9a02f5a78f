namespace ScratchDetect.Data.Voc;

/// <summary>
/// A dataset in the VOCdevkit layout: a folder (such as VOCdevkit/VOC2007) holding Annotations/*.xml,
/// JPEGImages/*.jpg and ImageSets/Main/{split}.txt, with either the 20 VOC classes or the custom list in
/// its labels.txt.
/// </summary>
public sealed class VocDataset
{
    /// <summary>The folder holding Annotations, JPEGImages and ImageSets.</summary>
    public string Root { get; }

    /// <summary>The class names; label i (1-based) is Classes[i - 1], label 0 is background.</summary>
    public IReadOnlyList<string> Classes { get; }

    readonly Dictionary<string, int> labelOf;

    VocDataset(string root, IReadOnlyList<string> classes)
    {
        Root = root;
        Classes = classes;
        labelOf = classes.Select((name, i) => (name, label: i + 1)).ToDictionary(p => p.name, p => p.label, StringComparer.Ordinal);
    }

    /// <summary>
    /// Opens <paramref name="path"/>: either the dataset folder itself or a VOCdevkit folder with
    /// <paramref name="year"/> naming its VOC{year} sub-folder. The class list is <paramref name="classes"/> when
    /// given, else labels.txt in the dataset folder or in <paramref name="path"/>, else <see cref="VocClasses.Voc20"/>.
    /// Throws <see cref="DirectoryNotFoundException"/> with the expected layout when the folders are missing.
    /// </summary>
    public static VocDataset Open(string path, string? year = null, IReadOnlyList<string>? classes = null)
    {
        string root = year is null ? path : Path.Combine(path, "VOC" + year);
        foreach (var sub in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
        {
            if (!Directory.Exists(Path.Combine(root, sub)))
                throw new DirectoryNotFoundException(
                    $"{Path.Combine(root, sub)} does not exist: expected a VOC folder with Annotations/, JPEGImages/ and ImageSets/Main/" +
                    (year is null ? " (for a VOCdevkit folder, also give the year)" : ""));
        }
        if (classes is null)
        {
            var labels = new[] { root, path }.Select(dir => Path.Combine(dir, VocClasses.LabelsFileName)).FirstOrDefault(File.Exists);
            classes = labels is null ? VocClasses.Voc20 : VocClasses.ReadLabelsFile(labels);
        }
        return new VocDataset(root, classes);
    }

    /// <summary>The image ids listed in ImageSets/Main/{split}.txt, in file order (first token of each non-blank line).</summary>
    /// <exception cref="FileNotFoundException">The split file does not exist.</exception>
    /// <exception cref="InvalidDataException">The split file lists no image: nothing could be checked, trained on or evaluated.</exception>
    public IReadOnlyList<string> ReadSplit(string split)
    {
        var file = SplitPath(split);
        if (!File.Exists(file)) throw new FileNotFoundException($"{file} does not exist: no split '{split}'", file);
        var ids = File.ReadLines(file)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0)
            .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0])
            .ToArray();
        if (ids.Length == 0) throw new InvalidDataException($"{file} lists no images: split '{split}' is empty");
        return ids;
    }

    /// <summary>ImageSets/Main/{split}.txt.</summary>
    public string SplitPath(string split) => Path.Combine(Root, "ImageSets", "Main", split + ".txt");

    /// <summary>Annotations/{id}.xml.</summary>
    public string AnnotationPath(string id) => Path.Combine(Root, "Annotations", id + ".xml");

    /// <summary>JPEGImages/{id}.jpg.</summary>
    public string ImagePath(string id) => Path.Combine(Root, "JPEGImages", id + ".jpg");

    /// <summary>The 1-based label of <paramref name="className"/>, or 0 when it is not in <see cref="Classes"/>.</summary>
    public int LabelOf(string className) => labelOf.GetValueOrDefault(className);
}
