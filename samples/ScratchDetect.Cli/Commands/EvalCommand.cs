using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Evaluation;

namespace ScratchDetect.Cli.Commands;

/// <summary>`scratchdetect eval --detections DETS.json --data ROOT --split S [--metric voc07|voc12|coco] [--box-frame voc|continuous]`.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var detections = new Option<FileInfo>("--detections") { Description = "Detections in the `detect` JSON format", Required = true };
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

        var command = new Command("eval", "Evaluate precomputed detections against a VOC split: per-class AP table and mean.");
        command.Options.Add(detections);
        command.Options.Add(data);
        dataset.AddTo(command);
        command.Options.Add(metric);
        command.Options.Add(boxFrame);
        command.SetAction(parseResult =>
        {
            var voc = dataset.Open(parseResult, parseResult.GetValue(data)!);
            var frame = parseResult.GetValue(boxFrame) == "continuous" ? BoxFrame.Continuous : BoxFrame.Voc;
            string detectionsPath = UserPaths.InputFile(parseResult.GetValue(detections)!.FullName, "--detections");
            // EvaluationInputException and IOException name the file and entry; the top-level handler reports them.
            var images = VocEvalSet.Load(voc, parseResult.GetValue(dataset.Split)!, detectionsPath, frame);
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
}
