using ScratchDetect.Engine;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Convolutions of ResNet50 shapes, forward and forward + backward (input and weight gradients),
/// against PyTorch on the CPU in the same run (torch.set_num_threads(2), the cores this machine has
/// for us). Both sides warm up twice and report the median of eleven runs (the machine is shared: a median of many runs resists bursts of load).
/// </summary>
public static class ConvBench
{
    private sealed record Shape(string Name, int Batch, int InChannels, int Size, int OutChannels, int Kernel, int Stride, int Padding);

    private static readonly Shape[] Shapes =
    [
        new("3x3 64->64, 56x56, batch 2", 2, 64, 56, 64, 3, 1, 1),
        new("1x1 256->64, 56x56, batch 2", 2, 256, 56, 64, 1, 1, 0),
        new("7x7/2 stem 3->64, 224x224, batch 2", 2, 3, 224, 64, 7, 2, 3),
        new("3x3 256->256, 14x14, batch 2", 2, 256, 14, 256, 3, 1, 1),
    ];

    private const int Warmup = 2, Runs = 11;

    /// <summary>Runs every shape on both engines and returns one row per shape and pass.</summary>
    public static IEnumerable<BenchRow> Run()
    {
        var reference = PyTorchMedians();
        foreach (var shape in Shapes)
        {
            var g = new Generator(0);
            var x = Tensor.Normal([shape.Batch, shape.InChannels, shape.Size, shape.Size], 0, 1, g);
            var w = Tensor.Normal([shape.OutChannels, shape.InChannels, shape.Kernel, shape.Kernel], 0, 0.05, g);
            Tensor Forward(Tensor input, Tensor weight) => Tensor.Conv2d(input, weight, stride: shape.Stride, padding: shape.Padding);

            double forward = Harness.MedianMs(() => Forward(x, w), Warmup, Runs);
            var xg = x.Detach().RequireGrad();
            var wg = w.Detach().RequireGrad();
            double training = Harness.MedianMs(() =>
            {
                xg.Grad = wg.Grad = null;
                var y = Forward(xg, wg);
                y.Backward(y.OnesLike());
            }, Warmup, Runs);

            double gflop = 2.0 * shape.Batch * shape.OutChannels * shape.InChannels * shape.Kernel * shape.Kernel
                * Math.Pow((shape.Size + 2 * shape.Padding - shape.Kernel) / shape.Stride + 1, 2) / 1e9;
            // PyTorch's plain matrix product of the im2col shape shows what a good GEMM does with this work,
            // independently of how well the installed PyTorch build convolves.
            yield return new($"conv2d forward {shape.Name}", forward, reference[$"{shape.Name}/forward"], "PyTorch 1.13 CPU",
                $"{gflop / forward * 1e3:F1} GFLOP/s; PyTorch matmul of the same GEMM {reference[$"{shape.Name}/gemm"]:F2} ms");
            yield return new($"conv2d forward+backward {shape.Name}", training, reference[$"{shape.Name}/training"], "PyTorch 1.13 CPU", $"{3 * gflop / training * 1e3:F1} GFLOP/s");
        }
    }

    /// <summary>
    /// Times the same convolutions in PyTorch; keys "name/forward", "name/training" and
    /// "name/gemm" (the forward's im2col matrix product alone).
    /// </summary>
    private static Dictionary<string, double> PyTorchMedians()
    {
        var setup = new System.Text.StringBuilder();
        var statements = new List<string>();
        var keys = new List<string>();
        for (int i = 0; i < Shapes.Length; i++)
        {
            var (n, c, size, o, k, stride, pad) = (Shapes[i].Batch, Shapes[i].InChannels, Shapes[i].Size, Shapes[i].OutChannels, Shapes[i].Kernel, Shapes[i].Stride, Shapes[i].Padding);
            int outSize = (size + 2 * pad - k) / stride + 1;
            setup.AppendLine($"x{i} = torch.randn({n}, {c}, {size}, {size}); w{i} = torch.randn({o}, {c}, {k}, {k}) * 0.05");
            setup.AppendLine($"columns{i} = torch.randn({n}, {c * k * k}, {outSize * outSize})");
            setup.AppendLine($"xg{i} = x{i}.clone().requires_grad_(); wg{i} = w{i}.clone().requires_grad_()");
            setup.AppendLine($"def training{i}():");
            setup.AppendLine($"    xg{i}.grad = wg{i}.grad = None");
            setup.AppendLine($"    y = F.conv2d(xg{i}, wg{i}, stride={stride}, padding={pad}); y.backward(torch.ones_like(y))");
            statements.AddRange([$"F.conv2d(x{i}, w{i}, stride={stride}, padding={pad})", $"torch.matmul(w{i}.view({o}, -1), columns{i})", $"training{i}()"]);
            keys.AddRange([$"{Shapes[i].Name}/forward", $"{Shapes[i].Name}/gemm", $"{Shapes[i].Name}/training"]);
        }
        var medians = Harness.TorchMedianMs(setup.ToString(), statements, Warmup, Runs);
        return keys.Zip(medians).ToDictionary(pair => pair.First, pair => pair.Second);
    }
}
