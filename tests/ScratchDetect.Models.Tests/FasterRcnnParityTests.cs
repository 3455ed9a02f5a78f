using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

/// <summary>Faster R-CNN ResNet50-FPN against torchvision 0.14 with the same weights (tools/frcnn_reference.py).</summary>
public class FasterRcnnParityTests
{
    private static FasterRcnn LoadModel()
    {
        var model = FasterRcnn.ResNet50Fpn();
        var result = model.LoadStateDict(Engine.IO.SafeTensors.Load(FrcnnReference.WeightsPath), strict: false);
        Assert.True(result.IsExactMatch, result.ToString());
        return model;
    }

    [TorchFact]
    public void StateDictLoadsOneToOne()
    {
        var model = FasterRcnn.ResNet50Fpn();
        var result = model.LoadStateDict(Engine.IO.SafeTensors.Load(FrcnnReference.WeightsPath), strict: false);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Empty(result.ShapeMismatches);
    }

    [TorchFact]
    public void Eval320MatchesTorchvision() => CheckEval("eval_320", 320, 533);

    [TorchFact]
    [Trait("Category", "Slow")]
    public void Eval800MatchesTorchvision() => CheckEval("eval_800", 800, 1333);

    private static void CheckEval(string name, int minSize, int maxSize)
    {
        var reference = FrcnnReference.Load(name);
        var model = LoadModel().Eval();
        model.Transform = new GeneralizedRcnnTransform([minSize], maxSize, GeneralizedRcnnTransform.ImageNetMean, GeneralizedRcnnTransform.ImageNetStd);
        var images = new[] { reference["image0"], reference["image1"] };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var detections = model.Detect(images);
        Console.WriteLine($"{name}: detect took {watch.Elapsed.TotalSeconds:F1} s");
        for (int i = 0; i < images.Length; i++)
            DetectionAssert.Match(reference[$"image{i}/boxes"], reference[$"image{i}/labels"], reference[$"image{i}/scores"], detections[i], $"{name} image {i}");
    }
}
