namespace ScratchDetect.Data.Voc;

/// <summary>
/// Class lists. A label is the 1-based index of a class name in the list; 0 is background.
/// </summary>
public static class VocClasses
{
    /// <summary>The 20 Pascal VOC classes in the devkit's order.</summary>
    public static IReadOnlyList<string> Voc20 { get; } =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <summary>The name of the labels file a dataset folder may hold to replace <see cref="Voc20"/>.</summary>
    public const string LabelsFileName = "labels.txt";

    /// <summary>
    /// Reads a labels file: one class name per line, in label order (first line = label 1), without background.
    /// Blank lines are skipped; a duplicate name or "background" is an error.
    /// </summary>
    public static IReadOnlyList<string> ReadLabelsFile(string path)
    {
        var names = new List<string>();
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var name = raw.Trim();
            if (name.Length == 0) continue;
            if (name.Equals("background", StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"{path}:{lineNumber}: 'background' is label 0 and must not be listed");
            if (names.Contains(name))
                throw new FormatException($"{path}:{lineNumber}: class '{name}' is listed twice");
            names.Add(name);
        }
        if (names.Count == 0) throw new FormatException($"{path}: no class names");
        return names;
    }

    /// <summary>Writes <paramref name="classes"/> in the format <see cref="ReadLabelsFile"/> reads.</summary>
    public static void WriteLabelsFile(string path, IEnumerable<string> classes) =>
        File.WriteAllLines(path, classes);
}
