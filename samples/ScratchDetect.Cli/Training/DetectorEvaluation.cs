using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Evaluation;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Samples;
using ScratchDetect.Data.Voc;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;
using EvalDetection = ScratchDetect.Data.Evaluation.Detection;

namespace ScratchDetect.Cli.Training;

/// <summary>The detections of one image of a split, in torchvision's continuous frame (as `detect` writes them).</summary>
/// <param name="Id">The image id.</param>
/// <param name="Width">Image width.</param>
/// <param name="Height">Image height.</param>
/// <param name="Detections">What the model found.</param>
internal sealed record SplitDetections(string Id, int Width, int Height, Models.Detection Detections);

/// <summary>A model's VOC07 and VOC12 scores on a split, and its detections.</summary>
internal sealed record DetectorScores(EvaluationResult Voc07, EvaluationResult Voc12, IReadOnlyList<SplitDetections> Detections, IReadOnlyList<EvalImage> Images, IReadOnlyList<string> Unreadable);

/// <summary>
/// Runs a detector over the images of a VOC split and scores its detections against the split's
/// annotations with VOC07 (11-point) and VOC12 AP. Images go through the detector one at a time,
/// as `detect` runs them (batching would pad them). Unreadable images are left out and named.
/// </summary>
internal static class DetectorEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="detector"/> on <paramref name="ids"/> of <paramref name="dataset"/>; the
    /// detector is left in the mode it had. <paramref name="step"/>, when given, advances one unit per image.
    /// </summary>
    public static DetectorScores Run(Detector detector, VocDataset dataset, IReadOnlyList<string> ids, ConsoleProgress.ProgressStep? step = null)
    {
        bool training = detector.Training;
        detector.Eval();
        var results = new List<SplitDetections>();
        var unreadable = new List<string>();
        try
        {
            using var _ = GradMode.NoGrad();
            foreach (var id in ids)
            {
                step?.Begin(id);
                RgbImage rgb;
                try
                {
                    // Raw pixel order, as the training reader and the annotations use.
                    rgb = ImageIO.ReadRgb(File.ReadAllBytes(dataset.ImagePath(id)), dataset.ImagePath(id), applyExifOrientation: false);
                }
                catch (Exception e) when (e is ImageDecodeException or IOException)
                {
                    unreadable.Add($"{dataset.ImagePath(id)}: {e.Message}");
                    step?.Advance();
                    continue;
                }
                // Divided, not multiplied by 1/255, as torchvision's ConvertImageDtype and `detect`.
                var image = SampleTensors.Image(rgb, divisor: 255f);
                results.Add(new SplitDetections(id, rgb.Width, rgb.Height, detector.Detect([image])[0]));
                step?.Advance();
            }
        }
        finally
        {
            detector.Train(training);
        }
        var images = VocEvalSet.Pair(dataset, ids, results.ToDictionary(r => r.Id, ToEval));
        return new DetectorScores(
            VocEvaluator.Evaluate(images, dataset.Classes, ApMetric.Voc07),
            VocEvaluator.Evaluate(images, dataset.Classes, ApMetric.Voc12),
            results, images, unreadable);
    }

    /// <summary>The detections in the devkit's frame, as the evaluators take them.</summary>
    private static IReadOnlyList<EvalDetection> ToEval(SplitDetections image)
    {
        var boxes = image.Detections.Boxes.ToArray<float>();
        var labels = image.Detections.Labels.ToArray<long>();
        var scores = image.Detections.Scores.ToArray<float>();
        return labels.Select((label, i) =>
        {
            var (x1, y1, x2, y2) = VocCoordinates.ToVoc(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
            return new EvalDetection((int)label, new VocBox(x1, y1, x2, y2), scores[i]);
        }).ToArray();
    }
}
