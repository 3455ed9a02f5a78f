using System.CommandLine;
using System.Text.Json;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Evaluation;
using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
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
        var weights = new Option<FileInfo?>("--weights") { Description = "With --model: its weights (torchvision names; safetensors or .pth), e.g. RUN_DIR/model.safetensors" };
        var minSize = new Option<int?>("--min-size") { Description = "With --model: shorter side after resizing (as in training; model default otherwise)" };
        var maxSize = new Option<int?>("--max-size") { Description = "With --model: longest allowed longer side after resizing" };
        var json = new Option<FileInfo?>("--json") { Description = "With --model: write its detections here in the `detect` JSON format (continuous frame)" };
        var boxFrame = new Option<string>("--box-frame")
        {
            Description = "voc: boxes in the devkit's 1-based frame, as its result files (default); continuous: torchvision's frame, as `detect` writes",
            DefaultValueFactory = _ => "voc",
        };
        boxFrame.AcceptOnlyFromAmong("voc", "continuous");
        var data = new Option<string>("--data") { Description = "The VOC dataset folder (or VOCdevkit folder with --year)", Required = true };
        var dataset = new DatasetArguments();
        var metric = new Option<string>("--metric") { Description = "voc07 (11-point), voc12 (area under the envelope) or coco (AP@[.50:.95], AP50, AP75)", DefaultValueFactory = _ => "voc07" };
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
            if (dataset.Open(parseResult, parseResult.GetValue(data)!) is not { } voc) return 2;
            IReadOnlyList<EvalImage> images;
            if ((parseResult.GetValue(model) is null) == (parseResult.GetValue(detections) is null))
                return Fail("give either --detections DETS.json or --model with --weights");
            if (parseResult.GetValue(model) is { } modelName)
            {
                if (parseResult.GetValue(weights) is not { } weightsFile) return Fail("--model needs --weights");
                var split = parseResult.GetValue(dataset.Split)!;
                if (RunModel(modelName, weightsFile.FullName, new DetectorSettings(voc.Classes.Count + 1, parseResult.GetValue(minSize), parseResult.GetValue(maxSize)),
                        voc, split, parseResult.GetValue(json)?.FullName) is not { } ran) return 2;
                images = ran;
            }
            else try
            {
                var frame = parseResult.GetValue(boxFrame) == "continuous" ? BoxFrame.Continuous : BoxFrame.Voc;
                images = VocEvalSet.Load(voc, parseResult.GetValue(dataset.Split)!, parseResult.GetValue(detections)!.FullName, frame);
            }
            catch (Exception e) when (e is EvaluationInputException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
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

    /// <summary>Runs the model over the split; the images paired with its detections, or null after saying why not.</summary>
    private static IReadOnlyList<EvalImage>? RunModel(string modelName, string weightsPath, DetectorSettings settings, Data.Voc.VocDataset voc, string split, string? jsonPath)
    {
        Detector detector;
        IReadOnlyList<string> ids;
        try
        {
            ids = voc.ReadSplit(split);
            detector = TrainedModelLoader.Load(modelName, settings, WeightFiles.Load(weightsPath));
        }
        catch (StateDictMismatchException e)
        {
            Fail($"'{weightsPath}' does not fit {modelName} with {settings.NumClasses} classes (the dataset's classes + background):\n{e.Result.Describe(8)}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or NotSupportedException or ArgumentException or KeyNotFoundException)
        {
            Fail(e.Message);
            return null;
        }
        var scores = DetectorEvaluation.Run(detector, voc, ids);
        foreach (var problem in scores.Unreadable) Console.Error.WriteLine($"warning: skipped an unreadable image: {problem}");
        if (jsonPath is not null)
        {
            var entries = scores.Detections.Select(d =>
            {
                var boxes = d.Detections.Boxes.ToArray<float>();
                var labels = d.Detections.Labels.ToArray<long>();
                var scoresOf = d.Detections.Scores.ToArray<float>();
                return new { image = d.Id, width = d.Width, height = d.Height, detections = labels.Select((l, i) => new { box = boxes[(4 * i)..(4 * i + 4)], label = l, score = scoresOf[i] }).ToArray() };
            });
            try
            {
                AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(entries) + Environment.NewLine);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail($"cannot write '{jsonPath}': {e.Message}");
                return null;
            }
        }
        return scores.Images;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
