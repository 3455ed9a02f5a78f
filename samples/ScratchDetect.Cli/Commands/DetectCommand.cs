using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Samples;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect detect --model NAME --weights W.safetensors --image PATH... [--json OUT.json]`:
/// runs a trained detector on images and writes its detections as JSON, one object per image,
/// <c>{"image", "width", "height", "detections": [{"box": [x1, y1, x2, y2], "label", "score"}]}</c>,
/// boxes in torchvision's continuous frame of the original image (the pixel at column 0 spans x 0..1).
/// Exit status 2 when an input (model name, settings, weights, image) is unusable; nothing is written then.
/// </summary>
internal static class DetectCommand
{
    /// <summary>Keys of each kind a weight-file error names before it only counts the rest.</summary>
    private const int KeysShown = 8;

    /// <summary>Detections per image the summary shows.</summary>
    private const int SummaryTop = 3;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Architecture, as torchvision names it: {string.Join(", ", DetectorRegistry.Names)}", Required = true };
        var weights = new Option<FileInfo>("--weights") { Description = "State dict in safetensors format under torchvision's key names", Required = true };
        var numClasses = new Option<int>("--num-classes") { Description = "Classes including the background, as the weights were trained", DefaultValueFactory = _ => new DetectorSettings().NumClasses };
        var minSize = new Option<int?>("--min-size") { Description = "Shorter side after resizing (Faster R-CNN default 800)" };
        var maxSize = new Option<int?>("--max-size") { Description = "Longest allowed longer side after resizing (Faster R-CNN default 1333)" };
        var scoreThreshold = new Option<double?>("--score-threshold") { Description = "Drop detections scoring at or below this (Faster R-CNN default 0.05)" };
        var images = new Option<string[]>("--image") { Description = "Image files (JPEG or PNG); repeat the option or list several", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<FileInfo?>("--json") { Description = "Write the JSON here and a summary to standard output (default: JSON to standard output, summary to standard error)" };

        var command = new Command("detect", "Run a detector with trained weights on images; print its detections as JSON.");
        foreach (var option in new Option[] { model, weights, numClasses, minSize, maxSize, scoreThreshold, images, json }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var settings = new DetectorSettings(parseResult.GetValue(numClasses), parseResult.GetValue(minSize), parseResult.GetValue(maxSize), parseResult.GetValue(scoreThreshold));
            return Run(parseResult.GetValue(model)!, parseResult.GetValue(weights)!.FullName, settings, parseResult.GetValue(images)!, parseResult.GetValue(json)?.FullName);
        });
        return command;
    }

    private static int Run(string modelName, string weightsPath, DetectorSettings settings, string[] imagePaths, string? jsonPath)
    {
        if (!DetectorRegistry.Names.Contains(modelName))
            return Fail($"unknown model '{modelName}' (known: {string.Join(", ", DetectorRegistry.Names)})");
        if (!File.Exists(weightsPath))
            return Fail($"weights file '{weightsPath}' does not exist");
        if (jsonPath is not null && !Directory.Exists(Path.GetDirectoryName(jsonPath)))
            return Fail($"the folder of --json '{jsonPath}' does not exist");
        // Every image is decoded once before the model is built, so a bad input fails in
        // seconds rather than after the detections of all the images before it.
        foreach (var path in imagePaths)
            if (ReadImage(path) is null) return 2;
        if (LoadDetector(modelName, weightsPath, settings) is not { } detector) return 2;

        var results = new List<ImageDetections>();
        var summary = jsonPath is null ? Console.Error : Console.Out;
        // One image at a time: batching would pad each image to the largest in the batch, which
        // changes what the convolutions see near the bottom and right edges.
        foreach (var path in imagePaths)
        {
            if (ReadImage(path) is not { } rgb) return 2;
            // Divided, not multiplied by 1/255: torchvision's ConvertImageDtype divides, and the two
            // differ by an ulp on about half of the 256 values.
            var image = SampleTensors.Image(FloatImage.FromRgb(rgb)) / 255.0;
            var watch = Stopwatch.StartNew();
            Detection detection;
            using (GradMode.NoGrad())
                detection = detector.Detect([image])[0];
            var result = ImageDetections.From(path, rgb, detection);
            results.Add(result);
            summary.WriteLine(Summarize(result, watch.Elapsed));
        }

        // One line per image: a valid JSON array that stays readable and greppable.
        string text = $"[{Environment.NewLine}{string.Join("," + Environment.NewLine, results.Select(r => JsonSerializer.Serialize(r, JsonOptions)))}{Environment.NewLine}]";
        if (jsonPath is null)
        {
            Console.WriteLine(text);
            return 0;
        }
        try
        {
            File.WriteAllText(jsonPath, text + Environment.NewLine);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"cannot write '{jsonPath}': {e.Message}");
        }
    }

    /// <summary>The decoded image, or null after saying why it cannot be read.</summary>
    private static RgbImage? ReadImage(string path)
    {
        try
        {
            return ImageIO.ReadRgb(path);
        }
        catch (ImageDecodeException e)
        {
            Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"cannot read image '{path}': {e.Message}");
        }
        return null;
    }

    /// <summary>The detector with the weights loaded, or null after saying why it cannot be built.</summary>
    private static Detector? LoadDetector(string modelName, string weightsPath, DetectorSettings settings)
    {
        try
        {
            return DetectorRegistry.FromStateDict(modelName, settings, SafeTensors.Load(weightsPath));
        }
        catch (StateDictMismatchException e)
        {
            Fail($"'{weightsPath}' does not fit {modelName} with {settings.NumClasses} classes " +
                 $"(a different model, or trained with another --num-classes?):\n{e.Result.Describe(KeysShown)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Fail($"cannot read weights '{weightsPath}': {e.Message}");
        }
        catch (ArgumentException e)
        {
            Fail(e.Message);
        }
        return null;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }

    private static string Summarize(ImageDetections result, TimeSpan elapsed)
    {
        var top = result.Detections.Take(SummaryTop).Select(d =>
            string.Create(CultureInfo.InvariantCulture, $"label {d.Label} {d.Score:F3} [{string.Join(", ", d.Box.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}]"));
        string best = result.Detections.Length == 0 ? "" : $"; top: {string.Join("; ", top)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Image} ({result.Width}x{result.Height}): {result.Detections.Length} detections in {elapsed.TotalSeconds:F1} s{best}");
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// One image's entry in the JSON output: the layout `eval --detections` reads, although eval
    /// takes boxes in the VOC devkit's 1-based frame rather than this continuous one.
    /// </summary>
    private sealed record ImageDetections(string Image, int Width, int Height, DetectionEntry[] Detections)
    {
        public static ImageDetections From(string path, RgbImage rgb, Detection detection)
        {
            var boxes = detection.Boxes.ToArray<float>();
            var labels = detection.Labels.ToArray<long>();
            var scores = detection.Scores.ToArray<float>();
            var entries = labels.Select((label, i) => new DetectionEntry(boxes[(4 * i)..(4 * i + 4)], label, scores[i])).ToArray();
            return new ImageDetections(path, rgb.Width, rgb.Height, entries);
        }
    }

    /// <summary>One detection: box [x1, y1, x2, y2] in the original image's pixels, class index, score.</summary>
    private sealed record DetectionEntry(float[] Box, long Label, float Score);
}
