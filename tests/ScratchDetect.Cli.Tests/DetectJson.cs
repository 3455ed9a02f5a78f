using System.Text.Json;
using ScratchDetect.Engine;

namespace ScratchDetect.Cli.Tests;

/// <summary>One image's entry of `detect`'s JSON output, read back for comparison.</summary>
internal sealed record DetectJson(string Image, int Width, int Height, (Tensor Boxes, Tensor Labels, Tensor Scores) Detections)
{
    /// <summary>The single image entry of a `detect` JSON text (fails unless there is exactly one).</summary>
    public static DetectJson ReadSingle(string text)
    {
        using var document = JsonDocument.Parse(text);
        var image = Assert.Single(document.RootElement.EnumerateArray());
        var detections = image.GetProperty("detections").EnumerateArray().ToArray();
        var boxes = detections.SelectMany(d => d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var labels = detections.Select(d => d.GetProperty("label").GetInt64()).ToArray();
        var scores = detections.Select(d => d.GetProperty("score").GetSingle()).ToArray();
        return new DetectJson(image.GetProperty("image").GetString()!, image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32(),
            (Tensor.FromArray(boxes, detections.Length, 4), Tensor.FromArray(labels, detections.Length), Tensor.FromArray(scores, detections.Length)));
    }
}
