using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Evaluation;
using ScratchDetect.Engine.IO;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect eval --detections DETS.json --data ROOT --split S [--metric voc07|voc12|coco] [--box-frame voc|continuous]`
/// scores precomputed detections; `scratchdetect eval --model M --weights W --data ROOT --split S [--json OUT]` runs the model first.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var detections = new Option<FileInfo?>("--detections") { Description = "Detections in the `detect` JSON format (or give --model and --weights to run a model)" };
        var model = new Option<string?>("--model") { Description = $"Run this detector on the split: {string.Join(", ", TrainedModelLoader.Names)}" };
        var weights = new Option<FileInfo?>("--weights") { Description = "With --model: its weights under torchvision's key names, safetensors or a PyTorch .pth, such as RUN_DIR/model.safetensors" };
        var minSize = new Option<int?>("--min-size") { Description = "With --model: shorter image side after resizing, in pixels, as in training (default: the model's)" };
        var maxSize = new Option<int?>("--max-size") { Description = "With --model: upper bound on the longer image side after resizing, in pixels (default: the model's)" };
        var json = new Option<FileInfo?>("--json") { Description = "With --model: write its detections here in the `detect` JSON format (continuous frame)" };
        var boxFrame = new Option<string>("--box-frame")
        {
            Description = "Frame of the boxes: voc, the devkit's 1-based one, as its result files; continuous, torchvision's, as `detect` writes",
            DefaultValueFactory = _ => "voc",
        };
        boxFrame.AcceptOnlyFromAmong("voc", "continuous");
        var data = new Option<string>("--data") { Description = "VOC-format dataset folder (Annotations/, JPEGImages/, ImageSets/Main/), or a VOCdevkit folder with --year", Required = true };
        var dataset = new DatasetArguments();
        var metric = new Option<string>("--metric") { Description = "AP metric: voc07 (11-point), voc12 (area under the envelope) or coco (AP@[.50:.95], AP50, AP75)", DefaultValueFactory = _ => "voc07" };
        metric.AcceptOnlyFromAmong("voc07", "voc12", "coco");

        var command = new Command("eval", "Evaluate a model, or precomputed detections, against a VOC split: per-class AP table and mean.");
        command.Options.Add(detections);
        foreach (var option in new Option[] { model, weights, minSize, maxSize, json }) command.Options.Add(option);
        command.Options.Add(data);
        dataset.AddTo(command);
        command.Options.Add(metric);
        command.Options.Add(boxFrame);
        command.SetAction(parseResult =>
        {
            var voc = dataset.Open(parseResult, parseResult.GetValue(data)!);
            IReadOnlyList<EvalImage> images;
            if ((parseResult.GetValue(model) is null) == (parseResult.GetValue(detections) is null))
                throw new UserErrorException("give either --detections DETS.json or --model with --weights");
            if (parseResult.GetValue(model) is { } modelName)
            {
                if (parseResult.GetValue(weights) is not { } weightsFile) throw new UserErrorException("--model needs --weights");
                var settings = new DetectorSettings(voc.Classes.Count + 1, parseResult.GetValue(minSize), parseResult.GetValue(maxSize));
                images = RunModel(modelName, UserPaths.InputFile(weightsFile.FullName, "--weights"), settings, voc, parseResult.GetValue(dataset.Split)!, parseResult.GetValue(json)?.FullName);
            }
            else
            {
                var frame = parseResult.GetValue(boxFrame) == "continuous" ? BoxFrame.Continuous : BoxFrame.Voc;
                string detectionsPath = UserPaths.InputFile(parseResult.GetValue(detections)!.FullName, "--detections");
                // EvaluationInputException and IOException name the file and entry; the top-level handler reports them.
                images = VocEvalSet.Load(voc, parseResult.GetValue(dataset.Split)!, detectionsPath, frame);
            }
            var result = parseResult.GetValue(metric) switch
            {
                "coco" => CocoEvaluator.Evaluate(images, voc.Classes),
                "voc12" => VocEvaluator.Evaluate(images, voc.Classes, ApMetric.Voc12),
                _ => VocEvaluator.Evaluate(images, voc.Classes, ApMetric.Voc07),
            };
            Console.WriteLine($"{images.Count} images, metric {parseResult.GetValue(metric)}");
            Console.WriteLine(result.ToTable());
            return 0;
        });
        return command;
    }

    /// <summary>Runs the model over the split and returns the images paired with its detections (also written to <paramref name="jsonPath"/> when given).</summary>
    private static IReadOnlyList<EvalImage> RunModel(string modelName, string weightsPath, DetectorSettings settings, Data.Voc.VocDataset voc, string split, string? jsonPath)
    {
        var ids = voc.ReadSplit(split);
        string? jsonFile = jsonPath is null ? null : UserPaths.OutputFile(jsonPath, "--json", [weightsPath]);
        // Progress lines go to standard error: standard output holds the AP table.
        var scores = ConsoleProgress.Run(Console.Error, progress =>
        {
            var loading = progress.Step($"loading {modelName} weights {Path.GetFileName(weightsPath)}");
            var detector = TrainedModelLoader.FromFile(modelName, weightsPath, settings);
            loading.Complete();
            var detecting = progress.Step($"detecting on '{split}'", ids.Count);
            var scores = DetectorEvaluation.Run(detector, voc, ids, detecting);
            detecting.Complete();
            return scores;
        });
        foreach (var problem in scores.Unreadable) Console.Error.WriteLine($"warning: skipped an unreadable image: {problem}");
        if (jsonFile is not null)
            AtomicFile.WriteAllText(jsonFile, ImageDetections.ToJson(scores.Detections.Select(d => ImageDetections.From(d.Id, d.Width, d.Height, d.Detections))) + Environment.NewLine);
        return scores.Images;
    }
}
