using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Whole-model speed of SSD300 VGG16 (torchvision's defaults, randomly initialised on both sides),
/// next to <see cref="DetectorBench"/>'s Faster R-CNN: detection on 1 and 8 images of 500x375
/// (resized to 300x300), and one training step (forward and backward of both losses) on 8 such
/// images with two boxes each, against torchvision 0.14, one run of each side in turn
/// (Harness.AlternatingMedianMs), each row with both processes' peak resident memory.
/// </summary>
public static class SsdBench
{
    private const int Warmup = 1, Runs = 3;

    public static IEnumerable<BenchRow> Run()
    {
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
        using var torch = new TorchSession(setup, ["detect(1)", "detect(8)", "train_step()"]);
        var g = new Generator(0);
        var images = Enumerable.Range(0, 8).Select(_ => Tensor.Uniform([3, 375, 500], 0, 1, g)).ToArray();
        var detector = Ssd.Ssd300Vgg16();
        detector.Eval();
        BenchRow Detect(int count, int statement) => Harness.WholeModelRow($"SSD300 VGG16 detect, {count} image{(count > 1 ? "s" : "")} 500x375 at 300x300", () =>
        {
            using var _ = GradMode.NoGrad();
            detector.Detect(images[..count]);
        }, torch, statement, Warmup, Runs);
        yield return Detect(1, 0);
        yield return Detect(8, 1);

        var trainer = Ssd.Ssd300Vgg16();
        trainer.Train();
        var target = new DetectionTarget(Tensor.FromArray(new[] { 10f, 20, 200, 300, 150, 50, 400, 250 }, 2, 4), Tensor.FromArray(new long[] { 1, 2 }, 2));
        var targets = Enumerable.Repeat(target, 8).ToArray();
        yield return Harness.WholeModelRow("SSD300 VGG16 training step, 8 images 500x375 at 300x300", () =>
        {
            foreach (var p in trainer.Parameters()) p.Grad = null;
            var losses = trainer.Losses(images, targets, new Generator(1));
            losses.Values.Aggregate((a, b) => a + b).Backward();
        }, torch, 2, Warmup, Runs);
    }
}
