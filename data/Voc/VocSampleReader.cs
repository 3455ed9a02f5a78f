using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Voc;

/// <summary>What reading one sample produced: the image and targets when usable, and every problem found.</summary>
/// <param name="Id">The image id.</param>
/// <param name="Image">The decoded image, or null when it could not be read.</param>
/// <param name="Annotation">The parsed annotation as written, or null when it could not be read.</param>
/// <param name="Targets">The validated objects (continuous frame), or null when the sample is unusable.</param>
/// <param name="Problems">Warnings and errors, in the order found.</param>
public sealed record VocRecord(string Id, RgbImage? Image, VocAnnotation? Annotation, DetectionTargets? Targets, IReadOnlyList<DatasetProblem> Problems)
{
    /// <summary>True when the sample has no error: image and targets are present.</summary>
    public bool Usable => Targets is not null;
}

/// <summary>
/// Reads one sample (annotation and image) under the rules that training and `dataset check` share:
/// <list type="bullet">
/// <item>missing file, undecodable image, malformed XML, unknown class, size disagreeing with the image: error, sample unusable;</item>
/// <item>degenerate box (xmax &lt; xmin or ymax &lt; ymin): dropped with a warning;</item>
/// <item>box reaching outside the image: clipped with a warning, dropped when nothing is left;</item>
/// <item>difficult objects are kept (flagged) or left out per <c>keepDifficult</c>; images without objects are kept.</item>
/// </list>
/// Boxes come out in the continuous frame, finite, with x2 &gt; x1 and y2 &gt; y1.
/// </summary>
public sealed class VocSampleReader(VocDataset dataset, bool keepDifficult = true)
{
    /// <summary>The dataset read from.</summary>
    public VocDataset Dataset { get; } = dataset;

    /// <summary>Reads, decodes and validates sample <paramref name="id"/>; never throws for a bad sample.</summary>
    public VocRecord Read(string id)
    {
        var problems = new List<DatasetProblem>();
        var annotation = ReadAnnotation(Dataset.AnnotationPath(id), problems);
        var image = ReadImage(Dataset.ImagePath(id), problems);
        if (annotation is null || image is null) return new VocRecord(id, image, annotation, null, problems);

        if (annotation.Width is { } w && annotation.Height is { } h && (w != image.Width || h != image.Height))
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.SizeMismatch, annotation.FilePath, annotation.SizeLine,
                $"<size> says {w}x{h} but {Dataset.ImagePath(id)} is {image.Width}x{image.Height}"));

        var targets = Validate(annotation, image.Width, image.Height, problems);
        bool usable = problems.All(p => p.Severity != ProblemSeverity.Error);
        return new VocRecord(id, image, annotation, usable ? targets : null, problems);
    }

    /// <summary>Parses the annotation, recording a problem instead of throwing.</summary>
    internal static VocAnnotation? ReadAnnotation(string path, List<DatasetProblem> problems)
    {
        if (!File.Exists(path))
        {
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.MissingFile, path, null, "annotation file does not exist"));
            return null;
        }
        try
        {
            return VocAnnotationParser.Parse(path);
        }
        catch (VocAnnotationException e)
        {
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.MalformedXml, path, e.Line, e.Problem));
        }
        catch (IOException e)
        {
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.MalformedXml, path, null, $"cannot be read: {e.Message}"));
        }
        return null;
    }

    static RgbImage? ReadImage(string path, List<DatasetProblem> problems)
    {
        if (!File.Exists(path))
        {
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.MissingFile, path, null, "image file does not exist"));
            return null;
        }
        try
        {
            // Decoded without a name so that the message does not repeat the path the problem already cites.
            // Raw pixel order, as PIL reads images for torchvision and ssd.pytorch: VOC boxes refer to it.
            return ImageIO.ReadRgb(File.ReadAllBytes(path), name: null, applyExifOrientation: false);
        }
        catch (Exception e) when (e is ImageDecodeException or IOException)
        {
            problems.Add(new DatasetProblem(ProblemSeverity.Error, ProblemKind.UnreadableImage, path, null, e.Message));
            return null;
        }
    }

    /// <summary>Applies the box and class rules to <paramref name="annotation"/> for an image of the given size.</summary>
    internal DetectionTargets Validate(VocAnnotation annotation, int width, int height, List<DatasetProblem> problems)
    {
        var boxes = new List<float>();
        var labels = new List<int>();
        var difficult = new List<bool>();
        foreach (var o in annotation.Objects)
        {
            void Report(ProblemSeverity severity, ProblemKind kind, string message) =>
                problems.Add(new DatasetProblem(severity, kind, annotation.FilePath, o.Line, $"'{o.Name}' ({o.XMin}, {o.YMin}, {o.XMax}, {o.YMax}): {message}"));

            int label = Dataset.LabelOf(o.Name);
            if (label == 0)
            {
                Report(ProblemSeverity.Error, ProblemKind.UnknownClass, $"class is not one of the {Dataset.Classes.Count} in the class list");
                continue;
            }
            if (o.Difficult && !keepDifficult) continue;
            if (o.XMax < o.XMin || o.YMax < o.YMin)
            {
                Report(ProblemSeverity.Warning, ProblemKind.DegenerateBox, "xmax < xmin or ymax < ymin; box dropped");
                continue;
            }
            // The VOC frame's pixels run 1..width inclusive.
            double x1 = Math.Max(o.XMin, 1), y1 = Math.Max(o.YMin, 1), x2 = Math.Min(o.XMax, width), y2 = Math.Min(o.YMax, height);
            if (x1 != o.XMin || y1 != o.YMin || x2 != o.XMax || y2 != o.YMax)
            {
                if (x2 < x1 || y2 < y1)
                {
                    Report(ProblemSeverity.Warning, ProblemKind.BoxOutsideImage, $"box lies outside the {width}x{height} image; box dropped");
                    continue;
                }
                Report(ProblemSeverity.Warning, ProblemKind.BoxOutsideImage, $"box reaches outside the {width}x{height} image; clipped");
            }
            var (cx1, cy1, cx2, cy2) = VocCoordinates.ToContinuous(x1, y1, x2, y2);
            boxes.AddRange([(float)cx1, (float)cy1, (float)cx2, (float)cy2]);
            labels.Add(label);
            difficult.Add(o.Difficult);
        }
        return new DetectionTargets(boxes.ToArray(), labels.ToArray(), difficult.ToArray());
    }
}
