using System.Globalization;
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
    /// Times the same convolutions in PyTorch (a generated script run by /usr/bin/python3); keys
    /// "name/forward", "name/training" and "name/gemm" (the forward's im2col matrix product alone).
    /// </summary>
    private static Dictionary<string, double> PyTorchMedians()
    {
        var shapes = string.Join(",\n", Shapes.Select(s => string.Create(CultureInfo.InvariantCulture,
            $"    ({Quote(s.Name)}, {s.Batch}, {s.InChannels}, {s.Size}, {s.OutChannels}, {s.Kernel}, {s.Stride}, {s.Padding})")));
        var script = $$"""
            import statistics, time, torch
            import torch.nn.functional as F
            torch.set_num_threads(2)
            def median_ms(fn, warmup={{Warmup}}, runs={{Runs}}):
                for _ in range(warmup): fn()
                times = []
                for _ in range(runs):
                    start = time.perf_counter(); fn(); times.append((time.perf_counter() - start) * 1e3)
                return statistics.median(times)
            for name, n, c, size, o, k, s, p in [
            {{shapes}}
            ]:
                x = torch.randn(n, c, size, size); w = torch.randn(o, c, k, k) * 0.05
                out_size = (size + 2 * p - k) // s + 1
                columns = torch.randn(n, c * k * k, out_size * out_size)
                with torch.no_grad():
                    print(f"{name}/forward\t{median_ms(lambda: F.conv2d(x, w, stride=s, padding=p))}")
                    print(f"{name}/gemm\t{median_ms(lambda: torch.matmul(w.view(o, -1), columns))}")
                xg = x.clone().requires_grad_(); wg = w.clone().requires_grad_()
                def training():
                    xg.grad = wg.grad = None
                    y = F.conv2d(xg, wg, stride=s, padding=p); y.backward(torch.ones_like(y))
                print(f"{name}/training\t{median_ms(training)}")
            """;
        var path = Path.Combine(Path.GetTempPath(), $"scratchdetect-convbench-{Environment.ProcessId}.py");
        File.WriteAllText(path, script);
        try
        {
            return Harness.RunProcess("/usr/bin/python3", path)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('\t'))
                .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Quote(string text) => "\"" + text + "\"";
}
