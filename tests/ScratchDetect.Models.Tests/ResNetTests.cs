using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>ResNet bodies against torchvision 0.14's resnet18/34/50/101: sizes, names, freezing.</summary>
public class ResNetTests
{
    // Building initialises every weight (ResNet-101: 42M Gaussian draws, about a second), so each
    // depth is built once and shared by the tests that only read it.
    private static readonly Dictionary<ResNetDepth, Lazy<ResNet>> Shared =
        Enum.GetValues<ResNetDepth>().ToDictionary(d => d, d => new Lazy<ResNet>(() => Build(d)));

    private static ResNet Built(ResNetDepth depth) => Shared[depth].Value;

    private static ResNet Build(ResNetDepth depth)
    {
        var generator = new Generator(0);
        return depth switch
        {
            ResNetDepth.ResNet18 => ResNet.ResNet18(ResNetNorm.BatchNorm, generator),
            ResNetDepth.ResNet34 => ResNet.ResNet34(ResNetNorm.BatchNorm, generator),
            ResNetDepth.ResNet50 => ResNet.ResNet50(ResNetNorm.BatchNorm, generator),
            _ => ResNet.ResNet101(ResNetNorm.BatchNorm, generator),
        };
    }

    /// <summary>
    /// torchvision 0.14's parameter counts (sum of p.numel() over torchvision.models.resnetX(),
    /// checked with /usr/bin/python3): 11,689,512 / 21,797,672 / 25,557,032 / 44,549,160, of
    /// which fc holds 512·1000 + 1000 = 513,000 (18, 34) or 2048·1000 + 1000 = 2,049,000 (50, 101).
    /// Our body has no fc.
    /// </summary>
    [Theory]
    [InlineData(ResNetDepth.ResNet18, 11_689_512 - 513_000)]
    [InlineData(ResNetDepth.ResNet34, 21_797_672 - 513_000)]
    [InlineData(ResNetDepth.ResNet50, 25_557_032 - 2_049_000)]
    [InlineData(ResNetDepth.ResNet101, 44_549_160 - 2_049_000)]
    public void ParameterCountsEqualTorchvisionsWithoutFc(ResNetDepth depth, long expected) =>
        Assert.Equal(expected, Built(depth).Parameters().Sum(p => (long)p.Numel));

    [Theory]
    [InlineData(ResNetDepth.ResNet18, new[] { 64, 128, 256, 512 })]
    [InlineData(ResNetDepth.ResNet34, new[] { 64, 128, 256, 512 })]
    [InlineData(ResNetDepth.ResNet50, new[] { 256, 512, 1024, 2048 })]
    [InlineData(ResNetDepth.ResNet101, new[] { 256, 512, 1024, 2048 })]
    public void StageChannelsAreTheFpnInputs(ResNetDepth depth, int[] expected) => Assert.Equal(expected, Built(depth).StageChannels);

    [Fact]
    public void StateDictKeysAndShapesFollowTorchvision()
    {
        var resnet18 = Built(ResNetDepth.ResNet18).StateDict();
        Assert.Equal([64, 3, 7, 7], resnet18["conv1.weight"].Shape);
        Assert.Equal([64, 64, 3, 3], resnet18["layer1.0.conv1.weight"].Shape);
        // A basic block keeps 64 channels at stride 1 in layer1: no projection there, one in layer2.
        Assert.False(resnet18.ContainsKey("layer1.0.downsample.0.weight"));
        Assert.Equal([128, 64, 1, 1], resnet18["layer2.0.downsample.0.weight"].Shape);
        Assert.Equal([128], resnet18["layer2.0.downsample.1.running_mean"].Shape);
        Assert.Equal(DType.Int64, resnet18["bn1.num_batches_tracked"].DType);
        Assert.DoesNotContain(resnet18.Keys, k => k.StartsWith("fc.", StringComparison.Ordinal));

        var resnet101 = Built(ResNetDepth.ResNet101).StateDict();
        // Bottlenecks expand 64 → 256 already in layer1, so layer1.0 has a projection.
        Assert.Equal([256, 64, 1, 1], resnet101["layer1.0.downsample.0.weight"].Shape);
        Assert.Equal([1024, 256, 1, 1], resnet101["layer3.22.conv3.weight"].Shape);
        Assert.False(resnet101.ContainsKey("layer3.23.conv1.weight"));
        Assert.Equal([2048], resnet101["layer4.2.bn3.running_var"].Shape);
    }

