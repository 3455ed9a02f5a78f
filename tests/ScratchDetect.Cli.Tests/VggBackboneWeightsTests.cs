using ScratchDetect.Cli.Training;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Tests;

/// <summary>
/// ssd.pytorch's vgg16_reducedfc.pth into ssd300_vgg16 through the --backbone-weights loader. The
/// file is made the way ssd.pytorch's is: its vgg() layer list (copied below from ssd.pytorch's
/// ssd.py: the VGG16 base with the ceil-mode pool, pool5, the dilated conv6 and conv7), randomly
/// initialised, saved with torch.save in the legacy (non-zip) format. The same script runs that
/// list on an input and records ssd.pytorch's two VGG sources: conv4_3's ReLU output through
/// L2Norm (ssd.pytorch's x / (‖x‖ + 1e-10) over channels, times the initial scale 20; ssd300_vgg16
/// uses torchvision's F.normalize, the same to a relative 1e-10 away from zero norms) and conv7's ReLU output. Our
/// backbone, loaded from the file, must give the same two sources, which holds only if every one of
/// the 15 convolutions went to the layer that plays its part.
/// </summary>
public sealed class VggBackboneWeightsTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private const string Script = """
        import sys, torch, torch.nn as nn, torch.nn.functional as F
        def vgg(cfg, i):
            layers, in_channels = [], i
            for v in cfg:
                if v == 'M':
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                elif v == 'C':
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)]
                else:
                    layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                    in_channels = v
            pool5 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
            conv6 = nn.Conv2d(512, 1024, kernel_size=3, padding=6, dilation=6)
            conv7 = nn.Conv2d(1024, 1024, kernel_size=1)
            return layers + [pool5, conv6, nn.ReLU(inplace=True), conv7, nn.ReLU(inplace=True)]
        torch.manual_seed(5)
        base = nn.ModuleList(vgg([64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'C', 512, 512, 512, 'M', 512, 512, 512], 3))
        torch.save(base.state_dict(), sys.argv[1], _use_new_zipfile_serialization=False)
        x = torch.rand(1, 3, 67, 67) * 255 - 120
        with torch.no_grad():
            h = x
            for k in range(23):  # up to and including conv4_3's ReLU, as ssd.pytorch's SSD.forward
                h = base[k](h)
            conv4_3 = 20 * h / (h.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            for k in range(23, len(base)):
                h = base[k](h)
        torch.save({'input': x, 'conv4_3': conv4_3, 'conv7': h}, sys.argv[2])
        """;

    [TorchFact]
    [Trait("Category", "Slow")]
    public void SsdPytorchsVggGoesIntoTheLayersThatPlayEachPart()
    {
        string pth = temp.File("vgg16_reducedfc.pth"), expected = temp.File("sources.pt");
        Reference.Run(Reference.Python, "-c", Script, pth, expected);

        var model = TrainableModels.Find("ssd300_vgg16")!;
        var ssd = (Models.Ssd)model.Build(new ModelBuild(NumClasses: 21, MinSize: 300, MaxSize: 300, PretrainedBackbone: true, Seed: 1));
        var result = model.LoadBackbone(ssd, PyTorchCheckpoint.Load(pth));
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);

        var reference = PyTorchCheckpoint.Load(expected);
        IReadOnlyList<Tensor> sources;
        using (GradMode.NoGrad())
            sources = ssd.Backbone.ForwardVgg(reference["input"]);
        // float32 convolutions summed in a different order over up to 4608 products per output, through
        // 15 layers: relative differences of a few 1e-6 of each map's largest value; 1e-4 leaves room
        // and is far below what one misplaced layer does (the maps then differ completely).
        TensorAssert.Close(reference["conv4_3"], sources[0], 1e-4 * MaxAbs(reference["conv4_3"]), 0, "conv4_3 through L2Norm");
        TensorAssert.Close(reference["conv7"], sources[1], 1e-4 * MaxAbs(reference["conv7"]), 0, "conv7");
        Assert.True(MaxAbs(reference["conv7"]) > 0, "the reference conv7 map is all zeros, which would compare equal to anything dead");
    }

    private static float MaxAbs(Tensor t) => t.ToArray<float>().Max(Math.Abs);
}
