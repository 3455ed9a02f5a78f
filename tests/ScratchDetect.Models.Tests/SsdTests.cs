using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

/// <summary>SSD's architecture and configurations, its transform, weight names, registry entry and target checks.</summary>
public class SsdTests
{
    private static readonly Lazy<Ssd> Small = new(() => new Ssd(SsdConfig.Small(numClasses: 4)));

    private static DetectionTarget Target(float[] boxes, long[] labels) =>
        new(Tensor.FromArray(boxes, labels.Length, 4), Tensor.FromArray(labels, labels.Length));

    /// <summary>
    /// ssd.pytorch's layer list, by hand from its vgg(): convolutions at 0, 2 | 5, 7 | 10, 12, 14 |
    /// 17, 19, 21 | 24, 26, 28, then pool5 30, conv6 31, conv7 33; extras 0..7; six loc and conf
    /// convolutions; L2Norm.weight: 71 tensors, as torchvision's.
    /// </summary>
    [Fact]
    public void Ssd300HasSsdPytorchsLayersUnderBothNames()
    {
        var state = Ssd.Ssd300Vgg16(numClasses: 21).StateDict();
        var names = SsdStateDict.ToSsdPytorch(state, SsdConfig.Ssd300).Keys.ToHashSet();
        int[] convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33];
        var expected = convs.SelectMany(i => new[] { $"vgg.{i}.weight", $"vgg.{i}.bias" })
            .Concat(Enumerable.Range(0, 8).SelectMany(i => new[] { $"extras.{i}.weight", $"extras.{i}.bias" }))
            .Concat(Enumerable.Range(0, 6).SelectMany(i => new[] { $"loc.{i}.weight", $"loc.{i}.bias", $"conf.{i}.weight", $"conf.{i}.bias" }))
            .Append("L2Norm.weight").ToHashSet();
        Assert.Equal(expected.Order(), names.Order());
        // Shapes as ssd.pytorch builds them: conv6 dilated 3x3 512 -> 1024, conv7 1x1, conf.0 over conv4_3's 512 channels for 4 boxes x 21 classes.
        Assert.Equal([1024, 512, 3, 3], state["backbone.extra.0.7.1.weight"].Shape);
        Assert.Equal([1024, 1024, 1, 1], state["backbone.extra.0.7.3.weight"].Shape);
        Assert.Equal([84, 512, 3, 3], state["head.classification_head.module_list.0.weight"].Shape);
        Assert.Equal([24, 1024, 3, 3], state["head.regression_head.module_list.1.weight"].Shape);
        Assert.All(state["backbone.scale_weight"].ToArray<float>(), w => Assert.Equal(20f, w));
    }

    [Fact]
    public void BatchNormVariantNamesMapBothWays()
    {
        var config = SsdConfig.Ssd300 with { BatchNorm = true };
        var state = new Ssd(config).StateDict();
        var renamed = SsdStateDict.ToSsdPytorch(state, config);
        // conv1_1, its BatchNorm2d and ReLU are vgg.0, 1, 2; pool4 (the last M) is layer 33 of 43, so conv5_1 is vgg.34 = extra.0.1.
        Assert.Contains("vgg.1.running_mean", renamed.Keys);
        Assert.Same(state["backbone.extra.0.1.weight"], renamed["vgg.34.weight"]);
        var back = SsdStateDict.FromSsdPytorch(renamed, config);
        Assert.Equal(state.Keys.Order(), back.Keys.Order());
    }

    /// <summary>
    /// The small variant has batch norm in conv6, conv7 and the extras too (BatchNormInExtras), which
    /// ssd.pytorch has not: its convolutions still get ssd.pytorch's names and the extra batch norms keep
    /// torchvision's. By hand from Small's base "32 M 64 M 128 128 C 256 256 M 256" with batch norm: 7
    /// convolutions of 3 layers and 4 pools are vgg.0 .. 24, the last M is layer 21 (so extra.0.0 .. 3 are
    /// pool4 and conv5), pool5 is vgg.25, conv6 vgg.26 (extra.0.4.1) and conv7 vgg.28, which follows
    /// conv6's batch norm and ReLU (extra.0.4.4); an extra block's second convolution is child 3.
    /// </summary>
    [Fact]
    public void BatchNormInExtrasKeepsSsdPytorchsNamesForTheConvolutions()
    {
        var config = SsdConfig.Small(numClasses: 4);
        Assert.True(config.BatchNormInExtras);
        Assert.False(SsdConfig.Ssd300.BatchNormInExtras);
        var state = Small.Value.StateDict();
        var renamed = SsdStateDict.ToSsdPytorch(state, config);
        Assert.Same(state["backbone.extra.0.4.1.weight"], renamed["vgg.26.weight"]);
        Assert.Same(state["backbone.extra.0.4.4.weight"], renamed["vgg.28.weight"]);
        Assert.Equal([256, 256, 1, 1], renamed["vgg.28.weight"].Shape);
        Assert.Same(state["backbone.extra.1.0.weight"], renamed["extras.0.weight"]);
        Assert.Same(state["backbone.extra.1.3.weight"], renamed["extras.1.weight"]);
        Assert.Equal([128, 64, 3, 3], renamed["extras.1.weight"].Shape);
        Assert.Contains("backbone.extra.0.4.2.running_mean", renamed.Keys);
        Assert.Contains("backbone.extra.2.4.weight", renamed.Keys);
        var back = SsdStateDict.FromSsdPytorch(renamed, config);
        Assert.Equal(state.Keys.Order(), back.Keys.Order());
    }

    /// <summary>
    /// The small variant: sources at 150 px are 19 (before the last M pool: 150 → 75 → 37 → ceil 19),
    /// 9 (after it), 5 and 3 (stride-2 extras), so 19²·4 + 9²·6 + 5²·6 + 3²·4 = 2116 default boxes;
    /// its losses are finite and every parameter gets a gradient.
    /// </summary>
    [Fact]
    public void SmallVariantBuildsTrainsAndHasTheExpectedBoxes()
    {
        var model = Small.Value.Train();
        var (regression, logits, defaultBoxes) = model.Forward(Tensor.Uniform([2, 3, 150, 150], -100, 100, new Generator(0)));
        Assert.Equal([2, 2116, 4], regression.Shape);
        Assert.Equal([2, 2116, 4], logits.Shape);
        Assert.Equal([2116, 4], defaultBoxes.Shape);
        Assert.Equal([32, 64, 128, 128, 256, 256, 256], model.Backbone.NamedParameters().Where(p => p.Key.EndsWith(".weight", StringComparison.Ordinal) && p.Value.Rank == 4)
            .Take(7).Select(p => p.Value.Size(0)));

        foreach (var p in model.Parameters()) p.Grad = null;
        var images = new[] { Tensor.Uniform([3, 120, 160], 0, 1, new Generator(1)), Tensor.Uniform([3, 90, 70], 0, 1, new Generator(2)) };
        // A box of ~15 px at 150 px input (16x12 in the 160x120 image) so the smallest source has positives too.
        var targets = new[] { Target([10, 10, 80, 100, 90, 20, 150, 60, 20, 20, 36, 32], [1, 3, 1]), Target([5, 5, 60, 80], [2]) };
        var losses = model.Losses(images, targets, new Generator(0));
        Assert.All(losses.Values, l => Assert.True(double.IsFinite(l.Item()) && l.Item() > 0, string.Join(", ", losses.Select(kv => $"{kv.Key} {kv.Value.Item()}"))));
        (losses["bbox_regression"] + losses["classification"]).Backward();
        var silent = model.NamedParameters().Where(p => p.Value.Grad is null || p.Value.Grad.Abs().Max().Item() == 0).Select(p => p.Key).ToList();
        Assert.True(silent.Count == 0, "no gradient: " + string.Join(", ", silent));
    }

    [Fact]
    public void ConfigurationsThatDoNotFitAreErrors()
    {
        Assert.Contains("3 sources", Assert.Throws<ArgumentException>(() => new Ssd(SsdConfig.Ssd300 with { Extras = [new(256, 512)] })).Message);
        Assert.Contains("'X'", Assert.Throws<ArgumentException>(() => new Ssd(SsdConfig.Ssd300 with { Base = "64 X M 128" })).Message);
        Assert.Contains("M pool", Assert.Throws<ArgumentException>(() => new Ssd(SsdConfig.Ssd300 with { Base = "64 64 C 128" })).Message);
        Assert.Throws<ArgumentException>(() => new Ssd(SsdConfig.Ssd300 with { NumClasses = 1 }));
    }

    /// <summary>
    /// A 2x4 image of one colour (R 1, G 0.5, B 0): torchvision's input is (value - mean) · 255,
    /// R (1 - 0.48235) · 255 = 132.00075, G (0.5 - 0.45882) · 255 = 10.5009, B -0.40784 · 255 =
    /// -103.9992; ssd.pytorch's is BGR minus (104, 117, 123): B -104, G 127.5 - 117 = 10.5, R 255 - 123
    /// = 132. A constant image stays constant when resized. Boxes scale by 300/4 in x and 300/2 in y.
    /// </summary>
    [Fact]
    public void TransformsFollowEachConvention()
    {
        var image = Tensor.Cat([Tensor.Full([1, 2, 4], 1), Tensor.Full([1, 2, 4], 0.5), Tensor.Full([1, 2, 4], 0)], 0);
        var target = Target([1, 0.5f, 3, 2], [1]);
        double[][] expected = [[132.00075, 10.5009, -103.9992], [-104, 10.5, 132]];
        foreach (var (preprocessing, values) in new[] { SsdPreprocessing.Torchvision, SsdPreprocessing.SsdPytorch }.Zip(expected))
        {
            var (batch, targets) = new SsdTransform(300, preprocessing).Apply([image], [target]);
            Assert.Equal([1, 3, 300, 300], batch.Tensors.Shape);
            for (int c = 0; c < 3; c++)
            {
                var channel = batch.Tensors.Narrow(1, c, 1);
                // float32 of values up to ~132: 1e-3.
                Assert.InRange(channel.Max().Item(), values[c] - 1e-3, values[c] + 1e-3);
                Assert.InRange(channel.Min().Item(), values[c] - 1e-3, values[c] + 1e-3);
            }
            TensorAssert.Close([75, 75, 225, 300], targets![0].Boxes.Reshape(-1).ToArray<float>().Select(v => (double)v).ToArray(), 1e-4, 0, "resized box");
        }
    }

    [Theory]
    [InlineData(10f, 5f, 10f, 20f, 1L, "no area")]
    [InlineData(10f, 25f, 20f, 5f, 2L, "no area")]
    [InlineData(float.NaN, 5f, 20f, 25f, 1L, "non-finite")]
    [InlineData(10f, 5f, 20f, 25f, 0L, "label 0, outside [1, 4)")]
    [InlineData(10f, 5f, 20f, 25f, 4L, "label 4, outside [1, 4)")]
    public void BadTargetNamesImageAndBox(float x1, float y1, float x2, float y2, long label, string problem)
    {
        var images = new[] { Tensor.Zeros([3, 40, 40]), Tensor.Zeros([3, 40, 40]) };
        var targets = new[] { Target([1, 1, 30, 30], [1]), Target([1, 1, 30, 30, x1, y1, x2, y2], [2, label]) };
        var error = Assert.Throws<ArgumentException>(() => Small.Value.Train().Losses(images, targets, new Generator(0)));
        Assert.StartsWith("ssd: image 1, box 1", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains("images but", Assert.Throws<ArgumentException>(() => Small.Value.Losses(images, [targets[0]], new Generator(0))).Message);
    }

    [Fact]
    public void ModeIsChecked()
    {
        var image = Tensor.Zeros([3, 40, 40]);
        Assert.Contains("training mode", Assert.Throws<InvalidOperationException>(() => Small.Value.Eval().Losses([image], [Target([1, 1, 30, 30], [1])], new Generator(0))).Message);
        Assert.Contains("evaluation mode", Assert.Throws<InvalidOperationException>(() => Small.Value.Train().Detect([image])).Message);
    }

    [Fact]
    public void DetectGivesBoxesInTheOriginalImagesPixels()
    {
        var model = Small.Value.Eval();
        Detection[] detections;
        using (GradMode.NoGrad())
            detections = model.Detect([Tensor.Uniform([3, 60, 200], 0, 1, new Generator(3))]);
        var d = Assert.Single(detections);
        Assert.InRange(d.Scores.Size(0), 1, 200);
        var boxes = d.Boxes.ToArray<float>();
        for (int i = 0; i < boxes.Length; i += 4)
        {
            Assert.InRange(boxes[i], 0, 200);
            Assert.InRange(boxes[i + 2], 0, 200);
            Assert.InRange(boxes[i + 1], 0, 60);
            Assert.InRange(boxes[i + 3], 0, 60);
        }
        Assert.All(d.Scores.ToArray<float>(), s => Assert.True(s > 0.01f));
        Assert.All(d.Labels.ToArray<long>(), l => Assert.InRange(l, 1, 3));
    }

    [Fact]
    public void RegistryBuildsSsdAndRejectsSettingsItDoesNotHave()
    {
        Assert.Contains("ssd300_vgg16", DetectorRegistry.Names);
        var empty = new Dictionary<string, Tensor>();
        Assert.Contains("300x300", Assert.Throws<ArgumentException>(() => DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(MinSize: 512), empty)).Message);
        Assert.Contains("cannot tell", Assert.Throws<ArgumentException>(() => DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(), empty)).Message);
        Assert.Contains("unknown weights format 'caffe'", Assert.Throws<ArgumentException>(() => DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(WeightsFormat: "caffe"), empty)).Message);
        Assert.Contains("torchvision's names only", Assert.Throws<ArgumentException>(() => DetectorRegistry.FromStateDict("fasterrcnn_resnet50_fpn", new DetectorSettings(WeightsFormat: "ssd.pytorch"), empty)).Message);

        // ssd.pytorch-named weights build ssd.pytorch's conventions; the threshold setting reaches the model.
        var source = new Ssd(SsdConfig.Ssd300SsdPytorchVoc, seed: 5);
        var state = SsdStateDict.ToSsdPytorch(source.StateDict(), SsdConfig.Ssd300SsdPytorchVoc);
        var model = Assert.IsType<Ssd>(DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(NumClasses: 21, ScoreThreshold: 0.2), state));
        Assert.Equal(SsdPreprocessing.SsdPytorch, model.Config.Preprocessing);
        Assert.Equal(L2NormStyle.SsdPytorch, model.Config.L2NormStyle);
        Assert.Equal(0.2, model.Config.ScoreThreshold);
        Assert.Equal(source.StateDict()["backbone.extra.0.7.1.weight"].ToArray<float>(), model.StateDict()["backbone.extra.0.7.1.weight"].ToArray<float>());
        Assert.Equal(0.01, Assert.IsType<Ssd>(DetectorRegistry.FromStateDict("ssd300_vgg16", new DetectorSettings(), Ssd.Ssd300Vgg16().StateDict())).Config.ScoreThreshold);
    }
}