    [TorchFact]
    public void StateDictEqualsTorchvisionsWithoutFc()
    {
        // Names (in order), shapes and dtypes of torchvision's resnet18 and resnet50 state_dicts, fc removed.
        string output = Reference.Run(Reference.Python, "-c", """
            import torchvision
            for name in ["resnet18", "resnet50"]:
                sd = getattr(torchvision.models, name)().state_dict()
                print(name + " " + " ".join(f"{k}:{'x'.join(map(str, v.shape))}:{v.dtype}" for k, v in sd.items() if not k.startswith("fc.")))
            """);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var model = Built(parts[0] == "resnet18" ? ResNetDepth.ResNet18 : ResNetDepth.ResNet50);
            var ours = model.StateDict().Select(kv => $"{kv.Key}:{string.Join('x', kv.Value.Shape)}:{(kv.Value.DType == DType.Int64 ? "torch.int64" : "torch.float32")}");
            Assert.Equal(parts[1..], ours);
        }
    }

    [TorchFact]
    public void FreezingMatchesTorchvisionsResnetFpnExtractor()
    {
        // torchvision's _resnet_fpn_extractor(resnet18(), k) for k = 0..5 (BatchNorm2d, so that bn1
        // and the blocks' norm parameters are parameters and their freezing is visible): the body
        // parameters that still require grad.
        string output = Reference.Run(Reference.Python, "-c", """
            import torchvision
            from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
            for k in range(6):
                b = _resnet_fpn_extractor(torchvision.models.resnet18(), k)
                print(str(k) + " " + " ".join(n[5:] for n, p in b.named_parameters() if p.requires_grad and n.startswith("body.")))
            """);
        var body = Build(ResNetDepth.ResNet18); // its own: freezing changes it
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var parameter in body.Parameters()) parameter.RequiresGrad = true;
            body.FreezeLayers(int.Parse(parts[0]));
            Assert.Equal(parts[1..], body.NamedParameters().Where(p => p.Value.RequiresGrad).Select(p => p.Key));
        }
    }

    [Fact]
    public void FasterRcnnFreezesAsTorchvisionDecides()
    {
        // With a pretrained backbone torchvision uses FrozenBatchNorm2d (no norm parameters) and 3
        // trainable layers by default: conv1 and layer1 frozen, layer2..4 trainable.
        var pretrained = FasterRcnn.ResNetFpn(ResNetDepth.ResNet18, pretrainedBackbone: true).Backbone.Body;
        Assert.Equal(ResNetNorm.FrozenBatchNorm, pretrained.Norm);
        foreach (var (name, parameter) in pretrained.NamedParameters())
            Assert.True(parameter.RequiresGrad == (name.StartsWith("layer2.", StringComparison.Ordinal) || name.StartsWith("layer3.", StringComparison.Ordinal) || name.StartsWith("layer4.", StringComparison.Ordinal)), name);
        Assert.DoesNotContain(pretrained.NamedParameters(), p => p.Key.Contains("bn", StringComparison.Ordinal));

        // Without one: BatchNorm2d and all five stages trainable (torchvision sets 5 when not is_trained).
        var scratch = FasterRcnn.ResNetFpn(ResNetDepth.ResNet18).Backbone.Body;
        Assert.Equal(ResNetNorm.BatchNorm, scratch.Norm);
        Assert.All(scratch.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(6)]
    public void TrainableLayersOutsideZeroToFiveAreRejected(int layers) =>
        Assert.Throws<ArgumentException>(() => Built(ResNetDepth.ResNet18).FreezeLayers(layers)); // rejected before any change
}
