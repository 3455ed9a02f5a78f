using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

/// <summary>
/// SSD300 against torchvision 0.14's ssd300_vgg16 and against ssd.pytorch's network, PriorBox and
/// MultiBoxLoss as that repository defines them, with the same weights (tools/ssd_reference.py).
/// The script checks that no discrete choice (mined negatives, matches, score and top-k cuts) is
/// within 1e-5 of a tie, so float32 rounding cannot flip one here.
/// </summary>
public class SsdParityTests
{
    private static Ssd TorchvisionModel()
    {
        var model = Ssd.Ssd300Vgg16();
        var result = model.LoadStateDict(SafeTensors.Load(SsdReference.TorchvisionWeightsPath), strict: false);
        Assert.True(result.IsExactMatch, result.ToString());
        return model;
    }

    private static Ssd SsdPytorchModel()
    {
        var config = SsdConfig.Ssd300SsdPytorchVoc;
        var model = new Ssd(config);
        var result = model.LoadStateDict(SsdStateDict.FromSsdPytorch(SafeTensors.Load(SsdReference.SsdPytorchWeightsPath), config), strict: false);
        Assert.True(result.IsExactMatch, result.ToString());
        return model;
    }

    /// <summary>
    /// Two photos of different sizes (451x300, 333x217) in one batch: the transformed batch, the
    /// default boxes, the head's outputs and the detections.
    /// </summary>
    [TorchFact]
    public void EvalMatchesTorchvision()
    {
        var reference = SsdReference.Load("tv_eval");
        var model = TorchvisionModel().Eval();
        var images = new[] { reference["image0"], reference["image1"] };

        // Inputs are pixel values 0..255 minus the mean. The resize's float32 source coordinates
        // (up to ~333) carry rounding of ~3e-5 px, and neighbouring pixels differ by up to 255, so
        // resized values may differ by up to ~8e-3; 1e-2 allows that and catches any real
        // difference (a wrong mean, channel or sampling grid moves values by whole grey levels).
        var (batch, _) = model.Transform.Apply(images, null);
        TensorAssert.Close(reference["batch"], batch.Tensors, 1e-2, 0, "transformed batch");

        using var _ = GradMode.NoGrad();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (regression, logits, defaultBoxes) = model.Forward(batch.Tensors);
        Console.WriteLine($"ssd300 forward, batch 2: {watch.Elapsed.TotalSeconds:F1} s");
        // Default boxes in pixels up to 300: float32 rounding of the same operations, 1e-4 px.
        TensorAssert.Close(reference["anchors"], defaultBoxes, 1e-4, 0, "default boxes");
        // Head outputs after 20 float32 layers: rounding grows to ~1e-5 of the values' scale
        // (logits up to ~20), so 1e-4 absolute plus 1e-4 relative.
        TensorAssert.Close(reference["cls_logits"], logits, 1e-4, 1e-4, "class logits");
        TensorAssert.Close(reference["bbox_regression"], regression, 1e-4, 1e-4, "box regression");

        var detections = model.Detect(images);
        for (int i = 0; i < images.Length; i++)
            DetectionAssert.Match(DetectionAssert.ReferenceDetections(reference, $"image{i}"), (detections[i].Boxes, detections[i].Labels, detections[i].Scores), $"ssd300 image {i}");
    }

    /// <summary>
    /// One training step on two photos (300x200 and 451x300) with three and four objects: both
    /// losses within 1e-4 relative (float32 sums over ~100 terms round at ~1e-6), and every
    /// parameter's gradient against torchvision's float64 (near exact) one by
    /// <see cref="GradientParity"/>: relative L2 error within 1e-3 and the largest element's within
    /// 1e-2 of the tensor's largest, each plus 3 · torchvision's own float32 error. Measured (see
    /// GradientParity for the reasons): relative L2 at most 5.3e-4 with the im2col forward, 8.7e-4
    /// with Winograd F(2x2, 3x3) in the forward pass, 7.4e-4 with the dispatched split (F(4x4) at the
    /// points 0, ±1, ½, -2 up to 128 input channels, F(2x2) above), torchvision's float32 5.6e-4.
    /// The criterion fails real bugs (tried, not committed): with the weight gradient of one layer
    /// (conv4_3, backbone.features.19) scaled by 1.01 the test failed on that tensor alone (relative
    /// L2 1.0e-2); with the last row of the output gradient left out of the Winograd weight gradient
    /// (a border-indexing bug) it failed on all 12 layers that take that path (relative L2 5.9e-3 on
    /// the 300x300 conv1_2, up to 6.2e-2 on the 19x19 conv5 layers).
    /// The same step in float64 (TrainingStep with DType.Float64, compared without the allowance;
    /// commit 18bd319 has it as a test) gave 8.8e-5 of the largest at worst, but takes ~6 minutes on
    /// two loaded cores, too long for the suite.
    /// </summary>
    [TorchFact]
    public void TrainingLossesAndEveryGradientMatchTorchvision()
    {
        var reference = SsdReference.Load("tv_train");
        var (model, losses) = TrainingStep(reference, DType.Float32);
        foreach (var name in new[] { "bbox_regression", "classification" })
        {
            double expected = reference[$"loss/{name}"].Item(), actual = losses[name].Item();
            Console.WriteLine($"{name}: {actual:G7} (torchvision {expected:G7})");
            Assert.True(Math.Abs(actual - expected) <= 1e-4 * Math.Abs(expected), $"{name}: {actual:G9}, torchvision {expected:G9}");
        }
        int compared = GradientParity.AssertMatches(model.NamedParameters().Select(p => (p.Key, p.Value)), reference);
        Assert.Equal(71, compared);
    }

