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

    /// <summary>
    /// Under NoGrad (as the detect and eval commands run), every batch norm is folded into the
    /// convolution before it (Conv2d.Forward(x, norm, relu)), which rounds differently from the
    /// layers one by one; the detections are held to the same tolerances (DetectionAssert).
    /// </summary>
    [TorchFact]
    public void Eval320WithFoldedBatchNormMatchesTorchvision()
    {
        using var _ = Engine.Autograd.GradMode.NoGrad();
        CheckEval("eval_320", 320, 533);
    }

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
            DetectionAssert.Match(DetectionAssert.ReferenceDetections(reference, $"image{i}"), (detections[i].Boxes, detections[i].Labels, detections[i].Scores), $"{name} image {i}");
    }

    /// <summary>
    /// One training step as tools/frcnn_reference.py's run_train: BatchNorm2d on batch statistics,
    /// samplers that keep every candidate (so no random draw matters), an image without boxes.
    /// In float32: the four losses, the gradients of everything outside the ResNet body, and the
    /// BatchNorm2d running statistics. The ResNet body's float32 gradients are not compared element
    /// by element: BatchNorm2d's training backward over a batch of two small images cancels so
    /// heavily that torchvision's own float32 gradients there are up to 20% (median 2%) of the
    /// largest gradient away from its float64 ones, so no float32 implementation can be held to
    /// 1e-3. The float64 test below checks every parameter, the body included, at that bound.
    /// </summary>
    [TorchFact]
    public void TrainingLossesAndHeadGradientsMatchTorchvision()
    {
        var reference = FrcnnReference.Load("train");
        var (model, losses) = TrainingStep(reference, DType.Float32);

        // Losses: sums over a few hundred sampled terms of float32 values; 1e-4 relative is ~100x
        // the rounding of such sums and far below any real difference (a wrong sample or target).
        foreach (var name in new[] { "loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg" })
        {
            double expected = reference[$"loss/{name}"].Item(), actual = losses[name].Item();
            Console.WriteLine($"{name}: {actual:G7} (torchvision {expected:G7})");
            Assert.True(Math.Abs(actual - expected) <= 1e-4 * Math.Abs(expected), $"{name}: {actual:G9}, torchvision {expected:G9}");
        }

        // Gradients, per parameter tensor, against the float64 (near exact) ones by GradientParity
        // (relative L2 error within 1e-3 and the largest element's within 1e-2 of the tensor's largest,
        // each plus 3 · torchvision's own float32 error): the RPN's top-k and NMS, the RoI sampling
        // and every ReLU are discrete decisions that a float32 near-tie can route either way.
        var heads = model.NamedParameters().Where(p => !p.Key.StartsWith("backbone.body.", StringComparison.Ordinal)).Select(p => (p.Key, p.Value)).ToList();
        Assert.Equal(heads.Count, GradientParity.AssertMatches(heads, reference));
        Assert.NotEmpty(heads);

        // BatchNorm2d in training mode updated its running statistics from the batch as torch did.
        foreach (var (name, buffer) in model.NamedBuffers())
            TensorAssert.Close(reference[$"buffer/{name}"], buffer, 1e-4, 1e-4, $"buffer {name}");
    }

    /// <summary>
    /// The same training step in float64 (our model converted with To(Float64), torchvision's with
    /// .double()): the gradient of every parameter, ResNet body included, within 1e-3 of the
    /// tensor's largest gradient of torchvision's float64 gradient (measured: 6.9e-5 at worst).
    /// float64 removes the rounding noise that dominates the body in float32, so what is left is the
    /// difference between the two implementations.
    /// </summary>
    [TorchFact]
    public void TrainingGradientsOfEveryParameterMatchTorchvisionInFloat64()
    {
        var reference = FrcnnReference.Load("train");
        var (model, _) = TrainingStep(reference, DType.Float64);
        var failures = new List<string>();
        int compared = 0;
        foreach (var (name, parameter) in model.NamedParameters())
        {
            var exact = reference[$"grad64/{name}"].To(DType.Float64);
            double scale = exact.Abs().Max().Item();
            double ourError = ((parameter.Grad ?? parameter.ZerosLike()) - exact).Abs().Max().Item();
            if (!(ourError <= 1e-3 * scale))
                failures.Add($"{name}: our error {ourError:G3}, largest gradient {scale:G3}");
            compared++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(FasterRcnn.ResNet50Fpn().NamedParameters().Count(), compared);
    }

    /// <summary>Loads the reference weights, runs one training step in <paramref name="dtype"/> and back-propagates the summed losses.</summary>
    private static (FasterRcnn Model, Dictionary<string, Tensor> Losses) TrainingStep(Dictionary<string, Tensor> reference, DType dtype)
    {
        var model = FasterRcnn.ResNetFpn(minSizes: [192], maxSize: 320,
            rpn: new RpnOptions { PreNmsTopNTrain = 600, PostNmsTopNTrain = 300, BatchSizePerImage = 1 << 20 },
            roiHeads: new RoiHeadsOptions { BatchSizePerImage = 1 << 20 });
        Assert.True(model.LoadStateDict(Engine.IO.SafeTensors.Load(FrcnnReference.WeightsPath)).IsExactMatch);
        model.Train();
        model.To(dtype);
        var images = new[] { reference["image0"].To(dtype), reference["image1"].To(dtype) };
        var targets = new[] { 0, 1 }.Select(i => new DetectionTarget(reference[$"target{i}/boxes"].To(dtype), reference[$"target{i}/labels"])).ToArray();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var losses = model.Losses(images, targets, new Generator(0));
        losses.Values.Aggregate((a, b) => a + b).Backward();
        Console.WriteLine($"train ({dtype.Name()}): forward+backward took {watch.Elapsed.TotalSeconds:F1} s");
        return (model, losses);
    }
}
