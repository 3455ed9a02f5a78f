using ScratchDetect.Engine;

namespace ScratchDetect.Benchmarks;

/// <summary>Float32 matrix products of the shapes convolutions and the box head produce, against torch.matmul.</summary>
public static class GemmBench
{
    // (m, k, n): a 3x3 conv of ResNet50's layer1 as im2col GEMM (64 x 576 x 56*56), a 1x1
    // conv of layer3 (1024 x 256 x 14*14), the box head's fc6 (512 RoIs x 12544 x 1024), a square one.
    private static readonly (int M, int K, int N, string What)[] Shapes =
    [
        (64, 576, 3136, "conv3x3 64ch @56x56"),
        (1024, 256, 196, "conv1x1 256->1024 @14x14"),
        (512, 12544, 1024, "fc6 512 RoIs"),
        (1024, 1024, 1024, "square 1024"),
    ];

    public static IEnumerable<BenchRow> Run()
    {
        var g = new Generator(0);
        var ours = Shapes.Select(s =>
        {
            var a = Tensor.Uniform([s.M, s.K], -1, 1, g);
            var b = Tensor.Uniform([s.K, s.N], -1, 1, g);
            return Harness.MedianMs(() => Tensor.Matmul(a, b));
        }).ToArray();
        string setup = string.Join("\n", Shapes.Select((s, i) => $"a{i} = torch.randn({s.M}, {s.K}); b{i} = torch.randn({s.K}, {s.N})"));
        var torch = Harness.TorchMedianMs(setup, Shapes.Select((_, i) => $"a{i} @ b{i}").ToArray());
        for (int i = 0; i < Shapes.Length; i++)
        {
            var (m, k, n, what) = Shapes[i];
            double gflops = 2.0 * m * k * n / (ours[i] * 1e6);
            yield return new BenchRow($"matmul {m}x{k}x{n} ({what})", ours[i], torch[i], "torch.matmul", $"{gflops:F1} GFLOP/s");
        }
    }
}
