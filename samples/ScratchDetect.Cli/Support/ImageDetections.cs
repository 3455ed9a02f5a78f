using System.Text.Json;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Support;

/// <summary>
/// One image's entry in the detections JSON that `detect` and `eval --model --json` write and
/// `eval --detections` reads: <c>{"image", "width", "height", "detections": [{"box": [x1, y1, x2, y2], "label", "score"}]}</c>,
/// boxes in torchvision's continuous frame of the original image (eval reads the VOC devkit's
/// 1-based frame unless told <c>--box-frame continuous</c>).
/// </summary>
internal sealed record ImageDetections(string Image, int Width, int Height, DetectionEntry[] Detections)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The entry of image <paramref name="image"/> (a path or a dataset id), <paramref name="width"/> x <paramref name="height"/> pixels, with a detector's output.</summary>
    public static ImageDetections From(string image, int width, int height, Detection detection)
    {
        var boxes = detection.Boxes.ToArray<float>();
        var labels = detection.Labels.ToArray<long>();
        var scores = detection.Scores.ToArray<float>();
        var entries = labels.Select((label, i) => new DetectionEntry(boxes[(4 * i)..(4 * i + 4)], label, scores[i])).ToArray();
        return new ImageDetections(image, width, height, entries);
    }

    /// <summary>The JSON array of <paramref name="images"/>, one line per image: valid JSON that stays readable and greppable.</summary>
    public static string ToJson(IEnumerable<ImageDetections> images) =>
        $"[{Environment.NewLine}{string.Join("," + Environment.NewLine, images.Select(r => JsonSerializer.Serialize(r, JsonOptions)))}{Environment.NewLine}]";
}

/// <summary>One detection: box [x1, y1, x2, y2] in the original image's pixels, class index, score.</summary>
internal sealed record DetectionEntry(float[] Box, long Label, float Score);
