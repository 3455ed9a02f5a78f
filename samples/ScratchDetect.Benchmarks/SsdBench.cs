using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Whole-model speed of SSD300 VGG16 (torchvision's defaults, randomly initialised on both sides),
/// next to <see cref="DetectorBench"/>'s Faster R-CNN: detection on 1 and 8 images of 500x375
/// (resized to 300x300), and one SGD training step (forward, backward of both losses, optimizer
/// step) on 1 and 8 such images with two boxes each, against torchvision 0.14, one run of each side
/// in turn (Harness.AlternatingMedianMs), each row with both processes' peak resident memory.
/// </summary>
public static class SsdBench
{
    private const int Warmup = 1, Runs = 3;
    private static readonly int[] Batches = [1, 8];

    public static IEnumerable<BenchRow> Run()
    {
        var setup = $$"""
            from torchvision.models.detection import ssd300_vgg16
            torch.manual_seed(0)
            images = [torch.rand(3, 375, 500) for _ in range(8)]
            target = {"boxes": torch.tensor([[10., 20., 200., 300.], [150., 50., 400., 250.]]), "labels": torch.tensor([1, 2])}
            detector = ssd300_vgg16(weights=None, weights_backbone=None).eval()
            trainer = None
            def detect(count):
                with torch.no_grad(): detector(images[:count])
            def train_step(count):
                global detector, trainer
                if trainer is None:
                    # Built on the first training row, with the detector gone, as on our side.
                    detector = None
                    net = ssd300_vgg16(weights=None, weights_backbone=None).train()
                    trainer = (net, torch.optim.SGD(net.parameters(), lr={{Harness.TrainingStepLearningRate}}, momentum=0.9))
                net, sgd = trainer
                sgd.zero_grad(set_to_none=True)
                sum(net(images[:count], [target] * count).values()).backward()
                sgd.step()
            """;
        var statements = Batches.Select(n => $"detect({n})").Concat(Batches.Select(n => $"train_step({n})")).ToArray();
        using var torch = new TorchSession(setup, statements);
        var g = new Generator(0);
        var images = Enumerable.Range(0, 8).Select(_ => Tensor.Uniform([3, 375, 500], 0, 1, g)).ToArray();
        int statement = 0;
        foreach (var rows in DetectRows(images, torch, () => statement++)) yield return rows;

        var trainingStep = Harness.SgdTrainingStep(Ssd.Ssd300Vgg16());
        foreach (int count in Batches)
            yield return Harness.WholeModelRow($"SSD300 VGG16 SGD training step, {Harness.Images(count)} 500x375 at 300x300",
                () => trainingStep(images[..count]), torch, statement++, Warmup, Runs);
    }

    // The detector lives only while its rows run, so the training rows' peaks do not hold it.
    private static IEnumerable<BenchRow> DetectRows(Tensor[] images, TorchSession torch, Func<int> nextStatement)
    {
        var detector = Ssd.Ssd300Vgg16();
        detector.Eval();
        foreach (int count in Batches)
            yield return Harness.WholeModelRow($"SSD300 VGG16 detect, {Harness.Images(count)} 500x375 at 300x300", () =>
            {
                using var _ = GradMode.NoGrad();
                detector.Detect(images[..count]);
            }, torch, nextStatement(), Warmup, Runs);
    }
}