    private static (Ssd Model, Dictionary<string, Tensor> Losses) TrainingStep(Dictionary<string, Tensor> reference, DType dtype)
    {
        var model = TorchvisionModel().Train();
        model.To(dtype);
        var images = new[] { reference["image0"].To(dtype), reference["image1"].To(dtype) };
        var targets = new[] { 0, 1 }.Select(i => new DetectionTarget(reference[$"target{i}/boxes"].To(dtype), reference[$"target{i}/labels"])).ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var losses = model.Losses(images, targets, new Generator(0));
        losses.Values.Aggregate((a, b) => a + b).Backward();
        Console.WriteLine($"ssd300 training step ({dtype.Name()}), batch 2: {watch.Elapsed.TotalSeconds:F1} s");
        return (model, losses);
    }

    /// <summary>
    /// ssd.pytorch's network (its vgg/extras/loc/conf/L2Norm names, BGR input, PriorBox VOC) on two
    /// photos: the input, the priors, the loc and conf outputs, and its MultiBoxLoss (with the
    /// reshape-first fix), our whole training path from [0, 1] RGB images and pixel boxes.
    /// </summary>
    [TorchFact]
    public void SsdPytorchNetworkPriorsAndMultiBoxLossMatch()
    {
        var reference = SsdReference.Load("sp_train");
        var model = SsdPytorchModel().Train();
        var images = new[] { reference["image0"], reference["image1"] };
        var targets = new[] { 0, 1 }.Select(i => new DetectionTarget(reference[$"target{i}/boxes"], reference[$"target{i}/labels"])).ToArray();

        var (batch, _) = model.Transform.Apply(images, null);
        TensorAssert.Close(reference["input"], batch.Tensors, 1e-2, 0, "BGR input"); // as the torchvision batch above
        using (GradMode.NoGrad())
        {
            var (loc, conf, defaultBoxes) = model.Forward(batch.Tensors);
            TensorAssert.Close(reference["loc"], loc, 1e-4, 1e-4, "loc"); // as the torchvision head outputs above
            TensorAssert.Close(reference["conf"], conf, 1e-4, 1e-4, "conf");
            // PriorBox's centre-form priors in [0, 1], in pixels of the 300x300 input: float32 rounding, 1e-4 px.
            TensorAssert.Close(PriorsInPixels(reference["priors"]), defaultBoxes, 1e-4, 0, "priors");
        }

        var losses = model.Losses(images, targets, new Generator(0));
        // As the torchvision losses: 1e-4 relative.
        foreach (var (ours, theirs) in new[] { ("bbox_regression", "loss_l"), ("classification", "loss_c") })
        {
            double expected = reference[theirs].Item(), actual = losses[ours].Item();
            Console.WriteLine($"{ours}: {actual:G7} (ssd.pytorch {theirs} {expected:G7})");
            Assert.True(Math.Abs(actual - expected) <= 1e-4 * Math.Abs(expected), $"{ours}: {actual:G9}, ssd.pytorch {theirs} {expected:G9}");
        }
    }

    /// <summary>ssd.pytorch's [cx, cy, w, h] priors as [x1, y1, x2, y2] pixels of a 300x300 input (point_form, times 300).</summary>
    internal static Tensor PriorsInPixels(Tensor priors)
    {
        var centre = priors.Narrow(1, 0, 2);
        var size = priors.Narrow(1, 2, 2);
        return Tensor.Cat([(centre - size / 2) * 300, (centre + size / 2) * 300], 1);
    }

    /// <summary>
    /// An ssd.pytorch checkpoint through the registry (format told from its keys): the detections
    /// of torchvision's postprocess on ssd.pytorch's own outputs for the same photo.
    /// </summary>
    [TorchFact]
    public void SsdPytorchCheckpointGivesItsDetections()
    {
        var reference = SsdReference.Load("sp_detect");
        var detector = DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(NumClasses: 21), SafeTensors.Load(SsdReference.SsdPytorchWeightsPath));
        Detection detection;
        using (GradMode.NoGrad())
            detection = detector.Detect([reference["image0"]])[0];
        DetectionAssert.Match(DetectionAssert.ReferenceDetections(reference, "image0"), (detection.Boxes, detection.Labels, detection.Scores), "ssd.pytorch checkpoint");
    }

    /// <summary>torchvision's state dict under ssd.pytorch's names maps back to exactly the same tensors, and ssd.pytorch's keys are the reference network's.</summary>
    [TorchFact]
    public void WeightNamesConvertBothWays()
    {
        var torchvision = SafeTensors.Load(SsdReference.TorchvisionWeightsPath);
        var ssdPytorch = SsdStateDict.ToSsdPytorch(torchvision, SsdConfig.Ssd300);
        var back = SsdStateDict.FromSsdPytorch(ssdPytorch, SsdConfig.Ssd300);
        Assert.Equal(torchvision.Keys.Order(), back.Keys.Order());
        Assert.All(torchvision, entry => Assert.Same(entry.Value, back[entry.Key]));
        // The keys are those of the ssd.pytorch network the script built (which has 21 classes, so only names are compared).
        var reference = SafeTensors.Load(SsdReference.SsdPytorchWeightsPath);
        Assert.Equal(reference.Keys.Order(), ssdPytorch.Keys.Order());
        Assert.Equal(SsdWeightFormat.SsdPytorch, SsdStateDict.DetectFormat(ssdPytorch.Keys));
        Assert.Equal(SsdWeightFormat.Torchvision, SsdStateDict.DetectFormat(torchvision.Keys));
    }
}
