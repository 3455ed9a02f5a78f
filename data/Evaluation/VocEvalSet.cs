using System.Text.Json;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Evaluation;

/// <summary>Thrown for detections or ground truth that cannot be evaluated; the message names the file and entry.</summary>
public sealed class EvaluationInputException(string message) : Exception(message);

/// <summary>The coordinate frame of detection boxes read by <see cref="VocEvalSet"/>.</summary>
public enum BoxFrame
{
    /// <summary>The devkit's 1-based inclusive pixels, as the devkit's own result files.</summary>
    Voc,
    /// <summary>torchvision's continuous frame (the image spans 0..W), as `scratchdetect detect` writes.</summary>
    Continuous,
}

/// <summary>
/// Pairs a VOC split's ground truth with detections in the `detect` JSON format: an array with one object per image,
/// <c>{"image": id-or-path, "width": W, "height": H, "detections": [{"box": [x1, y1, x2, y2], "label": name-or-index, "score": s}]}</c>.
/// Boxes are in the devkit's 1-based frame unless <see cref="BoxFrame.Continuous"/> says they are in torchvision's
/// continuous frame (as `scratchdetect detect` writes them); a label is a class name or its 1-based index in the class list;
/// "image" is the image id or a path whose file name without extension is the id; width and height, when present,
/// must match the annotation. Images of the split without an entry have no detections.
/// </summary>
public static class VocEvalSet
{
    /// <summary>Reads <paramref name="detectionsPath"/> and the ground truth of <paramref name="split"/>, in split order.</summary>
    public static IReadOnlyList<EvalImage> Load(VocDataset dataset, string split, string detectionsPath, BoxFrame frame = BoxFrame.Voc)
    {
        var ids = dataset.ReadSplit(split);
        var sizes = new Dictionary<string, (int? Width, int? Height)>();
        var objects = new Dictionary<string, IReadOnlyList<GroundTruthObject>>();
        foreach (var id in ids)
        {
            var (annotation, gts) = GroundTruth(dataset, id);
            sizes[id] = (annotation.Width, annotation.Height);
            objects[id] = gts;
        }
        var detections = ReadDetections(detectionsPath, dataset, sizes, frame);
        return ids.Select(id => new EvalImage(id, objects[id], detections.GetValueOrDefault(id) ?? [])).ToArray();
    }

    /// <summary>
    /// Pairs the ground truth of <paramref name="ids"/> with detections made in memory (devkit frame), in
    /// <paramref name="ids"/> order; an image without an entry in <paramref name="detections"/> has none.
    /// </summary>
    public static IReadOnlyList<EvalImage> Pair(VocDataset dataset, IReadOnlyList<string> ids, IReadOnlyDictionary<string, IReadOnlyList<Detection>> detections) =>
        ids.Select(id => new EvalImage(id, GroundTruth(dataset, id).Item2, detections.GetValueOrDefault(id) ?? [])).ToArray();

    /// <summary>All objects of the annotation (difficult ones flagged) as written, like voc_eval's parse_rec.</summary>
    static (VocAnnotation, IReadOnlyList<GroundTruthObject>) GroundTruth(VocDataset dataset, string id)
    {
        var problems = new List<DatasetProblem>();
        var annotation = VocSampleReader.ReadAnnotation(dataset.AnnotationPath(id), problems)
            ?? throw new EvaluationInputException($"{problems[0].File}{(problems[0].Line is { } line ? $":{line}" : "")}: {problems[0].Message}");
        var gts = annotation.Objects.Select(o =>
        {
            int label = dataset.LabelOf(o.Name);
            if (label == 0)
                throw new EvaluationInputException($"{annotation.FilePath}:{o.Line}: class '{o.Name}' is not in the class list");
            // dataset check warns and training drops such a box; scoring against it would count a
            // positive that no detection can match, so evaluation refuses it.
            if (o.XMax < o.XMin || o.YMax < o.YMin)
                throw new EvaluationInputException($"{annotation.FilePath}:{o.Line}: '{o.Name}' box ({o.XMin}, {o.YMin}, {o.XMax}, {o.YMax}) has xmax < xmin or ymax < ymin");
            return new GroundTruthObject(label, new VocBox(o.XMin, o.YMin, o.XMax, o.YMax), o.Difficult);
        }).ToArray();
        return (annotation, gts);
    }

