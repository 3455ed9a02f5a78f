using ScratchDetect.Engine;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Interpolate in the detectors' configurations against torch 1.13's CPU kernels on the same
/// shapes, one run of each in turn: the R-CNN transform's bilinear resize of a 640x480 photo to
/// 800 on the short side (scale factor, recompute_scale_factor=True), FPN's top-down nearest
/// doubling of the stride-16 level of that image (256 channels), forward and forward + backward,
/// and a bilinear forward + backward on a 64-channel map.
/// </summary>
public static class InterpolateBench
{
    private const int Warmup = 2, Runs = 7;
    private const double TransformScale = 800.0 / 480;

    public static IEnumerable<BenchRow> Run()
    {
        var g = new Generator(0);
        var image = Tensor.Uniform([1, 3, 480, 640], 0, 1, g);
        var level = Tensor.Normal([1, 256, 25, 34], 0, 1, g);
        var levelGrad = level.Detach().RequireGrad();
        var map = Tensor.Normal([1, 64, 100, 134], 0, 1, g).RequireGrad();
        string setup = $"""
            import torch.nn.functional as F
            image = torch.rand(1, 3, 480, 640)
            level = torch.randn(1, 256, 25, 34); level_grad = level.clone().requires_grad_()
            feature = torch.randn(1, 64, 100, 134).requires_grad_()
            def nearest_train():
                level_grad.grad = None; y = F.interpolate(level_grad, size=(50, 68), mode="nearest"); y.backward(torch.ones_like(y))
            def bilinear_train():
                feature.grad = None; y = F.interpolate(feature, scale_factor=1.5, mode="bilinear", align_corners=False); y.backward(torch.ones_like(y))
            """;
        using var torch = new TorchSession(setup,
        [
            $"F.interpolate(image, scale_factor={TransformScale}, mode='bilinear', align_corners=False, recompute_scale_factor=True)",
            "F.interpolate(level, size=(50, 68), mode='nearest')",
            "nearest_train()",
            "bilinear_train()",
        ]);
        var cases = new (string Name, Action Ours)[]
        {
            ("bilinear resize 3x480x640 -> 800x1066 (R-CNN transform), forward", () =>
                Tensor.Interpolate(image, scaleFactor: (TransformScale, TransformScale), mode: InterpolateMode.Bilinear, recomputeScaleFactor: true).Dispose()),
            ("nearest 2x 256x25x34 -> 50x68 (FPN top-down), forward", () => Tensor.Interpolate(level, size: (50, 68)).Dispose()),
            ("nearest 2x 256x25x34 -> 50x68 (FPN top-down), forward+backward", () =>
            {
                levelGrad.Grad = null;
                var y = Tensor.Interpolate(levelGrad, size: (50, 68));
                y.Backward(y.OnesLike());
            }),
            ("bilinear x1.5 64x100x134 -> 150x201, forward+backward", () =>
            {
                map.Grad = null;
                var y = Tensor.Interpolate(map, scaleFactor: (1.5, 1.5), mode: InterpolateMode.Bilinear);
                y.Backward(y.OnesLike());
            }),
        };
        for (int i = 0; i < cases.Length; i++)
        {
            var (ours, reference) = Harness.AlternatingMedianMs(cases[i].Ours, torch, i, Warmup, Runs);
            yield return new BenchRow($"interpolate {cases[i].Name}", ours, reference, "torch 1.13 CPU");
        }
    }
}
