using ScratchDetect.Engine;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// RoIAlign (Faster R-CNN's box head: 7x7, sampling ratio 2, unaligned) and RoIPool on 1024 RoIs
/// over a 256-channel stride-8 map of an 800x1216 image (100x152 cells), forward alone and forward
/// + backward, against torchvision 0.14's CPU kernels on the same shapes, one run of each in turn.
/// </summary>
public static class RoiBench
{
    private const int Rois = 1024, Channels = 256, Height = 100, Width = 152, Warmup = 2, Runs = 7;
    private const double Scale = 1.0 / 8;

    public static IEnumerable<BenchRow> Run()
    {
        var g = new Generator(0);
        var map = Tensor.Normal([1, Channels, Height, Width], 0, 1, g);
        // Boxes of 16..400 pixels anywhere in the 1216x800 image.
        var corner = Tensor.Uniform([Rois, 2], 0, 800, g).ToArray<float>();
        var size = Tensor.Uniform([Rois, 2], 16, 400, g).ToArray<float>();
        var rois = new float[Rois * 5];
        for (int r = 0; r < Rois; r++)
            (rois[r * 5], rois[r * 5 + 1], rois[r * 5 + 2], rois[r * 5 + 3], rois[r * 5 + 4]) =
                (0, corner[r * 2] * 1.5f, corner[r * 2 + 1], corner[r * 2] * 1.5f + size[r * 2], corner[r * 2 + 1] + size[r * 2 + 1]);
        var roiTensor = Tensor.FromArray(rois, Rois, 5);
        var mapGrad = map.Detach().RequireGrad();
        string setup = $"""
            from torchvision.ops import roi_align, roi_pool
            x = torch.randn(1, {Channels}, {Height}, {Width}); xg = x.clone().requires_grad_()
            xy = torch.rand({Rois}, 2) * 800; wh = 16 + torch.rand({Rois}, 2) * 384
            xy[:, 0] *= 1.5
            rois = torch.cat([torch.zeros({Rois}, 1), xy, xy + wh], 1)
            def align_train():
                xg.grad = None; y = roi_align(xg, rois, 7, {Scale}, 2, False); y.backward(torch.ones_like(y))
            def pool_train():
                xg.grad = None; y = roi_pool(xg, rois, 7, {Scale}); y.backward(torch.ones_like(y))
            """;
        using var torch = new TorchSession(setup, [$"roi_align(x, rois, 7, {Scale}, 2, False)", "align_train()", $"roi_pool(x, rois, 7, {Scale})", "pool_train()"]);
        var cases = new (string Name, Action Ours)[]
        {
            ("RoIAlign 7x7 forward", () => Tensor.RoiAlign(map, roiTensor, 7, 7, Scale, 2)),
            ("RoIAlign 7x7 forward+backward", () =>
            {
                mapGrad.Grad = null;
                var y = Tensor.RoiAlign(mapGrad, roiTensor, 7, 7, Scale, 2);
                y.Backward(y.OnesLike());
            }),
            ("RoIPool 7x7 forward", () => Tensor.RoiPool(map, roiTensor, 7, 7, Scale)),
            ("RoIPool 7x7 forward+backward", () =>
            {
                mapGrad.Grad = null;
                var y = Tensor.RoiPool(mapGrad, roiTensor, 7, 7, Scale);
                y.Backward(y.OnesLike());
            }),
        };
        for (int i = 0; i < cases.Length; i++)
        {
            var (ours, reference) = Harness.AlternatingMedianMs(cases[i].Ours, torch, i, Warmup, Runs);
            yield return new BenchRow($"{cases[i].Name}, {Rois} RoIs x {Channels} channels, {Height}x{Width} map", ours, reference, "torchvision 0.14 CPU");
        }
    }
}
