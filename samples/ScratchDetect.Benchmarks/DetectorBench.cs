using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Whole-model speed of Faster R-CNN ResNet50-FPN (torchvision's defaults, randomly initialised on
/// both sides) at min_size 320 and 512 (max_size 533 and 853): detection on one 500x375 image, and
/// one SGD training step (forward, backward of the four losses, optimizer step) on 1 and 2 such
/// images; and detection of one 800x600 image at the default 800/1333, as `detect` runs. Against
/// torchvision 0.14, one run of each side in turn (Harness.AlternatingMedianMs), each row with both
/// processes' peak resident memory.
/// </summary>
public static class DetectorBench
{
    private const int Warmup = 1, Runs = 3;
    private static readonly (int Min, int Max)[] Sizes = [(320, 533), (512, 853)];

    public static IEnumerable<BenchRow> Run()
    {
        var setup = $$"""
            from torchvision.models.detection import fasterrcnn_resnet50_fpn
            torch.manual_seed(0)
            images = [torch.rand(3, 375, 500), torch.rand(3, 375, 500)]
            target = {"boxes": torch.tensor([[10., 20., 200., 300.], [150., 50., 400., 250.]]), "labels": torch.tensor([1, 2])}
            large = torch.rand(3, 600, 800)
            current = {}
            def model(key, build):
                # One model alive at a time, as on our side, so each row's peak memory is its own.
                if key not in current:
                    current.clear()
                    current[key] = build()
                return current[key]
            def detector(low, high):
                return model(("detect", low), lambda: fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=low, max_size=high).eval())
            def trainer(low, high):
                def build():
                    net = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=low, max_size=high).train()
                    return net, torch.optim.SGD(net.parameters(), lr={{Harness.TrainingStepLearningRate}}, momentum=0.9)
                return model(("train", low), build)
            def detect(low, high, image):
                with torch.no_grad(): detector(low, high)([image])
            def train_step(low, high, count):
                net, sgd = trainer(low, high)
                sgd.zero_grad(set_to_none=True)
                sum(net(images[:count], [target] * count).values()).backward()
                sgd.step()
            """;
        var statements = Sizes.SelectMany(s => new[] { $"detect({s.Min}, {s.Max}, images[0])", $"train_step({s.Min}, {s.Max}, 1)", $"train_step({s.Min}, {s.Max}, 2)" })
            .Append("detect(800, 1333, large)").ToArray();
        using var torch = new TorchSession(setup, statements);
        var g = new Generator(0);
        var images = new[] { Tensor.Uniform([3, 375, 500], 0, 1, g), Tensor.Uniform([3, 375, 500], 0, 1, g) };
        int statement = 0;
        foreach (var (min, max) in Sizes)
        {
            yield return DetectRow($"1 image 500x375 at {min}/{max}", FasterRcnn.ResNetFpn(minSizes: [min], maxSize: max), images[0], torch, statement++);
            var trainingStep = Harness.SgdTrainingStep(FasterRcnn.ResNetFpn(minSizes: [min], maxSize: max));
            foreach (int count in new[] { 1, 2 })
                yield return Harness.WholeModelRow($"Faster R-CNN R50-FPN SGD training step, {Harness.Images(count)} 500x375 at {min}/{max}",
                    () => trainingStep(images[..count]), torch, statement++, Warmup, Runs);
        }
        yield return DetectRow("1 image 800x600 at 800/1333", FasterRcnn.ResNet50Fpn(), Tensor.Uniform([3, 600, 800], 0, 1, g), torch, statement);
    }

    private static BenchRow DetectRow(string what, FasterRcnn detector, Tensor image, TorchSession torch, int statement)
    {
        detector.Eval();
        return Harness.WholeModelRow($"Faster R-CNN R50-FPN detect, {what}", () =>
        {
            using var _ = GradMode.NoGrad();
            detector.Detect([image]);
        }, torch, statement, Warmup, Runs);
    }
}
