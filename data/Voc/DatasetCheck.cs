namespace ScratchDetect.Data.Voc;

/// <summary>Objects of one class in a checked split (usable samples only, difficult objects included).</summary>
/// <param name="Label">The 1-based label.</param>
/// <param name="Name">The class name.</param>
/// <param name="Images">Images holding at least one object of the class.</param>
/// <param name="Objects">Objects of the class, difficult ones included.</param>
/// <param name="Difficult">Objects of the class marked difficult.</param>
public sealed record ClassCount(int Label, string Name, int Images, int Objects, int Difficult);

/// <summary>The result of checking every sample of a split.</summary>
/// <param name="Root">The dataset folder.</param>
/// <param name="Split">The split checked.</param>
/// <param name="Images">Images listed in the split.</param>
/// <param name="UsableImages">Images without errors.</param>
/// <param name="ImagesWithoutObjects">Usable images with no object left after the rules.</param>
/// <param name="Classes">Per-class counts, in label order.</param>
/// <param name="Problems">Every problem, in split order.</param>
public sealed record DatasetCheckReport(
    string Root, string Split, int Images, int UsableImages, int ImagesWithoutObjects,
    IReadOnlyList<ClassCount> Classes, IReadOnlyList<DatasetProblem> Problems)
{
    /// <summary>Problems that make a sample unusable.</summary>
    public int Errors => Problems.Count(p => p.Severity == ProblemSeverity.Error);

    /// <summary>Problems fixed by dropping or clipping a box.</summary>
    public int Warnings => Problems.Count(p => p.Severity == ProblemSeverity.Warning);
}

/// <summary>`dataset check`: reads every sample of a split with <see cref="VocSampleReader"/>, the loader's rules.</summary>
public static class DatasetCheck
{
    /// <summary>Decodes every image and parses every annotation of <paramref name="split"/>, using all cores.</summary>
    public static DatasetCheckReport Run(VocDataset dataset, string split)
    {
        var ids = dataset.ReadSplit(split);
        var reader = new VocSampleReader(dataset, keepDifficult: true);
        var records = new VocRecord[ids.Count];
        Parallel.For(0, ids.Count, i =>
        {
            // Keep only what the report needs: the decoded pixels would otherwise pile up.
            records[i] = reader.Read(ids[i]) with { Image = null };
        });

        int classCount = dataset.Classes.Count;
        var images = new int[classCount + 1];
        var objects = new int[classCount + 1];
        var difficult = new int[classCount + 1];
        int usable = 0, empty = 0;
        foreach (var targets in records.Where(r => r.Usable).Select(r => r.Targets!))
        {
            usable++;
            if (targets.Count == 0) empty++;
            for (int i = 0; i < targets.Count; i++)
            {
                objects[targets.Labels[i]]++;
                if (targets.Difficult[i]) difficult[targets.Labels[i]]++;
            }
            foreach (int label in targets.Labels.Distinct()) images[label]++;
        }
        var classes = Enumerable.Range(1, classCount)
            .Select(l => new ClassCount(l, dataset.Classes[l - 1], images[l], objects[l], difficult[l]))
            .ToArray();
        return new DatasetCheckReport(dataset.Root, split, ids.Count, usable, empty, classes, records.SelectMany(r => r.Problems).ToArray());
    }
}
