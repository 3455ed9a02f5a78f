using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Whole-model speed: Faster R-CNN ResNet50-FPN (torchvision's defaults, randomly initialised on
/// both sides) detecting on one 800x600 image at 800/1333, and one training step (forward and
/// backward of the four losses) on two 500x375 images at 512/853, against torchvision 0.14, one run
/// of each side in turn (Harness.AlternatingMedianMs), each row with both processes' peak resident memory.
/// </summary>
public static class DetectorBench
{
    private const int Warmup = 1, Runs = 3;

    public static IEnumerable<BenchRow> Run()
    {
        const string setup = """
            from torchvision.models.detection import fasterrcnn_resnet50_fpn
            torch.manual_seed(0)
            image = torch.rand(3, 600, 800)
            detector = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None).eval()
            def detect():
                with torch.no_grad(): detector([image])
            trainer = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=512, max_size=853).train()
            images = [torch.rand(3, 375, 500), torch.rand(3, 375, 500)]
            target = {"boxes": torch.tensor([[10., 20., 200., 300.], [150., 50., 400., 250.]]), "labels": torch.tensor([1, 2])}
            def train_step():
                trainer.zero_grad(set_to_none=True)
                sum(trainer(images, [target, target]).values()).backward()
            """;
        using var torch = new TorchSession(setup, ["detect()", "train_step()"]);
        var g = new Generator(0);
        var detector = FasterRcnn.ResNet50Fpn();
        detector.Eval();
        var image = Tensor.Uniform([3, 600, 800], 0, 1, g);
        var detect = Harness.WholeModelRow("Faster R-CNN R50-FPN detect, 800x600 image at 800/1333", () =>
        {
            using var _ = GradMode.NoGrad();
            detector.Detect([image]);
        }, torch, 0, Warmup, Runs);
        yield return detect;

        var trainer = FasterRcnn.ResNetFpn(minSizes: [512], maxSize: 853);
        trainer.Train();
        var images = new[] { Tensor.Uniform([3, 375, 500], 0, 1, g), Tensor.Uniform([3, 375, 500], 0, 1, g) };
        var target = new DetectionTarget(Tensor.FromArray(new[] { 10f, 20, 200, 300, 150, 50, 400, 250 }, 2, 4), Tensor.FromArray(new long[] { 1, 2 }, 2));
        yield return Harness.WholeModelRow("Faster R-CNN R50-FPN training step, 2 images 500x375 at 512/853", () =>
        {
            foreach (var p in trainer.Parameters()) p.Grad = null;
            var losses = trainer.Losses(images, [target, target], new Generator(1));
            losses.Values.Aggregate((a, b) => a + b).Backward();
        }, torch, 1, Warmup, Runs);
    }
}