    static Dictionary<string, List<Detection>> ReadDetections(string path, VocDataset dataset, Dictionary<string, (int? Width, int? Height)> sizes, BoxFrame frame)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new EvaluationInputException($"{path}: not valid JSON: {e.Message}");
        }
        using var _ = document;
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new EvaluationInputException($"{path}: expected a JSON array of images");

        var result = new Dictionary<string, List<Detection>>();
        int entry = 0;
        foreach (var image in document.RootElement.EnumerateArray())
        {
            string where = $"{path}: entry {entry++}";
            if (image.ValueKind != JsonValueKind.Object) throw new EvaluationInputException($"{where}: expected an object");
            var name = Property(image, "image", JsonValueKind.String, where).GetString()!;
            var id = Path.GetFileNameWithoutExtension(name);
            where += $" (image '{name}')";
            if (!sizes.TryGetValue(id, out var size))
                throw new EvaluationInputException($"{where}: '{id}' is not an image of the split");
            if (result.ContainsKey(id)) throw new EvaluationInputException($"{where}: '{id}' appears twice");
            foreach (var (field, expected) in new[] { ("width", size.Width), ("height", size.Height) })
            {
                if (expected is { } e && image.TryGetProperty(field, out var actual) && (!actual.TryGetInt32(out int v) || v != e))
                    throw new EvaluationInputException($"{where}: {field} {actual.GetRawText()} differs from the annotation's {e}");
            }
            var list = result[id] = [];
            int d = 0;
            foreach (var det in Property(image, "detections", JsonValueKind.Array, where).EnumerateArray())
                list.Add(ReadDetection(det, dataset, frame, $"{where} detection {d++}"));
        }
        return result;
    }

    static Detection ReadDetection(JsonElement det, VocDataset dataset, BoxFrame frame, string where)
    {
        var box = Property(det, "box", JsonValueKind.Array, where).EnumerateArray().Select(v => Number(v, where + " box")).ToArray();
        if (box.Length != 4) throw new EvaluationInputException($"{where}: box has {box.Length} values, expected [x1, y1, x2, y2]");
        if (box[2] < box[0] || box[3] < box[1])
            throw new EvaluationInputException(
                $"{where}: box [{string.Join(", ", box.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] has {(box[2] < box[0] ? "x2 < x1" : "y2 < y1")}; boxes are [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2");
        double score = Number(Property(det, "score", JsonValueKind.Number, where), where + " score");
        if (!det.TryGetProperty("label", out var labelElement)) throw new EvaluationInputException($"{where}: no \"label\"");
        int label = labelElement.ValueKind switch
        {
            JsonValueKind.String => dataset.LabelOf(labelElement.GetString()!),
            JsonValueKind.Number when labelElement.TryGetInt32(out int l) && l >= 1 && l <= dataset.Classes.Count => l,
            _ => 0,
        };
        if (label == 0)
            throw new EvaluationInputException(
                $"{where}: label {labelElement.GetRawText()} is not a class name or an index 1..{dataset.Classes.Count} (0 is background)");
        var (x1, y1, x2, y2) = frame == BoxFrame.Continuous
            ? VocCoordinates.ToVoc(box[0], box[1], box[2], box[3])
            : (box[0], box[1], box[2], box[3]);
        return new Detection(label, new VocBox(x1, y1, x2, y2), score);
    }

    static JsonElement Property(JsonElement element, string name, JsonValueKind kind, string where)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
            throw new EvaluationInputException($"{where}: no \"{name}\"");
        if (value.ValueKind != kind)
            throw new EvaluationInputException($"{where}: \"{name}\" is {value.ValueKind}, expected {kind}");
        return value;
    }

    static double Number(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double v) && double.IsFinite(v)
            ? v
            : throw new EvaluationInputException($"{where}: {value.GetRawText()} is not a finite number");
}
