using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ScratchDetect.Cli.Support;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Samples;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.IO;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect detect --model NAME --weights W.safetensors --image PATH... [--json OUT.json]`:
/// runs a trained detector on images and writes its detections as JSON, one object per image,
/// <c>{"image", "width", "height", "detections": [{"box": [x1, y1, x2, y2], "label", "score"}]}</c>,
/// boxes in torchvision's continuous frame of the original image (the pixel at column 0 spans x 0..1).
/// Exit status 2 when an input (model name, settings, weights, image) or the output is unusable;
/// nothing is written then, and an existing --json file is replaced only by a complete one.
/// </summary>
internal static class DetectCommand
{
    /// <summary>Detections per image the summary shows.</summary>
    private const int SummaryTop = 3;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Architecture, as torchvision or `train` names it: {string.Join(", ", TrainedModelLoader.Names)}", Required = true };
        var weights = new Option<FileInfo>("--weights") { Description = "State dict under torchvision's key names (for SSD also ssd.pytorch's), safetensors or a PyTorch .pth", Required = true };
        var weightsFormat = new Option<string?>("--weights-format") { Description = $"Whose key names the weights use: {string.Join(" or ", DetectorRegistry.WeightsFormats)}; ssd.pytorch's SSD300 also gets its BGR input and PriorBox default boxes (default: told from the keys)" };
        weightsFormat.AcceptOnlyFromAmong([.. DetectorRegistry.WeightsFormats]);
        var numClasses = new Option<int>("--num-classes") { Description = "Classes including the background, as the weights were trained", DefaultValueFactory = _ => new DetectorSettings().NumClasses };
        var minSize = new Option<int?>("--min-size") { Description = "Shorter image side after resizing, in pixels (default: Faster R-CNN 800; SSD always resizes to 300x300)" };
        var maxSize = new Option<int?>("--max-size") { Description = "Upper bound on the longer image side after resizing, in pixels (default: Faster R-CNN 1333)" };
        var scoreThreshold = new Option<double?>("--score-threshold") { Description = "Drop detections scoring at or below this (default: Faster R-CNN 0.05, SSD 0.01)" };
        var images = new Option<string[]>("--image") { Description = "Image files (JPEG or PNG); repeat the option or list several", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<FileInfo?>("--json") { Description = "Write the JSON here and a summary to standard output (default: JSON to standard output, summary to standard error)" };
        var draw = new Option<DirectoryInfo?>("--draw") { Description = "Also write each image as OUT_DIR/NAME.png with its boxes, class names and scores drawn" };
        var labels = new Option<FileInfo?>("--labels") { Description = "Class names for --draw, one per line (label 1 is the first line), as a dataset's labels.txt" };

        var command = new Command("detect", "Run a detector with trained weights on images; print its detections as JSON.");
        foreach (var option in new Option[] { model, weights, weightsFormat, numClasses, minSize, maxSize, scoreThreshold, images, json, draw, labels }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var settings = new DetectorSettings(parseResult.GetValue(numClasses), parseResult.GetValue(minSize), parseResult.GetValue(maxSize), parseResult.GetValue(scoreThreshold), parseResult.GetValue(weightsFormat));
            var classes = parseResult.GetValue(labels) is { } labelsFile ? DatasetArguments.ReadLabels(labelsFile.FullName) : null;
            return Run(parseResult.GetValue(model)!, parseResult.GetValue(weights)!.FullName, settings, parseResult.GetValue(images)!, parseResult.GetValue(json)?.FullName,
                parseResult.GetValue(draw)?.FullName, classes);
        });
        return command;
    }

    private static int Run(string modelName, string weightsPath, DetectorSettings settings, string[] imagePaths, string? jsonPath, string? drawDirectory = null, IReadOnlyList<string>? classes = null)
    {
        // Every input and the output are checked before the minutes of work: a typo fails at once,
        // and the results are never computed only to find that they cannot be written.
        if (!TrainedModelLoader.Names.Contains(modelName))
            throw new UserErrorException($"unknown model '{modelName}' (known: {string.Join(", ", TrainedModelLoader.Names)})");
        UserPaths.InputFile(weightsPath, "--weights");
        foreach (var path in imagePaths)
            CheckImageHeader(path);
        string? jsonFile = jsonPath is null ? null : UserPaths.OutputFile(jsonPath, "--json", [weightsPath, .. imagePaths]);

        var summary = jsonFile is null ? Console.Error : Console.Out;
        var results = ConsoleProgress.Run(summary, progress =>
        {
            var loading = progress.Step($"loading {modelName} weights {Path.GetFileName(weightsPath)}");
            var detector = TrainedModelLoader.FromFile(modelName, weightsPath, settings);
            loading.Complete();

            var results = new List<ImageDetections>();
            var detecting = progress.Step("detecting", imagePaths.Length);
            // One image at a time: batching would pad each image to the largest in the batch, which
            // changes what the convolutions see near the bottom and right edges.
            foreach (var path in imagePaths)
            {
                detecting.Begin(Path.GetFileName(path));
                var (image, width, height, drawOn) = ReadImage(path, keepPixels: drawDirectory is not null);
                var watch = Stopwatch.StartNew();
                Detection detection;
                using (GradMode.NoGrad())
                using (image)
                    detection = detector.Detect([image])[0];
                var result = ImageDetections.From(path, width, height, detection);
                results.Add(result);
                progress.WriteLine(Summarize(result, watch.Elapsed));
                if (drawOn is not null) WriteDrawing(drawDirectory!, path, drawOn, result, classes);
                detecting.Advance();
            }
            detecting.Complete();
            return results;
        });

        string text = ImageDetections.ToJson(results);
        if (jsonFile is null)
            Console.WriteLine(text);
        else
            AtomicFile.WriteAllText(jsonFile, text + Environment.NewLine);
        return 0;
    }

    /// <summary>
    /// Checks that <paramref name="path"/> is a JPEG whose headers parse or a file with PNG's
    /// signature, without decoding it: a wrong file fails before the weights load, and each image
    /// is decoded only once, when its turn comes (a damaged body is found then).
    /// </summary>
    private static void CheckImageHeader(string path)
    {
        string full = UserPaths.InputFile(path, "--image");
        ImageIO.ReadExifOrientation(File.ReadAllBytes(full), path);
    }

    /// <summary>
    /// The image as the model's float32 (3, H, W) input in [0, 1], with its size, and its 8-bit
    /// pixels when they are to be drawn on (otherwise they are dropped before inference). The file
    /// is decoded once and converted in one pass, so a large photo holds one float copy, not the
    /// chain of full-size copies separate steps would make.
    /// </summary>
    private static (Tensor Image, int Width, int Height, RgbImage? Pixels) ReadImage(string path, bool keepPixels)
    {
        var rgb = ImageIO.ReadRgb(path);
        // Divided, not multiplied by 1/255: torchvision's ConvertImageDtype divides, and the two
        // differ by an ulp on about half of the 256 values.
        return (SampleTensors.Image(rgb, divisor: 255f), rgb.Width, rgb.Height, keepPixels ? rgb : null);
    }

    /// <summary>Writes the image with its detections drawn to DIR/NAME.png (atomically).</summary>
    private static void WriteDrawing(string directory, string imagePath, RgbImage rgb, ImageDetections result, IReadOnlyList<string>? classes)
    {
        string target = Path.Combine(directory, Path.GetFileNameWithoutExtension(imagePath) + ".png");
        Directory.CreateDirectory(directory);
        var boxes = result.Detections.Select(d => new DrawnBox(d.Box[0], d.Box[1], d.Box[2], d.Box[3], d.Label, d.Score));
        // IOException names the path; the top-level handler reports it.
        AtomicFile.WriteAllBytes(target, PngEncoder.Encode(DetectionDrawing.Draw(rgb, boxes, classes)));
    }

    private static string Summarize(ImageDetections result, TimeSpan elapsed)
    {
        var top = result.Detections.Take(SummaryTop).Select(d =>
            string.Create(CultureInfo.InvariantCulture, $"label {d.Label} {d.Score:F3} [{string.Join(", ", d.Box.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}]"));
        string best = result.Detections.Length == 0 ? "" : $"; top: {string.Join("; ", top)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Image} ({result.Width}x{result.Height}): {result.Detections.Length} detections in {elapsed.TotalSeconds:F1} s{best}");
    }
}
