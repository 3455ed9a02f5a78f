using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Whole-model speed of SSD300 VGG16 (torchvision's defaults, randomly initialised on both sides),
/// next to <see cref="DetectorBench"/>'s Faster R-CNN: detection on 1 and 8 images of 500x375
/// (resized to 300x300), and one training step (forward and backward of both losses) on 8 such
/// images with two boxes each, against torchvision 0.14.
/// </summary>
public static class SsdBench
{
    private const int Warmup = 1, Runs = 3;

    public static IEnumerable<BenchRow> Run()
    {
        var g = new Generator(0);
        var images = Enumerable.Range(0, 8).Select(_ => Tensor.Uniform([3, 375, 500], 0, 1, g)).ToArray();
        var detector = Ssd.Ssd300Vgg16();
        detector.Eval();
        double Detect(int count) => Harness.MedianMs(() =>
        {
            using var _ = GradMode.NoGrad();
            detector.Detect(images[..count]);
        }, Warmup, Runs);
        double detect1 = Detect(1), detect8 = Detect(8);

        var trainer = Ssd.Ssd300Vgg16();
        trainer.Train();
        var target = new DetectionTarget(Tensor.FromArray(new[] { 10f, 20, 200, 300, 150, 50, 400, 250 }, 2, 4), Tensor.FromArray(new long[] { 1, 2 }, 2));
        var targets = Enumerable.Repeat(target, 8).ToArray();
        double train = Harness.MedianMs(() =>
        {
            foreach (var p in trainer.Parameters()) p.Grad = null;
            var losses = trainer.Losses(images, targets, new Generator(1));
            losses.Values.Aggregate((a, b) => a + b).Backward();
        }, Warmup, Runs);

        const string setup = """
            from torchvision.models.detection import ssd300_vgg16
            torch.manual_seed(0)
            images = [torch.rand(3, 375, 500) for _ in range(8)]
            detector = ssd300_vgg16(weights=None, weights_backbone=None).eval()
            def detect(count):
                with torch.no_grad(): detector(images[:count])
            trainer = ssd300_vgg16(weights=None, weights_backbone=None).train()
            target = {"boxes": torch.tensor([[10., 20., 200., 300.], [150., 50., 400., 250.]]), "labels": torch.tensor([1, 2])}
            def train_step():
                trainer.zero_grad(set_to_none=True)
                sum(trainer(images, [target] * 8).values()).backward()
            """;
        var torch = Harness.TorchMedianMs(setup, ["detect(1)", "detect(8)", "train_step()"], Warmup, Runs);
        yield return new BenchRow("SSD300 VGG16 detect, 1 image 500x375 at 300x300", detect1, torch[0], "torchvision 0.14 CPU");
        yield return new BenchRow("SSD300 VGG16 detect, 8 images 500x375 at 300x300", detect8, torch[1], "torchvision 0.14 CPU");
        yield return new BenchRow("SSD300 VGG16 training step, 8 images 500x375 at 300x300", train, torch[2], "torchvision 0.14 CPU");
    }
}
